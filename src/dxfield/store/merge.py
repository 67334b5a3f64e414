"""Merging revisions from elsewhere: the heart of sync, without the bundle around it.

A record is its kind and its id together, everywhere here. `check_revision` checks one revision
as a bundle carries it, on its own (shape, formats, its id against its content, its record against
the kind's validation); `apply_revisions` checks the revisions against each other and the store
(an id already taken by a record of another kind, parents that exist and belong to the same
record, generations, the records a record points at), inserts those the store lacks, then, for
every record they touch, works out the leaves again from the parent links (a leaf is a revision no
other revision of the record names as a parent) and materializes the winner: the leaf with the
highest (stamp, device id, revision id), stamps compared as numbers. The result depends only on
the set of revisions a store holds, never on the order they arrived in, and applying the same
revisions twice changes nothing. Two live leaves are a conflict: the loser is kept, nothing is
overwritten.

Everything happens on the caller's connection, inside the caller's transaction, so an import
is all or nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, func, insert, select, update
from sqlalchemy.engine import Connection

from dxfield.domain.errors import LocalizedError
from dxfield.i18n import N_, problems, quote
from dxfield.store import authorship, purges, records, revisions, search_index
from dxfield.store.backend import backend_for
from dxfield.store.hlc import Stamp, observe, skew_limit
from dxfield.store.ids import ID_PATTERN
from dxfield.store.links import links_of
from dxfield.store.local_state import put_value_in
from dxfield.store.revisions import canonical_json as canonical
from dxfield.store.schema import REVISIONS, SYNCED_TABLES
from dxfield.store.unit import Unit

_revisions = REVISIONS

REVISION_KEYS = frozenset(
    (
        "data",
        "deleted",
        "device_id",
        "entity",
        "entity_id",
        "generation",
        "hlc",
        "parents",
        "rev_id",
    )
)
MAX_PARENTS = 64
"""The most parents a revision may name (a resolved conflict names every leaf)."""
MAX_GENERATION = 10**9
REV_ID_PATTERN = re.compile(r"([1-9][0-9]{0,9})-[0-9a-f]{32}")
PROOF_KEYS = ("signature", "attestation")
"""A format-2 revision carries exactly one: its author's signature or the hub's attestation."""
PROOF_PATTERN = re.compile(r"[A-Za-z0-9+/]{86}==")
"""Base64 of 64 bytes (an Ed25519 signature), as dxfield writes it."""
SKEW_KEY = "clock-skew:"
"""local_state: a revision taken though stamped far ahead, and who sent it."""


class RevisionRefused(LocalizedError):
    """A revision that cannot be taken; `rev_id` says which (the bundle says where it is)."""

    def __init__(self, rev_id: str, code: str, field: str | None = None, **values: Any) -> None:
        super().__init__(code, field=field, **values)
        self.rev_id = rev_id

    @classmethod
    def of(cls, rev_id: str, exc: LocalizedError) -> RevisionRefused:
        """`exc` (its code, field and values kept) said of the revision `rev_id`."""
        again = cls.__new__(cls)
        again.__dict__.update(exc.__dict__)
        ValueError.__init__(again, *exc.args)
        again.rev_id = rev_id
        return again


PROBLEMS = problems(
    {
        "revision.bad_time": N_("{value} is not a date and time with a zone"),
        "revision.not_object": N_("is not an object"),
        "revision.wrong_fields": N_("its fields are not those of a version: {fields}"),
        "revision.no_proof": N_(
            "it carries neither its author's signature nor the hub's attestation, or both"
        ),
        "revision.too_deep": N_("is nested too deeply"),
        "revision.not_text": N_("holds a character that is not text (a lone surrogate)"),
        "revision.not_signature": N_("is not a signature (base64 of 64 bytes)"),
        "revision.unknown_kind": N_(
            "unknown kind {value}: a kind of record this dxfield does not know; update dxfield"
        ),
        "revision.not_id": N_("{value} is not an id"),
        "revision.not_generation": N_("{value} is not a generation"),
        "revision.bad_parents": N_("unreadable (a list of distinct version ids, at most {limit})"),
        "revision.not_version_id": N_("{value} is not a version id"),
        "revision.wrong_generation": N_(
            "{value} does not follow its previous versions ({expected})"
        ),
        "revision.not_stamp": N_("{value} is not a clock stamp (13 digits, a hyphen, 6 digits)"),
        "revision.not_true_or_false": N_("is not true or false"),
        "revision.wrong_id": N_("its content does not match its version id"),
        "revision.unknown_fields": N_("fields {kind} does not have: {value}"),
        "revision.not_canonical": N_("not in the form dxfield writes: {value}"),
        "revision.parent_missing": N_(
            "its previous version {parent} is neither in this store nor in the bundle"
        ),
        "revision.parent_foreign": N_(
            "its previous version {parent} is a version of another record"
        ),
        "revision.target_missing": N_(
            "the {kind} {id} it points at is neither in this store nor in the bundle "
            "(import the bundle that made it first)"
        ),
        "revision.kind_taken": N_(
            "the id {id} belongs to another kind of record ({other}), not to {kind}"
        ),
    }
)


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
    purged: int = 0
    """Versions of purged attachments that arrived and were not stored."""


def winner_key(hlc: str, device_id: str, rev_id: str) -> tuple[Stamp, str, str]:
    """How leaves are ranked: the highest wins. Total (the revision id breaks every tie) and the
    same on every store; an unreadable stamp (only in a store written before stamps were
    checked) ranks below every other."""
    return (Stamp.parse_or_floor(hlc), device_id, rev_id)


def _row_key(row: Any) -> tuple[Stamp, str, str]:
    return winner_key(row.hlc, row.device_id, row.rev_id)


def _among(conn: Connection, column: Any, values: Sequence[str]) -> Iterable[ColumnElement[bool]]:
    """`column` is one of `values`: as many conditions as the engine needs for so many."""
    backend = backend_for(conn)
    for start in range(0, len(values), backend.batch):
        yield backend.among(column, values[start : start + backend.batch])


def _malformed(rev_id: str, field: str, code: str, **values: object) -> RevisionRefused:
    return RevisionRefused(rev_id, code, field, **values)


def _created_at(rev_id: str, value: object) -> None:
    when = None
    if isinstance(value, str) and len(value) <= 40:
        try:
            when = dt.datetime.fromisoformat(value)
        except ValueError:
            when = None
    if when is None or when.tzinfo is None or not 2000 <= when.year <= 9999:
        raise _malformed(rev_id, "created_at", "revision.bad_time", value=quote(value))


def check_revision(revision: object) -> dict[str, Any]:
    """One revision as a format-1 bundle carries it, checked on its own: exactly the fields of
    format 1, each of its type and format (ids, stamp, generation and parents), its id the hash
    of its content, and its record valid and in the form dxfield writes it. Returns the row to
    insert (with neither signature nor attestation); raises a RevisionRefused naming the field."""
    return checked_revision(revision)[0]


def check_signed_revision(
    revision: object, *, held: Container[str] = ()
) -> tuple[dict[str, Any], bytes]:
    """One revision as a format-2 bundle carries it: as `check_revision`, with exactly one of
    `signature` (its author's) and `attestation` (the hub's), base64 of 64 bytes. Returns the
    row to insert (with its proof) and the revision's digest, which the proof must sign.

    A revision whose id is in `held` (ids this store holds) is checked but for its record's
    validation: its id is its content's hash, so its record is the one this store checked when
    it took it (should the store no longer hold it when it comes to be taken, `check_content`
    does the rest)."""
    if not isinstance(revision, dict):
        raise RevisionRefused("", "revision.not_object")
    claimed = revision.get("rev_id")
    rev_id = claimed if isinstance(claimed, str) and len(claimed) <= 64 else ""
    proofs = [name for name in PROOF_KEYS if name in revision]
    if len(proofs) != 1:
        raise RevisionRefused(rev_id, "revision.no_proof")
    name = proofs[0]
    proof = revision[name]
    if not isinstance(proof, str) or not PROOF_PATTERN.fullmatch(proof):
        raise _malformed(rev_id, name, "revision.not_signature")
    row, found = checked_revision(
        {k: v for k, v in revision.items() if k != name},
        validate=not (isinstance(claimed, str) and claimed in held),  # an id, not any value
    )
    row[name] = proof
    return row, found


def checked_revision(revision: object, *, validate: bool = True) -> tuple[dict[str, Any], bytes]:
    """`check_revision`'s row, and the revision's digest (what its id is made from); without
    its record's validation unless `validate`."""
    if not isinstance(revision, dict):
        raise RevisionRefused("", "revision.not_object")
    claimed = revision.get("rev_id")
    rev_id = claimed if isinstance(claimed, str) and len(claimed) <= 64 else ""
    keys = set(revision)
    if keys != REVISION_KEYS:
        odd = sorted(str(k)[:20] for k in (keys ^ REVISION_KEYS))
        raise RevisionRefused(rev_id, "revision.wrong_fields", fields=", ".join(odd))
    entity = revision["entity"]
    if not isinstance(entity, str) or entity not in SYNCED_TABLES:
        raise _malformed(rev_id, "entity", "revision.unknown_kind", value=quote(entity))
    for name in ("entity_id", "device_id"):
        value = revision[name]
        if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
            raise _malformed(rev_id, name, "revision.not_id", value=quote(value))
    generation = revision["generation"]
    if type(generation) is not int or not 1 <= generation <= MAX_GENERATION:
        raise _malformed(rev_id, "generation", "revision.not_generation", value=quote(generation))
    parents = revision["parents"]
    if (
        not isinstance(parents, list)
        or len(parents) > MAX_PARENTS
        or not all(isinstance(p, str) and REV_ID_PATTERN.fullmatch(p) for p in parents)
        or len(set(parents)) != len(parents)
    ):
        raise _malformed(rev_id, "parents", "revision.bad_parents", limit=MAX_PARENTS)
    match = REV_ID_PATTERN.fullmatch(claimed) if isinstance(claimed, str) else None
    if match is None:
        raise _malformed(rev_id, "rev_id", "revision.not_version_id", value=quote(claimed))
    expected_generation = 1 + max((int(p.partition("-")[0]) for p in parents), default=0)
    if generation != expected_generation:
        raise _malformed(
            rev_id,
            "generation",
            "revision.wrong_generation",
            value=generation,
            expected=expected_generation,
        )
    hlc = revision["hlc"]
    try:
        Stamp.parse(hlc)
    except ValueError:
        raise _malformed(rev_id, "hlc", "revision.not_stamp", value=quote(hlc)) from None
    deleted = revision["deleted"]
    if not isinstance(deleted, bool):
        raise _malformed(rev_id, "deleted", "revision.not_true_or_false")
    data = revision["data"]
    if not isinstance(data, dict):
        raise _malformed(rev_id, "data", "revision.not_object")
    entity_id, device_id = revision["entity_id"], revision["device_id"]
    try:
        data_text = canonical(data)
        found = authorship.digest_of_text(
            entity, entity_id, parents, hlc, device_id, deleted, data_text
        )
    except UnicodeEncodeError:  # JSON may escape a lone surrogate, which no UTF-8 text holds
        raise _malformed(rev_id, "data", "revision.not_text") from None
    except RecursionError:  # parsed at the edge of the stack, too deep to write again
        raise _malformed(rev_id, "data", "revision.too_deep") from None
    if authorship.id_of(generation, found) != claimed:
        raise RevisionRefused(rev_id, "revision.wrong_id")
    _created_at(rev_id, data.get("created_at"))
    content = {k: v for k, v in data.items() if k != "created_at"}
    if validate:
        _check_content(rev_id, entity, content)
    try:  # a kind whose id follows from its content (a note template's from its kind)
        revisions.check_fixed_id(entity, entity_id, content)
        revisions.check_final(entity, follows=bool(parents), deleted=deleted)
    except LocalizedError as exc:
        raise RevisionRefused.of(rev_id, exc) from None
    return {
        "rev_id": claimed,
        "entity": entity,
        "entity_id": entity_id,
        "generation": generation,
        "parents": sorted(parents),
        "hlc": hlc,
        "device_id": device_id,
        "deleted": deleted,
        "data": data_text,
        "leaf": True,
        "clock_skew": False,
        "signature": None,
        "attestation": None,
    }, found


