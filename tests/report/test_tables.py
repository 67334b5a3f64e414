"""Tables in and out: CSV as Excel reads it, XLSX as openpyxl reads it, and round trips."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dxfield.store.engine import Store
from tests.conftest import Cli


def _run(cli: Cli, data_dir: Path, *args: str) -> str:
    result = cli("--data-dir", str(data_dir), *args)
    assert result.code == 0, result.err
    return result.out


def _log(cli: Cli, data_dir: Path) -> None:
    _run(cli, data_dir, "activity", "add", "--municipality", "豊岡市", "--kind", "workshop",
         "--date", "令和6年7月17日", "--title", "奥矢根区 意見交換会", "--area", "vision",
         "--area", "talent", "--tag", "ドローン", "--participant", "豊岡市", "--head-count", "12",
         "--participants-text", "区長 山田", "--notes", "一行目\n二行目、「引用」, カンマ",
         "--location", "奥矢根公民館")  # fmt: skip
    _run(cli, data_dir, "activity", "add", "--municipality", "282022", "--kind", "survey",
         "--date", "2024/10/25", "--title", "窓口体験調査")  # fmt: skip


def _activities(cli: Cli, data_dir: Path) -> list[tuple[object, ...]]:
    rows = json.loads(_run(cli, data_dir, "activity", "list", "--json"))
    full = [json.loads(_run(cli, data_dir, "activity", "show", r["id"], "--json")) for r in rows]
    return sorted(
        (
            a["date"],
            a["kind"],
            a["title"],
            a["municipality_id"],
            tuple(a["areas"]),
            tuple(a["tags"]),
            a["location"],
            a["notes"],
            a["participants"]["head_count"],
            tuple(a["participants"]["organization_ids"]),
        )
        for a in full
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_round_trip_into_an_empty_store_gives_the_same_activities(
    cli: Cli, tmp_path: Path, fmt: str
) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    _log(cli, source)
    out = tmp_path / f"activities.{fmt}"
    _run(cli, source, "export-table", "--what", "activities", "--format", fmt, "--out", str(out))
    dry = _run(cli, target, "import-table", "--format", fmt, str(out), "--dry-run")
    assert "2 rows, all valid (dry run)" in dry
    assert _activities(cli, target) == []  # the dry run wrote nothing
    _run(cli, target, "import-table", "--format", fmt, str(out))
    assert _activities(cli, target) == _activities(cli, source)


def test_the_csv_is_utf8_with_a_bom_and_leaves_names_out(cli: Cli, tmp_path: Path) -> None:
    _log(cli, tmp_path / "d")
    out = tmp_path / "a.csv"
    _run(cli, tmp_path / "d", "export-table", "--format", "csv", "--out", str(out))
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel on Japanese Windows reads it as UTF-8
    rows = list(csv.DictReader(data.decode("utf-8-sig").splitlines(keepends=True)))
    first = next(r for r in rows if r["title"] == "奥矢根区 意見交換会")
    assert first["date"] == "2024-07-17" and first["participants_text"] == ""
    assert first["notes"] == "一行目\n二行目、「引用」, カンマ"
    _run(cli, tmp_path / "d", "export-table", "--format", "csv", "--out", str(out),
         "--include-personal")  # fmt: skip
    rows = list(csv.DictReader(out.read_bytes().decode("utf-8-sig").splitlines(keepends=True)))
    assert "区長 山田" in {r["participants_text"] for r in rows}


def test_the_xlsx_has_a_sheet_per_table_real_dates_and_a_frozen_header(
    cli: Cli, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    _run(cli, tmp_path / "d", "demo", "--no-open")
    out = tmp_path / "all.xlsx"
    printed = _run(cli, tmp_path / "d", "export-table", "--format", "xlsx", "--out", str(out))
    assert "activities 27" in printed and "findings 29" in printed
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["activities", "findings", "actions", "tracks"]
    sheet = workbook["activities"]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]][:3] == ["date", "date_precision", "municipality"]
    assert isinstance(sheet["A2"].value, dt.datetime)
    title_column = [c.value for c in sheet[1]].index("title") + 1
    from openpyxl.utils import get_column_letter

    assert sheet.column_dimensions[get_column_letter(title_column)].width >= 30
    assert workbook["tracks"].max_row == 3  # 奥矢根区 and 資母地区コミュニティ


def test_a_bad_row_is_named_by_its_number_and_nothing_is_written(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "target"
    table = tmp_path / "in.csv"
    table.write_text(
        "date,municipality,kind,title\n2024-07-17,豊岡市,meeting,一件目\n"
        "2024-02-30,豊岡市,meeting,二件目\n",
        encoding="utf-8-sig",
    )
    _run(cli, target, "init")
    before = _run(cli, target, "dump")
    result = cli("--data-dir", str(target), "import-table", "--format", "csv", str(table))
    assert result.code == 1 and result.err.count("\n") == 1
    assert result.err.startswith("error: row 3:") and "date" in result.err
    assert _run(cli, target, "dump") == before
    table.write_text("date,municipality,kind,title\n令和6年7月17日,282090,会議,和暦と団体コード\n",
                     encoding="utf-8")  # fmt: skip
    assert "imported 1" in _run(cli, target, "import-table", "--format", "csv", str(table))
    not_excel = tmp_path / "x.xlsx"
    not_excel.write_text("not a workbook")
    bad = cli("--data-dir", str(target), "import-table", "--format", "xlsx", str(not_excel))
    assert bad.code == 1 and "Excel" in bad.err


def test_import_reports_progress_row_by_row(store: Store, tmp_path: Path) -> None:
    from dxfield.report.tables import import_table

    table = tmp_path / "in.csv"
    lines = [f"2024-07-{day:02d},豊岡市,meeting,会議{day}" for day in range(1, 11)]
    table.write_text("date,municipality,kind,title\n" + "\n".join(lines) + "\n", encoding="utf-8")
    seen: list[int] = []
    ticks: list[int] = []

    def progress(total: int) -> Callable[[], None]:
        seen.append(total)
        return lambda: ticks.append(1)

    assert import_table(store, table, fmt="csv", dry_run=True, progress=progress) == 10
    assert import_table(store, table, fmt="csv", progress=progress) == 10
    assert seen == [10, 10] and len(ticks) == 20


def test_action_owners_stay_out_unless_asked(store: Store) -> None:
    from dxfield.report.tables import build_table
    from dxfield.store.followups import add_action

    add_action(store, text="説明会の準備", owner="鈴木花子")
    plain = build_table(store, "actions")
    owner = plain.headers.index("owner")
    assert [row[owner] for row in plain.rows] == [""]
    full = build_table(store, "actions", include_personal=True)
    assert [row[owner] for row in full.rows] == ["鈴木花子"]
