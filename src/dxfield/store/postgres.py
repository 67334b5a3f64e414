"""The prefecture's hub on PostgreSQL: its backend, and opening a store at a `postgresql://` URL.

A hub is shared by a team, so what SQLite gets from its file gets here from the server:

- **One writer at a time.** Every writing unit first takes the hub's write lock (a transaction
  advisory lock, released at commit or rollback), as SQLite's `BEGIN IMMEDIATE` does. So the
  hybrid logical clock's row is ticked by one writer at a time, no writer can deadlock another
  (each takes this one lock before anything else), and `revision.arrival` (an identity column)
  is assigned in commit order: an export that runs between two imports never skips a revision
  that commits later with a smaller number. Readers never wait for it.
- **A snapshot per reading unit.** A reading unit is `REPEATABLE READ READ ONLY`: a report or a
  screen reads one state of the hub even while imports commit.
- **Search.** pg_trgm's GIN index serves terms of 3+ characters (`LIKE`, rechecked by the
  server, so the result is an exact substring match); shorter terms are a `strpos` scan.
- **A database that can hold Japanese.** Opening checks the server's encoding (UTF8), its
  collation (C: text sorts by code point, as on SQLite, so both engines list in one order) and
  that pg_trgm finds trigrams in Japanese under its character type.

Passwords never come in the URL (it is seen in `ps` and shell history): libpq reads them from
`~/.pgpass`, a service file (`?service=`), or `PGPASSWORD`. Nothing printed holds one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    event,
    func,
    insert,
    literal,
    literal_column,
    text,
)
from sqlalchemy.engine import URL, Connection, Engine

from dxfield.domain.errors import StoreError
from dxfield.i18n import N_, problems

PROBLEMS = problems(
    {
        "hub.bad_url": N_("{url} is not a PostgreSQL address (postgresql://host/database)"),
        "hub.password_in_url": N_(
            "the address {url} holds a password; keep it out of the address (where other "
            "users of this machine can see it) and in ~/.pgpass or a service file"
        ),
        "hub.unreachable": N_("cannot reach the PostgreSQL server of {url} ({reason})"),
        "hub.auth_failed": N_(
            "the PostgreSQL server of {url} refused the user {user}: check the password in "
            "~/.pgpass or the service file"
        ),
        "hub.no_database": N_("the PostgreSQL server has no database {database} ({url})"),
        "hub.no_schema": N_(
            "{url} holds no dxfield hub yet; set it up first (see the user guide: "
            "the hub on PostgreSQL)"
        ),
        "hub.not_dxfield": N_(
            "{url} holds tables that are not dxfield's; it was left untouched. "
            "Give dxfield a database of its own"
        ),
        "hub.encoding": N_(
            "the database {database} stores text as {encoding}, not UTF8; Japanese cannot be "
            "kept in it. Create it with ENCODING 'UTF8'"
        ),
        "hub.collation": N_(
            "the database {database} sorts text by {collation}; dxfield needs the C collation "
            "(LC_COLLATE 'C'), so that lists come in one order on every engine"
        ),
        "hub.blind_to_japanese": N_(
            "the database {database} (character type {ctype}) would leave the search index blind "
            "to Japanese; create it with LC_CTYPE 'C.UTF-8' or 'ja_JP.UTF-8'"
        ),
        "hub.no_trigram": N_(
            "the PostgreSQL server of {url} lacks the pg_trgm extension ({reason}); install "
            "postgresql-contrib, or have the database's owner run CREATE EXTENSION pg_trgm"
        ),
        "hub.failed": N_("the hub database {url} failed: {reason}"),
    }
)

WRITE_LOCK = 0x6478_6669_656C_64  # "dxfield": the advisory lock every writing unit holds
CONNECT_TIMEOUT_S = 10
_C_COLLATIONS = {"C", "POSIX", "C.UTF-8", "C.utf8", "C.UTF8"}
JAPANESE_PROBE = "日本語"
"""A word whose trigrams a usable hub's index must see (`show_trgm` of it is not empty)."""


def is_database_url(text: str | None) -> bool:
    """Whether `text` names a PostgreSQL database rather than nothing (the SQLite file)."""
    return bool(text) and bool(re.match(r"(?i)postgres(ql)?(\+\w+)?://", text or ""))


def hub_url(text: str) -> URL:
    """The SQLAlchemy URL of a `postgresql://…` address (psycopg 3), checked: no password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text.strip())
    except (ArgumentError, ValueError):
        raise StoreError("hub.bad_url", url=redact(text)) from None
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise StoreError("hub.bad_url", url=redact(text))
    if url.password:
        raise StoreError("hub.password_in_url", url=shown(url))
    return url.set(drivername="postgresql+psycopg")


def shown(url: URL) -> str:
    """An address as it may be printed: the driver name dropped, any password masked."""
    from urllib.parse import unquote

    return unquote(url.set(drivername="postgresql").render_as_string(hide_password=True))


def redact(text: str) -> str:
    """Text that may hold an address with a password, the password masked."""
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


def _scrub(reason: str, url: URL) -> str:
    """A driver's message on one line, without any password it might echo."""
    line = " ".join(reason.split())
    if url.password:
        line = line.replace(str(url.password), "***")
    return redact(line)[:300]


