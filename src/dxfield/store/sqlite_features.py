"""The SQLite-only parts of the store, kept in one place: pragmas, the FTS5 index, substring scans.

A PostgreSQL hub would replace this module (pg_trgm for the index, `strpos` for the scan).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BindParameter,
    Boolean,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    event,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine

from dxfield.store.light import BUSY_TIMEOUT_MS, PRAGMAS
from dxfield.store.search_terms import fts_match_expression as fts_match_expression  # re-exported
from dxfield.store.waits import WAIT_TRY_MS, still_wanted

# The FTS5 index over search_text and its triggers are created by migration 0001 (Alembic leaves
# them alone: `schema.include_object`); since 0004, new rows are indexed by the statement below,
# not by a trigger (edits and deletions still are).


def last_search_rowid(conn: Connection) -> int:
    """The newest `search_text` rowid (0 when empty): rows inserted next come after it."""
    found = conn.exec_driver_sql("SELECT max(rowid) FROM search_text").scalar()
    return int(found or 0)


def index_search_rows_after(conn: Connection, rowid: int) -> None:
    """Index every `search_text` row after `rowid` (those just inserted) in one statement: a
    trigger per row made FTS5 write out its pending entries at each, ten times the work."""
    conn.exec_driver_sql(
        "INSERT INTO search_fts(rowid, body) SELECT rowid, body FROM search_text WHERE rowid > ?",
        (rowid,),
    )


def install_pragmas(engine: Engine) -> None:
    """Set the field store's pragmas on every connection and make `BEGIN` explicit.

    pysqlite's own transaction handling is switched off so that SQLAlchemy's "begin" emits our
    BEGIN: IMMEDIATE for connections marked `dxfield_write`, deferred for readers.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        waiting = options.get("dxfield_waiting")
        if options.get("dxfield_write", False) and waiting is not None:
            _begin_waiting(connection.connection.dbapi_connection, waiting)
            return
        immediate = options.get("dxfield_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _begin_waiting(dbapi: sqlite3.Connection, waiting: Callable[[], object]) -> None:
    """`BEGIN IMMEDIATE` for a writer that waits (a save in the app, an import): when another
    holds the lock longer than a try (`waits.WAIT_TRY_MS`; a long import writing), `waiting()`
    is called once and the writer tries on, however long, rather than failing after the busy
    timeout; between tries a `GivingUp` may stop it (store/waits.py)."""
    still_wanted(waiting)  # not taken at all when no longer wanted
    dbapi.execute(f"PRAGMA busy_timeout = {WAIT_TRY_MS}")
    try:
        told = False
        while True:
            try:
                dbapi.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
            if not told:
                told = True
                waiting()
            still_wanted(waiting)
    finally:
        dbapi.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def fts_rowids(terms: list[str]) -> Select[Any]:
    """The `search_text` rowids whose body holds every term (each of three characters or more).

    The match expression is a unique bind parameter, so several of these can sit in one statement
    (and `plain_rows` finds its value in the compiled parameters like any other).
    """
    match: BindParameter[str] = bindparam("match", fts_match_expression(terms), unique=True)
    return (
        select(literal_column("rowid", Integer))
        .select_from(text("search_fts"))
        .where(text("search_fts MATCH :match").bindparams(match))
    )


def mostly_true(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """`condition`, marked for SQLite's planner as true for most rows (`likely()`).

    Without statistics the planner takes an equality on an indexed column as selective, so for
    `deleted = 0` it would read the `deleted` index and sort every live row rather than walk the
    index that already gives the wanted order (the Log's (date, id)): 100x slower at 100k rows.
    """
    return func.likely(condition, type_=Boolean)


def contains(column: ColumnElement[str], term: str) -> ColumnElement[bool]:
    """`column` holds `term` as a substring (no LIKE wildcards to escape)."""
    return func.instr(column, literal(term)) > 0


def plain_rows(conn: Connection, statement: Select[Any]) -> list[tuple[Any, ...]]:
    """Run a Core SELECT of plain text/integer columns straight on the DBAPI cursor.

    For results of thousands of rows (search ids): SQLAlchemy's per-row processing would cost
    as much as the query itself. The statement is still built and compiled by SQLAlchemy.
    """
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    names = compiled.positiontup or []
    params = [compiled.params[name] for name in names]
    driver = conn.connection.driver_connection
    if not isinstance(driver, sqlite3.Connection):  # pragma: no cover - SQLite's own, always
        raise TypeError("the fast path reads SQLite's own connection")
    cursor = driver.cursor()
    try:
        return list(cursor.execute(str(compiled), params).fetchall())
    finally:
        cursor.close()


def arrival_order(table: Any) -> ColumnElement[int]:
    """The order rows arrived in this store: SQLite's rowid (a PostgreSQL hub would use a
    sequence column). Export watermarks count in it, so a revision that arrives late with an
    old stamp is still sent on."""
    return literal_column(f"{table.name}.rowid")
