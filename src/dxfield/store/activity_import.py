"""Many activities brought in at once (a table), checked batch by batch, written in one go.

An import is two passes over its rows, so that a long one does not keep everyone else from
writing while it reads and checks (issue 17):

1. `ActivityImport.check`, batch by batch, in a reading unit: every row resolved (names from
   `Lookups`, read once), validated and classified (new, an edit, unchanged); a bad row is
   refused by its number and field before anything is written. What is to be written goes to
   a `Spool` (a temporary file in the data folder, gone when closed), so memory stays flat
   however many rows there are.
2. `ActivityImport.write`, in one writing unit: the spool, batch by batch, through the bulk
   path (new activities) and the edit path (updates). The check was made on a snapshot:
   `stale` says whether anything it depended on (organizations, initiatives, the activities the
   rows name by id) has changed since; the caller then checks everything again inside the
   writing unit, where nothing can change any more.

On the hub (a backend that `writes_ahead`), the writing unit begins with the check, without
the write lock: some of the new activities' search entries (`written_ahead`) stream into it
(one COPY) as their rows are checked, so the server builds their trigram index, most of what
the import costs it, while the rows are still being read; the lock is taken once the check is
done. Their ids are new, so no one else's write can touch those rows, and no one sees them
before the commit. A stale check rolls them back (a savepoint) and writes them again.

All or none: the writing unit is one transaction, so a failure anywhere leaves the store as it
was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from dxfield.domain.errors import LocalizedError
from dxfield.i18n import N_, problems, quote
from dxfield.store import records, revisions, search_index
from dxfield.store.activities import (
    ActivityInput,
    Lookups,
    activity_changes,
    edited_changes,
    new_activity_content,
)
from dxfield.store.backend import backend_for
from dxfield.store.ids import looks_like_id, new_id
from dxfield.store.records import ACTIVITIES
from dxfield.store.schema import REVISIONS
from dxfield.store.spool import Spool
from dxfield.store.unit import Unit

PROBLEMS = problems(
    {
        "table.row": N_("row {number}: {problem}"),
        "table.not_an_id": N_("{value} is not an id (36 characters)"),
        "table.deleted_activity": N_(
            "this activity has been deleted (leave the id empty to add it anew)"
        ),
        "table.id_of_other_kind": N_(
            "is the id of another kind of record ({kind}), not of an activity"
        ),
        "table.same_id": N_("the same id as row {number}"),
    }
)

_table = revisions.table_for("activity")
_revisions = REVISIONS
REFERENCE_ENTITIES = frozenset({"organization", "initiative"})
"""What a row's names resolve to: a change to any of them makes a check stale."""


def at_row(number: int, exc: LocalizedError) -> LocalizedError:
    """`exc` said of row `number` of a table being brought in: `row 3: date: …`, the field named
    once, after the row (so the error carries no field of its own)."""
    return LocalizedError("table.row", number=number, problem=exc)


@dataclass(frozen=True)
class ImportedActivity:
    """One row of a table being brought in: what it gives, the id it carries (None: a new
    activity) and the fields of ActivityInput it leaves empty, cleared on a record it updates."""

    given: ActivityInput
    record_id: str | None = None
    cleared: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ImportCounts:
    """What an import did (or, in a dry run, would do), counted by activity."""

    added: int
    updated: int
    unchanged: int


Spooled = tuple[int, str, str, dict[str, Any]]
"""One spooled row: its number, its record's id, "new" or "edit", the content or changes."""


