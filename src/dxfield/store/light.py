"""The read verbs' light path: a store read through its database driver alone.

`dxfield activity list` and `dxfield search` read a few rows, and a process that opened a
`Store` for them paid more for its imports than for its work: SQLAlchemy, the schema's SQLModel
classes and their pydantic models, the signing library, and the checks of an open (a migration,
an unfinished key rotation, reference data, the authorship upgrade), three quarters of the
process. `open_light` opens a store for which every one of those checks would do nothing, with
the driver alone: sqlite3 for a laptop's file (with the store's pragmas), psycopg for a hub's
PostgreSQL database (with the `Store`'s connection arguments, and its reading units' snapshot).
For anything else (no store yet, a file or a database that is refused, to be migrated or
upgraded, a hub person's identity to make, a device to enroll...) it gives None, and the verb
opens the `Store` as before, which does what is needed and says what is wrong in the same words.
A hub that cannot be connected to is the one exception: the `Store` would try again, the same
way, and wait out the same timeout, so its error is raised here (the same function, the same
words).

The two queries are the SQL that store/activities.py (`list_activities`) and store/search.py
(`search`) compose, as SQLAlchemy compiles it for each engine: one core writes them, and a small
part for each engine (`_SQLite`, `_Postgres`) spells what differs (bound values, the live rows'
condition, a substring test, the index's match, LIMIT). The rows and values are the `Store`'s:
tests/store/test_light.py holds them equal on both engines. A query failing here (a damaged
file, a server gone) gives None too, and the verb asks the `Store`.

The app reads its first screens here too (`open_light(..., shared=True)`), from thread workers,
while the `Store` opens in another: the whole Log, unfiltered, page by page (`count_activities`,
`log_page`, the SQL of `count_activities` and `oldest_activities` too), one read at a time, and
the Dashboard (`dashboard`, `funnel`: the rows store/dashboard.py and store/tracks.py read, made
into the same cards by store/board.py), on a second connection of its own, so that its scan of
every activity (a few tenths of a second at 100,000) never holds up the Log's reads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import sqlite3
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dxfield.domain.enums import ActivityKind, SupportArea
from dxfield.domain.errors import LocalizedError, StoreError
from dxfield.paths import KEY_FILE, STORE_FILE
from dxfield.store import engine, files, markers
from dxfield.store.draft_rows import DRAFT_PREFIX, Draft, drafts_of
from dxfield.store.files import read_regular_file
from dxfield.store.hub_checks import (
    CONNECT_ARGUMENTS,
    JAPANESE_PROBE,
    ORDER_PROBE,
    open_to_others,
    password_file,
    plain_connect_arguments,
)
from dxfield.store.ids import ID_PATTERN
from dxfield.store.migrations import SCHEMA_HEAD
from dxfield.store.search_terms import (
    CONFLATED,
    SEARCHED_DATES,
    TRIGRAM,
    SearchHit,
    first_line,
    fts_match_expression,
    like_pattern,
    query_terms,
    snippet,
)

if TYPE_CHECKING:  # imported when read: the verbs and the app's first reads go without
    from dxfield.store.board import Dashboard, Funnel

BUSY_TIMEOUT_MS = 10_000
PRAGMAS = (
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
)
"""The field store's pragmas, set on every connection (store/sqlite_features.py too)."""

MAX_SEARCH_PAGE = 1_000
"""The most hits `search` reads here (one bound value each); more are the `Store`'s."""


@dataclass
class ActivityFilter:
    """What the Log and `activity list` narrow by. Empty values narrow by nothing.

    (Defined here, where the app's first screen can import it without SQLAlchemy; re-exported
    by store/activities.py, which applies it.)"""

    municipality_id: str | None = None
    initiative_id: str | None = None
    kind: ActivityKind | None = None
    area: SupportArea | None = None
    tag: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    # Search text, matched exactly as `search.search_ids` matches it; a query without terms (empty
    # or only spaces) narrows by nothing, so a search box holding a stray space keeps the Log.
    query: str | None = None
    # An organization among the participants: a community's activities, for its track.
    participant_id: str | None = None


ActivityKey = tuple[dt.date, str]
"""An activity's place in the Log's order: (date, id), newest first."""


