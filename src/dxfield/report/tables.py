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
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dxfield.domain.codes import looks_like_code
from dxfield.domain.errors import LocalizedError
from dxfield.domain.records import OrganizationRead
from dxfield.i18n import N_, SUPPORTED, pgettext, problems, quote
from dxfield.store import maintenance
from dxfield.store.activities import (
    all_activities,
)
from dxfield.store.engine import Store
from dxfield.store.followups import (
    InitiativeSummary,
    list_actions,
    list_findings,
    list_initiatives,
)
from dxfield.store.organizations import list_organizations
from dxfield.store.tracks import list_tracks

TABLES = ("activities", "findings", "actions", "tracks")
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


def _initiative_names(store: Store) -> dict[str, str]:
    """What the activities table calls each live initiative, by id: `<municipality> <theme>`,
    or its id where another initiative has the same name (the table then still finds it)."""
    names = {s.initiative.id: initiative_name(s) for s in list_initiatives(store)}
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


def _activities(store: Store, include_personal: bool) -> Table:
    orgs = list_organizations(store)
    codes = {o.id: o.code or "" for o in orgs}
    names = _organization_names(orgs)
    initiatives = _initiative_names(store)
    rows = []
    for a in all_activities(store):
        place = a.municipality_id or ""
        rows.append(
            [
                a.date,
                a.date_precision.value,
                names.get(place, place),
                codes.get(place, ""),
                initiatives.get(a.initiative_id or "", a.initiative_id or ""),
                a.kind.value,
                a.title,
                a.location,
                " ".join(area.value for area in a.areas),
                " ".join(a.tags),
                "; ".join(names.get(i, i) for i in a.participants.organization_ids),
                a.participants.head_count if a.participants.head_count is not None else "",
                a.participants.text if include_personal else "",
                a.notes,
                "yes" if a.follow_up else "",
                a.id,
            ]
        )
    return Table("activities", ACTIVITY_COLUMNS, rows)


def _findings(store: Store) -> Table:
    titles = {
        s.initiative.id: f"{s.municipality} {s.initiative.theme}" for s in list_initiatives(store)
    }
    rows = [
        [
            f.date or "",
            titles.get(f.initiative_id or "", ""),
            f.kind.value,
            f.area.value if f.area else "",
            "yes" if f.not_applicable else "",
            f.text,
            f.activity_id or "",
            f.id,
        ]
        for f in list_findings(store)
    ]
    headers = ["date", "initiative", "kind", "area", "not_applicable", "text", "activity_id", "id"]
    return Table("findings", headers, rows)


def _actions(store: Store, include_personal: bool) -> Table:
    titles = {
        s.initiative.id: f"{s.municipality} {s.initiative.theme}" for s in list_initiatives(store)
    }
    rows = [
        [
            i.action.due or "",
            i.action.as_of or "",
            titles.get(i.action.initiative_id or "", ""),
            i.action.status.value,
            "yes" if i.overdue else "",
            i.action.owner if include_personal else "",
            i.action.text,
            i.action.id,
        ]
        for i in list_actions(store)
    ]
    headers = ["due", "as_of", "initiative", "status", "overdue", "owner", "text", "id"]
    return Table("actions", headers, rows)


def _tracks(store: Store) -> Table:
    rows = [
        [
            s.community,
            s.municipality,
            s.model.key,
            s.stage.key if s.stage else "",
            s.stage.label if s.stage else "",
            s.since or "",
            s.days_in_stage if s.days_in_stage is not None else "",
            s.track.id,
        ]
        for s in list_tracks(store)
    ]
    headers = ["community", "municipality", "model", "stage", "stage_label", "since", "days", "id"]
    return Table("tracks", headers, rows)


