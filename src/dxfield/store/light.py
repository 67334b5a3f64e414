"""The read verbs' light path: a laptop's store read through sqlite3 alone.

`dxfield activity list` and `dxfield search` read a few rows, and a process that opened a
`Store` for them paid more for its imports than for its work: SQLAlchemy, the schema's SQLModel
classes and their pydantic models, the signing library, and the checks of an open (a migration,
an unfinished key rotation, reference data, the authorship upgrade), three quarters of the
process. `open_light` opens a store for which every one of those checks would do nothing, with
sqlite3 and the same pragmas; for anything else (a hub's database, no store file yet, a file
that is refused, to be migrated or upgraded) it gives None, and the verb opens the `Store` as
before, which does what is needed and says what is wrong in the same words.

The queries are the SQL that store/activities.py (`list_activities`, `count_activities`,
`oldest_activities`) and store/search.py (`search`) compose for SQLite, with the same rows and
values: tests/store/test_light.py holds them equal. A query failing here (a damaged file, or a
light store closed meanwhile) gives None too, and the caller asks the `Store`.

The app reads its first screen's Log here too (`open_light(..., shared=True)`): the whole Log,
unfiltered, page by page, from thread workers, while the `Store` opens in another.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dxfield.domain.enums import ActivityKind, SupportArea
from dxfield.domain.errors import StoreError
from dxfield.paths import KEY_FILE, STORE_FILE
from dxfield.store import markers
from dxfield.store.engine import database_for, read_schema_revision, refuse_unusable_store_file
from dxfield.store.migrations import SCHEMA_HEAD
from dxfield.store.search_terms import (
    CONFLATED,
    SEARCHED_DATES,
    TRIGRAM,
    SearchHit,
    first_line,
    fts_match_expression,
    query_terms,
    snippet,
)

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

_LOG_COLUMNS = (
    "SELECT activity.id, activity.date, activity.date_precision, activity.kind, "
    "activity.title, activity.location, activity.areas, activity.initiative_id, "
    "activity.tags, coalesce(organization.name, ?) AS municipality \n"
    "FROM activity LEFT OUTER JOIN organization "
    "ON organization.id = activity.municipality_id \n"
    "WHERE likely(activity.deleted IS 0) = 1"
)


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


class LightStore:
    """A laptop's store that needed nothing done at open, read through sqlite3."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()  # one read at a time (the app's workers share it)

    def close(self) -> None:
        """Close the connection (after a read in progress in another thread)."""
        with self._lock:
            self._conn.close()

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """The connection in a deferred (read) transaction, as `Store.read` gives it."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    def count_activities(self) -> int | None:
        """How many live activities there are (`count_activities` without filters); None when
        the file could not be read."""
        try:
            with self._read() as conn:
                return int(
                    conn.execute(
                        "SELECT count(*) FROM activity WHERE activity.deleted IS 0"
                    ).fetchone()[0]
                )
        except sqlite3.Error:
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
        when the file could not be read."""
        if before is not None and after is not None:
            raise ValueError("give before or after, not both")
        if limit <= 0:
            return []
        params: list[object] = [""]
        where = ""
        if before is not None:
            where = " AND (activity.date, activity.id) < (?, ?)"
            params += [before[0].isoformat(), before[1]]
        elif after is not None:
            where = " AND (activity.date, activity.id) > (?, ?)"
            params += [after[0].isoformat(), after[1]]
        ascending = after is not None or oldest
        order = "ASC" if ascending else "DESC"
        params.append(limit)
        skip = ""
        if before is None and after is None and offset > 0:
            skip = " OFFSET ?"
            params.append(offset)
        statement = (
            f"{_LOG_COLUMNS}{where} "
            f"ORDER BY activity.date {order}, activity.id {order}\n LIMIT ?{skip}"
        )
        try:
            with self._read() as conn:
                rows = [_activity_row(row) for row in conn.execute(statement, params)]
        except sqlite3.Error:
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
        filters; None when the file could not be read (the `Store` says why)."""
        if limit <= 0:
            return []
        conditions = []
        params: list[object] = [""]
        if kind is not None:
            conditions.append("activity.kind = ?")
            params.append(kind.value)
        if area is not None:
            conditions.append("instr(CAST(activity.areas AS VARCHAR), ?) > ?")
            params += [f'"{area.value}"', 0]
        if date_from is not None:
            conditions.append("activity.date >= ?")
            params.append(date_from.isoformat())
        if date_to is not None:
            conditions.append("activity.date <= ?")
            params.append(date_to.isoformat())
        params += [limit, 0]
        where = "".join(f" AND {condition}" for condition in conditions)
        statement = (
            f"{_LOG_COLUMNS}{where} "
            "ORDER BY activity.date DESC, activity.id DESC\n LIMIT ? OFFSET ?"
        )
        try:
            with self._read() as conn:
                rows = conn.execute(statement, params).fetchall()
            return [_activity_row(row) for row in rows]
        except sqlite3.Error:
            return None

    def search(self, query: str, *, limit: int = 100) -> tuple[int, list[SearchHit]] | None:
        """(number of matches, the first `limit` of them), as store/search.py's `search`
        gives them; None when the file could not be read or `limit` is past
        `MAX_SEARCH_PAGE` (the `Store` answers those)."""
        terms = query_terms(query)
        if not terms:
            return 0, []
        if limit > MAX_SEARCH_PAGE:
            return None
        conditions: list[str] = []
        params: list[object] = []
        long_terms = [t for t in terms if len(t) >= TRIGRAM]
        if long_terms:
            conditions.append(
                "search_text.rowid IN (SELECT rowid \nFROM search_fts \nWHERE search_fts MATCH ?)"
            )
            params.append(fts_match_expression(long_terms))
        for term in terms:
            if len(term) < TRIGRAM or CONFLATED.intersection(term):
                conditions.append("instr(search_text.body, ?) > ?")
                params += [term, 0]
        params += [max(limit, 1), 0]
        statement = (
            "SELECT search_text.entity, search_text.entity_id, count(*) OVER () AS anon_1 \n"
            f"FROM search_text \nWHERE {' AND '.join(conditions)} ORDER BY "
            "search_text.sort_date DESC NULLS LAST, search_text.entity, search_text.entity_id\n"
            " LIMIT ? OFFSET ?"
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
                        f"WHERE {entity}.id IN ({', '.join('?' * len(ids))})",
                        ids,
                    )
                    for row in rows:
                        date = _date(row[2]) if row[2] is not None else None
                        hits[row[0]] = SearchHit(
                            entity, row[0], first_line(row[1]), date, snippet(row[3], terms)
                        )
        except sqlite3.Error:
            return None
        return total, [hits[i] for _, i in page if i in hits]


def _activity_row(row: tuple[object, ...]) -> ActivityRow:
    """A Log row from the columns of `_LOG_COLUMNS`."""
    return ActivityRow(
        id=str(row[0]),
        date=_date(str(row[1])),
        date_precision=str(row[2]),
        kind=ActivityKind(str(row[3])),
        title=str(row[4]),
        municipality=str(row[9]),
        location=str(row[5]),
        areas=_json_list(row[6]),  # type: ignore[arg-type]
        initiative_id=row[7],  # type: ignore[arg-type]
        tags=_json_list(row[8]),  # type: ignore[arg-type]
    )


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _json_list(text: str | None) -> list[str]:
    """A JSON column holding a list (NULL: an empty one), as SQLAlchemy's JSON type reads it."""
    return list(json.loads(text) or []) if text is not None else []