@dataclass(frozen=True)
class ActivityRow:
    """One line of the Log."""

    id: str
    date: dt.date
    date_precision: str
    kind: ActivityKind
    title: str
    municipality: str
    location: str
    areas: list[str]
    initiative_id: str | None
    tags: list[str]


class _Connection(Protocol):
    """What the core asks of a driver's connection (sqlite3's, psycopg's)."""

    def execute(self, sql: Any, parameters: Any = ..., /) -> Any: ...

    def close(self) -> None: ...


_Bound = tuple[str, list[object]]
"""A piece of SQL and the values bound in it, in order."""


class _SQLite:
    """A laptop's file, as SQLAlchemy's SQLite dialect writes the queries."""

    error: type[Exception] = sqlite3.Error
    live = "likely(activity.deleted IS 0) = 1"  # the Store tells the planner most rows are live

    @staticmethod
    def live_of(table: str) -> str:
        return f"{table}.deleted IS 0"

    @staticmethod
    def bound(_sql_type: str) -> str:
        return "?"

    @staticmethod
    def day(value: dt.date) -> object:
        return value.isoformat()

    @staticmethod
    def contains(column: str, term: str) -> _Bound:
        return f"instr({column}, ?) > ?", [term, 0]

    @staticmethod
    def indexed_match(terms: list[str]) -> _Bound:
        return (
            "search_text.rowid IN (SELECT rowid \nFROM search_fts \nWHERE search_fts MATCH ?)",
            [fts_match_expression(terms)],
        )

    @staticmethod
    def limit(count: int) -> _Bound:
        return "\n LIMIT ? OFFSET ?", [count, 0]

    @staticmethod
    def begin(conn: _Connection) -> None:
        conn.execute("BEGIN")  # deferred: a reading unit, as `Store.read` begins it

    @staticmethod
    def end(conn: _Connection) -> None:
        conn.execute("COMMIT")

    @staticmethod
    def abandon(conn: Any) -> None:
        """End a reading unit a failed (or stopped) read left open."""
        if conn.in_transaction:
            conn.execute("ROLLBACK")

    @staticmethod
    def stop(conn: Any) -> None:
        """Stop the read running on `conn` (from another thread): it fails, "interrupted"."""
        conn.interrupt()

    @staticmethod
    def date(value: str) -> dt.date:
        return dt.date.fromisoformat(value)

    @staticmethod
    def json_list(value: str | None) -> list[Any]:
        """A JSON column holding a list (NULL: an empty one), as SQLAlchemy's JSON type reads
        it: sqlite3 gives its text."""
        return list(json.loads(value) or []) if value is not None else []


class _Postgres:
    """A hub's database, as SQLAlchemy's psycopg dialect writes the queries (every bound value
    cast to its type, strpos for a substring, pg_trgm's LIKE for the index)."""

    live = "activity.deleted IS false"

    def __init__(self, error: type[Exception]) -> None:
        self.error = error  # psycopg's, imported only once a hub is opened

    @staticmethod
    def live_of(table: str) -> str:
        return f"{table}.deleted IS false"

    @staticmethod
    def bound(sql_type: str) -> str:
        return f"%s::{sql_type}"

    @staticmethod
    def day(value: dt.date) -> object:
        return value

    @staticmethod
    def contains(column: str, term: str) -> _Bound:
        return f"strpos({column}, %s::VARCHAR) > %s::INTEGER", [term, 0]

    @staticmethod
    def indexed_match(terms: list[str]) -> _Bound:
        return (
            " AND ".join(["search_text.body LIKE %s::VARCHAR ESCAPE '\\'"] * len(terms)),
            [like_pattern(term) for term in terms],
        )

    @staticmethod
    def limit(count: int) -> _Bound:
        return " \n LIMIT %s::INTEGER", [count]

    @staticmethod
    def begin(conn: _Connection) -> None:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")  # a snapshot

    @staticmethod
    def end(conn: Any) -> None:
        conn.commit()

    @staticmethod
    def abandon(conn: Any) -> None:
        conn.rollback()

    @staticmethod
    def stop(_conn: Any) -> None:
        """Nothing: the hub's server scans, not this process (whose other reads go on, on the
        other connection)."""

    @staticmethod
    def date(value: dt.date) -> dt.date:
        return value

    @staticmethod
    def json_list(value: list[Any] | None) -> list[Any]:
        """psycopg gives a JSON column parsed, as SQLAlchemy reads it."""
        return list(value or [])