def build_table(store: Store, what: str, *, include_personal: bool = False) -> Table:
    """One of TABLES, read from the store."""
    if what == "activities":
        return _activities(store, include_personal)
    if what == "findings":
        return _findings(store)
    if what == "actions":
        return _actions(store, include_personal)
    if what == "tracks":
        return _tracks(store)
    raise LocalizedError("table.unknown", name=quote(what), choices=", ".join(TABLES))


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


def csv_bytes(table: Table) -> bytes:
    """The table as CSV in UTF-8 with a BOM (what Excel on Japanese Windows reads as UTF-8),
    text cells guarded against formulas."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column_title(h) for h in table.headers])
    writer.writerows([[cell_text(guarded(v)) for v in row] for row in table.rows])
    return buffer.getvalue().encode("utf-8-sig")


def _width(text: str) -> int:
    """Terminal-like width: East Asian wide and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _too_long(text: str) -> int | None:
    """The length of `text` as Excel counts it, when that is more than a cell holds."""
    if len(text) <= EXCEL_CELL_LIMIT // 2:
        return None
    length = len(text.encode("utf-16-le")) // 2
    return length if length > EXCEL_CELL_LIMIT else None


def _xlsx_row(sheet: Any, table: Table, number: int, row: list[Any]) -> list[Any]:
    """The cells of row `number` (the header is row 1): values typed, text guarded and written
    as a string; a text an Excel cell cannot hold is refused naming its table, row and column."""
    from openpyxl.cell.cell import Cell
    from openpyxl.utils.exceptions import IllegalCharacterError

    def where(header: str) -> dict[str, Any]:
        """The place of a refused cell, as the person sees it (looked up only then)."""
        return {"table": sheet_title(table.name), "row": number, "column": column_title(header)}

    cells = []
    for column, (header, value) in enumerate(zip(table.headers, row, strict=True), 1):
        value = guarded(value)
        if isinstance(value, str) and (length := _too_long(value)) is not None:
            raise LocalizedError(
                "table.cell_too_long",
                **where(header),
                length=f"{length:,}",
                limit=f"{EXCEL_CELL_LIMIT:,}",
            )
        try:
            cell = Cell(sheet, row=number, column=column, value=value)
        except IllegalCharacterError:
            raise LocalizedError("table.cell_control_character", **where(header)) from None
        if isinstance(value, str):
            cell.data_type = "s"  # never a formula ("=…") or an error value ("#N/A")
        elif isinstance(value, dt.date):
            cell.number_format = "yyyy-mm-dd"
        cells.append(cell)
    return cells


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """A workbook with a sheet per table: a frozen bold header, dates as dates, fitted widths,
    text as strings guarded against formulas."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    for blank in workbook.worksheets:  # a new workbook has one empty sheet
        workbook.remove(blank)
    for table in tables:
        sheet = workbook.create_sheet(sheet_title(table.name))
        titles = column_titles()
        sheet.append([titles[h] for h in table.headers])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for number, row in enumerate(table.rows, 2):
            sheet.append(_xlsx_row(sheet, table, number, row))
        sheet.freeze_panes = "A2"
        for index, header in enumerate(table.headers, 1):
            widths = [_width(titles[header])] + [
                _width(cell_text(row[index - 1]).split("\n")[0]) for row in table.rows[:500]
            ]
            sheet.column_dimensions[get_column_letter(index)].width = min(max(widths) + 2, 60)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_table(
    store: Store, out: Path, *, what: str | None, fmt: str, include_personal: bool = False
) -> list[Table]:
    """Write `what` (every table, for an XLSX without `what`) to `out`; the tables written."""
    if fmt not in FORMATS:
        raise LocalizedError("table.unknown_format", choices=", ".join(FORMATS))
    names = [what] if what else (list(TABLES) if fmt == "xlsx" else ["activities"])
    tables = [build_table(store, name, include_personal=include_personal) for name in names]
    data = csv_bytes(tables[0]) if fmt == "csv" else xlsx_bytes(tables)
    maintenance.write_atomically(store, out, data)
    return tables
