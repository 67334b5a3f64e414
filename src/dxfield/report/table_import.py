"""`import-table`: an existing Excel or CSV log brought in, all rows or none.

A table shaped as `export-table` writes it (titles in either language, or the keys) is read
back: a row without an id adds an activity, a row whose id is an activity of the store updates
it. A cell `guarded` against formulas on the way out loses its leading ' again here.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from dxfield.collector import collector_eased
from dxfield.domain.errors import LocalizedError, NotFound
from dxfield.i18n import N_, SUPPORTED, about, problems, quote
from dxfield.report.tables import (
    FORMATS,
    cell_text,
    column_keys,
    initiative_name,
    name_key,
    sheet_title,
    unguarded,
)
from dxfield.store import files
from dxfield.store.activities import Lookups
from dxfield.store.activity_entry import activity_input
from dxfield.store.activity_import import (
    ActivityImport,
    ImportCounts,
    ImportedActivity,
    at_row,
)
from dxfield.store.engine import Store
from dxfield.store.followups import list_initiatives
from dxfield.store.ids import looks_like_id
from dxfield.store.organizations import LOCAL_GOVERNMENT
from dxfield.store.search_index import ENTRY_COLUMNS, SEARCH_TABLE
from dxfield.store.spool import Spool, batched
from dxfield.store.unit import Unit, Work, unit_of
from dxfield.store.waits import still_wanted

PROBLEMS = problems(
    {
        "table.not_excel": N_("cannot read {path} as an Excel file ({error})"),
        "table.initiative_ambiguous": N_("more than one initiative is called {name}; give its id"),
        "table.initiative_not_found": N_(
            "no initiative {name} (give it as '<municipality> <theme>' or by its id)"
        ),
        "table.municipality_mismatch": N_(
            "{name} and the code {local_code} are different municipalities"
        ),
        "table.csv_cell_too_long": N_("a cell holds more than {limit} characters"),
        "table.not_csv": N_("not a well-formed CSV row (a quote left open?)"),
    }
)


Rows = Iterator[tuple[int, dict[str, str]]]
"""A table's rows as they are read: each with its number as a spreadsheet shows it (the header
is row 1) and its cells by column key, as text, unguarded."""


@dataclass
class TableFile:
    """A table being read, row by row: its columns, its rows (once), and how far the reading
    has come (`done` of `size`, for a progress bar)."""

    columns: set[str]
    rows: Rows
    size: int
    done: Callable[[], int]


@contextlib.contextmanager
def open_table(path: Path, fmt: str) -> Iterator[TableFile]:
    """A CSV (UTF-8, with or without BOM) or an XLSX's activities (or first) sheet, read as it
    is walked, never whole: memory stays flat however long the table."""
    if fmt == "csv":
        with files.open_regular_file(path) as binary:
            yield _csv_table(path, binary)
        return
    with _xlsx_table(path) as table:
        yield table


def _csv_table(path: Path, binary: BinaryIO) -> TableFile:
    column_key = column_keys()
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    # csv.reader and the header zipped with each row: what csv.DictReader gave (a blank line
    # skipped, cells past the header or missing from a short row left out), at half its cost a
    # row; a blank line still counts as a row, as Excel numbers it.
    reader = csv.reader(text)
    try:
        first = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _unreadable(path, 1, exc) from None
    headers = [column_key(h.strip()) for h in first or ()]

    def rows() -> Rows:
        number = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except (UnicodeDecodeError, csv.Error) as exc:
                raise _unreadable(path, number + 1, exc) from None
            number += 1
            if not row:  # a blank line: a row Excel shows empty, and nothing to bring in
                continue
            yield (
                number,
                {
                    h: unguarded(v) if v[:1] == "'" else v
                    for h, v in zip(headers, row, strict=False)
                },
            )

    size = os.fstat(binary.fileno()).st_size
    # `done` holds the text layer too: were it collected once the rows end, it would close the file.
    return TableFile(set(headers), rows(), size, lambda: text.buffer.tell())


def _unreadable(path: Path, number: int, exc: Exception) -> LocalizedError:
    if isinstance(exc, UnicodeDecodeError):
        return LocalizedError("file.not_utf8", path=quote(str(path)))
    if "field larger" in str(exc):
        return LocalizedError(
            "table.row",
            number=number,
            problem=LocalizedError("table.csv_cell_too_long", limit=f"{csv.field_size_limit():,}"),
        )
    return LocalizedError("table.row", number=number, problem=LocalizedError("table.not_csv"))


@contextlib.contextmanager
def _xlsx_table(path: Path) -> Iterator[TableFile]:
    def refused(exc: Exception) -> LocalizedError:
        return LocalizedError("table.not_excel", path=quote(str(path)), error=type(exc).__name__)

    column_key = column_keys()
    files.open_regular_file(path).close()  # missing, a folder, a pipe: refused in one line
    try:
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise refused(exc) from None
    try:
        titles = {name_key(sheet_title("activities", lang)) for lang in SUPPORTED} | {"activities"}
        named = [name for name in workbook.sheetnames if name_key(name) in titles]
        sheet = workbook[named[0]] if named else workbook.active
        # openpyxl types a sheet as a worksheet, a chartsheet or nothing; a read-only
        # workbook's sheets are worksheets, and the active one exists.
        cells = sheet.iter_rows(values_only=True)  # type: ignore[union-attr]
        try:
            first = next(cells, None)
        except Exception as exc:
            raise refused(exc) from None
        headers = [column_key(str(h or "").strip()) for h in first or ()]
        reached = [1]

        def rows() -> Rows:
            number = 1
            while True:
                try:
                    values = next(cells)
                except StopIteration:
                    return
                except Exception as exc:  # a sheet cut or garbled inside
                    raise refused(exc) from None
                number += 1
                reached[0] = number
                if any(v not in (None, "") for v in values):
                    yield (
                        number,
                        {
                            h: unguarded(cell_text(v))
                            for h, v in zip(headers, values, strict=False)
                            if h
                        },
                    )

        size = getattr(sheet, "max_row", None) or 0
        yield TableFile({h for h in headers if h}, rows(), size, lambda: reached[0])
    finally:
        workbook.close()


_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")

# The fields of ActivityInput a row can leave empty on purpose, by the columns that give them
# (an empty participants_text is not among them: a table written without --include-personal
# leaves it empty, and bringing that table back must not erase the names).
_CLEARABLE = {
    "title": ("title",),
    "kind": ("kind",),
    "date": ("date",),
    "date_precision": ("date_precision",),
    "municipality": ("municipality", "municipality_code"),
    "initiative": ("initiative",),
    "location": ("location",),
    "notes": ("notes",),
    "areas": ("areas",),
    "tags": ("tags",),
    "participants": ("participants",),
    "head_count": ("head_count",),
}


class _Initiatives:
    """The store's initiatives by the name the activities table gives them, read once."""

    def __init__(self, work: Work) -> None:
        self._ids: dict[str, list[str]] = {}
        for summary in list_initiatives(work):
            self._ids.setdefault(name_key(initiative_name(summary)), []).append(
                summary.initiative.id
            )

    def find(self, text: str) -> str:
        """The id of the initiative named `<municipality> <theme>`; an id is taken as it is
        (the store then finds it)."""
        ids = self._ids.get(name_key(text), [])
        if len(ids) == 1:
            return ids[0]
        if len(ids) > 1:
            raise LocalizedError("table.initiative_ambiguous", field="initiative", name=quote(text))
        if looks_like_id(text):
            return text
        raise NotFound("table.initiative_not_found", field="initiative", name=quote(text))