_Engine = _SQLite | _Postgres


class LightStore:
    """A store that needed nothing done at open, read through its driver."""

    def __init__(self, conn: _Connection, sql: _Engine, connect: Callable[[], _Connection]) -> None:
        self._conn = conn
        self._sql = sql
        self._lock = threading.Lock()  # one read at a time (the app's workers share it)
        self._connect = connect  # another connection like `conn`, for the dashboard's reads
        self._board: _Connection | None = None
        self._board_lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        """Close the connections (each after a read in progress in another thread)."""
        with self._lock:
            self._conn.close()
        with self._board_lock:
            self._closed = True
            if self._board is not None:
                self._board.close()

    @contextlib.contextmanager
    def _read(self) -> Iterator[_Connection]:
        """The connection in a reading unit, as `Store.read` gives it (one at a time: the app's
        workers share it)."""
        with self._lock:
            self._sql.begin(self._conn)
            try:
                yield self._conn
            finally:
                self._sql.end(self._conn)

    @contextlib.contextmanager
    def _board_read(self) -> Iterator[_Connection]:
        """The dashboard's connection (opened at its first read) in a reading unit: its scans
        take their time on a connection of their own, one at a time."""
        with self._board_lock:
            if self._closed:
                raise self._sql.error("the light store is closed")
            if self._board is None:
                self._board = self._connect()
            self._sql.begin(self._board)
            try:
                yield self._board
            except BaseException:
                with contextlib.suppress(self._sql.error):
                    self._sql.abandon(self._board)
                raise
            self._sql.end(self._board)

    def stop_dashboard(self) -> None:
        """Stop a dashboard read in progress (from any thread): it gives None. The app stops
        it when the Dashboard is left before its cards came, so that the screen shown next
        has the processor to itself."""
        board = self._board
        if board is not None and not self._closed:
            with contextlib.suppress(self._sql.error):
                self._sql.stop(board)

    def dashboard(self, today: dt.date) -> Dashboard | None:
        """The dashboard as store/dashboard.py's `dashboard` gives it (its queries, in one
        reading unit); None when the store could not be read (the `Store` reads it)."""
        sql = self._sql
        try:
            with self._board_read() as conn:
                return _dashboard(conn, sql, today)
        except sql.error:
            return None

    def funnel(self) -> list[Funnel] | None:
        """The funnels as store/tracks.py's `funnel` gives them; None when the store could not
        be read."""
        from dxfield.store import board

        sql = self._sql
        try:
            with self._board_read() as conn:
                counts = conn.execute(
                    "SELECT engagement_track.model_id, engagement_track.current_stage, count(*) "
                    f"FROM engagement_track WHERE {sql.live_of('engagement_track')} "
                    "GROUP BY engagement_track.model_id, engagement_track.current_stage"
                ).fetchall()
                models = [
                    (*row[:5], sql.json_list(row[5]))
                    for row in conn.execute(
                        "SELECT stage_model.id, stage_model.key, stage_model.name, "
                        "stage_model.name_en, stage_model.builtin, stage_model.stages "
                        f"FROM stage_model WHERE {sql.live_of('stage_model')}"
                    )
                ]
        except sql.error:
            return None
        return board.funnels(counts, models)

    def count_activities(self) -> int | None:
        """How many live activities there are (`count_activities` without filters); None when
        the store could not be read."""
        sql = self._sql
        try:
            with self._read() as conn:
                return int(
                    conn.execute(f"SELECT count(*) FROM activity WHERE {sql.live}").fetchone()[0]
                )
        except sql.error:
            return None

    def log_page(
        self,
        *,
        limit: int,
        before: ActivityKey | None = None,
        after: ActivityKey | None = None,
        offset: int = 0,
        oldest: bool = False,
    ) -> list[ActivityRow] | None:
        """A page of the unfiltered Log, newest first, as `list_activities` (`before`, `after`,
        `offset`) or, with `oldest`, `oldest_activities` (`offset` from the end) give it; None
        when the store could not be read."""
        if before is not None and after is not None:
            raise ValueError("give before or after, not both")
        if limit <= 0:
            return []
        sql = self._sql
        params: list[object] = [""]
        where = ""
        key = f"({sql.bound('DATE')}, {sql.bound('VARCHAR')})"
        if before is not None:
            where = f" AND (activity.date, activity.id) < {key}"
            params += [sql.day(before[0]), before[1]]
        elif after is not None:
            where = f" AND (activity.date, activity.id) > {key}"
            params += [sql.day(after[0]), after[1]]
        ascending = after is not None or oldest
        order = "ASC" if ascending else "DESC"
        skip = ""
        if before is None and after is None and offset > 0:
            skip = f" OFFSET {sql.bound('INTEGER')}"
        statement = (
            f"{_log_columns(sql)}{where} "
            f"ORDER BY activity.date {order}, activity.id {order}\n LIMIT {sql.bound('INTEGER')}{skip}"
        )
        params.append(limit)
        if skip:
            params.append(offset)
        try:
            with self._read() as conn:
                rows = [_activity_row(sql, row) for row in conn.execute(statement, params)]
        except sql.error:
            return None
        if ascending:
            rows.reverse()
        return rows

    def activities(
        self,
        *,
        kind: ActivityKind | None = None,
        area: SupportArea | None = None,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        limit: int = 50,
    ) -> list[ActivityRow] | None:
        """The newest `limit` live activities, as `list_activities` gives them for those
        filters; None when the store could not be read (the `Store` says why)."""
        if limit <= 0:
            return []
        sql = self._sql
        conditions = []
        params: list[object] = [""]
        if kind is not None:
            conditions.append(f"activity.kind = {sql.bound('VARCHAR')}")
            params.append(kind.value)
        if area is not None:
            condition, values = sql.contains("CAST(activity.areas AS VARCHAR)", f'"{area.value}"')
            conditions.append(condition)
            params += values
        if date_from is not None:
            conditions.append(f"activity.date >= {sql.bound('DATE')}")
            params.append(sql.day(date_from))
        if date_to is not None:
            conditions.append(f"activity.date <= {sql.bound('DATE')}")
            params.append(sql.day(date_to))
        limited, values = sql.limit(limit)
        params += values
        where = "".join(f" AND {condition}" for condition in conditions)
        statement = (
            f"{_log_columns(sql)}{where} ORDER BY activity.date DESC, activity.id DESC{limited}"
        )
        try:
            with self._read() as conn:
                rows = conn.execute(statement, params).fetchall()
            return [_activity_row(sql, row) for row in rows]
        except sql.error:
            return None

    def search(self, query: str, *, limit: int = 100) -> tuple[int, list[SearchHit]] | None:
        """(number of matches, the first `limit` of them), as store/search.py's `search`
        gives them; None when the store could not be read or `limit` is past
        `MAX_SEARCH_PAGE` (the `Store` answers those)."""
        terms = query_terms(query)
        if not terms:
            return 0, []
        if limit > MAX_SEARCH_PAGE:
            return None
        sql = self._sql
        conditions: list[str] = []
        params: list[object] = []
        long_terms = [t for t in terms if len(t) >= TRIGRAM]
        if long_terms:
            condition, values = sql.indexed_match(long_terms)
            conditions.append(condition)
            params += values
        for term in terms:
            if len(term) < TRIGRAM or CONFLATED.intersection(term):
                condition, values = sql.contains("search_text.body", term)
                conditions.append(condition)
                params += values
        limited, values = sql.limit(max(limit, 1))
        params += values
        statement = (
            "SELECT search_text.entity, search_text.entity_id, count(*) OVER () AS anon_1 \n"
            f"FROM search_text \nWHERE {' AND '.join(conditions)} ORDER BY "
            "search_text.sort_date DESC NULLS LAST, search_text.entity, search_text.entity_id"
            f"{limited}"
        )
        try:
            with self._read() as conn:
                found = conn.execute(statement, params).fetchall()
                total = int(found[0][2]) if found else 0
                page = [(entity, entity_id) for entity, entity_id, _ in found[: max(limit, 0)]]
                hits: dict[str, SearchHit] = {}
                for entity in {e for e, _ in page}:
                    ids = [i for e, i in page if e == entity]
                    title = "title" if entity == "activity" else "text"
                    rows = conn.execute(
                        f"SELECT {entity}.id, {entity}.{title} AS title, "
                        f"{entity}.{SEARCHED_DATES[entity]} AS date, search_text.body \n"
                        f"FROM {entity} JOIN search_text ON search_text.entity_id = {entity}.id \n"
                        f"WHERE {entity}.id IN ({', '.join([sql.bound('VARCHAR')] * len(ids))})",
                        ids,
                    )
                    for row in rows:
                        date = sql.date(row[2]) if row[2] is not None else None
                        hits[row[0]] = SearchHit(
                            entity, row[0], first_line(row[1]), date, snippet(row[3], terms)
                        )
        except sql.error:
            return None
        return total, [hits[i] for _, i in page if i in hits]

    def drafts(self) -> list[Draft] | None:
        """The drafts left by forms being typed, as `local_state.list_drafts` gives them (one
        small query: cheap enough to ask at start before anything else); None when the store
        could not be read (the `Store` says why)."""
        sql = self._sql
        try:
            with self._read() as conn:
                rows = conn.execute(
                    "SELECT key, value FROM local_state "
                    f"WHERE key LIKE {sql.bound('VARCHAR')} ESCAPE '/'",
                    [DRAFT_PREFIX + "%"],
                ).fetchall()
        except sql.error:
            return None
        return drafts_of(rows)


