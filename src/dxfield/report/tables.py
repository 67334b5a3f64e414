"""Tables in and out of Excel: the field log as CSV (UTF-8 with a BOM, as Excel on Japanese
Windows expects) or XLSX (a sheet per table, a frozen header, real dates, widths fit for
Japanese text), and an existing Excel or CSV log brought in, all rows or none.

Personal names stay out unless asked: the free-text participants column (where people's names
belong) and an action's owner (often a person) are left empty without `include_personal`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dxfield.domain.errors import LocalizedError
from dxfield.i18n import quote
from dxfield.store import maintenance
from dxfield.store.activities import (
    ActivityInput,
    add_activities,
    all_activities,
    at_row,
    check_activities,
)
from dxfield.store.engine import Store
from dxfield.store.followups import list_actions, list_findings, list_initiatives
from dxfield.store.organizations import list_organizations
from dxfield.store.tracks import list_tracks

TABLES = ("activities", "findings", "actions", "tracks")
FORMATS = ("csv", "xlsx")

ACTIVITY_COLUMNS = [
    "date", "date_precision", "municipality", "municipality_code", "initiative", "kind",
    "title", "location", "areas", "tags", "participants", "head_count", "participants_text",
    "notes", "follow_up", "id",
]  # fmt: skip


@dataclass(frozen=True)
class Table:
    """One sheet: its name, column headers and rows (dates as dates)."""

    name: str
    headers: list[str]
    rows: list[list[Any]]


def _activities(store: Store, include_personal: bool) -> Table:
    orgs = {o.id: o for o in list_organizations(store)}
    rows = []
    for a in all_activities(store):
        place = orgs.get(a.municipality_id or "")
        rows.append(
            [
                a.date,
                a.date_precision.value,
                place.name if place else "",
                (place.code or "") if place else "",
                a.initiative_id or "",
                a.kind.value,
                a.title,
                a.location,
                " ".join(area.value for area in a.areas),
                " ".join(a.tags),
                "; ".join(
                    orgs[i].name if i in orgs else i for i in a.participants.organization_ids
                ),
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
    raise LocalizedError(
        f"表 {quote(what)} はありません。次のいずれか: {', '.join(TABLES)}",
        f"no table {quote(what)}; choose one of: {', '.join(TABLES)}",
        "what",
    )


def _cell_text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def csv_bytes(table: Table) -> bytes:
    """The table as CSV in UTF-8 with a BOM (what Excel on Japanese Windows reads as UTF-8)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows([[_cell_text(v) for v in row] for row in table.rows])
    return buffer.getvalue().encode("utf-8-sig")


def _width(text: str) -> int:
    """Terminal-like width: East Asian wide and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """A workbook with a sheet per table: a frozen bold header, dates as dates, fitted widths."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for table in tables:
        sheet = workbook.create_sheet(table.name)
        sheet.append(table.headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(row)
        sheet.freeze_panes = "A2"
        for index, header in enumerate(table.headers, 1):
            letter = get_column_letter(index)
            widths = [_width(header)] + [
                _width(_cell_text(row[index - 1]).split("\n")[0]) for row in table.rows[:500]
            ]
            sheet.column_dimensions[letter].width = min(max(widths) + 2, 60)
            for cell in sheet[letter][1:]:
                if isinstance(cell.value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_table(
    store: Store, out: Path, *, what: str | None, fmt: str, include_personal: bool = False
) -> list[Table]:
    """Write `what` (every table, for an XLSX without `what`) to `out`; the tables written."""
    if fmt not in FORMATS:
        raise LocalizedError(
            f"形式は {' / '.join(FORMATS)} です", f"format must be one of: {', '.join(FORMATS)}"
        )
    names = [what] if what else (list(TABLES) if fmt == "xlsx" else ["activities"])
    tables = [build_table(store, name, include_personal=include_personal) for name in names]
    data = csv_bytes(tables[0]) if fmt == "csv" else xlsx_bytes(tables)
    maintenance.write_atomically(store, out, data)
    return tables


# -- import --------------------------------------------------------------------------------------


def _read_rows(path: Path, fmt: str) -> list[dict[str, str]]:
    """The rows of a CSV (UTF-8, with or without BOM) or of an XLSX's first sheet, by header."""
    if fmt == "csv":
        text = maintenance.read_text_file(path)
        return [dict(row) for row in csv.DictReader(io.StringIO(text, newline=""))]
    try:
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
        sheet = workbook["activities"] if "activities" in workbook.sheetnames else workbook.active
        values = list(sheet.iter_rows(values_only=True))  # type: ignore[union-attr]
        workbook.close()
    except FileNotFoundError:
        raise maintenance.missing_file(path) from None
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise LocalizedError(
            f"{quote(str(path))} をExcelファイルとして読めません({type(exc).__name__})",
            f"cannot read {quote(str(path))} as an Excel file ({type(exc).__name__})",
        ) from None
    if not values:
        return []
    headers = [str(h or "").strip() for h in values[0]]
    return [
        {
            h: _cell_text(v) if isinstance(v, dt.date) else ("" if v is None else str(v))
            for h, v in zip(headers, row, strict=False)
            if h
        }
        for row in values[1:]
        if any(v not in (None, "") for v in row)
    ]


def _activity_input(row: dict[str, str]) -> ActivityInput:
    def text(name: str) -> str:
        return (row.get(name) or "").strip()

    head = text("head_count")
    if head.endswith(".0"):  # Excel keeps numbers as floats
        head = head[:-2]
    if head and not head.isdigit():
        raise LocalizedError("整数ではありません", "is not a whole number", "head_count")
    participants = [p.strip() for p in text("participants").split(";") if p.strip()]
    return ActivityInput(
        title=text("title"),
        kind=text("kind") or None,
        date=text("date")[:10] if text("date") else None,
        date_precision=text("date_precision") or None,
        municipality=text("municipality_code") or text("municipality") or None,
        initiative=text("initiative") or None,
        notes=row.get("notes") or "",
        location=text("location"),
        areas=text("areas").split() or None,
        tags=text("tags").split() or None,
        follow_up=text("follow_up").lower() in ("yes", "true", "1", "はい"),
        participants=participants or None,
        head_count=int(head) if head else None,
        participants_text=text("participants_text") or None,
    )


def import_table(
    store: Store,
    path: Path,
    *,
    fmt: str,
    dry_run: bool = False,
    progress: Callable[[int], Callable[[], object] | None] | None = None,
) -> int:
    """Bring activities in from a table shaped as `export_table` writes it: all rows or none.
    A bad row is refused by its row number (the header is row 1) and field.

    `progress(total)`, when given, is called once the rows are read and may return a function
    called after each row is checked (a progress bar on a terminal)."""
    if fmt not in FORMATS:
        raise LocalizedError(
            f"形式は {' / '.join(FORMATS)} です", f"format must be one of: {', '.join(FORMATS)}"
        )
    rows = _read_rows(path, fmt)
    given = []
    for number, row in enumerate(rows, 2):
        try:
            given.append(_activity_input(row))
        except LocalizedError as exc:
            raise at_row(number, exc) from None
    advance = progress(len(given)) if progress is not None else None
    if dry_run:
        return len(check_activities(store, given, first_row=2, advance=advance))
    return len(add_activities(store, given, first_row=2, advance=advance))  # the header is row 1
