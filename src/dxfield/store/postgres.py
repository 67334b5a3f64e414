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
- **A database that can hold Japanese.** Opening checks the server's encoding (UTF8), that it
  sorts text by code point (C, as on SQLite, so both engines list in one order: tried on a few
  words, since an ICU database names C yet sorts by ICU's rules) and that pg_trgm finds
  trigrams in Japanese under its character type (`init` rolls its schema back when not).

Passwords never come in the URL (it is seen in `ps` and shell history), as `user:password@` or
`?password=`: libpq reads them from `~/.pgpass`, a service file (`?service=`), or `PGPASSWORD`.
A password file others may read is refused before libpq would warn and ignore it. Nothing
printed holds a password; what a failed connection means is said in the user's language
(`connect_error`), with the server's own words only when it is none of the known cases.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    event,
    func,
    insert,
    literal,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import URL, Connection, Dialect, Engine

from dxfield.domain.errors import StoreError
from dxfield.i18n import N_, problems, words
from dxfield.store.hub_checks import (
    CONNECT_ARGUMENTS,
    JAPANESE_PROBE,
    ORDER_PROBE,
    SECRET_PARAMETERS,
    open_to_others,
)
from dxfield.store.hub_checks import password_file as password_file_named
from dxfield.store.search_terms import like_pattern
from dxfield.store.waits import WAIT_TRY_MS, GivingUp, still_wanted

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
        "hub.no_password": N_(
            "the PostgreSQL server of {url} asks for a password and none was found; put it in "
            "~/.pgpass (readable only by you) or a service file"
        ),
        "hub.no_role": N_("the PostgreSQL server of {url} has no user {user}"),
        "hub.not_allowed": N_(
            "the PostgreSQL server of {url} does not let the user {user} in from here "
            "(pg_hba.conf, or the database's CONNECT privilege); ask its keeper"
        ),
        "hub.no_service": N_(
            "there is no service {service} in the service file (~/.pg_service.conf or "
            "PGSERVICEFILE) for {url}"
        ),
        "hub.password_file_open": N_(
            "the password file {path} can be read by other users; make it yours alone "
            "(chmod 600 {path}). It was not used"
        ),
        "hub.newer": N_(
            "{url} was set up by a newer dxfield (schema {schema}); update dxfield to open it. "
            "The database was left untouched"
        ),
        "hub.no_privilege": N_(
            "the user {user} may not create dxfield's tables in {database} ({reason}); make "
            "the user the database's owner (createdb --owner)"
        ),
    }
)

# Why a server cannot be reached, in the user's words (libpq's own are English).
_UNREACHABLE = (
    (("connection refused",), N_("nothing answers there: is the server running, on that port?")),
    (
        ("no such file or directory",),
        N_("no server socket there: is the server running, with that socket folder and port?"),
    ),
    (
        ("could not translate host name", "failed to resolve host", "name or service not known"),
        N_("the host name is unknown"),
    ),
    (("timeout expired", "connection timed out"), N_("the server did not answer in time")),
    (("network is unreachable", "no route to host"), N_("the network cannot reach the host")),
    (
        ("the database system is",),
        N_("the server is starting up, shutting down or recovering; try again in a moment"),
    ),
    (
        ("server closed the connection", "terminating connection", "connection is lost"),
        N_("the server closed the connection"),
    ),
    (("could not connect", "is the server running"), N_("the server cannot be reached")),
)
_SECRET_PARAMETERS = SECRET_PARAMETERS

WRITE_LOCK = 0x6478_6669_656C_64  # "dxfield": the advisory lock every writing unit holds


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
    if url.password or any(key.lower() in _SECRET_PARAMETERS for key in url.query):
        raise StoreError("hub.password_in_url", url=shown(url))
    return url.set(drivername="postgresql+psycopg")