def _dashboard(conn: _Connection, sql: _Engine, today: dt.date) -> Dashboard:
    """The dashboard's rows, as store/dashboard.py reads them, made into its cards."""
    from dxfield.store import board

    live, day, text = sql.live_of, sql.bound("DATE"), sql.bound("VARCHAR")
    latest = conn.execute(
        f"SELECT max(activity.date) FROM activity "
        f"WHERE {live('activity')} AND activity.date < {day}",
        [sql.day(board.window_end(today))],
    ).fetchone()[0]
    fiscal_year = board.window(sql.date(latest) if latest is not None else None, today)
    names: dict[str, tuple[str, str]] = {
        row[0]: (row[1], row[2] or row[1])
        for row in conn.execute(
            "SELECT organization.id, organization.name, organization.kana FROM organization"
        )
    }
    initiatives = [
        (*row[:4], sql.json_list(row[4]))
        for row in conn.execute(
            "SELECT initiative.id, initiative.municipality_id, initiative.theme, "
            f"initiative.title, initiative.providers FROM initiative WHERE {live('initiative')}"
        )
    ]
    starts = board.month_starts(fiscal_year)
    in_month = f"sum(CASE WHEN activity.date >= {day} AND activity.date < {day} THEN 1 ELSE 0 END)"
    tallies = board.tallies(
        conn.execute(
            "SELECT activity.initiative_id, activity.municipality_id, count(*), "
            f"{', '.join([in_month] * board.MONTHS)} FROM activity WHERE {live('activity')} "
            "GROUP BY activity.initiative_id, activity.municipality_id",
            [sql.day(d) for pair in itertools.pairwise(starts) for d in pair],
        ),
        {row[0] for row in initiatives},
    )
    is_open, live_actions = f'"action".status IN ({text}, {text})', live('"action"')
    actions = board.action_counts(
        conn.execute(
            f'SELECT "action".initiative_id, sum(CASE WHEN {is_open} THEN 1 ELSE 0 END), '
            f'sum(CASE WHEN {is_open} AND "action".due < {day} THEN 1 ELSE 0 END) '
            f'FROM "action" WHERE {live_actions} '
            'AND "action".initiative_id IS NOT NULL GROUP BY "action".initiative_id',
            [*board.OPEN_STATUSES, *board.OPEN_STATUSES, sql.day(today)],
        )
    )
    tracks = board.track_stages(
        [
            (*row[:4], sql.json_list(row[4]), sql.date(row[5]) if row[5] is not None else None)
            for row in conn.execute(
                "SELECT engagement_track.id, engagement_track.initiative_id, "
                "engagement_track.community_id, engagement_track.current_stage, "
                "stage_model.stages, latest.moved \n"
                "FROM engagement_track LEFT OUTER JOIN stage_model "
                "ON stage_model.id = engagement_track.model_id LEFT OUTER JOIN "
                "(SELECT stage_move.track_id AS track_id, max(stage_move.date) AS moved "
                f"FROM stage_move WHERE {live('stage_move')} GROUP BY stage_move.track_id) "
                "AS latest ON latest.track_id = engagement_track.id \n"
                f"WHERE {live('engagement_track')} "
                "AND engagement_track.initiative_id IS NOT NULL"
            )
        ],
        today,
        board.as_of(fiscal_year, today),
        names,
    )
    return board.dashboard(fiscal_year, today, names, initiatives, tallies, actions, tracks)