def check_content(row: Mapping[str, Any], data: dict[str, Any]) -> None:
    """The record `data` of the revision `row` passes its kind's validation, in the form
    validation gives (what `check_signed_revision` left to do for a revision held then)."""
    content = {k: v for k, v in data.items() if k != "created_at"}
    _check_content(row["rev_id"], row["entity"], content)


def _check_content(rev_id: str, entity: str, content: dict[str, Any]) -> None:
    """The record passes the kind's validation, has no field the kind does not know, and every
    field it has is in the form validation gives (so what is stored is what is shown)."""
    known = records.content_fields(entity)
    unknown = sorted(k for k in content if k not in known)
    if unknown:
        raise _malformed(
            rev_id,
            "data",
            "revision.unknown_fields",
            kind=records.kind_words(entity),
            value=quote(", ".join(unknown)),
        )
    try:
        valid = records.validate(entity, content)
    except LocalizedError as exc:
        raise RevisionRefused.of(rev_id, exc) from None
    for name, value in content.items():
        if valid[name] != value:
            raise _malformed(rev_id, name, "revision.not_canonical", value=quote(value))


def _known_kinds(conn: Connection, ids: Sequence[str]) -> dict[str, set[str]]:
    """For each of `ids` that this store has revisions of: the kinds of record it is."""
    kinds: dict[str, set[str]] = {}
    for among in _among(conn, _revisions.c.entity_id, sorted(set(ids))):
        rows = conn.execute(
            select(_revisions.c.entity_id, _revisions.c.entity).where(among).distinct()
        )
        for entity_id, entity in rows:
            kinds.setdefault(entity_id, set()).add(entity)
    return kinds