def connect_error(exc: BaseException, url: URL) -> StoreError:
    """What a failed connection means, in one line the user can act on."""
    reason = str(getattr(exc, "orig", None) or exc)
    lowered = reason.lower()
    where = shown(url)
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return StoreError("hub.auth_failed", url=where, user=url.username or "")
    if "does not exist" in lowered and "database" in lowered:
        return StoreError("hub.no_database", url=where, database=url.database or "")
    if any(
        word in lowered
        for word in (
            "connection refused",
            "could not connect",
            "no such file or directory",
            "could not translate host name",
            "timeout expired",
            "connection timed out",
            "server closed the connection",
            "terminating connection",
            "is the server running",
            "network is unreachable",
            "name or service not known",
            "the database system is",
        )
    ):
        return StoreError("hub.unreachable", url=where, reason=_scrub(reason, url))
    return StoreError("hub.failed", url=where, reason=_scrub(reason, url))


def make_engine(url: URL) -> Engine:
    """An engine on the hub's database (not yet connected)."""
    from sqlalchemy import create_engine

    engine = create_engine(
        url,
        json_serializer=lambda value: json.dumps(value, ensure_ascii=False),
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "dxfield"},
        pool_pre_ping=True,
    )
    POSTGRES.install(engine)
    return engine


def check_settings(conn: Connection, url: URL) -> None:
    """Refuse a database that cannot keep Japanese, or whose text sorts other than by code
    point, before anything is written to it."""
    row = conn.execute(
        text(
            "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database "
            "WHERE datname = current_database()"
        )
    ).one()
    encoding, collation, ctype = row
    database = url.database or ""
    if encoding != "UTF8":
        raise StoreError("hub.encoding", database=database, encoding=encoding)
    if collation not in _C_COLLATIONS:
        raise StoreError("hub.collation", database=database, collation=collation)
    if ctype in ("C", "POSIX"):  # ASCII only: pg_trgm would find no trigram in Japanese
        raise StoreError("hub.blind_to_japanese", database=database, ctype=ctype)


def ensure_trigram(conn: Connection, url: URL) -> None:
    """Make sure pg_trgm is there and sees Japanese (after the migrations have created it)."""
    found = conn.execute(
        text("SELECT array_length(show_trgm(:word), 1)"), {"word": JAPANESE_PROBE}
    ).scalar()
    if not found:
        ctype = conn.execute(
            text("SELECT datctype FROM pg_database WHERE datname = current_database()")
        ).scalar()
        raise StoreError("hub.blind_to_japanese", database=url.database or "", ctype=ctype)


def schema_state(conn: Connection) -> tuple[bool, str | None]:
    """(whether the database holds any table, the dxfield schema revision recorded in it)."""
    tables = set(
        conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
    )
    if "alembic_version" not in tables:
        return bool(tables), None
    version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return True, str(version) if version else None


class PostgresBackend:
    """PostgreSQL's: the hub's write lock, snapshots for readers, pg_trgm, `arrival` order."""

    name = "postgresql"

    def install(self, engine: Engine) -> None:
        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            if connection.get_execution_options().get("dxfield_write", False):
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
            else:
                connection.exec_driver_sql(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                )

    def arrival_order(self, table: Any) -> ColumnElement[int]:
        # An identity column (migration 0002) on the revision log and every synced table.
        return literal_column(f"{table.name}.arrival")

    def indexed_match(self, search: Table, terms: list[str]) -> ColumnElement[bool]:
        body = search.c.body
        return and_(*(body.like(f"%{_escape_like(term)}%", escape="\\") for term in terms))

    def contains(self, column: ColumnElement[str], term: str) -> ColumnElement[bool]:
        return func.strpos(column, literal(term)) > 0

    def mostly_true(self, condition: ColumnElement[bool]) -> ColumnElement[bool]:
        return condition

    def plain_rows(self, conn: Connection, statement: Select[Any]) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in conn.execute(statement)]

    def integrity(self, conn: Connection) -> str:
        # The server checks its own pages (and its replicas and backups are its keeper's);
        # what dxfield can get wrong in the data is `check`'s soundness findings.
        conn.exec_driver_sql("SELECT 1")
        return "ok"

    def insert_rows(self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        # COPY: a bundle of 100,000 records is 300,000 rows, and one INSERT each (even
        # pipelined) costs the server several times what COPY does. Values go through the
        # columns' own bind processing, so what is stored is what an INSERT would store.
        if not rows:
            return
        names = list(rows[0])
        if not _copyable(table, names, rows):
            conn.execute(insert(table), list(rows))
            return
        dialect = conn.dialect
        quote = dialect.identifier_preparer.quote
        columns = [
            (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in names
        ]
        statement = (
            f"COPY {quote(table.name)} ({', '.join(quote(name) for name in names)}) FROM STDIN"
        )
        driver = conn.connection.driver_connection
        assert driver is not None
        try:
            with driver.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(
                        [
                            row[name] if process is None else process(row[name])
                            for name, process in columns
                        ]
                    )
        except dialect.loaded_dbapi.Error as exc:
            # As SQLAlchemy would have raised it (IntegrityError, OperationalError...), so
            # that callers see one kind of error whichever way the rows went in.
            from sqlalchemy.exc import DBAPIError

            raise DBAPIError.instance(statement, None, exc, dialect.loaded_dbapi.Error) from exc


def _copyable(table: Table, names: list[str], rows: Sequence[dict[str, Any]]) -> bool:
    """Whether COPY stores what `insert(table)` would: every row has the same columns, and
    none that SQLAlchemy would fill in (a column default) is left out."""
    given = set(names)
    if not given.issubset(table.c.keys()) or any(row.keys() != given for row in rows):
        return False
    return not any(
        column.default is not None or column.onupdate is not None
        for column in table.columns
        if column.name not in given
    )


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


POSTGRES = PostgresBackend()


def identity_path(data_dir: Path) -> Path:
    """Where a person's own device identity on a hub is kept (their data folder)."""
    return data_dir / "hub-identity.json"
