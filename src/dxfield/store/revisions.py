"""The one write path: every create, edit and delete is an immutable revision plus its winner.

`write_record` writes a revision and updates the materialized row in the caller's transaction;
`bulk_create` does the same for many new records with executemany. Nothing else writes synced
tables. A revision id is `<generation>-<hash>` over the revision's content, so the same change
has the same id on every store. A revision this store's device writes is signed with its key
as it is written (`store/authorship.py`); reference data and the demo's (fixed pseudo-devices)
are not.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import Any

from sqlalchemy import ColumnElement, Table, func, insert, select, update
from sqlalchemy.engine import Connection, Dialect

from dxfield import clock
from dxfield.domain.errors import LocalizedError, NotFound
from dxfield.i18n import N_, Words, problems
from dxfield.store import authorship, search_index
from dxfield.store.authorship import canonical_json as canonical_json  # re-exported
from dxfield.store.backend import Backend, backend_for, underlying
from dxfield.store.hlc import tick
from dxfield.store.ids import FIXED_IDS, fixed_id
from dxfield.store.kinds import label
from dxfield.store.schema import REVISIONS, SYNCED_TABLES, table_of
from dxfield.store.unit import Unit

PROBLEMS = problems(
    {
        "revision.no_record": N_("no record {id}"),
        "record.fixed_id": N_(
            "{id} cannot be the id of this {kind}: its content gives it the id {expected}"
        ),
        "purge.final": N_("a purge is final: it cannot be changed, deleted or taken back"),
        "purge.purged": N_(
            "the attachment {id} is purged: its record can no longer change (attach the file "
            "again to make a new one)"
        ),
    }
)

META_FIELDS = ("id", "rev", "hlc", "device_id", "deleted")
_TABLES = {entity: table_of(model) for entity, model in SYNCED_TABLES.items()}
_revisions = REVISIONS


def revision_id(
    generation: int,
    entity: str,
    entity_id: str,
    parents: Sequence[str],
    hlc: str,
    device_id: str,
    deleted: bool,
    data: dict[str, Any],
) -> str:
    """The content-derived id of a revision: its generation and the first 128 bits of its
    digest (`authorship.digest`)."""
    found = authorship.digest(entity, entity_id, parents, hlc, device_id, deleted, data)
    return authorship.id_of(generation, found)


def check_fixed_id(entity: str, entity_id: str, content: dict[str, Any]) -> None:
    """Refuse a record of a kind whose id follows from its content (a kind's note template)
    under any other id: written here, it would be refused by every store it is sent to."""
    expected = fixed_id(entity, content)
    if expected is not None and expected != entity_id:
        raise LocalizedError(
            "record.fixed_id",
            field="entity_id",
            id=entity_id,
            kind=Words(lambda lang: label(entity, lang)),
            expected=expected,
        )


FINAL_KINDS = frozenset({"purge"})
"""The kinds whose record is written once, and never changed, deleted or taken back (a purge:
what it erased does not come back)."""


def check_final(entity: str, *, follows: bool, deleted: bool) -> None:
    """Refuse a version of a final kind's record that follows another, or deletes it."""
    if entity in FINAL_KINDS and (follows or deleted):
        raise LocalizedError("purge.final", field="entity")


def of_purged_attachment() -> ColumnElement[bool]:
    """A revision is a version of a purged attachment (store/purges.py): its personal fields
    were erased in place; it is neither sent, nor listed as a conflict or a deleted record."""
    purged = select(_TABLES["purge"].c.attachment_id)
    return (_revisions.c.entity == "attachment") & _revisions.c.entity_id.in_(purged)


def is_purged(conn: Connection, attachment_id: str) -> bool:
    """Whether the attachment `attachment_id` is purged here."""
    table = _TABLES["purge"]
    found = conn.execute(select(table.c.id).where(table.c.attachment_id == attachment_id))
    return found.first() is not None


def check_not_purged(conn: Connection, entity: str, entity_id: str) -> None:
    """Refuse a new version of a purged attachment: what the purge erased stays erased."""
    if entity == "attachment" and is_purged(conn, entity_id):
        raise LocalizedError("purge.purged", id=entity_id)


def table_for(entity: str) -> Table:
    """The SQLAlchemy table of a synced entity."""
    try:
        return _TABLES[entity]
    except KeyError:
        raise ValueError(f"unknown entity {entity!r}") from None


def _temporal_columns(table: Any) -> tuple[set[str], set[str]]:
    """Names of the DATE and DATETIME columns of a table (TypeDecorators looked through)."""
    from sqlalchemy import Date, DateTime

    dates: set[str] = set()
    datetimes: set[str] = set()
    for column in table.columns:
        kind = underlying(column.type)
        if isinstance(kind, DateTime):
            datetimes.add(column.name)
        elif isinstance(kind, Date):
            dates.add(column.name)
    return dates, datetimes


# ISO text read as a date or an instant, the last few thousand remembered: a bulk write gives
# every record the same created_at and a few hundred dates, and a parse a value added up.
_date_of = functools.lru_cache(maxsize=4096)(dt.date.fromisoformat)
_instant_of = functools.lru_cache(maxsize=64)(dt.datetime.fromisoformat)

_COLUMNS: dict[str, list[tuple[str, Any]]] = {}
"""Each table's content columns, by name, with what turns their ISO text into a value."""


def _content_columns(table: Any) -> list[tuple[str, Any]]:
    found = _COLUMNS.get(table.name)
    if found is None:
        dates, datetimes = _temporal_columns(table)
        found = _COLUMNS[table.name] = [
            (
                column.name,
                _date_of
                if column.name in dates
                else _instant_of
                if column.name in datetimes
                else None,
            )
            for column in table.columns
            if column.name not in META_FIELDS
        ]
    return found


def _row_values(table: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Content fields of `data` that are columns of `table`, ISO text made dates and datetimes."""
    values: dict[str, Any] = {}
    for name, parse in _content_columns(table):
        if name not in data:
            continue
        value = data[name]
        values[name] = parse(value) if parse is not None and isinstance(value, str) else value
    return values


def build_revision(
    entity: str,
    entity_id: str,
    data: dict[str, Any],
    *,
    parents: Sequence[str],
    generation: int,
    hlc: str,
    device_id: str,
    deleted: bool,
    signer: authorship.Signer | None = None,
) -> dict[str, Any]:
    """A revision row ready to insert, signed by `signer` (its author) when given."""
    revision, found = unsigned_revision(
        entity,
        entity_id,
        data,
        parents=parents,
        generation=generation,
        hlc=hlc,
        device_id=device_id,
        deleted=deleted,
    )
    if signer is not None:
        revision["signature"] = signer.sign(found)
    return revision


def unsigned_revision(
    entity: str,
    entity_id: str,
    data: dict[str, Any],
    *,
    parents: Sequence[str],
    generation: int,
    hlc: str,
    device_id: str,
    deleted: bool,
) -> tuple[dict[str, Any], bytes]:
    """A revision row without its signature, and the digest its author signs."""
    text = canonical_json(data)  # written once: the digest is spliced around it
    found = authorship.digest_of_text(entity, entity_id, parents, hlc, device_id, deleted, text)
    row = {
        "rev_id": authorship.id_of(generation, found),
        "entity": entity,
        "entity_id": entity_id,
        "generation": generation,
        "parents": sorted(parents),
        "hlc": hlc,
        "device_id": device_id,
        "deleted": deleted,
        "data": text,
        "leaf": True,
        "clock_skew": False,
        "signature": None,
    }
    return row, found


def materialized_row(table: Any, revision: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The entity-table row for a winning revision."""
    return {
        **_row_values(table, data),
        "id": revision["entity_id"],
        "rev": revision["rev_id"],
        "hlc": revision["hlc"],
        "device_id": revision["device_id"],
        "deleted": revision["deleted"],
    }


def write_record(
    unit: Unit,
    entity: str,
    entity_id: str,
    content: dict[str, Any] | None,
    *,
    deleted: bool = False,
    parents: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Write one revision of a record, by the unit's device, and make it the materialized
    winner, inside the unit's transaction (the clock ticks there too).

    `content` is the validated record (JSON-ready); None with `deleted=True` keeps the last
    content in the tombstone. The revision follows the current winner, or `parents` when given
    (a resolved conflict follows every leaf). Returns the revision row written.
    """
    unit.require_write()
    conn, device_id = unit.conn, unit.device.id
    table = table_for(entity)
    current = conn.execute(select(table).where(table.c.id == entity_id)).mappings().first()
    if current is None and (deleted or content is None):
        raise NotFound("revision.no_record", id=entity_id)
    follows: list[str] = []
    generation = 1
    created_at = clock.now().isoformat()
    if current is not None:
        head = conn.execute(
            select(_revisions.c.data, _revisions.c.generation).where(
                _revisions.c.rev_id == current["rev"]
            )
        ).one()
        previous = json.loads(head.data)
        follows = list(parents) if parents else [current["rev"]]
        generation = head.generation + 1
        if parents:  # one more than the furthest of the revisions it follows
            generation = 1 + (
                conn.execute(
                    select(func.max(_revisions.c.generation)).where(
                        _revisions.c.rev_id.in_(follows)
                    )
                ).scalar()
                or head.generation
            )
        created_at = previous.get("created_at", created_at)
        if content is None:
            content = {k: v for k, v in previous.items() if k != "created_at"}
    assert content is not None
    check_fixed_id(entity, entity_id, content)
    check_final(entity, follows=current is not None, deleted=deleted)
    check_not_purged(conn, entity, entity_id)
    data = {**content, "created_at": created_at}
    signer = unit.store.signer()  # before the clock ticks: a refused key file writes nothing
    (hlc,) = tick(conn)
    revision = build_revision(
        entity,
        entity_id,
        data,
        parents=follows,
        generation=generation,
        hlc=hlc,
        device_id=device_id,
        deleted=deleted,
        signer=signer,
    )
    conn.execute(insert(_revisions).values(**revision))
    if follows:
        conn.execute(update(_revisions).where(_revisions.c.rev_id.in_(follows)).values(leaf=False))
        conn.execute(
            update(table)
            .where(table.c.id == entity_id)
            .values(**materialized_row(table, revision, data))
        )
    else:
        conn.execute(insert(table).values(**materialized_row(table, revision, data)))
    search_index.refresh(conn, entity, entity_id, data, deleted=deleted)
    return revision


BULK_CHUNK = 2000
"""Records `bulk_create` prepares and inserts at a time (three chunks are in memory at most:
one written, one prepared, one queued)."""


def bulk_create(
    unit: Unit,
    entity: str,
    records: Iterable[tuple[str, dict[str, Any]]],
    *,
    device_id: str | None = None,
    hlc: Sequence[str] | str | None = None,
    advance: Callable[[int], object] | None = None,
    chunk: int = BULK_CHUNK,
    indexed: Callable[[str], bool] | None = None,
) -> int:
    """Create many new records at once with executemany (the demo, table imports, benchmarks),
    inside the unit's transaction; how many.

    `records` are (id, validated content) pairs, read as they are needed (a generator keeps
    memory flat). `device_id` is the unit's device unless given (reference data has an author
    of its own); `hlc` is one fixed stamp for all (reference data), a stamp per record, or None
    to tick the clock. The unit's device signs what it writes; a pseudo-device's revisions
    (reference data, the demo's) are not signed. `advance`, when given, is called with the
    number of records each chunk (of `chunk` records) wrote. `indexed`, when given, says
    by its id whether a record's search entry is in already (a table import on the hub writes
    some ahead, `ActivityImport`).

    A chunk at a time, in two threads: while this thread has the engine insert one chunk's rows
    and index the last one's search entries (SQLite lets go of the GIL for both), a second
    thread prepares the next (its revisions hashed and signed, its rows' values made ready); the
    database is only ever used from this thread. Chunks are written as they come: a failure
    partway (a record refused, a stamp missing) leaves the earlier ones to the unit's rollback,
    as any failure inside a unit of work.
    """
    unit.require_write()
    conn = unit.conn
    device_id = device_id or unit.device.id
    signer = unit.store.signer() if device_id == unit.device.id else None
    backend = backend_for(conn)
    stamps = iter(hlc) if hlc is not None and not isinstance(hlc, str) else None

    def stamped(items: list[tuple[str, dict[str, Any]]]) -> Sequence[str]:
        if isinstance(hlc, str):
            return [hlc] * len(items)
        if stamps is not None:
            return list(islice(stamps, len(items)))
        return tick(conn, len(items))

    def submitted(
        pool: ThreadPoolExecutor, items: list[tuple[str, dict[str, Any]]] | None
    ) -> tuple[int, Future[tuple[Any, Any, Any]]] | None:
        """The preparing of `items` begun in `pool` (None when there are no more)."""
        if items is None:
            return None
        if entity in FIXED_IDS:
            for entity_id, content in items:
                check_fixed_id(entity, entity_id, content)
        return len(items), pool.submit(
            _prepared_chunk,
            backend,
            conn.dialect,
            entity,
            items,
            stamped(items),  # in this thread, chunk after chunk: stamps in the records' order
            clock.now().isoformat(),
            device_id,
            signer,
            indexed,
        )

    written = 0
    mark: int | None = None
    chunks = _chunks(records, chunk)
    with ThreadPoolExecutor(1) as pool:
        pending = submitted(pool, next(chunks, None))
        while pending is not None:
            # The next chunk queued first: the second thread goes on to it from this one.
            following = submitted(pool, next(chunks, None))
            count, preparing = pending
            revision_rows, entity_rows, search_rows = preparing.result()
            pending = following
            if mark is not None:  # the last chunk's entries
                backend.index_search_rows(conn, mark)
            backend.insert_prepared(conn, revision_rows)
            backend.insert_prepared(conn, entity_rows)
            mark = backend.search_mark(conn)
            backend.insert_prepared(conn, search_rows)
            written += count
            if advance is not None:
                advance(count)
    if mark is not None:
        backend.index_search_rows(conn, mark)
    return written


def _chunks(
    records: Iterable[tuple[str, dict[str, Any]]], size: int
) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    it = iter(records)
    while chunk := list(islice(it, size)):
        yield chunk


def _prepared_chunk(
    backend: Backend,
    dialect: Dialect,
    entity: str,
    items: list[tuple[str, dict[str, Any]]],
    stamps: Sequence[str],
    now: str,
    device_id: str,
    signer: authorship.Signer | None,
    indexed: Callable[[str], bool] | None = None,
) -> tuple[Any, Any, Any]:
    """A chunk of new records as the rows to insert (revisions, records, search entries but
    those `indexed` says are in), made ready for `insert_prepared`: pure work, no database
    (`bulk_create`'s second thread)."""
    table = table_for(entity)
    revision_rows = []
    entity_rows = []
    search_rows = []
    for (entity_id, content), stamp in zip(items, stamps, strict=True):
        data = {"created_at": now, **content}
        revision, found = unsigned_revision(
            entity,
            entity_id,
            data,
            parents=(),
            generation=1,
            hlc=stamp,
            device_id=device_id,
            deleted=False,
        )
        if signer is not None:
            revision["signature"] = signer.sign(found)
        revision_rows.append(revision)
        entity_rows.append(materialized_row(table, revision, data))
        in_already = indexed is not None and indexed(entity_id)
        row = None if in_already else search_index.entry(entity, entity_id, data)
        if row is not None:
            search_rows.append(row)
    return (
        backend.prepare_rows(dialect, _revisions, revision_rows),
        backend.prepare_rows(dialect, table, entity_rows),
        backend.prepare_rows(dialect, search_index.SEARCH_TABLE, search_rows),
    )


def history(conn: Connection, entity: str, entity_id: str) -> list[dict[str, Any]]:
    """Every revision of a record, oldest first, with its content decoded."""
    rows = conn.execute(
        select(_revisions)
        .where(_revisions.c.entity == entity, _revisions.c.entity_id == entity_id)
        .order_by(_revisions.c.generation, _revisions.c.hlc, _revisions.c.device_id)
    ).mappings()
    return [{**row, "data": json.loads(row["data"])} for row in rows]


def entity_of(conn: Connection, entity_id: str) -> str | None:
    """Which entity a record id belongs to, from the revision log (the kind it first arrived
    as, should a store from before kinds were checked hold it as two)."""
    return conn.execute(
        select(_revisions.c.entity)
        .where(_revisions.c.entity_id == entity_id)
        .order_by(backend_for(conn).arrival_order(_revisions))
        .limit(1)
    ).scalar()


def entities_of(conn: Connection, entity_ids: Sequence[str]) -> dict[str, str]:
    """Which entity each of `entity_ids` the revision log knows belongs to (`entity_of` for many
    ids, a query per 500)."""
    found: dict[str, str] = {}
    for start in range(0, len(entity_ids), 500):
        chunk = entity_ids[start : start + 500]
        rows = conn.execute(
            select(_revisions.c.entity_id, _revisions.c.entity)
            .where(_revisions.c.entity_id.in_(chunk))
            .distinct()
        )
        found.update((row.entity_id, row.entity) for row in rows)
    return found


def existing_ids(conn: Connection, entity: str, ids: Sequence[str]) -> set[str]:
    """The subset of `ids` that already exist as records of `entity`."""
    table = table_for(entity)
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(conn.execute(select(table.c.id).where(table.c.id.in_(chunk))).scalars())
    return found
