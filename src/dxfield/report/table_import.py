"""`import-table`: an existing Excel or CSV log brought in, all rows or none.

A table shaped as `export-table` writes it (titles in either language, or the keys) is read
back: a row without an id adds an activity, a row whose id is an activity of the store updates
it. A cell `guarded` against formulas on the way out loses its leading ' again here.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

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
from dxfield.store import maintenance
from dxfield.store.activities import (
    ImportCounts,
    ImportedActivity,
    Lookups,
    at_row,
    import_activities,
)
from dxfield.store.activity_entry import activity_input
from dxfield.store.followups import list_initiatives
from dxfield.store.ids import looks_like_id
from dxfield.store.organizations import LOCAL_GOVERNMENT
from dxfield.store.unit import Work, unit_of

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
    }
)


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
        titles = {name_key(sheet_title("activities", lang)) for lang in SUPPORTED} | {"activities"}
        named = [name for name in workbook.sheetnames if name_key(name) in titles]
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
        {h: unguarded(cell_text(v)) for h, v in zip(headers, row, strict=False) if h}
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
