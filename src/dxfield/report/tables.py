"""Tables in and out of Excel: the field log as CSV (UTF-8 with a BOM, as Excel on Japanese
Windows expects) or XLSX (a sheet per table, a frozen header, real dates, widths fit for
Japanese text); what both directions share: columns and their titles, and the formula guard.
Bringing a table in is `report.table_import`.

Personal names stay out unless asked: the free-text participants column (where people's names
belong) and an action's owner (often a person) are left empty without `include_personal`.

No cell can run as a formula when Excel opens a table (OWASP's CSV-injection guidance): a text
cell that begins with = + - @ a tab, a carriage return or ' gets one leading ', in the CSV and
the XLSX alike, and every XLSX text cell is written as a string, never as a formula; dates and
numbers are typed and left alone. `import-table` takes that ' off again, so a round trip gives
the same text. A text too long for an Excel cell is refused, never cut.

People read the tables, so references are names: an activity's initiative is `<municipality>
<theme>`, its municipality and participants are names (an id or a code only where a name is
shared). The `id` column makes a round trip exact: a row whose id is an activity of the store
updates it instead of adding a copy.

A table is written as it is read (`export_table`): one snapshot of the store, read a page at a
time, each row's cells made straight from the stored row (checked when it was written), into a
file that appears whole or not at all. Memory does not grow with the table.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import itertools
import os
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Text, cast, select

from dxfield.collector import collector_eased
from dxfield.domain.codes import looks_like_code
from dxfield.domain.errors import LocalizedError
from dxfield.domain.records import OrganizationRead
from dxfield.i18n import N_, SUPPORTED, pgettext, problems, quote
from dxfield.store import maintenance, revisions
from dxfield.store.engine import Store
from dxfield.store.followups import OPEN_STATUSES, InitiativeSummary, list_initiatives
from dxfield.store.organizations import list_organizations
from dxfield.store.reading import json_reader, streamed
from dxfield.store.tracks import list_tracks
from dxfield.store.unit import Unit, unit_of

TABLES = ("activities", "findings", "actions", "tracks")
_activity_table = revisions.table_for("activity")
_finding_table = revisions.table_for("finding")
_action_table = revisions.table_for("action")
FORMATS = ("csv", "xlsx")

ACTIVITY_COLUMNS = [
    "date", "date_precision", "municipality", "municipality_code", "initiative", "kind",
    "title", "location", "areas", "tags", "participants", "head_count", "participants_text",
    "notes", "follow_up", "id",
]  # fmt: skip


PROBLEMS = problems(
    {
        "table.unknown": N_("no table {name}; choose one of: {choices}"),
        "table.unknown_format": N_("format must be one of: {choices}"),
        "table.cell_too_long": N_(
            "the {table} table's row {row} ({column}) holds {length} characters, more than an "
            "Excel cell holds ({limit}); export it as CSV"
        ),
        "table.cell_control_character": N_(
            "the {table} table's row {row} ({column}) holds a control character an Excel cell "
            "cannot; export it as CSV"
        ),
    }
)

# What a person reads at the head of each column and on each sheet's tab, in their language.
# The English titles are the columns' keys: a table written in either language, or with the
# keys as titles, is read back (`column_keys`).


def column_titles(lang: str | None = None) -> dict[str, str]:
    """Each column's title in `lang` (default: the user's language), by its key."""
    return {
        "date": pgettext("table column", "date", lang),
        "date_precision": pgettext("table column", "date_precision", lang),
        "municipality": pgettext("table column", "municipality", lang),
        "municipality_code": pgettext("table column", "municipality_code", lang),
        "initiative": pgettext("table column", "initiative", lang),
        "kind": pgettext("table column", "kind", lang),
        "title": pgettext("table column", "title", lang),
        "location": pgettext("table column", "location", lang),
        "areas": pgettext("table column", "areas", lang),
        "area": pgettext("table column", "area", lang),
        "tags": pgettext("table column", "tags", lang),
        "participants": pgettext("table column", "participants", lang),
        "head_count": pgettext("table column", "head_count", lang),
        "participants_text": pgettext("table column", "participants_text", lang),
        "notes": pgettext("table column", "notes", lang),
        "follow_up": pgettext("table column", "follow_up", lang),
        "not_applicable": pgettext("table column", "not_applicable", lang),
        "text": pgettext("table column", "text", lang),
        "activity_id": pgettext("table column", "activity_id", lang),
        "due": pgettext("table column", "due", lang),
        "as_of": pgettext("table column", "as_of", lang),
        "status": pgettext("table column", "status", lang),
        "overdue": pgettext("table column", "overdue", lang),
        "owner": pgettext("table column", "owner", lang),
        "community": pgettext("table column", "community", lang),
        "model": pgettext("table column", "model", lang),
        "stage": pgettext("table column", "stage", lang),
        "stage_label": pgettext("table column", "stage_label", lang),
        "since": pgettext("table column", "since", lang),
        "days": pgettext("table column", "days", lang),
        "id": pgettext("table column", "id", lang),
    }


def column_title(key: str, lang: str | None = None) -> str:
    """The title of a table's column in `lang` (default: the user's language)."""
    return column_titles(lang)[key]


def sheet_title(name: str, lang: str | None = None) -> str:
    """The name of an XLSX sheet (one of TABLES) in `lang` (default: the user's language)."""
    titles = {
        "activities": pgettext("table sheet", "activities", lang),
        "findings": pgettext("table sheet", "findings", lang),
        "actions": pgettext("table sheet", "actions", lang),
        "tracks": pgettext("table sheet", "tracks", lang),
    }
    return titles[name]


def column_keys(keys: Sequence[str] = ACTIVITY_COLUMNS) -> Callable[[str], str]:
    """What reads a title from a person's table as the column it stands for (one of `keys`):
    its key, or its title in either language (full-width or not, any case); anything else is
    left as it is."""
    found: dict[str, str] = {}
    titles = [column_titles(lang) for lang in SUPPORTED]
    for key in keys:
        for name in (key, *(t[key] for t in titles)):
            found.setdefault(name_key(name).casefold(), key)

    def column_key(title: str) -> str:
        return found.get(name_key(title).casefold(), title)

    return column_key


@dataclass(frozen=True)
class Table:
    """One sheet: its name, column headers (keys: `column_title` says them) and rows (dates
    as dates)."""

    name: str
    headers: list[str]
    rows: list[list[Any]]


def name_key(name: str) -> str:
    """A name as looked up: NFKC (full-width letters and spaces as half-width), spaces single."""
    return " ".join(unicodedata.normalize("NFKC", name).split())


def initiative_name(summary: InitiativeSummary) -> str:
    return f"{summary.municipality} {summary.initiative.theme}"


def _initiative_names(unit: Unit) -> dict[str, str]:
    """What the activities table calls each live initiative, by id: `<municipality> <theme>`,
    or its id where another initiative has the same name (the table then still finds it)."""
    names = _initiative_titles(unit)
    counts = Counter(name_key(name) for name in names.values())
    return {i: name if counts[name_key(name)] == 1 else i for i, name in names.items()}


def _organization_names(organizations: Iterable[OrganizationRead]) -> dict[str, str]:
    """What the tables call each live organization, by id: its name, or (where another has the
    same name, or the name cannot stand alone in a list) its local government code or id."""
    orgs = list(organizations)
    counts = Counter(name_key(o.name) for o in orgs)
    return {
        o.id: o.name
        if counts[name_key(o.name)] == 1 and ";" not in o.name and not looks_like_code(o.name)
        else (o.code or o.id)
        for o in orgs
    }


# -- reading: each table's rows, as they come from the store ------------------------------------


@dataclass(frozen=True)
class Sheet:
    """One table as it is written: its name, its column headers (keys: `column_title` says
    them) and its rows (dates as dates), read from the store as they are written."""

    name: str
    headers: list[str]
    rows: Iterator[list[Any]]


_ACTIVITY_FIELDS = (
    "date", "date_precision", "municipality_id", "initiative_id", "kind", "title", "location",
    "areas", "tags", "participants", "notes", "follow_up", "id",
)  # fmt: skip
"""What the activities table reads of a row, in the order `_activity_rows` unpacks it."""

_JSON_FIELDS = frozenset(("areas", "tags", "participants"))
"""Those of them read as JSON text (on both engines) and decoded by `reading.json_reader`."""


def _activity_rows(unit: Unit, include_personal: bool) -> Iterator[list[Any]]:
    """The activities oldest first, straight from the store's rows: they were checked when they
    were written, so nothing is validated again on the way out; names from dictionaries read
    once, in the same snapshot."""
    orgs = list_organizations(unit)
    codes = {o.id: o.code or "" for o in orgs}
    names = _organization_names(orgs)
    initiatives = _initiative_names(unit)
    c = _activity_table.c
    fields = [
        cast(c[name], Text).label(name) if name in _JSON_FIELDS else c[name]
        for name in _ACTIVITY_FIELDS
    ]
    query = select(*fields).where(c.deleted.is_(False)).order_by(c.date, c.id)
    json_value = json_reader()
    for (
        date, precision, place, initiative, kind, title, location, areas, tags, people, notes,
        follow_up, record_id,
    ) in streamed(unit, query):  # fmt: skip
        place = place or ""
        initiative = initiative or ""
        areas = json_value(areas)
        tags = json_value(tags)
        people = json_value(people) or {}
        head_count = people.get("head_count")
        yield [
            date,
            precision,
            names.get(place, place),
            codes.get(place, ""),
            initiatives.get(initiative, initiative),
            kind,
            title,
            location,
            " ".join(areas or ()),
            " ".join(tags or ()),
            "; ".join([names.get(i, i) for i in people.get("organization_ids") or ()]),
            "" if head_count is None else head_count,
            people.get("text", "") if include_personal else "",
            notes,
            "yes" if follow_up else "",
            record_id,
        ]


def _initiative_titles(unit: Unit) -> dict[str, str]:
    """`<municipality> <theme>` of each live initiative, by id (the findings' and actions')."""
    return {s.initiative.id: initiative_name(s) for s in list_initiatives(unit)}


def _finding_rows(unit: Unit) -> Iterator[list[Any]]:
    """The findings newest first (as `list_findings` lists them), straight from the rows."""
    titles = _initiative_titles(unit)
    c = _finding_table.c
    query = (
        select(
            c.date, c.initiative_id, c.kind, c.area, c.not_applicable, c.text, c.activity_id, c.id
        )
        .where(c.deleted.is_(False))
        .order_by(c.date.desc(), c.id)
    )
    for date, initiative, kind, area, not_applicable, text, activity, record_id in streamed(
        unit, query
    ):
        yield [
            date or "",
            titles.get(initiative or "", ""),
            kind,
            area or "",
            "yes" if not_applicable else "",
            text,
            activity or "",
            record_id,
        ]


def _action_rows(unit: Unit, include_personal: bool) -> Iterator[list[Any]]:
    """The actions due soonest first, undated last (as `list_actions` lists them), each marked
    overdue when it is open and its due date has passed."""
    titles = _initiative_titles(unit)
    today = unit.today()
    c = _action_table.c
    query = (
        select(c.due, c.as_of, c.initiative_id, c.status, c.owner, c.text, c.id)
        .where(c.deleted.is_(False))
        .order_by(c.due.is_(None), c.due, c.id)
    )
    for due, as_of, initiative, status, owner, text, record_id in streamed(unit, query):
        overdue = status in OPEN_STATUSES and due is not None and due < today
        yield [
            due or "",
            as_of or "",
            titles.get(initiative or "", ""),
            status,
            "yes" if overdue else "",
            owner if include_personal else "",
            text,
            record_id,
        ]


def _track_rows(unit: Unit) -> Iterator[list[Any]]:
    """The engagement tracks (one a community: few, and each needs its model and last move, so
    `list_tracks` reads them whole)."""
    for s in list_tracks(unit):
        yield [
            s.community,
            s.municipality,
            s.model.key,
            s.stage.key if s.stage else "",
            s.stage.label if s.stage else "",
            s.since or "",
            s.days_in_stage if s.days_in_stage is not None else "",
            s.track.id,
        ]


HEADERS = {
    "activities": ACTIVITY_COLUMNS,
    "findings": ["date", "initiative", "kind", "area", "not_applicable", "text", "activity_id",
                 "id"],
    "actions": ["due", "as_of", "initiative", "status", "overdue", "owner", "text", "id"],
    "tracks": ["community", "municipality", "model", "stage", "stage_label", "since", "days",
               "id"],
}  # fmt: skip
"""Each table's columns, by key."""


def _checked_name(what: str) -> str:
    if what not in TABLES:
        raise LocalizedError("table.unknown", name=quote(what), choices=", ".join(TABLES))
    return what


def read_sheet(unit: Unit, what: str, *, include_personal: bool = False) -> Sheet:
    """One of TABLES, its rows read from the store (in `unit`'s snapshot) as they are taken."""
    _checked_name(what)
    if what == "activities":
        rows = _activity_rows(unit, include_personal)
    elif what == "findings":
        rows = _finding_rows(unit)
    elif what == "actions":
        rows = _action_rows(unit, include_personal)
    else:
        rows = _track_rows(unit)
    return Sheet(what, HEADERS[what], rows)


def build_table(store: Store, what: str, *, include_personal: bool = False) -> Table:
    """One of TABLES, read from the store whole (for a short table; a file is written by
    `export_table`, which streams)."""
    with unit_of(store, write=False) as unit:
        sheet = read_sheet(unit, what, include_personal=include_personal)
        return Table(sheet.name, sheet.headers, list(sheet.rows))


def cell_text(value: Any) -> str:
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()  # an Excel date comes back as midnight
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


GUARDED_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
"""What makes a spreadsheet read a cell as a formula (and ', which then marks a guarded cell)."""

EXCEL_CELL_LIMIT = 32_767
"""The most characters (UTF-16 code units, as Excel counts them) an Excel cell holds."""


def guarded(value: Any) -> Any:
    """A text cell that starts as a formula would, with one ' before it; anything else as is."""
    if isinstance(value, str) and value.startswith(GUARDED_STARTS):
        return "'" + value
    return value


def unguarded(text: str) -> str:
    """A cell as `guarded` wrote it, given back: one ' before a guarded character comes off."""
    if len(text) > 1 and text[0] == "'" and text[1] in GUARDED_STARTS:
        return text[1:]
    return text


# -- writing: CSV --------------------------------------------------------------------------------


def write_csv(handle: BinaryIO, sheet: Sheet) -> int:
    """Write the table to `handle` as it is read, as CSV in UTF-8 with a BOM (what Excel on
    Japanese Windows reads as UTF-8), CRLF, titles in the user's language, text cells guarded
    against formulas; the number of rows written.

    Only text is changed on the way (`guarded`): csv writes a date as its ISO form, a number as
    its digits and None as nothing, as `cell_text` does (the rows hold no datetimes)."""
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
    try:
        text.write("\ufeff")
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow([column_title(h) for h in sheet.headers])
        starts = GUARDED_STARTS
        count = 0
        for row in sheet.rows:
            writer.writerow(
                [("'" + v if v.startswith(starts) else v) if isinstance(v, str) else v for v in row]
            )
            count += 1
        text.flush()
    finally:
        text.detach()  # the file is the caller's to close
    return count


# -- writing: XLSX -------------------------------------------------------------------------------


def _width(text: str) -> int:
    """Terminal-like width: East Asian wide and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _too_long(text: str) -> int | None:
    """The length of `text` as Excel counts it, when that is more than a cell holds."""
    if len(text) <= EXCEL_CELL_LIMIT // 2:
        return None
    length = len(text.encode("utf-16-le")) // 2
    return length if length > EXCEL_CELL_LIMIT else None


WIDTH_ROWS = 500
"""The rows a column's width is fit to (the first ones: a write-only sheet takes its widths
before its first row)."""

_ERROR_VALUES = frozenset(
    ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA")
)
"""Texts openpyxl would write as Excel's error values (its ERROR_CODES), not as text."""