def _check_together(
    conn: Connection, new: Sequence[dict[str, Any]], contents: Mapping[str, dict[str, Any]]
) -> None:
    """The revisions a store lacks, checked against each other and the store: one kind per id,
    parents of the same record that exist, and the records each record points at."""
    by_rev = {r["rev_id"]: r for r in new}
    # One kind per id, here and in what arrives.
    incoming_kinds: dict[str, str] = {}
    for revision in new:
        entity, entity_id = revision["entity"], revision["entity_id"]
        other = incoming_kinds.setdefault(entity_id, entity)
        if other != entity:
            raise _kind_taken(revision, other)
    parent_ids = sorted({p for r in new for p in r["parents"] if p not in by_rev})
    links = {
        r["rev_id"]: list(links_of(r["entity"], contents[r["rev_id"]]))
        for r in new
        if not r["deleted"]
    }
    targets = {target for found in links.values() for _, _, target in found}
    here = _known_kinds(conn, [*incoming_kinds, *targets])
    for revision in new:
        kinds = here.get(revision["entity_id"], set()) - {revision["entity"]}
        if kinds:
            raise _kind_taken(revision, sorted(kinds)[0])
    # Parents: in the bundle or here, and of the same record.
    stored: dict[str, tuple[str, str]] = {}
    for among in _among(conn, _revisions.c.rev_id, parent_ids):
        rows = conn.execute(
            select(_revisions.c.rev_id, _revisions.c.entity, _revisions.c.entity_id).where(among)
        )
        stored.update({rev_id: (entity, entity_id) for rev_id, entity, entity_id in rows})
    for revision in new:
        record = (revision["entity"], revision["entity_id"])
        for parent in revision["parents"]:
            owner = (
                (by_rev[parent]["entity"], by_rev[parent]["entity_id"])
                if parent in by_rev
                else stored.get(parent)
            )
            if owner is None:
                raise RevisionRefused(
                    revision["rev_id"], "revision.parent_missing", "parents", parent=parent
                )
            if owner != record:
                raise RevisionRefused(
                    revision["rev_id"], "revision.parent_foreign", "parents", parent=parent
                )
    # What a record points at exists, here or in the bundle, and is of the right kind.
    for revision in new:
        for name, kind, target in links.get(revision["rev_id"], ()):
            if incoming_kinds.get(target) == kind or kind in here.get(target, ()):
                continue
            raise RevisionRefused(
                revision["rev_id"],
                "revision.target_missing",
                name,
                kind=records.kind_words(kind),
                id=target,
            )