def open_light(
    data_dir: Path, database: str | None = None, *, shared: bool = False
) -> LightStore | None:
    """The SQLite store of `data_dir` read through sqlite3, when opening it as a `Store` would
    do nothing but open it (see the module's text); else None. `shared`: read from any thread
    (one read at a time), as the app's workers do."""
    if database_for(data_dir, database) or not data_dir.is_dir():
        return None  # a hub's database, or a folder `Store.open` makes
    path = data_dir / STORE_FILE
    if not os.path.lexists(path):
        return None  # a new store: `Store.open` makes it
    try:
        refuse_unusable_store_file(path)
        if read_schema_revision(path) != SCHEMA_HEAD:
            return None  # to be migrated, or a newer dxfield's: `Store.open` says which
    except StoreError:
        return None  # refused: `Store.open` refuses it in the same words
    with contextlib.suppress(OSError):  # as `Store.open_file` leaves it: owner-only
        path.chmod(0o600)
    if os.path.lexists(data_dir / (KEY_FILE + markers.NEXT_SUFFIX)):
        return None  # a rotation of the hub's key to finish first
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=not shared)
    except sqlite3.Error:
        return None
    try:
        for pragma in PRAGMAS:
            conn.execute(pragma)
        if _needs_nothing(conn):
            return LightStore(conn)
    except sqlite3.Error:
        pass
    conn.close()
    return None


def _needs_nothing(conn: sqlite3.Connection) -> bool:
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