class _XlsxSheet:
    """One sheet of a write-only workbook, its rows written as they come: values typed (dates as
    dates with yyyy-mm-dd, numbers as numbers), every text a string (guarded: it never starts
    with =, so never a formula; an error value's text is marked a string), a text an Excel cell
    cannot hold refused naming its table, row and column."""

    def __init__(self, workbook: Any, sheet: Sheet) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        self.sheet = sheet
        self.worksheet = workbook.create_sheet(sheet_title(sheet.name))
        self.string_cell = WriteOnlyCell
        titles = column_titles()
        first = list(itertools.islice(sheet.rows, WIDTH_ROWS))
        for index, header in enumerate(sheet.headers):
            widths = [_width(titles[header])] + [
                _width(cell_text(row[index]).split("\n")[0]) for row in first
            ]
            letter = get_column_letter(index + 1)
            self.worksheet.column_dimensions[letter].width = min(max(widths) + 2, 60)
        self.worksheet.freeze_panes = "A2"
        bold = Font(bold=True)
        header_cells = []
        for header in sheet.headers:
            cell = WriteOnlyCell(self.worksheet, titles[header])
            cell.data_type = "s"
            cell.font = bold
            header_cells.append(cell)
        self.worksheet.append(header_cells)
        self.first = first

    def where(self, number: int, column: int) -> dict[str, Any]:
        """The place of a refused cell, as the person sees it (looked up only then)."""
        header = self.sheet.headers[column]
        return {
            "table": sheet_title(self.sheet.name),
            "row": number,
            "column": column_title(header),
        }

    def write(self) -> int:
        """Write every row; the number written."""
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.utils.exceptions import IllegalCharacterError

        append = self.worksheet.append
        starts = GUARDED_STARTS
        half = EXCEL_CELL_LIMIT // 2
        number = 1  # the header
        for row in itertools.chain(self.first, self.sheet.rows):
            number += 1
            cells = list(row)
            for column, value in enumerate(cells):
                if not isinstance(value, str):
                    continue
                if value.startswith(starts):
                    value = cells[column] = "'" + value
                if len(value) > half and (length := _too_long(value)) is not None:
                    raise LocalizedError(
                        "table.cell_too_long",
                        **self.where(number, column),
                        length=f"{length:,}",
                        limit=f"{EXCEL_CELL_LIMIT:,}",
                    )
                if value in _ERROR_VALUES:
                    cell = cells[column] = self.string_cell(self.worksheet, value)
                    cell.data_type = "s"
            try:
                append(cells)
            except IllegalCharacterError:
                column = next(
                    i
                    for i, v in enumerate(cells)
                    if isinstance(v, str) and ILLEGAL_CHARACTERS_RE.search(v)
                )
                raise LocalizedError(
                    "table.cell_control_character", **self.where(number, column)
                ) from None
        self.first = []
        return number - 1


