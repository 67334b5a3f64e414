"""Nothing deleted is gone: bring a deleted record back, or make an earlier version current.

Both write an ordinary revision through the one write path, following every leaf of the record
(so a conflict between an edit and a deletion is closed too): it syncs like any change, and the
history keeps the deletion and the versions it passes over. A forged deletion from another
device is undone the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from dxfield.domain.errors import LocalizedError, NotFound
from dxfield.i18n import N_, problems, quote
from dxfield.store import merge, records, revisions
from dxfield.store.records import match_id
from dxfield.store.schema import REVISIONS
from dxfield.store.unit import Work, unit_of

PROBLEMS = problems(
    {
        "version.not_deleted": N_("the {kind} {value} is not deleted"),
        "version.none": N_("the record has no version {value}"),
        "version.ambiguous": N_("version {value} is ambiguous; give more of it"),
        "version.is_deletion": N_(
            "that version is a deletion; a deletion is not a version to go back to"
        ),
        "version.already_current": N_("that version's content is already current"),
    }
)

_revisions = REVISIONS


@dataclass(frozen=True)
class Written:
    """What `restore` or `revert` wrote."""

    entity: str
    entity_id: str
    rev_id: str
    label: str


@dataclass(frozen=True)
class DeletedRecord:
    """A record whose winning version is a deletion."""

    entity: str
    entity_id: str
    label: str
    deleted_rev: str
    deleted_hlc: str
    deleted_by: str


def _record(conn: Any, text: str) -> tuple[str, str]:
    """(kind, id) of the record `text` names (its id, or a unique beginning or end of it)."""
    entity_id = match_id(conn, _revisions.c.entity_id, text, "record")
    entity = revisions.entity_of(conn, entity_id)
    if entity is None:  # pragma: no cover - match_id found it in the same table
        raise NotFound("revision.no_record", id=quote(text))
    return entity, entity_id


def _content(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "created_at"}


def restore(work: Work, text: str) -> Written:
    """Bring the deleted record `text` back with its last content (the newest live version,
    should another device have edited it meanwhile; else what the deletion kept)."""
    with unit_of(work, write=True) as unit:
        conn = unit.conn
        entity, entity_id = _record(conn, text)
        # Before its content is checked: a purged version's name is refused as a live one's.
        revisions.check_not_purged(conn, entity, entity_id)
        table = revisions.table_for(entity)
        row = conn.execute(select(table.c.deleted, table.c.rev).where(table.c.id == entity_id))
        current = row.one()
        if not current.deleted:
            raise LocalizedError(
                "version.not_deleted", kind=records.kind_words(entity), value=quote(text)
            )
        live = merge.live_leaves(conn, entity, entity_id)
        if live:
            data = json.loads(live[0].data)
        else:
            data = json.loads(
                conn.execute(
                    select(_revisions.c.data).where(_revisions.c.rev_id == current.rev)
                ).scalar_one()
            )
        content = records.validate(entity, _content(data))
        written = revisions.write_record(
            unit,
            entity,
            entity_id,
            content,
            parents=merge.leaves(conn, entity, entity_id),
        )
    return Written(entity, entity_id, str(written["rev_id"]), records.label_of(content, entity))


def revert(work: Work, text: str, to: str) -> Written:
    """Make the version `to` (its id, or a unique beginning or end of it) of the record `text`
    current again. A deletion cannot be a version to go back to: delete the record instead."""
    with unit_of(work, write=True) as unit:
        conn = unit.conn
        entity, entity_id = _record(conn, text)
        revisions.check_not_purged(conn, entity, entity_id)
        history = revisions.history(conn, entity, entity_id)
        wanted = to.strip().lower()
        chosen = [
            r
            for r in history
            if wanted
            and (
                r["rev_id"] == wanted
                or r["rev_id"].startswith(wanted)
                or r["rev_id"].endswith(wanted)
            )
        ]
        if not chosen:
            raise LocalizedError("version.none", field="rev_id", value=quote(to))
        if len(chosen) > 1:
            raise LocalizedError("version.ambiguous", field="rev_id", value=quote(to))
        version = chosen[0]
        if version["deleted"]:
            raise LocalizedError("version.is_deletion", field="rev_id")
        content = records.validate(entity, _content(version["data"]))
        table = revisions.table_for(entity)
        current = conn.execute(
            select(table.c.deleted, _revisions.c.data)
            .join(_revisions, _revisions.c.rev_id == table.c.rev)
            .where(table.c.id == entity_id)
        ).one()
        leaves = merge.leaves(conn, entity, entity_id)
        if (
            not current.deleted
            and len(leaves) == 1
            and records.validate(entity, _content(json.loads(current.data))) == content
        ):
            raise LocalizedError("version.already_current")
        written = revisions.write_record(unit, entity, entity_id, content, parents=leaves)
    return Written(entity, entity_id, str(written["rev_id"]), records.label_of(content, entity))


def list_deleted(work: Work, *, entity: str | None = None) -> list[DeletedRecord]:
    """Deleted records, the most recently deleted first (of one kind, or of every kind)."""
    found: list[DeletedRecord] = []
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        for kind in [entity] if entity else sorted(records.ENTITIES):
            table = revisions.table_for(kind)
            rows = conn.execute(
                select(
                    table.c.id,
                    table.c.rev,
                    _revisions.c.hlc,
                    _revisions.c.device_id,
                    _revisions.c.data,
                )
                .join(_revisions, _revisions.c.rev_id == table.c.rev)
                .where(table.c.deleted.is_(True), ~revisions.of_purged_attachment())
            )
            found += [
                DeletedRecord(
                    kind,
                    r.id,
                    records.label_of(json.loads(r.data), kind),
                    r.rev,
                    r.hlc,
                    r.device_id,
                )
                for r in rows
            ]
    found.sort(
        key=lambda d: merge.winner_key(d.deleted_hlc, d.deleted_by, d.deleted_rev), reverse=True
    )
    return found
