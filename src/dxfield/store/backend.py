"""The one small interface between the store and its database engine.

Everything else in `store/` is SQLAlchemy Core that any engine runs. What is not (the pragmas and
`BEGIN IMMEDIATE` of a writing unit, the order revisions arrived in, the full-text index, a
substring scan, the planner hint, the raw fast path) sits behind `Backend`. SQLite's (a laptop's
file) is `store/sqlite_features.py`; PostgreSQL's (the prefecture's hub) is `store/postgres.py`:
pg_trgm for the index, `strpos` for the scan, an identity column for the arrival order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any, NamedTuple, Protocol

from sqlalchemy import ColumnElement, Date, DateTime, Select, Table, insert
from sqlalchemy.engine import Connection, Dialect, Engine

from dxfield.domain.errors import StoreError
from dxfield.i18n import N_, problems
from dxfield.store import sqlite_features

PROBLEMS = problems({"store.unsupported_database": N_("the database {name} is not supported")})


class Backend(Protocol):
    """What differs from one database engine to another."""

    name: str

    def install(self, engine: Engine) -> None:
        """Settings on every connection; a writing unit's transaction takes the write lock."""

    def arrival_order(self, table: Any) -> ColumnElement[int]:
        """An expression that grows with the order rows arrived in this store."""

    def indexed_match(self, search: Table, terms: list[str]) -> ColumnElement[bool]:
        """The `search` rows holding every term (each of 3+ characters), through the index."""

    def contains(self, column: ColumnElement[str], term: str) -> ColumnElement[bool]:
        """`column` holds `term` as a substring (a scan, for terms the index cannot serve)."""

    def mostly_true(self, condition: ColumnElement[bool]) -> ColumnElement[bool]:
        """`condition`, marked for the planner as true of most rows."""

    def plain_rows(self, conn: Connection, statement: Select[Any]) -> list[tuple[Any, ...]]:
        """The rows of `statement` as plain tuples, without per-row processing."""

    def integrity(self, conn: Connection) -> str:
        """ "ok", or what the engine's own check of the stored pages found wrong."""

    def insert_rows(self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """Insert many new rows (dicts with the same keys) in the caller's transaction, the
        engine's fastest way."""

    def prepare_rows(self, dialect: Dialect, table: Table, rows: Sequence[dict[str, Any]]) -> Any:
        """`rows` (dicts with the same keys) made ready for `insert_prepared`, without the
        database: the bulk path prepares the next rows in a thread of their own while this one
        has the engine index the last (`index_search_rows`)."""

    def insert_prepared(self, conn: Connection, prepared: Any) -> None:
        """Insert rows `prepare_rows` made ready, in the caller's transaction."""

    def insert_search_rows(
        self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]
    ) -> None:
        """Insert new `search_text` rows and make them findable by the index."""

    def search_mark(self, conn: Connection) -> int | None:
        """Where the `search_text` rows inserted next begin, for `index_search_rows` (None:
        the engine's index follows its rows by itself)."""

    def index_search_rows(self, conn: Connection, mark: int | None) -> None:
        """Make the `search_text` rows inserted since `search_mark` gave `mark` findable."""

    def update_column(
        self,
        conn: Connection,
        table: Table,
        key: str,
        column: str,
        pairs: Sequence[tuple[Any, Any]],
    ) -> None:
        """Set `column` of many rows, each found by its `key` column: (key, value) pairs, the
        engine's fastest way, in the caller's transaction."""

    batch: int
    """How many values one `among` may be given."""

    writes_ahead: bool
    """Whether a writing unit may begin without the write lock and take it later
    (`Unit.lock`): the hub's, whose transactions see only their own rows until they commit;
    not SQLite's, whose writing transaction is the one write lock."""

    def take_write_lock(self, conn: Any, waiting: Callable[[], object] | None) -> None:
        """Take the write lock in `conn`'s open transaction (`waiting`: see `Store.write`)."""

    def rows_streamed(
        self, conn: Connection, table: Table, names: list[str]
    ) -> contextlib.AbstractContextManager[Callable[[dict[str, Any]], None]]:
        """One bulk insert into `table` kept open for a block, fed a row at a time (only
        where `writes_ahead`)."""

    def among(self, column: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[bool]:
        """`column` is one of `values` (at most `batch` of them)."""


class _Prepared(NamedTuple):
    """Rows made ready for SQLite's executemany: the values in the order of `names`, bind
    processed; `names` None: dicts that SQLAlchemy inserts (a column default to fill in)."""

    table: Table
    names: list[str] | None
    params: list[Any]


def underlying(kind: Any) -> Any:
    """A column type as the engine sees it: a TypeDecorator (sqlmodel's UTCDateTime) looked
    through to the type it decorates."""
    return getattr(kind, "impl", kind)


def _temporal(kind: Any) -> bool:
    """Whether a column type holds dates or instants."""
    return isinstance(underlying(kind), Date | DateTime)


def _remembered(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`processor` with what it made of each value remembered (for the one `prepare_rows` call):
    a bulk write's records share one created_at and a few hundred dates, and SQLite's text for
    a date or an instant, made anew for each, was a tenth of the preparing."""
    seen: dict[Any, Any] = {}

    def process(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            made = seen[value] = processor(value)
            return made

    return process


class SqliteBackend:
    """SQLite's: WAL with `synchronous=FULL`, `BEGIN IMMEDIATE`, rowid order, FTS5 trigram."""

    name = "sqlite"

    def install(self, engine: Engine) -> None:
        sqlite_features.install_pragmas(engine)

    def arrival_order(self, table: Any) -> ColumnElement[int]:
        return sqlite_features.arrival_order(table)

    def indexed_match(self, search: Table, terms: list[str]) -> ColumnElement[bool]:
        return search.c.rowid.in_(sqlite_features.fts_rowids(terms))

    def contains(self, column: ColumnElement[str], term: str) -> ColumnElement[bool]:
        return sqlite_features.contains(column, term)

    def mostly_true(self, condition: ColumnElement[bool]) -> ColumnElement[bool]:
        return sqlite_features.mostly_true(condition)

    def plain_rows(self, conn: Connection, statement: Select[Any]) -> list[tuple[Any, ...]]:
        return sqlite_features.plain_rows(conn, statement)

    def integrity(self, conn: Connection) -> str:
        return "; ".join(r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check"))

    def insert_rows(self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.insert_prepared(conn, self.prepare_rows(conn.dialect, table, rows))

    def prepare_rows(
        self, dialect: Dialect, table: Table, rows: Sequence[dict[str, Any]]
    ) -> _Prepared:
        if not rows:
            return _Prepared(table, None, [])
        names = list(rows[0])
        if any(c.default is not None for c in table.columns if c.name not in rows[0]):
            return _Prepared(table, None, list(rows))  # a default to fill in: SQLAlchemy's way
        # The driver's own executemany, each value through its column type's bind processor,
        # as SQLAlchemy would send it: SQLAlchemy's per-row parameter handling was some 15% of
        # an import's time (three rows a revision: the revision, the record, its search entry).
        processed: list[tuple[int, Callable[[Any], Any]]] = [
            (n, _remembered(bind) if _temporal(table.c[name].type) else bind)
            for n, name in enumerate(names)
            if (bind := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        ]
        values = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
        params: list[tuple[Any, ...]] = []
        for row in rows:
            if processed:
                listed = list(values(row))
                for n, processor in processed:
                    listed[n] = processor(listed[n])
                params.append(tuple(listed))
            else:
                params.append(values(row))
        return _Prepared(table, names, params)

    def insert_prepared(self, conn: Connection, prepared: _Prepared) -> None:
        table, names, params = prepared
        if not params:
            return
        if names is None:
            conn.execute(insert(table), params)
            return
        quote = conn.dialect.identifier_preparer.quote
        conn.exec_driver_sql(
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
            f"VALUES ({', '.join('?' * len(names))})",
            params,
        )

    def insert_search_rows(
        self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]
    ) -> None:
        if rows:
            before = self.search_mark(conn)
            self.insert_rows(conn, table, rows)
            self.index_search_rows(conn, before)

    def search_mark(self, conn: Connection) -> int:
        return sqlite_features.last_search_rowid(conn)

    def index_search_rows(self, conn: Connection, mark: int | None) -> None:
        # One statement for the rows since `mark`: SQLite lets go of the GIL while it runs.
        sqlite_features.index_search_rows_after(conn, mark or 0)

    def update_column(
        self,
        conn: Connection,
        table: Table,
        key: str,
        column: str,
        pairs: Sequence[tuple[Any, Any]],
    ) -> None:
        # The driver's own executemany, one statement for all: SQLAlchemy's per-row parameter
        # processing was a third of the upgrade's time for 100,000 signatures.
        if pairs:
            quote = conn.dialect.identifier_preparer.quote
            conn.exec_driver_sql(
                f"UPDATE {quote(table.name)} SET {quote(column)} = ? WHERE {quote(key)} = ?",
                [(value, found) for found, value in pairs],
            )

    # One bound variable per value, and SQLite allows 32,766 in a statement.
    batch = 500

    def among(self, column: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[bool]:
        return column.in_(list(values))

    writes_ahead = False  # BEGIN IMMEDIATE is the lock: a writing unit takes it as it begins

    def take_write_lock(self, conn: Any, waiting: Callable[[], object] | None) -> None:
        raise RuntimeError("SQLite's writing unit holds the write lock from its start")

    def rows_streamed(
        self, conn: Connection, table: Table, names: list[str]
    ) -> contextlib.AbstractContextManager[Callable[[dict[str, Any]], None]]:
        raise RuntimeError("SQLite writes no rows ahead of its write lock")


SQLITE = SqliteBackend()
_BACKENDS: dict[str, Backend] = {SQLITE.name: SQLITE}


def backend_for(bind: Connection | Engine) -> Backend:
    """The backend of the engine behind `bind`."""
    if bind.dialect.name == "postgresql" and "postgresql" not in _BACKENDS:
        from dxfield.store.postgres import POSTGRES

        _BACKENDS[POSTGRES.name] = POSTGRES
    found = _BACKENDS.get(bind.dialect.name)
    if found is None:
        raise StoreError("store.unsupported_database", name=bind.dialect.name)
    return found