def shown(url: URL) -> str:
    """An address as it may be printed: the driver name dropped, any password masked (in the
    user part or as a `?password=` parameter)."""
    from urllib.parse import unquote

    query = {
        key: "***" if key.lower() in _SECRET_PARAMETERS else value
        for key, value in url.query.items()
    }
    printable = url.set(drivername="postgresql", query=query)
    return unquote(printable.render_as_string(hide_password=True))


def redact(text: str) -> str:
    """Text that may hold an address with a password, the password masked."""
    text = re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)
    return re.sub(r"(?i)([?&](?:ssl)?password=)[^&\s]*", r"\1***", text)


def password_file(url: URL) -> Path | None:
    """The password file libpq would read for `url` (`?passfile=`, PGPASSFILE, ~/.pgpass), or
    None where libpq does not check its mode (Windows)."""
    named = url.query.get("passfile")
    if isinstance(named, tuple):
        named = named[-1] if named else None
    return password_file_named(named)


def refuse_open_password_file(url: URL) -> None:
    """Refuse a password file others may read, before libpq finds it: libpq would print its
    own warning on stderr and ignore the file, and the user would see two lines and a refusal
    that does not say why."""
    path = password_file(url)
    if open_to_others(path):
        raise StoreError("hub.password_file_open", path=str(path))


def _scrub(reason: str, url: URL | None = None) -> str:
    """A driver's message on one line, without any password it might echo."""
    line = " ".join(reason.split())
    for prefix in ("connection failed: ", "connection is bad: "):  # psycopg's, not the server's
        line = line.removeprefix(prefix)
    if url is not None and url.password:
        line = line.replace(str(url.password), "***")
    return redact(line)[:300]


def connect_error(exc: BaseException, url: URL) -> StoreError:
    """What a failed connection means, in one line the user can act on. The server's words are
    read for the user and database it names (an address with a service file may name neither)."""
    reason = str(getattr(exc, "orig", None) or exc)
    lowered = reason.lower()
    where = shown(url)
    user = _named(reason, "user") or url.username or ""
    if "password authentication failed" in lowered:
        return StoreError("hub.auth_failed", url=where, user=user)
    if "no password supplied" in lowered:
        return StoreError("hub.no_password", url=where)
    found = re.search(r'database "([^"]*)" does not exist', reason)
    if found:
        return StoreError("hub.no_database", url=where, database=found[1])
    found = re.search(r'role "([^"]*)" does not exist', reason)
    if found:
        return StoreError("hub.no_role", url=where, user=found[1])
    if any(
        sign in lowered
        for sign in ("no pg_hba.conf entry", "pg_hba.conf rejects", "connect privilege")
    ):
        return StoreError("hub.not_allowed", url=where, user=user)
    found = re.search(r'(?:definition of )?service (?:file )?"([^"]*)" not found', reason)
    if found:
        return StoreError("hub.no_service", url=where, service=found[1])
    return unreachable_or_failed(where, reason, url)


def unreachable_or_failed(where: str, reason: str, url: URL | None = None) -> StoreError:
    """A server that cannot be reached (why, in the user's words), or else the server's own
    words, on one line and without a password."""
    lowered = reason.lower()
    for signs, why in _UNREACHABLE:
        if any(sign in lowered for sign in signs):
            return StoreError("hub.unreachable", url=where, reason=words(why))
    return StoreError("hub.failed", url=where, reason=_scrub(reason, url))


def _named(reason: str, what: str) -> str | None:
    """The name the server's message gives `what` (`for user "sato"`, `user "sato"`)."""
    found = re.search(rf'\b{what} "([^"]*)"', reason)
    return found[1] if found else None


def make_engine(url: URL) -> Engine:
    """An engine on the hub's database (not yet connected)."""
    from sqlalchemy import create_engine

    from dxfield.store.engine import JSON_TEXT

    engine = create_engine(
        url,
        json_serializer=JSON_TEXT,
        connect_args=dict(CONNECT_ARGUMENTS),
        pool_pre_ping=True,
    )
    POSTGRES.install(engine)
    return engine