def _municipality(row: dict[str, str], lookups: Lookups) -> str | None:
    """The municipality a row gives: by its code, which must then be the one its name (when
    given too) names, so that a name edited beside a code left as it was is not ignored."""
    code = (row.get("municipality_code") or "").strip()
    name = (row.get("municipality") or "").strip()
    if not code or not name:
        return code or name or None
    with about("municipality"):
        by_code = lookups.organizations.find(code, kinds=LOCAL_GOVERNMENT)
        if name_key(lookups.organizations.name_of(by_code) or "") != name_key(name):
            try:
                agrees = lookups.organizations.find(name, kinds=LOCAL_GOVERNMENT) == by_code
            except LocalizedError:
                agrees = False
            if not agrees:
                raise LocalizedError(
                    "table.municipality_mismatch", name=quote(name), local_code=code
                )
    return code


def _imported(
    row: dict[str, str], columns: set[str], initiatives: _Initiatives, lookups: Lookups
) -> ImportedActivity:
    """One row as the activity it gives: empty cells are not given (a new activity takes the
    defaults); on an activity it updates, the columns left empty are cleared."""

    def text(name: str) -> str:
        return (row.get(name) or "").strip()

    date = text("date")
    if _ISO_DATETIME.fullmatch(date):  # a date Excel wrote with its time
        date = date[:10]
    given = activity_input(
        title=text("title") if "title" in columns else None,
        kind=text("kind"),
        date=date,
        date_precision=text("date_precision"),
        municipality=_municipality(row, lookups),
        initiative=initiatives.find(text("initiative")) if text("initiative") else None,
        notes=row.get("notes", "") if "notes" in columns else None,
        location=text("location") if "location" in columns else None,
        areas=text("areas") or None,
        tags=text("tags") or None,
        follow_up=text("follow_up") if "follow_up" in columns else None,
        participants=text("participants") or None,
        head_count=text("head_count"),
        participants_text=text("participants_text") or None,
    )
    record_id = text("id") or None
    if record_id is None:  # a new activity: nothing to clear
        return ImportedActivity(given)
    cleared = frozenset(
        name
        for name, sources in _CLEARABLE.items()
        if any(c in columns for c in sources) and not any(text(c) for c in sources)
    )
    return ImportedActivity(given, record_id, cleared)


Progress = Callable[[str, int], Callable[[int], object] | None]
"""What shows an import's progress: called with a phase ("check": `total` is the table's size,
in bytes for a CSV and rows for an XLSX; "write": `total` is the rows to write), it may return a
function called with how far each step went (a progress bar on a terminal)."""