@dataclass
class ActivityImport:
    """One import's check: counts, the ids it has seen and what they were, and the spool of
    what to write. Made anew for a second check (`stale`)."""

    spool: Spool
    mark: int = 0
    """The newest revision's arrival when the check began (`stale` looks after it)."""
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    seen: dict[str, int] = field(default_factory=dict)
    """Each id a row gives, by the first row that gave it."""
    ahead: Callable[[dict[str, Any]], object] | None = None
    """Where new activities' search entries go as they are checked (`written_ahead` says
    which: a COPY the hub's server takes in meanwhile, `Backend.rows_streamed`); None: all are
    written with the activities."""

    @property
    def counts(self) -> ImportCounts:
        return ImportCounts(self.added, self.updated, self.unchanged)

    def begin(self, unit: Unit) -> Lookups:
        """Start checking in `unit`: the watermark noted, the names read once."""
        order = backend_for(unit.conn).arrival_order(_revisions)
        self.mark = unit.conn.execute(select(func.max(order)).select_from(_revisions)).scalar() or 0
        return Lookups(unit)

    def check(
        self, unit: Unit, lookups: Lookups, rows: Sequence[tuple[int, ImportedActivity]]
    ) -> None:
        """Check a batch of rows (each with its row number) and spool what they give; the first
        bad row is refused by its number."""
        ids = [(row.record_id or "").strip().lower() or None for _, row in rows]
        named = [i for i in ids if i and looks_like_id(i)]
        kinds = revisions.entities_of(unit.conn, named) if named else {}
        known = [i for i in named if kinds.get(i) == "activity"]
        current = {
            row["id"]: (bool(row["deleted"]), records.content_of("activity", row))
            for row in (
                unit.conn.execute(select(_table).where(_table.c.id.in_(known))).mappings()
                if known
                else ()
            )
        }
        for (number, row), record_id in zip(rows, ids, strict=True):
            try:
                self._check_row(unit, lookups, number, row, record_id, kinds, current)
            except LocalizedError as exc:
                raise at_row(number, exc) from None

    def _check_row(
        self,
        unit: Unit,
        lookups: Lookups,
        number: int,
        row: ImportedActivity,
        record_id: str | None,
        kinds: dict[str, str],
        current: dict[str, tuple[bool, dict[str, Any]]],
    ) -> None:
        if record_id is None:
            self._add(number, new_id(), new_activity_content(unit, row.given, lookups))
            return
        if not looks_like_id(record_id):
            raise LocalizedError("table.not_an_id", field="id", value=quote(record_id))
        if record_id in kinds and record_id not in current:
            raise LocalizedError(
                "table.id_of_other_kind", field="id", kind=records.kind_words(kinds[record_id])
            )
        if record_id in self.seen:
            raise LocalizedError("table.same_id", field="id", number=self.seen[record_id])
        self.seen[record_id] = number
        if record_id not in current:  # an id this store has never seen: added under it
            self._add(number, record_id, new_activity_content(unit, row.given, lookups))
            return
        deleted, activity = current[record_id]
        if deleted:
            raise LocalizedError("table.deleted_activity", field="id")
        changes = activity_changes(unit, row.given, lookups)
        changes = edited_changes(unit, activity, row.given, changes, row.cleared, lookups)
        if records.applied("activity", activity, changes)[1]:
            self.spool.add((number, record_id, "edit", changes))
            self.updated += 1
        else:
            self.unchanged += 1

    def _add(self, number: int, record_id: str, content: dict[str, Any]) -> None:
        self.spool.add((number, record_id, "new", content))
        self.added += 1
        if self.ahead is not None and written_ahead(record_id):
            entry = search_index.entry("activity", record_id, content)
            if entry is not None:
                self.ahead(entry)

    def stale(self, unit: Unit) -> bool:
        """Whether anything the check read has changed since it began: an organization or an
        initiative, or a record under an id the rows give (their kinds and contents)."""
        order = backend_for(unit.conn).arrival_order(_revisions)
        arrived = unit.conn.execute(
            select(_revisions.c.entity, _revisions.c.entity_id).where(order > self.mark)
        )
        return any(
            entity in REFERENCE_ENTITIES or entity_id in self.seen for entity, entity_id in arrived
        )

    def write(
        self, unit: Unit, batch_size: int, advance: Callable[[int], object] | None = None
    ) -> None:
        """Write what the check spooled, in `unit` (a writing one): the new activities through
        the bulk path, then the edits, a batch at a time; `advance` (when given) is called with
        the number of rows each step wrote."""
        unit.require_write()
        new = (
            (record_id, payload)
            for batch in self.spool.batches(batch_size)
            for _, record_id, kind, payload in batch
            if kind == "new"
        )
        revisions.bulk_create(
            unit,
            "activity",
            new,
            advance=advance,
            chunk=batch_size,
            indexed=written_ahead if self.ahead is not None else None,
        )
        if not self.updated:
            return
        for batch in self.spool.batches(batch_size):
            edits = 0
            for number, record_id, kind, payload in batch:
                if kind != "edit":
                    continue
                try:
                    ACTIVITIES.edit(unit, record_id, payload)
                except LocalizedError as exc:
                    raise at_row(number, exc) from None
                edits += 1
            if advance is not None and edits:
                advance(edits)


AHEAD_ENDINGS = frozenset("012345")
"""The last characters of the ids whose search entries a check writes ahead (`written_ahead`)."""


def written_ahead(record_id: str) -> bool:
    """Whether a new activity's search entry goes ahead, with the check, rather than with the
    write: three in eight, by the last character of its id (random in a new id), so that both
    passes tell the same without a list.

    Not all: the server takes in a search entry (its trigram index) three times slower than
    the check reads and checks a row, so a check that sent them all would go at the server's
    pace and leave the write's own work (hashing, signing) to follow it. Three in eight keep
    the server about as busy as the check on a two-core machine, and the rest are indexed
    during the write, beside the preparing of the next rows: at 100,000 activities, an import
    some 12% shorter than one sending none ahead or all of them. An id given in a table that
    ends otherwise only moves its entry to the write."""
    return record_id[-1:] in AHEAD_ENDINGS