def check_settings(conn: Connection) -> None:
    """Refuse a database that cannot keep Japanese, or whose text sorts other than by code
    point, before anything is written to it. The order is tried, not read from the catalogue:
    a database may name C as its collation and still sort by ICU's (`LOCALE_PROVIDER icu`)."""
    row = (
        conn.execute(
            text(
                "SELECT pg_encoding_to_char(encoding) AS encoding_name, * FROM pg_database "
                "WHERE datname = current_database()"
            )
        )
        .one()
        ._mapping
    )
    database, encoding = str(row["datname"]), str(row["encoding_name"])
    if encoding != "UTF8":
        raise StoreError("hub.encoding", database=database, encoding=encoding)
    ordered = conn.execute(
        text("SELECT array_agg(w ORDER BY w) FROM unnest(CAST(:words AS text[])) AS w"),
        {"words": list(ORDER_PROBE)},
    ).scalar()
    if list(ordered or ()) != sorted(ORDER_PROBE):
        icu = row.get("daticulocale") or row.get("datlocale")  # PostgreSQL 15-16, 17+
        provider = row.get("datlocprovider")
        collation = f"ICU {icu}" if provider == "i" and icu else str(row["datcollate"])
        raise StoreError("hub.collation", database=database, collation=collation)
    ctype = str(row["datctype"])
    if ctype in ("C", "POSIX"):  # ASCII only: pg_trgm would find no trigram in Japanese
        raise StoreError("hub.blind_to_japanese", database=database, ctype=ctype)


