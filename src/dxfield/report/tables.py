"""Tables in and out of Excel: the field log as CSV (UTF-8 with a BOM, as Excel on Japanese
Windows expects) or XLSX (a sheet per table, a frozen header, real dates, widths fit for
Japanese text), and an existing Excel or CSV log brought in, all rows or none.

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
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dxfield.domain.codes import looks_like_code
from dxfield.domain.errors import LocalizedError, NotFound
from dxfield.domain.records import OrganizationRead
from dxfield.i18n import N_, SUPPORTED, about, pgettext, problems, quote
from dxfield.store import maintenance
from dxfield.store.activities import (
    ImportCounts,
    ImportedActivity,
    Lookups,
    all_activities,
    at_row,
    import_activities,
)
from dxfield.store.activity_entry import activity_input
from dxfield.store.engine import Store
from dxfield.store.followups import (
    InitiativeSummary,
    list_actions,
    list_findings,
    list_initiatives,
)
from dxfield.store.ids import looks_like_id
from dxfield.store.organizations import LOCAL_GOVERNMENT, list_organizations
from dxfield.store.tracks import list_tracks
from dxfield.store.unit import Work, unit_of

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
        "table.not_excel": N_("cannot read {path} as an Excel file ({error})"),
        "table.initiative_ambiguous": N_("more than one initiative is called {name}; give its id"),
        "table.initiative_not_found": N_(
            "no initiative {name} (give it as '<municipality> <theme>' or by its id)"
        ),
        "table.municipality_mismatch": N_(
            "{name} and the code {local_code} are different municipalities"
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
            found.setdefault(_key(name).casefold(), key)

    def column_key(title: str) -> str:
        return found.get(_key(title).casefold(), title)

    return column_key


@dataclass(frozen=True)
class Table:
    """One sheet: its name, column headers (keys: `column_title` says them) and rows (dates
    as dates)."""

    name: str
    headers: list[str]
    rows: list[list[Any]]


def _key(name: str) -> str:
    """A name as looked up: NFKC (full-width letters and spaces as half-width), spaces single."""
    return " ".join(unicodedata.normalize("NFKC", name).split())


def _initiative_name(summary: InitiativeSummary) -> str:
    return f"{summary.municipality} {summary.initiative.theme}"


def _initiative_names(store: Store) -> dict[str, str]:
    """What the activities table calls each live initiative, by id: `<municipality> <theme>`,
    or its id where another initiative has the same name (the table then still finds it)."""
    names = {s.initiative.id: _initiative_name(s) for s in list_initiatives(store)}
    counts = Counter(_key(name) for name in names.values())
    return {i: name if counts[_key(name)] == 1 else i for i, name in names.items()}


def _organization_names(organizations: Iterable[OrganizationRead]) -> dict[str, str]:
    """What the tables call each live organization, by id: its name, or (where another has the
    same name, or the name cannot stand alone in a list) its local government code or id."""
    orgs = list(organizations)
    counts = Counter(_key(o.name) for o in orgs)
    return {
        o.id: o.name
        if counts[_key(o.name)] == 1 and ";" not in o.name and not looks_like_code(o.name)
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


def _cell_text(value: Any) -> str:
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
    writer.writerows([[_cell_text(guarded(v)) for v in row] for row in table.rows])
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
                _width(_cell_text(row[index - 1]).split("\n")[0]) for row in table.rows[:500]
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


# -- import --------------------------------------------------------------------------------------


def _read_rows(path: Path, fmt: str) -> tuple[set[str], list[dict[str, str]]]:
    """The columns and rows of a CSV (UTF-8, with or without BOM) or of an XLSX's activities
    (or first) sheet, by header; each cell as text, unguarded."""
    column_key = column_keys()
    if fmt == "csv":
        text = maintenance.read_text_file(path)
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if reader.fieldnames is not None:
            reader.fieldnames = [column_key(h.strip()) for h in reader.fieldnames]
        rows = [
            {
                h: unguarded(v)
                for h, v in row.items()
                if isinstance(h, str) and isinstance(v, str)  # not the cells past the header
            }
            for row in reader
        ]
        return set(reader.fieldnames or []), rows
    try:
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
        titles = {_key(sheet_title("activities", lang)) for lang in SUPPORTED} | {"activities"}
        named = [name for name in workbook.sheetnames if _key(name) in titles]
        sheet = workbook[named[0]] if named else workbook.active
        # openpyxl types a sheet as a worksheet, a chartsheet or nothing; a read-only
        # workbook's sheets are worksheets, and the active one exists.
        values = list(sheet.iter_rows(values_only=True))  # type: ignore[union-attr]
        workbook.close()
    except FileNotFoundError:
        raise maintenance.missing_file(path) from None
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise LocalizedError(
            "table.not_excel", path=quote(str(path)), error=type(exc).__name__
        ) from None
    if not values:
        return set(), []
    headers = [column_key(str(h or "").strip()) for h in values[0]]
    return {h for h in headers if h}, [
        {h: unguarded(_cell_text(v)) for h, v in zip(headers, row, strict=False) if h}
        for row in values[1:]
        if any(v not in (None, "") for v in row)
    ]


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
            self._ids.setdefault(_key(_initiative_name(summary)), []).append(summary.initiative.id)

    def find(self, text: str) -> str:
        """The id of the initiative named `<municipality> <theme>`; an id is taken as it is
        (the store then finds it)."""
        ids = self._ids.get(_key(text), [])
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
        if _key(lookups.organizations.name_of(by_code) or "") != _key(name):
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
    cleared = frozenset(
        name
        for name, sources in _CLEARABLE.items()
        if any(c in columns for c in sources) and not any(text(c) for c in sources)
    )
    return ImportedActivity(given, text("id") or None, cleared)


def import_table(
    work: Work,
    path: Path,
    *,
    fmt: str,
    dry_run: bool = False,
    progress: Callable[[int], Callable[[], object] | None] | None = None,
) -> ImportCounts:
    """Bring activities in from a table shaped as `export_table` writes it: all rows or none.
    A row without an id adds an activity; a row whose id is an activity of the store updates
    it (or leaves it as it is). A bad row is refused by its row number (the header is row 1)
    and field.

    `progress(total)`, when given, is called once the rows are read and may return a function
    called after each row is checked (a progress bar on a terminal)."""
    if fmt not in FORMATS:
        raise LocalizedError("table.unknown_format", choices=", ".join(FORMATS))
    columns, rows = _read_rows(path, fmt)
    # One unit of work: the names are resolved, every row checked and all of them written in
    # one transaction (a reading one for a dry run).
    with unit_of(work, write=not dry_run) as unit:
        initiatives = _Initiatives(unit)
        lookups = Lookups(unit)
        given = []
        for number, row in enumerate(rows, 2):  # the header is row 1
            try:
                given.append(_imported(row, columns, initiatives, lookups))
            except LocalizedError as exc:
                raise at_row(number, exc) from None
        advance = progress(len(given)) if progress is not None else None
        return import_activities(
            unit, given, first_row=2, dry_run=dry_run, advance=advance, lookups=lookups
        )