BATCH = 2000
"""Rows checked, and written, at a time: memory holds one batch, never the table."""


@collector_eased()
def import_table(
    store: Store,
    path: Path,
    *,
    fmt: str,
    dry_run: bool = False,
    progress: Progress | None = None,
    waiting: Callable[[], object] | None = None,
) -> ImportCounts:
    """Bring activities in from a table shaped as `export_table` writes it: all rows or none.
    A row without an id adds an activity; a row whose id is an activity of the store updates
    it (or leaves it as it is). A bad row is refused by its row number (the header is row 1)
    and field.

    Every row is checked first, streaming, without holding the write lock, so people can
    still save while a long table is read; then everything is written in one transaction.
    Should the store change meanwhile in a way the check depended on, the rows are checked
    again inside that transaction. `waiting`, when given, is called once should another
    writer (another import) hold the write lock when the write comes: the import then waits
    for it however long, where it would otherwise give up as "busy" after the check's work."""
    if fmt not in FORMATS:
        raise LocalizedError("table.unknown_format", choices=", ".join(FORMATS))
    if not dry_run and store.backend.writes_ahead:
        return _import_ahead(store, path, fmt, progress, waiting)
    with _checked(store, path, fmt, progress, write=False, waiting=waiting) as checked:
        if dry_run:
            return checked.counts
        with store.unit(write=True, waiting=waiting) as unit:
            if checked.stale(unit):
                return _checked_again(unit, path, fmt, progress)
            _write(unit, checked, progress)
            return checked.counts


def _import_ahead(
    store: Store,
    path: Path,
    fmt: str,
    progress: Progress | None,
    waiting: Callable[[], object] | None,
) -> ImportCounts:
    """`import_table` on the hub: the writing unit begun with the check, without the write
    lock, the new activities' search entries streamed into it as their rows are checked (the
    server builds their trigram index meanwhile); the lock taken once every row is checked."""
    with store.unit(write=True, lock=False) as unit:
        ahead = unit.conn.begin_nested()  # what a stale check takes back
        entries = functools.partial(
            unit.backend.rows_streamed, unit.conn, SEARCH_TABLE, list(ENTRY_COLUMNS)
        )
        with _checked(
            store, path, fmt, progress, write=False, ahead=entries, waiting=waiting
        ) as checked:
            unit.lock(waiting)
            if not checked.stale(unit):
                ahead.commit()
                _write(unit, checked, progress)
                return checked.counts
            ahead.rollback()
        # Taking back the savepoint let go of the lock taken inside it (PostgreSQL releases
        # what a subtransaction took): taken again before the rows are checked again.
        unit.backend.take_write_lock(unit.conn, waiting)
        return _checked_again(unit, path, fmt, progress)


def _checked_again(unit: Unit, path: Path, fmt: str, progress: Progress | None) -> ImportCounts:
    """The rows checked again and written in the writing `unit`, where nothing can change any
    more: the store changed meanwhile in a way the first check depended on."""
    with _checked(unit, path, fmt, None, write=True) as again:
        _write(unit, again, progress)
        return again.counts


Entries = Callable[[], contextlib.AbstractContextManager[Callable[[dict[str, Any]], None]]]
"""Where a check sends the new activities' search entries ahead of the write (the hub's)."""


@contextlib.contextmanager
def _checked(
    work: Store | Unit,
    path: Path,
    fmt: str,
    progress: Progress | None,
    *,
    write: bool,
    ahead: Entries | None = None,
    waiting: Callable[[], object] | None = None,
) -> Iterator[ActivityImport]:
    """Every row of the table checked in a unit of `work`; what to write spooled (and the new
    activities' search entries sent to `ahead`, when given). A `waiting` that is no longer
    wanted (store/waits.py) stops the check between two batches."""
    spool = Spool(work.store.data_dir if isinstance(work, Unit) else work.data_dir)
    try:
        with (
            unit_of(work, write=write) as unit,
            open_table(path, fmt) as table,
            ahead() if ahead is not None else contextlib.nullcontext() as entries,
        ):
            checked = ActivityImport(spool, ahead=entries)
            lookups = checked.begin(unit)
            initiatives = _Initiatives(unit)
            advance = progress("check", table.size) if progress is not None else None
            reached = 0
            for batch in batched(_given(table, initiatives, lookups), BATCH):
                still_wanted(waiting)
                checked.check(unit, lookups, batch)
                if advance is not None:
                    now = table.done()
                    advance(now - reached)
                    reached = now
        yield checked
    finally:
        spool.close()


def _given(
    table: TableFile, initiatives: _Initiatives, lookups: Lookups
) -> Iterator[tuple[int, ImportedActivity]]:
    for number, row in table.rows:
        try:
            yield number, _imported(row, table.columns, initiatives, lookups)
        except LocalizedError as exc:
            raise at_row(number, exc) from None


def _write(unit: Unit, checked: ActivityImport, progress: Progress | None) -> None:
    total = checked.added + checked.updated
    advance = progress("write", total) if progress is not None and total else None
    checked.write(unit, BATCH, advance)