def _log_columns(sql: _Engine) -> str:
    """The Log's columns, from its live activities, as `list_activities` selects them."""
    return (
        "SELECT activity.id, activity.date, activity.date_precision, activity.kind, "
        "activity.title, activity.location, activity.areas, activity.initiative_id, "
        f"activity.tags, coalesce(organization.name, {sql.bound('VARCHAR')}) AS municipality \n"
        "FROM activity LEFT OUTER JOIN organization "
        "ON organization.id = activity.municipality_id \n"
        f"WHERE {sql.live}"
    )


def _activity_row(sql: _Engine, row: Sequence[Any]) -> ActivityRow:
    """A Log row from the columns of `_log_columns`."""
    return ActivityRow(
        id=row[0],
        date=sql.date(row[1]),
        date_precision=row[2],
        kind=ActivityKind(row[3]),
        title=row[4],
        municipality=row[9],
        location=row[5],
        areas=sql.json_list(row[6]),
        initiative_id=row[7],
        tags=sql.json_list(row[8]),
    )


def open_light(
    data_dir: Path, database: str | None = None, *, shared: bool = False
) -> LightStore | None:
    """The store of `data_dir` (its file, or the hub database `database` or the environment
    names) read through its driver, when opening it as a `Store` would do nothing but open it
    (see the module's text); else None. `shared`: read from any thread (one read at a time),
    as the app's workers do."""
    if not data_dir.is_dir():
        return None  # a folder `Store.open` makes (or says it cannot)
    if os.path.lexists(data_dir / (KEY_FILE + markers.NEXT_SUFFIX)):
        return None  # a rotation of the hub's key to finish first
    # Looked up when called: the tests give each data folder a database of its own.
    address = engine.database_for(data_dir, database)
    if address:
        return _open_hub(address, data_dir)
    return _open_file(data_dir, shared=shared)


