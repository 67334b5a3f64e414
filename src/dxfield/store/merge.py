"""Merging revisions from elsewhere: the heart of sync, without the bundle around it.

`apply_revisions` inserts the revisions a store lacks, then, for every record they touch,
works out the leaves again from the parent links (a leaf is a revision no other revision of
the record names as a parent) and materializes the winner: the leaf with the highest
(hlc, device_id), as DESIGN.md fixes. The result depends only on the set of revisions a store
holds, never on the order they arrived in, and applying the same revisions twice changes
nothing. Two live leaves are a conflict: the loser is kept, nothing is overwritten.

Everything happens on the caller's connection, inside the caller's transaction, so an import
is all or nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import String, func, insert, select, type_coerce, update
from sqlalchemy.engine import Connection

from dxfield.domain.errors import LocalizedError
from dxfield.store import records, revisions, search_index
from dxfield.store.hlc import observe, skew_limit
from dxfield.store.revisions import canonical_json as canonical
from dxfield.store.schema import SYNCED_TABLES
from dxfield.store.sqlite_features import arrival_order

_revisions = revisions._revisions
_CHUNK = 500


@dataclass
class MergeReport:
    """What a merge did, counted by record."""

    new: int = 0
    """Records this store did not have."""
    updated: int = 0
    """Records whose winning version changed."""
    unchanged: int = 0
    """Records the revisions brought nothing new to."""
    conflicting: int = 0
    """Records that now have more than one live leaf."""
    skewed: list[str] = field(default_factory=list)
    """Revisions stamped more than a day ahead of this store's clock (taken, and flagged)."""


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def check_revision(revision: dict[str, Any]) -> dict[str, Any]:
    """A revision as carried in a bundle, checked: its id must be the hash of its content, and
    its record must pass the entity's validation. Returns the row to insert."""
    entity = revision.get("entity")
    if entity not in SYNCED_TABLES:
        raise LocalizedError(
            f"不明な種類のレコードです: {entity!r}", f"unknown kind of record: {entity!r}"
        )
    try:
        data = revision["data"]
        parents = list(revision["parents"])
        expected = revisions.revision_id(
            int(revision["generation"]),
            entity,
            str(revision["entity_id"]),
            parents,
            str(revision["hlc"]),
            str(revision["device_id"]),
            bool(revision["deleted"]),
            data,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LocalizedError(
            f"リビジョンの形が正しくありません: {exc}", f"a revision is malformed: {exc}"
        ) from None
    if expected != revision.get("rev_id") or not isinstance(data, dict):
        raise LocalizedError(
            f"リビジョン {revision.get('rev_id')!r} の内容がIDと一致しません",
            f"revision {revision.get('rev_id')!r} does not match its content",
        )
    content = {k: v for k, v in data.items() if k != "created_at"}
    records.validate(entity, content)  # refuses a record that fails validation, naming the field
    return {
        "rev_id": expected,
        "entity": entity,
        "entity_id": str(revision["entity_id"]),
        "generation": int(revision["generation"]),
        "parents": sorted(parents),
        "hlc": str(revision["hlc"]),
        "device_id": str(revision["device_id"]),
        "deleted": bool(revision["deleted"]),
        "data": revisions.canonical_json(data),
        "leaf": True,
        "clock_skew": False,
    }


def apply_revisions(conn: Connection, incoming: Sequence[dict[str, Any]]) -> MergeReport:
    """Insert the checked revisions (`check_revision`) this store lacks and re-derive the
    winner of every record they touch. Order-free and idempotent."""
    report = MergeReport()
    by_id = {r["rev_id"]: r for r in incoming}
    have: set[str] = set()
    for chunk in _chunks(list(by_id)):
        have.update(
            conn.execute(
                select(_revisions.c.rev_id).where(_revisions.c.rev_id.in_(chunk))
            ).scalars()
        )
    new = [r for rev_id, r in sorted(by_id.items()) if rev_id not in have]
    touched = sorted({(r["entity"], r["entity_id"]) for r in new})
    untouched = {(r["entity"], r["entity_id"]) for r in by_id.values()} - set(touched)
    report.unchanged = len(untouched)
    if not new:
        return report
    limit = skew_limit()
    rows = []
    for revision in new:
        if revision["hlc"] > limit:
            revision = {**revision, "clock_skew": True}
            report.skewed.append(revision["rev_id"])
        rows.append(revision)
    # Records this store has never seen are materialized in bulk (the common case: a first
    # import, or a laptop's new work); the others one by one, against what is here already.
    known: set[str] = set()
    ids = sorted({entity_id for _, entity_id in touched})
    for chunk in _chunks(ids):
        known.update(
            conn.execute(
                select(_revisions.c.entity_id).where(_revisions.c.entity_id.in_(chunk)).distinct()
            ).scalars()
        )
    conn.execute(insert(_revisions), rows)
    # The clock moves past what it saw, but not into a skewed future: that would drag every
    # later change made here a day or more ahead too.
    plausible = [r["hlc"] for r in new if r["hlc"] <= limit]
    if plausible:
        observe(conn, max(plausible))
    fresh = [(entity, entity_id) for entity, entity_id in touched if entity_id not in known]
    report.conflicting += _materialize_new(conn, fresh, rows)
    report.new += len(fresh)
    for entity, entity_id in touched:
        if entity_id not in known:
            continue
        outcome = _rederive(conn, entity, entity_id)
        if outcome == "new":
            report.new += 1
        elif outcome == "updated":
            report.updated += 1
        else:
            report.unchanged += 1
        if conflicting_leaves(conn, entity_id)[1:]:
            report.conflicting += 1
    return report


def _materialize_new(
    conn: Connection, records_: list[tuple[str, str]], rows: list[dict[str, Any]]
) -> int:
    """Leaves and winners of records whose every revision just arrived, written in bulk;
    returns how many of them are in conflict."""
    if not records_:
        return 0
    conflicting = 0
    wanted = {entity_id for _, entity_id in records_}
    per_record: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["entity_id"] in wanted:
            per_record.setdefault(row["entity_id"], []).append(row)
    not_leaves: list[str] = []
    materialized: dict[str, list[dict[str, Any]]] = {}
    search_rows: list[dict[str, Any]] = []
    for entity, entity_id in records_:
        revisions_ = per_record[entity_id]
        named = {p for r in revisions_ for p in r["parents"]}
        not_leaves += [r["rev_id"] for r in revisions_ if r["rev_id"] in named]
        live_leaves = [r for r in revisions_ if r["rev_id"] not in named and not r["deleted"]]
        conflicting += len(live_leaves) > 1
        winner = max(
            (r for r in revisions_ if r["rev_id"] not in named),
            key=lambda r: (r["hlc"], r["device_id"]),
        )
        data = json.loads(winner["data"])
        table = revisions.table_for(entity)
        materialized.setdefault(entity, []).append(revisions.materialized_row(table, winner, data))
        body = search_index.body_for(entity, data)
        if body is not None and not winner["deleted"]:
            search_rows.append({"entity": entity, "entity_id": entity_id, "body": body})
    for chunk in _chunks(not_leaves):
        conn.execute(update(_revisions).where(_revisions.c.rev_id.in_(chunk)).values(leaf=False))
    for entity, entity_rows in materialized.items():
        conn.execute(insert(revisions.table_for(entity)), entity_rows)
    search_index.insert_many(conn, search_rows)
    return conflicting


def _winner_key(row: Any) -> tuple[str, str]:
    return (row.hlc, row.device_id)


def _rederive(conn: Connection, entity: str, entity_id: str) -> str:
    """Recompute one record's leaves and materialize its winner: "new", "updated" or "same"."""
    rows = conn.execute(
        select(
            _revisions.c.rev_id,
            _revisions.c.parents,
            _revisions.c.hlc,
            _revisions.c.device_id,
            _revisions.c.deleted,
            _revisions.c.data,
            _revisions.c.leaf,
        ).where(_revisions.c.entity_id == entity_id)
    ).all()
    named = {parent for row in rows for parent in (row.parents or [])}
    leaves = [row for row in rows if row.rev_id not in named]
    for row in rows:
        is_leaf = row.rev_id not in named
        if bool(row.leaf) != is_leaf:
            conn.execute(
                update(_revisions).where(_revisions.c.rev_id == row.rev_id).values(leaf=is_leaf)
            )
    winner = max(leaves, key=_winner_key)
    table = revisions.table_for(entity)
    current = conn.execute(select(table.c.rev).where(table.c.id == entity_id)).scalar()
    if current == winner.rev_id:
        return "same"
    data = json.loads(winner.data)
    revision = {
        "rev_id": winner.rev_id,
        "entity_id": entity_id,
        "hlc": winner.hlc,
        "device_id": winner.device_id,
        "deleted": bool(winner.deleted),
    }
    materialized = revisions.materialized_row(table, revision, data)
    if current is None:
        conn.execute(insert(table).values(**materialized))
    else:
        conn.execute(update(table).where(table.c.id == entity_id).values(**materialized))
    search_index.refresh(conn, entity, entity_id, data, deleted=bool(winner.deleted))
    return "new" if current is None else "updated"


def live_leaves(conn: Connection, entity_id: str) -> list[Any]:
    """The live leaves of a record (rev_id, hlc, device_id, data), winner first."""
    rows = conn.execute(
        select(
            _revisions.c.rev_id, _revisions.c.hlc, _revisions.c.device_id, _revisions.c.data
        ).where(
            _revisions.c.entity_id == entity_id,
            _revisions.c.leaf.is_(True),
            _revisions.c.deleted.is_(False),
        )
    ).all()
    return sorted(rows, key=_winner_key, reverse=True)


def conflicting_leaves(conn: Connection, entity_id: str) -> list[str]:
    """The ids of a record's live leaves, winner first; more than one means a conflict."""
    return [row.rev_id for row in live_leaves(conn, entity_id)]


def all_revisions(conn: Connection) -> list[dict[str, Any]]:
    """Every revision of this store as a bundle carries it (data as JSON, not text)."""
    return revisions_since(conn, 0)[0]


def latest_arrival(conn: Connection) -> int:
    """The arrival order of the newest revision in this store (0 when there is none)."""
    latest = select(func.max(arrival_order(_revisions))).select_from(_revisions)
    return int(conn.execute(latest).scalar() or 0)


def count_revisions_since(conn: Connection, watermark: int) -> int:
    """How many revisions arrived in this store after `watermark`."""
    order = arrival_order(_revisions)
    return int(
        conn.execute(select(func.count()).where(order > watermark).select_from(_revisions)).scalar()
        or 0
    )


def revision_lines_since(conn: Connection, watermark: int) -> tuple[list[str], int]:
    """The revisions that arrived after `watermark`, each as the canonical JSON line a bundle
    carries, and the new watermark. The stored `data` is canonical JSON already, so it is
    spliced in as it is rather than parsed and written again (the export's largest cost)."""
    order = arrival_order(_revisions)
    rows = conn.execute(
        select(
            _revisions.c.data,
            _revisions.c.deleted,
            _revisions.c.device_id,
            _revisions.c.entity,
            _revisions.c.entity_id,
            _revisions.c.generation,
            _revisions.c.hlc,
            type_coerce(_revisions.c.parents, String).label("parents"),
            _revisions.c.rev_id,
            order.label("arrival"),
        )
        .where(order > watermark)
        .order_by(_revisions.c.rev_id)
    ).all()
    text = encode_basestring  # json.dumps(str, ensure_ascii=False) without building an encoder
    lines = []
    newest = watermark
    for row in rows:
        # canonical_json's output, written out key by key in sorted order: the same bytes at a
        # fraction of the cost ("data" is stored canonical; an empty parents list stays "[]").
        parents = "[]" if row.parents in (None, "[]") else canonical(json.loads(row.parents))
        lines.append(
            f'{{"data":{row.data},"deleted":{"true" if row.deleted else "false"},'
            f'"device_id":{text(row.device_id)},"entity":{text(row.entity)},'
            f'"entity_id":{text(row.entity_id)},"generation":{int(row.generation)},'
            f'"hlc":{text(row.hlc)},"parents":{parents},"rev_id":{text(row.rev_id)}}}'
        )
        newest = max(newest, row.arrival)
    return lines, newest


def revisions_since(conn: Connection, watermark: int) -> tuple[list[dict[str, Any]], int]:
    """The revisions that arrived in this store after `watermark` (0: all of them), as a
    bundle carries them, and the new watermark."""
    order = arrival_order(_revisions)
    rows = list(
        conn.execute(
            select(_revisions, order.label("arrival"))
            .where(order > watermark)
            .order_by(_revisions.c.rev_id)
        ).mappings()
    )
    newest = max((row["arrival"] for row in rows), default=watermark)
    return [
        {
            "rev_id": row["rev_id"],
            "entity": row["entity"],
            "entity_id": row["entity_id"],
            "generation": row["generation"],
            "parents": list(row["parents"] or []),
            "hlc": row["hlc"],
            "device_id": row["device_id"],
            "deleted": bool(row["deleted"]),
            "data": json.loads(row["data"]),
        }
        for row in rows
    ], newest
