"""Opening a prefecture's hub store in PostgreSQL, and who is working on it.

A hub is one database shared by the prefecture's DX team. Each person works from their own data
folder, under their own device identity (`hub-identity.json` there, made on first use; their
keys beside it), so the hub's history says who changed what. The hub itself is a device too: the
database's one `device` row, made by the first account to set the hub up (`init`); that account's
data folder holds the hub's keys, which sign its bundles and open those sent to it, so imports
and exports run as that account. Anyone else writes only once the hub trusts their card
(enrollment); until then they may read.

The schema is made only by `init` (`create=True`): a verb pointed at an empty database says so
rather than filling it, and a database holding other tables is never touched.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError

from dxfield import clock
from dxfield.domain.errors import StoreError
from dxfield.paths import ensure_private_dir
from dxfield.store.engine import (
    DeviceInfo,
    Store,
    _alembic_config,
    device_name_of,
    known_schema_revisions,
)
from dxfield.store.files import read_regular_file
from dxfield.store.ids import ID_PATTERN, new_id
from dxfield.store.key_file import key_path, write_private
from dxfield.store.markers import IDENTITY_FILE, IDENTITY_LIMIT, TRUSTED_PREFIX, trusts
from dxfield.store.migrations import SCHEMA_HEAD
from dxfield.store.postgres import (
    check_settings,
    connect_error,
    ensure_trigram,
    hub_url,
    make_engine,
    refuse_open_password_file,
    schema_state,
    shown,
    unreachable_or_failed,
)
from dxfield.store.schema import DEVICES, LOCAL_STATE

STAFF = "staff"


@dataclass(frozen=True)
class Person:
    """Who is working on the hub from this data folder."""

    id: str
    name: str


def person_of(data_dir: Path, device_name: str | None) -> Person:
    """This data folder's identity on a hub: read, renamed when a new name is given, or made
    (owner-only) on first use, named after the account and the machine."""
    path = data_dir / IDENTITY_FILE
    found: Person | None = None
    if os.path.lexists(path):
        raw = read_regular_file(path, IDENTITY_LIMIT)
        try:
            value = json.loads(raw)
            found = Person(str(value["id"]), device_name_of(str(value["name"])))
        except (ValueError, KeyError, TypeError):
            raise StoreError(
                "store.unusable", path=str(path), reason="not a dxfield identity"
            ) from None
        if not ID_PATTERN.fullmatch(found.id):
            raise StoreError("store.unusable", path=str(path), reason="not a dxfield identity")
    if found is not None and (device_name is None or device_name == found.name):
        return found
    if found is None and os.path.lexists(key_path(data_dir)):
        # The folder already is a device (a laptop's, or a hub kept in a file): its keys are that
        # device's, and a second identity here would have none of its own.
        raise StoreError("hub.folder_is_a_device", folder=str(data_dir))
    name = device_name or f"{_account()}@{socket.gethostname() or 'dxfield'}"
    person = Person(found.id if found else new_id(), device_name_of(name))
    try:
        ensure_private_dir(data_dir)
        write_private(path, json.dumps({"id": person.id, "name": person.name}).encode())
    except OSError as exc:
        raise StoreError(
            "store.cannot_create_folder", path=str(data_dir), reason=exc.strerror
        ) from None
    return person


def _account() -> str:
    with contextlib.suppress(Exception):
        return getpass.getuser()
    return "dxfield"


def open_hub(text: str, data_dir: Path, *, device_name: str | None, create: bool) -> Store:
    """The hub store in the PostgreSQL database `text`, for the person of `data_dir`."""
    if device_name is not None:
        device_name = device_name_of(device_name)
    url = hub_url(text)
    refuse_open_password_file(url)
    engine = make_engine(url)
    try:
        store = _open(engine, url, data_dir, device_name, create)
    except BaseException:
        engine.dispose()
        raise
    from dxfield.store.authorship import upgrade
    from dxfield.store.key_rotation import finish_rotation
    from dxfield.store.purges import forget_purged_thumbnails
    from dxfield.store.reference import ensure_reference_data

    try:
        finish_rotation(store)  # before anything signs: the keys the store's chain names
        ensure_reference_data(store)
        upgrade(store)
        forget_purged_thumbnails(store)  # a colleague's purge: this person's small copies
    except DBAPIError as exc:
        store.close()
        raise hub_failure(store.location, exc) from exc
    except BaseException:
        store.close()
        raise
    return store


def _open(engine: Engine, url: URL, data_dir: Path, device_name: str | None, create: bool) -> Store:
    where = shown(url)
    try:
        with engine.connect() as conn:
            check_settings(conn)
            has_tables, found = schema_state(conn)
            conn.rollback()
        if found is None and has_tables:
            raise StoreError("hub.not_dxfield", url=where)
        if found is None and not create:
            raise StoreError("hub.no_schema", url=where)
        if found not in (None, SCHEMA_HEAD) and found not in known_schema_revisions():
            raise StoreError("hub.newer", url=where, schema=found)
        if found != SCHEMA_HEAD:
            _migrate(engine, url)
        with engine.connect() as conn:
            ensure_trigram(conn)
            conn.rollback()
        person = person_of(data_dir, device_name)
        hub = _hub_device(engine, person)
    except StoreError:
        raise
    except DBAPIError as exc:
        raise connect_error(exc, url) from exc
    device = DeviceInfo(person.id, person.name, hub.role if person.id == hub.id else STAFF)
    store = Store(None, engine, device, data_dir=data_dir, location=where, hub_id=hub.id)
    store.enrolled = person.id == hub.id or _trusted(engine, person.id)
    return store


def _migrate(engine: Engine, url: URL) -> None:
    """Bring the schema to this dxfield's head, under the hub's write lock (a colleague who
    opens the hub at the same moment waits, then finds it done). One transaction: a database
    whose trigram index would be blind to Japanese, or a user who may not create what the
    schema needs, is left as it was."""
    from alembic import command

    from dxfield.store.postgres import _scrub

    with engine.connect().execution_options(dxfield_write=True) as conn:
        user, database = conn.execute(text("SELECT current_user, current_database()")).one()
        try:
            command.upgrade(_alembic_config(conn), "head")
            ensure_trigram(conn)
        except DBAPIError as exc:
            reason = str(exc.orig).partition("\n")[0]  # the server's message, not its LINE 2:
            if "pg_trgm" in reason or "extension" in reason:
                raise StoreError(
                    "hub.no_trigram", url=shown(url), reason=_scrub(reason, url)
                ) from None
            if "permission denied" in reason.lower() or "must be owner" in reason.lower():
                raise StoreError(
                    "hub.no_privilege", user=user, database=database, reason=_scrub(reason, url)
                ) from None
            raise
        conn.commit()


def _hub_device(engine: Engine, person: Person) -> DeviceInfo:
    """The hub's own device; the first account to open a new hub becomes it (and renames it
    when it is given a new name)."""
    with engine.connect() as conn:
        row = conn.execute(select(DEVICES)).first()
        conn.rollback()
    if row is None or (row.id == person.id and row.name != person.name):
        with engine.connect().execution_options(dxfield_write=True) as conn, conn.begin():
            row = conn.execute(select(DEVICES)).first()
            if row is None:
                conn.execute(
                    insert(DEVICES).values(
                        id=person.id, name=person.name, role="hub", created_at=clock.now()
                    )
                )
                return DeviceInfo(person.id, person.name, "hub")
            if row.id == person.id and row.name != person.name:
                conn.execute(update(DEVICES).where(DEVICES.c.id == row.id).values(name=person.name))
                return DeviceInfo(row.id, person.name, row.role)
    return DeviceInfo(row.id, row.name, row.role)


def _trusted(engine: Engine, device_id: str) -> bool:
    """Whether the hub trusts this device (its card was trusted and not revoked)."""
    with engine.connect() as conn:
        value = conn.execute(
            select(LOCAL_STATE.c.value).where(LOCAL_STATE.c.key == TRUSTED_PREFIX + device_id)
        ).scalar()
        conn.rollback()
    return trusts(value)


def hub_failure(location: str, exc: BaseException) -> StoreError:
    """A failure of the hub's server while working, in one line without any password."""
    reason = str(getattr(exc, "orig", None) or exc)
    lowered = reason.lower()
    if "could not extend file" in lowered or "no space left" in lowered:
        return StoreError("store.disk_full", path=location)
    return unreachable_or_failed(location, reason)
