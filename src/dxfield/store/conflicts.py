"""Conflicts: records with more than one live version after a sync, and their resolution.

A conflict is never resolved silently: every store shows the same winner (the highest stamp,
then device, then revision id: `merge.winner_key`), and the other live leaves wait here. Resolving writes a new revision whose parents are
all the leaves, with the content chosen, so the record has one leaf again everywhere it travels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from dxfield.domain.errors import LocalizedError, NotFound
from dxfield.i18n import N_, problems, quote
from dxfield.store import merge, records, revisions
from dxfield.store.schema import REVISIONS
from dxfield.store.unit import Work, unit_of

PROBLEMS = problems(
    {
        "conflict.none": N_("{value} is not in conflict"),
        "conflict.no_such_version": N_("no version {value} in this conflict"),
    }
)

_revisions = REVISIONS


@dataclass(frozen=True)
class Version:
    """One live leaf of a record in conflict."""

    rev_id: str
    hlc: str
    device_id: str
    data: dict[str, Any]
    winner: bool


@dataclass(frozen=True)
class Conflict:
    """A record with two or more live leaves; `versions[0]` is the one shown everywhere."""

    entity: str
    entity_id: str
    label: str
    versions: list[Version]

    @property
    def differing_fields(self) -> list[str]:
        """The fields whose values are not the same in every version."""
        names = sorted({k for v in self.versions for k in v.data} - {"created_at"})
        return [
            n
            for n in names
            if len({json.dumps(v.data.get(n), sort_keys=True) for v in self.versions}) > 1
        ]


def _versions(conn: Any, entity: str, entity_id: str) -> list[Version]:
    return [
        Version(r.rev_id, r.hlc, r.device_id, json.loads(r.data), index == 0)
        for index, r in enumerate(merge.live_leaves(conn, entity, entity_id))
    ]


def _in_conflict() -> Any:
    """The ids of records with more than one live leaf."""
    return (
        select(_revisions.c.entity, _revisions.c.entity_id)
        .where(
            _revisions.c.leaf.is_(True),
            _revisions.c.deleted.is_(False),
            # A purged attachment's versions are erased: nothing is left to choose between.
            ~revisions.of_purged_attachment(),
        )
        .group_by(_revisions.c.entity, _revisions.c.entity_id)
        .having(func.count() > 1)
    )


def count_conflicts(work: Work) -> int:
    """How many records are in conflict (for the status bar and `check`)."""
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        return int(
            conn.execute(select(func.count()).select_from(_in_conflict().subquery())).scalar() or 0
        )


def list_conflicts(work: Work) -> list[Conflict]:
    """Every record in conflict, oldest change first."""
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        rows = conn.execute(_in_conflict()).all()
        found = []
        for entity, entity_id in rows:
            versions = _versions(conn, entity, entity_id)
            found.append(
                Conflict(entity, entity_id, records.label_of(versions[0].data, entity), versions)
            )
    return sorted(found, key=lambda c: (min(v.hlc for v in c.versions), c.entity_id))


def get_conflict(work: Work, text: str) -> Conflict:
    """One record in conflict, by its id (or a unique part of it)."""
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        entity_id = records.match_id(conn, _revisions.c.entity_id, text, "record")
        entity = revisions.entity_of(conn, entity_id)
        versions = _versions(conn, entity, entity_id) if entity else []
    if len(versions) < 2 or entity is None:
        raise NotFound("conflict.none", value=quote(text))
    return Conflict(entity, entity_id, records.label_of(versions[0].data, entity), versions)


def resolve_conflict(
    work: Work, text: str, *, keep: str, changes: dict[str, Any] | None = None
) -> str:
    """Keep one version (`keep`: its revision id, or a unique part of it), optionally with
    `changes` merged in by hand; the new revision follows every leaf. Returns its id."""
    with unit_of(work, write=True) as unit:
        conflict = get_conflict(unit, text)
        chosen = [v for v in conflict.versions if v.rev_id == keep or v.rev_id.endswith(keep)]
        if len(chosen) != 1:
            raise LocalizedError("conflict.no_such_version", field="rev_id", value=quote(keep))
        content = {k: v for k, v in chosen[0].data.items() if k != "created_at"}
        content = records.validate(conflict.entity, {**content, **(changes or {})})
        written = revisions.write_record(
            unit,
            conflict.entity,
            conflict.entity_id,
            content,
            parents=merge.leaves(unit.conn, conflict.entity, conflict.entity_id),
        )
    return str(written["rev_id"])