# -- a laptop's file -------------------------------------------------------------------------------


def _open_file(data_dir: Path, *, shared: bool = False) -> LightStore | None:
    path = data_dir / STORE_FILE
    if not os.path.lexists(path):
        return None  # a new store: `Store.open` makes it
    try:
        engine.refuse_unusable_store_file(path)
        if engine.read_schema_revision(path) != SCHEMA_HEAD:
            return None  # to be migrated, or a newer dxfield's: `Store.open` says which
    except StoreError:
        return None  # refused: `Store.open` refuses it in the same words
    with contextlib.suppress(OSError):  # as `Store.open_file` leaves it: owner-only
        path.chmod(0o600)
    files.note_open_store(path)  # never read as a file a person names (store/files.py)
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=not shared)
    except sqlite3.Error:
        return None
    try:
        for pragma in PRAGMAS:
            conn.execute(pragma)
        if _file_needs_nothing(conn):
            return LightStore(conn, _SQLite(), lambda: _connect_file(path, shared=shared))
    except sqlite3.Error:
        pass
    conn.close()
    return None


def _connect_file(path: Path, *, shared: bool) -> sqlite3.Connection:
    """Another connection to the store's file, with its pragmas."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=not shared)
    try:
        for pragma in PRAGMAS:
            conn.execute(pragma)
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def _file_needs_nothing(conn: sqlite3.Connection) -> bool:
    """Whether `Store.open` would find this store's device, its reference data and its
    authorship upgrade all there (and so write nothing)."""
    conn.execute("BEGIN")
    try:
        device = conn.execute("SELECT id FROM device").fetchone()
        if device is None:
            return False
        wanted = (markers.REFERENCE_VERSION_KEY, markers.UPGRADED_KEY + device[0])
        found = dict(
            conn.execute(
                "SELECT key, value FROM local_state WHERE key IN (?, ?)", wanted
            ).fetchall()
        )
        return found.get(wanted[0]) == markers.REFERENCE_VERSION and wanted[1] in found
    finally:
        conn.execute("COMMIT")


# -- a hub's database ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Person:
    """This data folder's identity on a hub."""

    id: str
    name: str