def _kind_taken(revision: dict[str, Any], other: str) -> RevisionRefused:
    entity_id, entity = revision["entity_id"], revision["entity"]
    return RevisionRefused(
        revision["rev_id"],
        "revision.kind_taken",
        "entity_id",
        id=entity_id,
        other=records.kind_words(other),
        kind=records.kind_words(entity),
    )


def apply_revisions(
    unit: Unit,
    incoming: Sequence[dict[str, Any]],
    *,
    sender: str | None = None,
    sender_name: str | None = None,
    accept: Callable[[dict[str, Any]], None] | None = None,
    contents: Mapping[str, dict[str, Any]] | None = None,
) -> MergeReport:
    """Check the revisions (each from `check_revision`) against each other and the store,
    insert those this store lacks and re-derive the winner of every record they touch.
    Order-free and idempotent, all in the unit's transaction. A revision stamped more than a
    day ahead is taken but flagged (with `sender`, the device whose bundle brought it) and never
    moves this store's clock. `accept`, when given, is called with each revision this store
    lacks before anything is written (it may raise to refuse it, or fill in its proof).
    `contents`, when given, holds the record of some of them as a dict (`json.loads` of its
    `data`), by revision id: what the caller parsed already is not parsed again."""
    unit.require_write()
    conn = unit.conn
    report = MergeReport()
    by_id = {r["rev_id"]: r for r in incoming}
    have: set[str] = set()
    for among in _among(conn, _revisions.c.rev_id, list(by_id)):
        have.update(conn.execute(select(_revisions.c.rev_id).where(among)).scalars())
    new = [r for rev_id, r in sorted(by_id.items()) if rev_id not in have]
    parsed = {r["rev_id"]: (contents or {}).get(r["rev_id"]) or json.loads(r["data"]) for r in new}
    # Versions of a purged attachment (from a store that had not heard of the purge) are not
    # stored: what the purge erased does not come back.
    new, report.purged = purges.without_purged(conn, new, parsed)
    touched = sorted({(r["entity"], r["entity_id"]) for r in new})
    untouched = {(r["entity"], r["entity_id"]) for r in by_id.values()} - set(touched)
    report.unchanged = len(untouched)
    if not new:
        return report
    if accept is not None:
        for revision in new:
            accept(revision)
    _check_together(conn, new, parsed)
    limit = skew_limit()
    rows = []
    plausible: list[Stamp] = []
    for revision in new:
        stamp = Stamp.parse(revision["hlc"])
        if stamp > limit:
            revision = {**revision, "clock_skew": True}
            report.skewed.append(revision["rev_id"])
        else:
            plausible.append(stamp)
        rows.append(revision)
    # Records this store has never seen are materialized in bulk (the common case: a first
    # import, or a laptop's new work); the others one by one, against what is here already.
    known: set[tuple[str, str]] = set()
    wanted = set(touched)
    for among in _among(conn, _revisions.c.entity_id, sorted({i for _, i in touched})):
        found = conn.execute(
            select(_revisions.c.entity, _revisions.c.entity_id).where(among).distinct()
        )
        known.update(record for record in found if record in wanted)
    backend = backend_for(conn)
    backend.insert_rows(conn, _revisions, rows)
    _note_skew(conn, report.skewed, sender, sender_name)
    # The clock moves past what it saw, but not into a skewed future: that would drag every
    # later change made here a day or more ahead too.
    if plausible:
        observe(conn, max(plausible))
    fresh = [record for record in touched if record not in known]
    report.conflicting += _materialize_new(conn, fresh, rows, parsed)
    report.new += len(fresh)
    for entity, entity_id in touched:
        if (entity, entity_id) not in known:
            continue
        outcome = _rederive(conn, entity, entity_id)
        if outcome == "new":
            report.new += 1
        elif outcome == "updated":
            report.updated += 1
        else:
            report.unchanged += 1
        if conflicting_leaves(conn, entity, entity_id)[1:]:
            report.conflicting += 1
    # A purge taken erases its attachment's content here, in this transaction.
    purges.take_arrived(unit, [parsed[r["rev_id"]] for r in new if r["entity"] == "purge"])
    # No live record names bytes a purge erased (the same photo attached again elsewhere).
    if any(r["entity"] in ("attachment", "purge") for r in new):
        purges.settle(unit)
    return report


