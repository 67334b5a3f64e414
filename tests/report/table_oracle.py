"""The tables as export-table wrote them before it streamed: every row built in memory from the
validated read models (`all_activities`, `list_findings`, `list_actions`, `list_tracks`), then
the whole file. Kept as the oracle the streaming path (`dxfield.report.tables`) is compared with:
the same store gives the same CSV, byte for byte, and the same XLSX cells."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Sequence
from typing import Any

from dxfield.domain.errors import LocalizedError
from dxfield.i18n import quote
from dxfield.report.tables import (
    ACTIVITY_COLUMNS,
    EXCEL_CELL_LIMIT,
    TABLES,
    Table,
    _organization_names,
    _too_long,
    _width,
    cell_text,
    column_title,
    column_titles,
    guarded,
    initiative_name,
    name_key,
    sheet_title,
)
from dxfield.store.activities import all_activities
from dxfield.store.engine import Store
from dxfield.store.followups import list_actions, list_findings, list_initiatives
from dxfield.store.organizations import list_organizations
from dxfield.store.tracks import list_tracks


def _initiative_names(store: Store) -> dict[str, str]:
    """What the activities table calls each live initiative, by id: `<municipality> <theme>`,
    or its id where another initiative has the same name (the table then still finds it)."""
    names = {s.initiative.id: initiative_name(s) for s in list_initiatives(store)}
    counts = Counter(name_key(name) for name in names.values())
    return {i: name if counts[name_key(name)] == 1 else i for i, name in names.items()}


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


def csv_bytes(table: Table) -> bytes:
    """The table as CSV in UTF-8 with a BOM (what Excel on Japanese Windows reads as UTF-8),
    text cells guarded against formulas."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column_title(h) for h in table.headers])
    writer.writerows([[cell_text(guarded(v)) for v in row] for row in table.rows])
    return buffer.getvalue().encode("utf-8-sig")


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