def _open_hub(address: str, data_dir: Path) -> LightStore | None:
    person = _person(data_dir)
    arguments = plain_connect_arguments(address)
    if person is None or arguments is None:
        return None
    passfile = arguments.get("passfile")
    if open_to_others(password_file(passfile if isinstance(passfile, str) else None)):
        return None  # refused: `Store.open` says why
    import psycopg
    from psycopg.conninfo import make_conninfo

    conninfo = make_conninfo("", **{**arguments, **CONNECT_ARGUMENTS})
    try:  # as SQLAlchemy's psycopg dialect connects: its arguments, then the Store's
        conn = psycopg.connect(conninfo)
    except psycopg.Error as exc:
        # `Store.open` would connect the same way and fail the same way, after waiting out the
        # timeout again for a server that does not answer: what it would say, said now.
        from dxfield.store.postgres import connect_error, hub_url

        raise connect_error(exc, hub_url(address)) from exc
    try:
        if _hub_needs_nothing(conn, person):
            return LightStore(conn, _Postgres(psycopg.Error), lambda: psycopg.connect(conninfo))
    except psycopg.Error:
        pass
    conn.close()
    return None


def _person(data_dir: Path) -> _Person | None:
    """This folder's identity on a hub, when store/hub.py's `person_of` would read it as it is:
    None when it would make one, or refuse or rename the one there."""
    path = data_dir / markers.IDENTITY_FILE
    if not os.path.lexists(path):
        return None
    try:
        value = json.loads(read_regular_file(path, markers.IDENTITY_LIMIT))
        person = _Person(str(value["id"]), str(value["name"]))
    except (LocalizedError, ValueError, KeyError, TypeError):
        return None
    if not ID_PATTERN.fullmatch(person.id) or not _kept_as_it_is(person.name):
        return None
    return person


def _kept_as_it_is(name: str) -> bool:
    """Whether `device_name_of` takes `name` as it is (no error, nothing stripped). Printable
    characters and spaces are never among the controls it refuses; a name with any other
    character is the `Store`'s to check (tests/store/test_light.py holds this)."""
    return (
        0 < len(name) <= engine.MAX_DEVICE_NAME
        and name.strip() == name
        and all(char.isprintable() or unicodedata.category(char) == "Zs" for char in name)
    )


_HUB_SETTINGS = (
    "SELECT pg_encoding_to_char(encoding), datctype, "
    "(SELECT array_agg(w ORDER BY w) FROM unnest(CAST(%s AS text[])) AS w), "
    "array_length(show_trgm(%s), 1), "
    "EXISTS (SELECT FROM pg_tables WHERE schemaname = current_schema() "
    "AND tablename = 'alembic_version') "
    "FROM pg_database WHERE datname = current_database()"
)
"""What store/postgres.py's `check_settings`, `schema_state` and `ensure_trigram` read."""


def _hub_needs_nothing(conn: Any, person: _Person) -> bool:
    """Whether store/hub.py's `open_hub` would find the hub's settings usable, its schema at
    this dxfield's head, its device there (not to be renamed), its reference data loaded and,
    for a person who may write, their authorship upgrade done: and so write or say nothing."""
    _Postgres.begin(conn)
    try:
        settings = conn.execute(_HUB_SETTINGS, [list(ORDER_PROBE), JAPANESE_PROBE]).fetchone()
        encoding, ctype, ordered, trigrams, has_schema = settings
        if (
            encoding != "UTF8"
            or list(ordered or ()) != sorted(ORDER_PROBE)
            or ctype in ("C", "POSIX")
            or not trigrams
            or not has_schema
        ):
            return False
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        if version is None or version[0] != SCHEMA_HEAD:
            return False
        hub = conn.execute("SELECT id, name FROM device").fetchone()
        if hub is None or (hub[0] == person.id and hub[1] != person.name):
            return False  # a new hub's device to make, or its name to change
        upgraded, trusted = markers.UPGRADED_KEY + person.id, markers.TRUSTED_PREFIX + person.id
        wanted: Sequence[str] = [markers.REFERENCE_VERSION_KEY, upgraded, trusted]
        found = dict(
            conn.execute(
                "SELECT key, value FROM local_state WHERE key IN (%s, %s, %s)", wanted
            ).fetchall()
        )
        enrolled = person.id == hub[0] or markers.trusts(found.get(trusted))
        return found.get(wanted[0]) == markers.REFERENCE_VERSION and (
            upgraded in found or not enrolled
        )
    finally:
        _Postgres.end(conn)
