"""What can be wrong in a store beyond SQLite's own integrity check: each a one-line finding.

A store written before revisions were checked (or by a buggy future version) may hold: one id
used by records of two kinds, stamps that cannot be read or stand far ahead, revisions whose
parents are missing or belong to another record, materialized rows that are not the winner of
their revisions (or have none), and records pointing at records that do not exist; and a
revision whose signature is not its author's, or whose attestation is not the hub's (judged with
the keys this store knows: its own, its trusted devices' cards). `dxfield check` lists them all;
none is repaired behind the user's back.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from dxfield.i18n import N_, LocalizedError, Words, field_label, problems
from dxfield.store import records, revisions
from dxfield.store.authorship import AuthorKeys, bad_proofs, revoked_outside
from dxfield.store.hlc import SKEW_LIMIT_MS, Stamp, ahead_of_real_time, skew_limit
from dxfield.store.links import links_of
from dxfield.store.local_state import values_in
from dxfield.store.merge import SKEW_KEY, winner_key
from dxfield.store.schema import REVISIONS, SYNCED_TABLES
from dxfield.store.unit import Work, unit_of

_revisions = REVISIONS
MAX_FINDINGS_PER_KIND = 50
"""A badly damaged store would list thousands: each kind of finding stops at this many."""


PROBLEMS = problems(
    {
        "check.kind_collision": N_("the id {id} is used by records of several kinds ({kinds})"),
        "check.bad_stamp": N_("version {rev} has an unreadable clock stamp {hlc}"),
        "check.far_ahead": N_(
            "version {rev} ({kind} {id}) is stamped over a day ahead (author {author}, "
            "sender {sender})"
        ),
        "check.missing_parent": N_(
            "version {rev} names a previous version {parent} that is not here"
        ),
        "check.foreign_parent": N_(
            "version {rev} names a previous version {parent} of another record"
        ),
        "check.clock_ahead": N_(
            "this store's clock stands {days:,} days ahead (it falls back at the next change)"
        ),
        "check.revoked_author": N_(
            "version {rev} ({kind} {id}) is by {author}, revoked, and is not among the versions "
            "the hub kept when it revoked it"
        ),
        "check.no_row": N_("the {kind} {id} has versions but no row"),
        "check.wrong_winner": N_("the {kind} {id} shows {rev}, not its winner {winner}"),
        "check.orphan_row": N_("the {kind} {id} has no versions"),
        "check.dangling": N_(
            "the {kind} {id} points ({link}) at a {target_kind} {target} that is not here"
        ),
        "check.bad_signature": N_(
            "version {rev} ({kind} {id}) carries a signature that is not its author's ({author})"
        ),
        "check.bad_attestation": N_(
            "version {rev} ({kind} {id}) carries an attestation that is not the hub's"
        ),
    }
)


@dataclass(frozen=True)
class Finding:
    """One thing wrong in a store, said in one line: `code` its kind (`kind-collision`...),
    `problem` what is wrong (rendered in the reader's language)."""

    code: str
    problem: LocalizedError

    def message(self, lang: str | None = None) -> str:
        """The line in `lang` (default: the user's language)."""
        return self.problem.message(lang)


@dataclass(frozen=True)
class FarAhead:
    """A revision taken though stamped over a day ahead: who wrote it, whose bundle brought it."""

    rev_id: str
    entity: str
    entity_id: str
    hlc: str
    author: str
    sender: str


def far_ahead(work: Work) -> list[FarAhead]:
    """The revisions flagged on import as stamped far ahead, newest arrival first."""
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        rows = conn.execute(
            select(
                _revisions.c.rev_id,
                _revisions.c.entity,
                _revisions.c.entity_id,
                _revisions.c.hlc,
                _revisions.c.device_id,
            )
            .where(_revisions.c.clock_skew.is_(True))
            .order_by(unit.backend.arrival_order(_revisions).desc())
        ).all()
        notes = values_in(conn, SKEW_KEY)
    found = []
    for row in rows:
        note = notes.get(SKEW_KEY + row.rev_id) or {}
        sender = str(note.get("sender_name") or note.get("sender") or "?")
        found.append(
            FarAhead(row.rev_id, row.entity, row.entity_id, row.hlc, row.device_id, sender)
        )
    return found


def _kind(entity: str) -> Words:
    return records.kind_words(entity)


def _kinds(entities: list[str]) -> Words:
    return Words(lambda lang: ", ".join(records.label(e, lang) for e in entities))


def _field(field: str) -> Words:
    return Words(lambda lang: field_label(field, lang))


def find_problems(conn: Connection, keys: AuthorKeys | None = None) -> list[Finding]:
    """Every finding in the store, grouped by kind, at most MAX_FINDINGS_PER_KIND of each;
    signatures and attestations are judged when the store's known `keys` are given."""
    found: dict[str, list[Finding]] = defaultdict(list)

    def note(code: str, problem: str, **values: Any) -> None:
        if len(found[code]) < MAX_FINDINGS_PER_KIND:
            found[code].append(Finding(code, LocalizedError(problem, **values)))

    rows = conn.execute(
        select(
            _revisions.c.rev_id,
            _revisions.c.entity,
            _revisions.c.entity_id,
            _revisions.c.parents,
            _revisions.c.hlc,
            _revisions.c.device_id,
            _revisions.c.deleted,
            _revisions.c.clock_skew,
        )
    ).all()
    by_rev = {row.rev_id: row for row in rows}
    kinds: dict[str, set[str]] = defaultdict(set)
    per_record: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in rows:
        kinds[row.entity_id].add(row.entity)
        per_record[(row.entity, row.entity_id)].append(row)
    for entity_id, entities in sorted(kinds.items()):
        if len(entities) > 1:
            names = sorted(entities)
            note(
                "kind-collision",
                "check.kind_collision",
                id=entity_id,
                kinds=_kinds(names),
            )
    limit = skew_limit()
    skew_notes = values_in(conn, SKEW_KEY)
    for row in rows:
        try:
            stamp = Stamp.parse(row.hlc)
        except ValueError:
            note("bad-stamp", "check.bad_stamp", rev=row.rev_id, hlc=repr(row.hlc))
            continue
        if row.clock_skew or stamp > limit:
            sender = skew_notes.get(SKEW_KEY + row.rev_id) or {}
            who = sender.get("sender_name") or sender.get("sender") or "?"
            note(
                "far-ahead",
                "check.far_ahead",
                rev=row.rev_id,
                kind=_kind(row.entity),
                id=row.entity_id,
                author=row.device_id,
                sender=who,
            )
        for parent in row.parents or []:
            other = by_rev.get(parent)
            if other is None:
                note("missing-parent", "check.missing_parent", rev=row.rev_id, parent=parent)
            elif (other.entity, other.entity_id) != (row.entity, row.entity_id):
                note("foreign-parent", "check.foreign_parent", rev=row.rev_id, parent=parent)
    _check_materialized(conn, per_record, note)
    if keys is not None:
        for bad in bad_proofs(conn, keys, 2 * MAX_FINDINGS_PER_KIND):
            code, problem = (
                ("bad-attestation", "check.bad_attestation")
                if bad.attestation
                else ("bad-signature", "check.bad_signature")
            )
            note(
                code,
                problem,
                rev=bad.rev_id,
                kind=_kind(bad.entity),
                id=bad.entity_id,
                author=bad.author,
            )
        for late in revoked_outside(conn, keys, MAX_FINDINGS_PER_KIND):
            note(
                "revoked-author",
                "check.revoked_author",
                rev=late.rev_id,
                kind=_kind(late.entity),
                id=late.entity_id,
                author=late.author,
            )
    ahead = ahead_of_real_time(conn)
    if ahead > SKEW_LIMIT_MS:
        days = ahead // (24 * 60 * 60 * 1000)
        note("clock-ahead", "check.clock_ahead", days=days)
    return [finding for code in sorted(found) for finding in found[code]]


def _check_materialized(
    conn: Connection, per_record: dict[tuple[str, str], list[Any]], note: Any
) -> None:
    """Each record's row is the winner of its revisions, and what it points at exists."""
    present = set(per_record)
    by_entity: dict[str, dict[str, list[Any]]] = defaultdict(dict)
    for (kind, entity_id), versions in per_record.items():
        by_entity[kind][entity_id] = versions
    for entity in sorted(SYNCED_TABLES):
        table = revisions.table_for(entity)
        materialized = {
            row.id: row
            for row in conn.execute(
                select(table.c.id, table.c.rev, table.c.deleted, _revisions.c.data).outerjoin(
                    _revisions, _revisions.c.rev_id == table.c.rev
                )
            )
        }
        for entity_id, versions in sorted(by_entity[entity].items()):
            row = materialized.get(entity_id)
            named = {p for v in versions for p in (v.parents or [])}
            leaves = [v for v in versions if v.rev_id not in named] or versions
            winner = max(leaves, key=lambda v: winner_key(v.hlc, v.device_id, v.rev_id))
            if row is None:
                note("no-row", "check.no_row", kind=_kind(entity), id=entity_id)
            elif row.rev != winner.rev_id:
                note(
                    "wrong-winner",
                    "check.wrong_winner",
                    kind=_kind(entity),
                    id=entity_id,
                    rev=row.rev,
                    winner=winner.rev_id,
                )
        for entity_id, row in sorted(materialized.items()):
            if (entity, entity_id) not in per_record:
                note("orphan-row", "check.orphan_row", kind=_kind(entity), id=entity_id)
                continue
            if row.deleted or row.data is None:
                continue
            for field, kind, target in links_of(entity, json.loads(row.data)):
                if (kind, target) not in present:
                    note(
                        "dangling",
                        "check.dangling",
                        kind=_kind(entity),
                        id=entity_id,
                        link=_field(field),
                        target_kind=_kind(kind),
                        target=target,
                    )