def _note_skew(
    conn: Connection, rev_ids: Sequence[str], sender: str | None, sender_name: str | None
) -> None:
    """Remember, for `check` and the app, which device's bundle brought each far-ahead stamp."""
    for rev_id in rev_ids:
        put_value_in(conn, SKEW_KEY + rev_id, {"sender": sender, "sender_name": sender_name})


def _materialize_new(
    conn: Connection,
    records_: list[tuple[str, str]],
    rows: list[dict[str, Any]],
    contents: Mapping[str, dict[str, Any]],
) -> int:
    """Leaves and winners of records whose every revision just arrived, written in bulk;
    returns how many of them are in conflict."""
    if not records_:
        return 0
    conflicting = 0
    wanted = set(records_)
    per_record: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        record = (row["entity"], row["entity_id"])
        if record in wanted:
            per_record.setdefault(record, []).append(row)
    not_leaves: list[str] = []
    materialized: dict[str, list[dict[str, Any]]] = {}
    search_rows: list[dict[str, Any]] = []
    for entity, entity_id in records_:
        revisions_ = per_record[(entity, entity_id)]
        named = {p for r in revisions_ for p in r["parents"]}
        not_leaves += [r["rev_id"] for r in revisions_ if r["rev_id"] in named]
        live_leaves = [r for r in revisions_ if r["rev_id"] not in named and not r["deleted"]]
        conflicting += len(live_leaves) > 1
        candidates = [r for r in revisions_ if r["rev_id"] not in named]
        winner = (
            candidates[0]
            if len(candidates) == 1
            else max(candidates, key=lambda r: winner_key(r["hlc"], r["device_id"], r["rev_id"]))
        )
        data = contents[winner["rev_id"]]
        table = revisions.table_for(entity)
        materialized.setdefault(entity, []).append(revisions.materialized_row(table, winner, data))
        entry = search_index.entry(entity, entity_id, data)
        if entry is not None and not winner["deleted"]:
            search_rows.append(entry)
    for among in _among(conn, _revisions.c.rev_id, not_leaves):
        conn.execute(update(_revisions).where(among).values(leaf=False))
    backend = backend_for(conn)
    for entity, entity_rows in materialized.items():
        backend.insert_rows(conn, revisions.table_for(entity), entity_rows)
    search_index.insert_many(conn, search_rows)
    return conflicting


