"""Local-only state: form drafts, UI settings, and how much this device has not yet exported.

Kept in the `local_state` table (key/value text) beside the clock and the reference version;
never synced, never in a dump or a bundle. Keys are `draft:<name>` and `setting:<key>`, values
JSON. A form being typed is saved as a draft as you type, so a crash or a closed lid loses
nothing; a draft row that cannot be read is skipped and logged, never raised, so that a bad draft
can never stop the app from starting.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from dxfield import clock
from dxfield.store.draft_rows import DRAFT_PREFIX, drafts_of
from dxfield.store.draft_rows import Draft as Draft  # re-exported: forms and the app use it
from dxfield.store.schema import DEVICES, LOCAL_STATE, REVISIONS
from dxfield.store.unit import Work, unit_of

SETTING_PREFIX = "setting:"
_state = LOCAL_STATE
_revisions = REVISIONS
log = logging.getLogger(__name__)


def _put(conn: Connection, key: str, value: str) -> None:
    """Insert or replace one row (inside a `BEGIN IMMEDIATE` transaction, so no race)."""
    exists = conn.execute(select(_state.c.key).where(_state.c.key == key)).first() is not None
    if exists:
        conn.execute(update(_state).where(_state.c.key == key).values(value=value))
    else:
        conn.execute(insert(_state).values(key=key, value=value))


def _json(value: Any) -> str:
    """JSON text of a value; a TypeError (before anything is written) when it is not JSON data."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def save_draft(work: Work, name: str, data: dict[str, Any]) -> None:
    """Save (or replace) the draft `name`, stamped with the time now.

    `data` must be JSON data (strings, numbers, booleans, None, lists, dicts); anything else
    raises a TypeError or ValueError and nothing is written.
    """
    if not name:
        raise ValueError("a draft needs a name")
    saved_at = clock.now()
    value = _json({"saved_at": saved_at.isoformat(), "data": data})
    with unit_of(work, write=True) as unit:
        conn = unit.conn
        _put(conn, DRAFT_PREFIX + name, value)


def list_drafts(work: Work) -> list[Draft]:
    """Every readable draft, most recently saved first (unreadable ones are skipped, logged)."""
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        rows = conn.execute(
            select(_state.c.key, _state.c.value).where(
                _state.c.key.startswith(DRAFT_PREFIX, autoescape=True)
            )
        ).all()
    return drafts_of([(k, v) for k, v in rows])


def discard_draft(work: Work, name: str) -> None:
    """Remove the draft `name`; nothing happens when there is none."""
    with unit_of(work, write=True) as unit:
        conn = unit.conn
        conn.execute(_state.delete().where(_state.c.key == DRAFT_PREFIX + name))


def get_setting(work: Work, key: str, default: Any = None) -> Any:
    """The setting `key`, or `default` when it is unset (or unreadable, which is logged)."""
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        value = conn.execute(
            select(_state.c.value).where(_state.c.key == SETTING_PREFIX + key)
        ).scalar()
    if value is None:
        return default
    try:
        return json.loads(value)
    except ValueError as exc:
        log.warning("ignoring the unreadable setting %r: %s", key, exc)
        return default


def set_setting(work: Work, key: str, value: Any) -> None:
    """Set the setting `key` to a JSON value (a TypeError or ValueError for anything else)."""
    text = _json(value)
    with unit_of(work, write=True) as unit:
        conn = unit.conn
        _put(conn, SETTING_PREFIX + key, text)


def put_value(work: Work, key: str, value: Any) -> None:
    """Store a JSON value under `key` (local bookkeeping of other modules: trusted devices...)."""
    text = _json(value)
    with unit_of(work, write=True) as unit:
        conn = unit.conn
        _put(conn, key, text)


def put_value_in(conn: Connection, key: str, value: Any) -> None:
    """`put_value` inside the caller's write transaction (a merge noting what it took)."""
    _put(conn, key, _json(value))


def get_value(work: Work, key: str, default: Any = None) -> Any:
    """The JSON value stored under `key` by `put_value`, or `default`."""
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        value = conn.execute(select(_state.c.value).where(_state.c.key == key)).scalar()
    if value is None:
        return default
    try:
        return json.loads(value)
    except ValueError as exc:
        log.warning("ignoring the unreadable local value %r: %s", key, exc)
        return default


def values_with_prefix(work: Work, prefix: str) -> dict[str, Any]:
    """Every JSON value whose key starts with `prefix` (unreadable ones are logged and left out)."""
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        return values_in(conn, prefix)


def values_in(conn: Connection, prefix: str) -> dict[str, Any]:
    """`values_with_prefix` on the caller's connection."""
    rows = conn.execute(
        select(_state.c.key, _state.c.value).where(_state.c.key.startswith(prefix, autoescape=True))
    ).all()
    found: dict[str, Any] = {}
    for key, value in rows:
        try:
            found[key] = json.loads(value)
        except ValueError as exc:
            log.warning("ignoring the unreadable local value %r: %s", key, exc)
    return found


def set_device_role(work: Work, role: str) -> None:
    """Make this device a field laptop or the prefecture's hub."""

    table = DEVICES
    with unit_of(work, write=True) as unit:
        conn = unit.conn
        conn.execute(update(table).where(table.c.id == unit.device.id).values(role=role))
    unit.store.device = replace(unit.device, role=role)


TRUSTED_DEVICE = "trusted-device:"
"""Prefix of the values `dxfield.sync.keys` keeps a trusted device's card and name under."""


def device_names(work: Work) -> dict[str, str]:
    """Who each device is, by id, as far as this store knows: itself, the store's own device row
    (on a hub in PostgreSQL, the hub), and the devices it trusts, by the names given them here.
    History says who changed what with these."""
    with unit_of(work, write=False) as unit:
        names = {row.id: row.name for row in unit.conn.execute(select(DEVICES))}
        for value in values_in(unit.conn, TRUSTED_DEVICE).values():
            if isinstance(value, dict) and isinstance(value.get("card"), dict):
                device_id = value["card"].get("id")
                name = value.get("name") or value["card"].get("name")
                if isinstance(device_id, str) and isinstance(name, str):
                    names.setdefault(device_id, name)
        names[unit.device.id] = unit.device.name
    return names


EXPORT_WATERMARK = "export-watermark:"
"""Prefix of the local values that record, per device, how far bundles for it have carried."""


def unexported_changes(work: Work) -> int:
    """How many revisions this device wrote that have not gone out in a bundle yet: those after
    the furthest any bundle has carried (reference and demo data have other authors).

    With several recipients the furthest export counts: a change that reached the hub is on
    its way everywhere.
    """
    watermarks = values_with_prefix(work, EXPORT_WATERMARK).values()
    carried = max((int(w) for w in watermarks if isinstance(w, int)), default=0)
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        count = conn.execute(
            select(func.count())
            .select_from(_revisions)
            .where(
                _revisions.c.device_id == unit.device.id,
                unit.backend.arrival_order(_revisions) > carried,
            )
        ).scalar_one()
    return int(count)