def write_xlsx(handle: BinaryIO, sheets: Iterable[Sheet]) -> dict[str, int]:
    """Write a workbook with a sheet per table to `handle`, each table as it is read (openpyxl's
    write-only mode): a frozen bold header, dates as dates, widths fit for Japanese text, text
    as strings guarded against formulas; the rows written, by table."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    counts: dict[str, int] = {}
    try:
        for sheet in sheets:
            counts[sheet.name] = _XlsxSheet(workbook, sheet).write()
        workbook.save(handle)
    except BaseException:
        _discard(workbook)
        raise
    return counts


def _discard(workbook: Any) -> None:
    """Remove the temporary files of a write-only workbook that will not be saved (openpyxl
    keeps each sheet's rows in one until the workbook is)."""
    from openpyxl.worksheet._writer import ALL_TEMP_FILES

    for worksheet in workbook.worksheets:
        writer = worksheet._writer
        if writer is None:
            continue
        for stream in (worksheet._rows, writer):  # the rows' element, then the file's
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()
        if writer.out in ALL_TEMP_FILES:
            ALL_TEMP_FILES.remove(writer.out)
            with contextlib.suppress(FileNotFoundError):
                os.remove(writer.out)


# -- the verb ------------------------------------------------------------------------------------


@collector_eased()
def export_table(
    store: Store, out: Path, *, what: str | None, fmt: str, include_personal: bool = False
) -> dict[str, int]:
    """Write `what` (every table, for an XLSX without `what`) to `out`, read from one snapshot
    of the store and written as it is read (memory does not grow with the table), the file
    appearing whole or not at all; the rows written, by table."""
    if fmt not in FORMATS:
        raise LocalizedError("table.unknown_format", choices=", ".join(FORMATS))
    names = [_checked_name(what)] if what else (list(TABLES) if fmt == "xlsx" else ["activities"])
    with (
        unit_of(store, write=False) as unit,
        maintenance.writing_atomically(store, out) as handle,
    ):
        sheets = (read_sheet(unit, name, include_personal=include_personal) for name in names)
        if fmt == "csv":
            sheet = next(sheets)
            return {sheet.name: write_csv(handle, sheet)}
        return write_xlsx(handle, sheets)