def _of_record(entity: str, entity_id: str) -> Any:
    return (_revisions.c.entity == entity) & (_revisions.c.entity_id == entity_id)


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
        ).where(_of_record(entity, entity_id))
    ).all()
    named = {parent for row in rows for parent in (row.parents or [])}
    leaves = [row for row in rows if row.rev_id not in named]
    for row in rows:
        is_leaf = row.rev_id not in named
        if bool(row.leaf) != is_leaf:
            conn.execute(
                update(_revisions).where(_revisions.c.rev_id == row.rev_id).values(leaf=is_leaf)
            )
    winner = max(leaves, key=_row_key)
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


def leaves(conn: Connection, entity: str, entity_id: str) -> list[str]:
    """The ids of every leaf of a record, live or deleted, sorted (what a new revision that
    closes them all names as its parents)."""
    return sorted(
        conn.execute(
            select(_revisions.c.rev_id).where(
                _of_record(entity, entity_id), _revisions.c.leaf.is_(True)
            )
        ).scalars()
    )


def live_leaves(conn: Connection, entity: str, entity_id: str) -> list[Any]:
    """The live leaves of a record (rev_id, hlc, device_id, data), winner first."""
    rows = conn.execute(
        select(
            _revisions.c.rev_id, _revisions.c.hlc, _revisions.c.device_id, _revisions.c.data
        ).where(
            _of_record(entity, entity_id),
            _revisions.c.leaf.is_(True),
            _revisions.c.deleted.is_(False),
        )
    ).all()
    return sorted(rows, key=_row_key, reverse=True)


def conflicting_leaves(conn: Connection, entity: str, entity_id: str) -> list[str]:
    """The ids of a record's live leaves, winner first; more than one means a conflict."""
    return [row.rev_id for row in live_leaves(conn, entity, entity_id)]


def all_revisions(conn: Connection) -> list[dict[str, Any]]:
    """Every revision of this store as a bundle carries it (data as JSON, not text)."""
    return revisions_since(conn, 0)[0]


def latest_arrival(conn: Connection) -> int:
    """The arrival order of the newest revision in this store (0 when there is none)."""
    latest = select(func.max(backend_for(conn).arrival_order(_revisions))).select_from(_revisions)
    return int(conn.execute(latest).scalar() or 0)


def count_revisions_since(conn: Connection, watermark: int) -> int:
    """How many revisions arrived in this store after `watermark`."""
    order = backend_for(conn).arrival_order(_revisions)
    return int(
        conn.execute(select(func.count()).where(order > watermark).select_from(_revisions)).scalar()
        or 0
    )


def revision_lines_since(conn: Connection, watermark: int) -> tuple[list[str], int]:
    """The revisions that arrived after `watermark`, each as the canonical JSON line a bundle
    carries, and the new watermark. The stored `data` is canonical JSON already, so it is
    spliced in as it is rather than parsed and written again (the export's largest cost)."""
    order = backend_for(conn).arrival_order(_revisions)
    rows = conn.execute(
        select(
            _revisions.c.data,
            _revisions.c.deleted,
            _revisions.c.device_id,
            _revisions.c.entity,
            _revisions.c.entity_id,
            _revisions.c.generation,
            _revisions.c.hlc,
            # As text on both engines: psycopg would hand PostgreSQL's json over parsed.
            cast(_revisions.c.parents, Text).label("parents"),
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
    order = backend_for(conn).arrival_order(_revisions)
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