def ensure_trigram(conn: Connection) -> None:
    """Make sure pg_trgm is there and sees Japanese (the migrations create it; a schema being
    made is rolled back when it does not)."""
    found = conn.execute(
        text("SELECT array_length(show_trgm(:word), 1)"), {"word": JAPANESE_PROBE}
    ).scalar()
    if not found:
        database, ctype = conn.execute(
            text("SELECT datname, datctype FROM pg_database WHERE datname = current_database()")
        ).one()
        raise StoreError("hub.blind_to_japanese", database=database, ctype=ctype)


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
            options = connection.get_execution_options()
            if options.get("dxfield_write", False):
                if options.get("dxfield_lock", True):
                    self.take_write_lock(connection, options.get("dxfield_waiting"))
            else:
                connection.exec_driver_sql(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                )

    # A writing transaction may begin before it takes the lock: an import writes its new
    # records' search entries (their ids its own, so no one else's write can touch them)
    # while it still checks its rows, and the server builds their trigram index meanwhile.
    writes_ahead = True

    def take_write_lock(self, conn: Any, waiting: Callable[[], object] | None) -> None:
        def taken() -> bool:
            return bool(
                conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({WRITE_LOCK})").scalar()
            )

        if waiting is None:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
            return
        still_wanted(waiting)  # not taken at all when no longer wanted
        if taken():
            return
        waiting()  # another holds it (a long import): said once, then waited for
        if not isinstance(waiting, GivingUp):
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
            return
        # One that may stop waiting tries again and again (the server's queue would not let
        # it go), asking between tries whether it is still wanted.
        while not taken():
            still_wanted(waiting)
            time.sleep(WAIT_TRY_MS / 1000)

    def arrival_order(self, table: Any) -> ColumnElement[int]:
        # An identity column (migration 0002) on the revision log and every synced table.
        return literal_column(f"{table.name}.arrival")

    def indexed_match(self, search: Table, terms: list[str]) -> ColumnElement[bool]:
        body = search.c.body
        return and_(*(body.like(like_pattern(term), escape="\\") for term in terms))

    def contains(self, column: ColumnElement[str], term: str) -> ColumnElement[bool]:
        return func.strpos(column, literal(term)) > 0

    # One array parameter, however many values: a first import's 100,000 ids are a few
    # statements, not 200 statements of 500 placeholders each for psycopg to rewrite.
    batch = 20_000

    def among(self, column: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[bool]:
        return column == any_(literal(list(values), type_=ARRAY(Text)))

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
        # pipelined) costs the server several times what COPY does.
        if not rows:
            return
        names = list(rows[0])
        if not _copyable(table, names, rows):
            conn.execute(insert(table), list(rows))
            return
        with self.rows_streamed(conn, table, names) as write:
            for row in rows:
                write(row)

    @contextlib.contextmanager
    def rows_streamed(
        self, conn: Connection, table: Table, names: list[str]
    ) -> Iterator[Callable[[dict[str, Any]], None]]:
        """One COPY into `table`'s columns `names` (none left out that SQLAlchemy would fill
        in), kept open for the block: each row (a dict of those names) given to the function it
        yields is sent as it comes, and the server takes it in meanwhile. Values go through the
        columns' own bind processing, so what is stored is what an INSERT would store.

        A block that raises abandons the COPY with a message of its own: the server logs the
        reason a COPY failed, and an import's error names a row's value."""
        if not _copyable(table, names, []):
            raise RuntimeError(f"COPY into {table.name} would leave out a column default")
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

                def write(row: dict[str, Any]) -> None:
                    copy.write_row(
                        [
                            row[name] if process is None else process(row[name])
                            for name, process in columns
                        ]
                    )

                try:
                    yield write
                except BaseException as exc:
                    raise _Abandoned from exc
        except _Abandoned as abandoned:
            cause = abandoned.__cause__
            assert cause is not None
            raise cause.with_traceback(cause.__traceback__) from None
        except dialect.loaded_dbapi.Error as exc:
            # As SQLAlchemy would have raised it (IntegrityError, OperationalError...), so
            # that callers see one kind of error whichever way the rows went in.
            from sqlalchemy.exc import DBAPIError

            raise DBAPIError.instance(statement, None, exc, dialect.loaded_dbapi.Error) from exc

    def prepare_rows(
        self, _dialect: Dialect, table: Table, rows: Sequence[dict[str, Any]]
    ) -> tuple[Table, Sequence[dict[str, Any]]]:
        return table, rows  # COPY processes each value as it writes it

    def insert_prepared(
        self, conn: Connection, prepared: tuple[Table, Sequence[dict[str, Any]]]
    ) -> None:
        self.insert_rows(conn, *prepared)

    def insert_search_rows(
        self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]
    ) -> None:
        self.insert_rows(conn, table, rows)  # the trigram index follows by itself

    def search_mark(self, conn: Connection) -> None:
        return None

    def index_search_rows(self, conn: Connection, mark: int | None) -> None:
        pass  # the trigram index follows its rows by itself

    def update_column(
        self,
        conn: Connection,
        table: Table,
        key: str,
        column: str,
        pairs: Sequence[tuple[Any, Any]],
    ) -> None:
        # Two arrays unnested into a join, a statement per `batch` rows: 100,000 signatures at
        # upgrade are a few statements, not 100,000 round trips.
        quote = conn.dialect.identifier_preparer.quote
        statement = text(
            f"UPDATE {quote(table.name)} SET {quote(column)} = v.value "
            f"FROM unnest(:keys, :values) AS v(key, value) "
            f"WHERE {quote(table.name)}.{quote(key)} = v.key"
        ).bindparams(bindparam("keys", type_=ARRAY(Text)), bindparam("values", type_=ARRAY(Text)))
        for start in range(0, len(pairs), self.batch):
            chunk = pairs[start : start + self.batch]
            conn.execute(
                statement, {"keys": [k for k, _ in chunk], "values": [v for _, v in chunk]}
            )


class _Abandoned(Exception):
    """What a COPY is told when the block feeding it fails: psycopg sends the server the
    exception's text, and the server logs it; this one's says nothing of the rows."""

    def __str__(self) -> str:
        return "abandoned by dxfield"


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


POSTGRES = PostgresBackend()


def identity_path(data_dir: Path) -> Path:
    """Where a person's own device identity on a hub is kept (their data folder)."""
    return data_dir / "hub-identity.json"
