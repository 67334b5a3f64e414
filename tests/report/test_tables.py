"""Tables in and out: CSV as Excel reads it, XLSX as openpyxl reads it, and round trips."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dxfield.store.engine import Store
from tests.conftest import Cli, DemoLoader


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


def test_without_out_the_table_goes_into_the_documents_folder(cli: Cli, tmp_path: Path) -> None:
    """Where people look for a file: the platform's documents folder (the tests' own, made
    when missing), under a name that says what it holds and when (issue 18)."""
    import os

    _log(cli, tmp_path / "d")
    printed = _run(cli, tmp_path / "d", "export-table", "--format", "csv")
    documents = Path(os.environ["DXFIELD_DOCUMENTS_DIR"])
    (written,) = documents.glob("dxfield-tables-*.csv")
    assert written.read_bytes().startswith(b"\xef\xbb\xbf")
    assert written.name in printed


def test_the_xlsx_has_a_sheet_per_table_real_dates_and_a_frozen_header(
    cli: Cli, with_demo: DemoLoader, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    with_demo(tmp_path / "d")
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
    from dxfield.report.table_import import import_table

    table = tmp_path / "in.csv"
    lines = [f"2024-07-{day:02d},豊岡市,meeting,会議{day}" for day in range(1, 11)]
    table.write_text("date,municipality,kind,title\n" + "\n".join(lines) + "\n", encoding="utf-8")
    seen: list[tuple[str, int]] = []
    steps: dict[str, int] = {}

    def progress(phase: str, total: int) -> Callable[[int], None]:
        seen.append((phase, total))

        def advance(done: int) -> None:
            steps[phase] = steps.get(phase, 0) + done

        return advance

    size = table.stat().st_size
    assert import_table(store, table, fmt="csv", dry_run=True, progress=progress).added == 10
    # The check goes through the file (its bytes); a dry run writes nothing.
    assert seen == [("check", size)] and steps == {"check": size}
    seen.clear()
    steps.clear()
    assert import_table(store, table, fmt="csv", progress=progress).added == 10
    assert seen == [("check", size), ("write", 10)]
    assert steps == {"check": size, "write": 10}


def test_action_owners_stay_out_unless_asked(store: Store) -> None:
    from dxfield.report.tables import build_table
    from dxfield.store.followups import add_action

    add_action(store, text="説明会の準備", owner="鈴木花子")
    plain = build_table(store, "actions")
    owner = plain.headers.index("owner")
    assert [row[owner] for row in plain.rows] == [""]
    full = build_table(store, "actions", include_personal=True)
    assert [row[owner] for row in full.rows] == ["鈴木花子"]


# -- formulas ------------------------------------------------------------------------------------

FORMULAS = {
    "title": '=HYPERLINK("http://x","y")',
    "notes": "=cmd|' /C calc'!A0",
    "location": "-3",
}


def test_guarding_adds_one_quote_before_a_formula_start_and_import_takes_exactly_it_off() -> None:
    from dxfield.report.tables import guarded, unguarded

    for start in ("=", "+", "-", "@", "\t", "\r", "'"):
        assert guarded(f"{start}1") == f"'{start}1"
        assert unguarded(guarded(f"{start}1")) == f"{start}1"
    for text in ("", "'", "''", "'a", "a=1", "１２", "#N/A", "＝1", "'=1"):
        assert unguarded(guarded(text)) == text
    assert guarded("a=1") == "a=1" and guarded("") == ""
    assert unguarded("'a") == "'a"  # a quote someone typed before an ordinary character stays
    assert guarded(-3) == -3 and guarded(dt.date(2024, 7, 17)) == dt.date(2024, 7, 17)


def _formula_store(store: Store) -> str:
    from dxfield.store.activities import ActivityInput, add_activity

    activity = add_activity(
        store,
        ActivityInput(
            **FORMULAS,
            kind="meeting",
            date="2024-07-17",
            municipality="豊岡市",
            tags=["@x", "+1"],
            head_count=12,
        ),
    )
    add_activity(
        store,
        ActivityInput(
            title="'quoted",
            location="#N/A",
            kind="site_visit",
            date="2024-07-18",
            municipality="豊岡市",
        ),
    )
    return activity.id


def _revision_count(store: Store) -> int:
    from dxfield.store.merge import all_revisions

    with store.read() as conn:
        return len(all_revisions(conn))


def test_the_csv_writes_a_formula_as_guarded_text(store: Store, tmp_path: Path) -> None:
    from dxfield.report.tables import export_table

    _formula_store(store)
    out = tmp_path / "a.csv"
    export_table(store, out, what="activities", fmt="csv")
    rows = list(csv.DictReader(out.read_bytes().decode("utf-8-sig").splitlines(keepends=True)))
    first = next(r for r in rows if r["kind"] == "meeting")
    for column, text in FORMULAS.items():
        assert first[column] == "'" + text
    assert first["tags"] == "'+1 @x"
    assert first["date"] == "2024-07-17" and first["head_count"] == "12"  # typed: not guarded
    second = next(r for r in rows if r["kind"] == "site_visit")
    assert second["title"] == "''quoted" and second["location"] == "#N/A"


def test_the_xlsx_writes_no_formula_and_guards_text(store: Store, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from dxfield.report.tables import export_table

    _formula_store(store)
    out = tmp_path / "a.xlsx"
    export_table(store, out, what="activities", fmt="xlsx")
    sheet = load_workbook(out)["activities"]
    headers = [c.value for c in sheet[1]]
    cells = {
        (row[headers.index("kind")].value, header): cell
        for row in sheet.iter_rows(min_row=2)
        for header, cell in zip(headers, row, strict=True)
    }
    assert all(cell.data_type != "f" for cell in cells.values())
    for column, text in FORMULAS.items():
        cell = cells["meeting", column]
        assert cell.data_type == "s" and cell.value == "'" + text
    assert cells["meeting", "tags"].value == "'+1 @x"
    assert cells["meeting", "head_count"].value == 12  # a number, not guarded
    assert isinstance(cells["meeting", "date"].value, dt.datetime)
    assert cells["site_visit", "title"].value == "''quoted"
    assert cells["site_visit", "location"].data_type == "s"  # #N/A stays text, not an error value
    assert cells["site_visit", "location"].value == "#N/A"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_guarded_text_comes_back_exactly(store: Store, tmp_path: Path, fmt: str) -> None:
    from dxfield.report.table_import import import_table
    from dxfield.report.tables import export_table
    from dxfield.store.activities import get_activity

    activity_id = _formula_store(store)
    out = tmp_path / f"a.{fmt}"
    export_table(store, out, what="activities", fmt=fmt)
    before = _revision_count(store)
    counts = import_table(store, out, fmt=fmt)
    assert (counts.added, counts.updated, counts.unchanged) == (0, 0, 2)
    assert _revision_count(store) == before
    with Store.open(tmp_path / "other") as other:
        assert import_table(other, out, fmt=fmt).added == 2
        copy = get_activity(other, activity_id)
    for column, text in FORMULAS.items():
        assert getattr(copy, column) == text
    assert copy.tags == ["+1", "@x"]


def test_a_text_too_long_for_an_excel_cell_is_refused_not_cut(
    cli: Cli, store: Store, data_dir: Path, tmp_path: Path
) -> None:
    from dxfield.report.tables import EXCEL_CELL_LIMIT, export_table
    from dxfield.store.activities import ActivityInput, add_activity, edit_activity

    activity = add_activity(
        store,
        ActivityInput(
            title="長い", notes="あ" * EXCEL_CELL_LIMIT, kind="meeting", date="2024-07-17",
            municipality="豊岡市",
        ),
    )  # fmt: skip
    fits = tmp_path / "fits.xlsx"
    export_table(store, fits, what="activities", fmt="xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(fits)["activities"]
    notes = [c.value for c in sheet[1]].index("notes")
    assert sheet.cell(2, notes + 1).value == "あ" * EXCEL_CELL_LIMIT
    for long_notes in ("=" + "a" * (EXCEL_CELL_LIMIT - 1), "𠮷" * (EXCEL_CELL_LIMIT // 2 + 1)):
        # One more with the guard's quote; or characters Excel counts as two.
        edit_activity(store, activity.id, ActivityInput(notes=long_notes))
        out = tmp_path / "long.xlsx"
        result = cli("--data-dir", str(data_dir), "export-table", "--format", "xlsx",
                     "--out", str(out))  # fmt: skip
        assert result.code == 1 and result.err.count("\n") == 1
        assert "activities" in result.err and "row 2 (notes)" in result.err
        assert f"{EXCEL_CELL_LIMIT + 1:,} characters" in result.err
        assert not out.exists()
    csv_out = tmp_path / "long.csv"
    export_table(store, csv_out, what="activities", fmt="csv")
    assert "𠮷" * (EXCEL_CELL_LIMIT // 2 + 1) in csv_out.read_text("utf-8-sig")


# -- names and ids -------------------------------------------------------------------------------


def _initiative(store: Store, municipality: str, theme: str, title: str = "取組") -> str:
    from dxfield.store import records
    from dxfield.store.organizations import resolve_municipality

    place = resolve_municipality(store, municipality)
    created = records.create(
        store, "initiative", {"municipality_id": place, "theme": theme, "title": title}
    )
    return str(created.id)


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.read_bytes().decode("utf-8-sig").splitlines(keepends=True)))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_the_initiative_and_participants_are_written_as_names(store: Store, tmp_path: Path) -> None:
    from dxfield.report.tables import export_table
    from dxfield.store.activities import ActivityInput, add_activity

    _initiative(store, "豊岡市", "スマート農業")
    add_activity(
        store,
        ActivityInput(
            title="圃場見学", kind="site_visit", date="2024-07-17", initiative=_initiative(store, "豊岡市", "配送DX"),
            participants=["豊岡市", "兵庫県"],
        ),
    )  # fmt: skip
    out = tmp_path / "a.csv"
    export_table(store, out, what="activities", fmt="csv")
    (row,) = _rows(out)
    assert row["initiative"] == "豊岡市 配送DX"
    assert row["municipality"] == "豊岡市" and row["municipality_code"] == "282090"
    assert row["participants"] == "豊岡市; 兵庫県"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_bringing_a_stores_own_table_back_adds_no_copies_and_changes_nothing(
    cli: Cli, data_dir: Path, tmp_path: Path, fmt: str
) -> None:
    _log(cli, data_dir)
    out = tmp_path / f"a.{fmt}"
    _run(cli, data_dir, "export-table", "--what", "activities", "--format", fmt, "--out", str(out))
    before = _run(cli, data_dir, "dump")
    with Store.open(data_dir) as opened:
        revisions = _revision_count(opened)
    printed = _run(cli, data_dir, "import-table", "--format", fmt, str(out))
    assert "0 added, 0 updated, 2 unchanged" in printed
    assert _run(cli, data_dir, "dump") == before
    with Store.open(data_dir) as opened:
        assert _revision_count(opened) == revisions  # not even a revision of the same content
    other = tmp_path / "other"
    assert "2 added" in _run(cli, other, "import-table", "--format", fmt, str(out))
    assert "0 added, 0 updated, 2 unchanged" in _run(
        cli, other, "import-table", "--format", fmt, str(out)
    )
    assert _activities(cli, other) == _activities(cli, data_dir)
    ids = {r["id"] for r in json.loads(_run(cli, other, "activity", "list", "--json"))}
    assert ids == {r["id"] for r in json.loads(_run(cli, data_dir, "activity", "list", "--json"))}


def test_an_edited_row_updates_its_record_and_keeps_what_the_table_leaves_out(
    cli: Cli, data_dir: Path, tmp_path: Path
) -> None:
    _log(cli, data_dir)
    out = tmp_path / "a.csv"
    _run(cli, data_dir, "export-table", "--format", "csv", "--out", str(out))  # no names
    rows = _rows(out)
    edited = next(r for r in rows if r["title"] == "奥矢根区 意見交換会")
    edited.update(title="奥矢根区 意見交換会(第1回)", tags="", head_count="", areas="talent",
                  notes="=1+1", participants="豊岡市; 兵庫県")  # fmt: skip
    _write(out, rows)
    printed = _run(cli, data_dir, "import-table", "--format", "csv", str(out))
    assert "0 added, 1 updated, 1 unchanged" in printed
    shown = json.loads(_run(cli, data_dir, "activity", "show", edited["id"], "--json"))
    assert shown["title"] == "奥矢根区 意見交換会(第1回)"
    assert shown["tags"] == [] and shown["areas"] == ["talent"] and shown["notes"] == "=1+1"
    assert shown["participants"]["head_count"] is None
    assert len(shown["participants"]["organization_ids"]) == 2
    assert shown["participants"]["text"] == "区長 山田"  # left out of the table, not erased
    assert shown["location"] == "奥矢根公民館"
    history = json.loads(_run(cli, data_dir, "history", edited["id"], "--json"))
    assert len(history) == 2
    assert "0 added, 0 updated, 2 unchanged" in _run(
        cli, data_dir, "import-table", "--format", "csv", str(out)
    )


def test_a_column_the_table_lacks_is_left_as_it_is(
    cli: Cli, data_dir: Path, tmp_path: Path
) -> None:
    _log(cli, data_dir)
    listed = json.loads(_run(cli, data_dir, "activity", "list", "--json"))
    target = next(r for r in listed if r["title"] == "奥矢根区 意見交換会")
    table = tmp_path / "in.csv"
    _write(table, [{"id": target["id"], "title": "改題"}])
    assert "1 updated" in _run(cli, data_dir, "import-table", "--format", "csv", str(table))
    shown = json.loads(_run(cli, data_dir, "activity", "show", target["id"], "--json"))
    assert shown["title"] == "改題" and shown["tags"] == ["ドローン"]
    assert shown["participants"]["head_count"] == 12 and shown["date"] == "2024-07-17"


def test_an_initiative_is_found_by_municipality_and_theme(store: Store, tmp_path: Path) -> None:
    from dxfield.report.table_import import import_table
    from dxfield.store.activities import all_activities

    wanted = _initiative(store, "豊岡市", "スマート農業")
    _initiative(store, "尼崎市", "スマート農業")
    table = tmp_path / "in.csv"
    _write(table, [{"date": "2024-07-17", "kind": "meeting", "title": "圃場",
                    "initiative": "豊岡市　スマート農業"}])  # fmt: skip
    assert import_table(store, table, fmt="csv").added == 1
    (activity,) = all_activities(store)
    assert activity.initiative_id == wanted
    assert activity.municipality_id is not None  # the initiative's municipality


def test_an_ambiguous_or_unknown_initiative_is_refused_naming_row_and_field(
    cli: Cli, store: Store, data_dir: Path, tmp_path: Path
) -> None:
    from dxfield.report.table_import import import_table
    from dxfield.report.tables import export_table
    from dxfield.store.activities import ActivityInput, add_activity

    first = _initiative(store, "豊岡市", "スマート農業", "令和6年度")
    _initiative(store, "豊岡市", "スマート農業", "令和7年度")
    table = tmp_path / "in.csv"
    good = {"date": "2024-07-17", "kind": "meeting", "title": "圃場", "initiative": ""}
    for name, message in [
        ("豊岡市 スマート農業", "more than one initiative is called '豊岡市 スマート農業'"),
        ("豊岡市 配送DX", "no initiative '豊岡市 配送DX'"),
    ]:
        _write(table, [good, {**good, "initiative": name}])
        before = _run(cli, data_dir, "dump")
        result = cli("--data-dir", str(data_dir), "import-table", "--format", "csv", str(table))
        assert result.code == 1 and result.err.count("\n") == 1
        assert result.err.startswith("error: row 3: initiative: ") and message in result.err
        assert _run(cli, data_dir, "dump") == before
    # Where two initiatives share a name, the table names them by id, and comes back whole.
    add_activity(store, ActivityInput(title="圃場", kind="site_visit", date="2024-07-17",
                                      initiative=first))  # fmt: skip
    out = tmp_path / "a.csv"
    export_table(store, out, what="activities", fmt="csv")
    assert [r["initiative"] for r in _rows(out)] == [first]
    assert import_table(store, out, fmt="csv").unchanged == 1


def test_an_organization_whose_name_is_shared_is_written_as_its_id(
    store: Store, tmp_path: Path
) -> None:
    from dxfield.report.table_import import import_table
    from dxfield.report.tables import export_table
    from dxfield.store.activities import ActivityInput, add_activity
    from dxfield.store.organizations import add_organization

    one = add_organization(store, kind="business", name="ジオグリフ")
    add_organization(store, kind="business", name="ジオグリフ")
    add_activity(store, ActivityInput(title="打合せ", kind="meeting", date="2024-07-17",
                                      municipality="豊岡市", participants=[one.id, "豊岡市"]))  # fmt: skip
    out = tmp_path / "a.csv"
    export_table(store, out, what="activities", fmt="csv")
    assert _rows(out)[0]["participants"] == f"{one.id}; 豊岡市"
    assert import_table(store, out, fmt="csv").unchanged == 1


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("not-an-id", "row 3: id: 'not-an-id' is not an id"),
        (
            "ORG",
            "row 3: id: is the id of another kind of record (organization), not of an activity",
        ),
        ("FIRST", "row 3: id: the same id as row 2"),
        ("DELETED", "row 3: id: this activity has been deleted"),
    ],
)
def test_a_bad_id_is_refused_in_one_line_and_nothing_is_written(
    cli: Cli, data_dir: Path, tmp_path: Path, given: str, message: str
) -> None:
    _log(cli, data_dir)
    listed = json.loads(_run(cli, data_dir, "activity", "list", "--json"))
    first, second = (r["id"] for r in listed)
    _run(cli, data_dir, "activity", "delete", second)
    with Store.open(data_dir) as opened:
        from dxfield.store.organizations import resolve_municipality

        org = resolve_municipality(opened, "豊岡市")
    replacement = {"not-an-id": "not-an-id", "ORG": org, "FIRST": first, "DELETED": second}
    table = tmp_path / "in.csv"
    row = {"date": "2024-07-17", "municipality": "豊岡市", "kind": "meeting"}
    _write(table, [{**row, "title": "改題", "id": first},
                   {**row, "title": "二件目", "id": replacement[given]}])  # fmt: skip
    before = _run(cli, data_dir, "dump")
    result = cli("--data-dir", str(data_dir), "import-table", "--format", "csv", str(table))
    assert result.code == 1 and result.err.count("\n") == 1
    assert result.err.startswith(f"error: {message}")
    assert _run(cli, data_dir, "dump") == before


def test_an_import_resolves_names_without_a_query_per_row(store: Store, tmp_path: Path) -> None:
    from sqlalchemy import event

    from dxfield.report.table_import import import_table
    from dxfield.report.tables import export_table

    initiative = "豊岡市 配送DX"
    _initiative(store, "豊岡市", "配送DX")
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    def run(rows: int) -> tuple[int, int]:
        table = tmp_path / f"{rows}.csv"
        _write(table, [{"date": "2024-07-17", "municipality": "豊岡市", "kind": "meeting",
                        "title": f"会議{n}", "initiative": initiative,
                        "participants": "豊岡市; 兵庫県"} for n in range(rows)])  # fmt: skip
        with Store.open(tmp_path / f"store{rows}") as fresh:
            _initiative(fresh, "豊岡市", "配送DX")
            event.listen(fresh.engine, "before_cursor_execute", count)
            statements.clear()
            import_table(fresh, table, fmt="csv")
            added = len(statements)
            export_table(fresh, table, what="activities", fmt="csv")
            statements.clear()
            assert import_table(fresh, table, fmt="csv").unchanged == rows
            return added, len(statements)

    assert run(10) == run(100)


def test_a_municipality_renamed_beside_its_old_code_is_refused(
    cli: Cli, data_dir: Path, tmp_path: Path
) -> None:
    _log(cli, data_dir)
    out = tmp_path / "a.csv"
    _run(cli, data_dir, "export-table", "--format", "csv", "--out", str(out))
    rows = _rows(out)
    rows[0]["municipality"] = "尼崎市"  # the code column still says 豊岡市's 282090
    _write(out, rows)
    before = _run(cli, data_dir, "dump")
    result = cli("--data-dir", str(data_dir), "import-table", "--format", "csv", str(out))
    assert result.code == 1 and result.err.count("\n") == 1
    assert result.err.startswith("error: row 2: municipality: '尼崎市' and the code 282090")
    assert _run(cli, data_dir, "dump") == before
    rows[0]["municipality_code"] = ""  # the name alone decides
    _write(out, rows)
    assert "1 updated" in _run(cli, data_dir, "import-table", "--format", "csv", str(out))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_under_japanese_the_headers_are_japanese_and_come_back_in_either_language(
    cli: Cli, tmp_path: Path, fmt: str
) -> None:
    """The column titles (and sheet names) are the catalogue's, in the user's language; a table
    written in Japanese, in English or with the keys is read back the same."""
    source, target = tmp_path / "source", tmp_path / "target"
    _log(cli, source)
    out = tmp_path / f"activities.{fmt}"
    _run(cli, source, "--lang", "ja", "export-table", "--what", "activities", "--format", fmt,
         "--out", str(out))  # fmt: skip
    if fmt == "csv":
        headers = next(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    else:
        from openpyxl import load_workbook

        workbook = load_workbook(out)
        assert workbook.sheetnames == ["活動"]
        headers = [c.value for c in workbook["活動"][1]]
    assert headers[:4] == ["日付", "日付の精度", "市町村", "団体コード"] and headers[-1] == "ID"
    _run(cli, target, "--lang", "ja", "import-table", "--format", fmt, str(out))
    assert _activities(cli, target) == _activities(cli, source)


def test_a_column_is_known_by_its_key_or_its_title_in_either_language() -> None:
    from dxfield.report.tables import ACTIVITY_COLUMNS, column_keys, column_title

    column_key = column_keys()
    for key in ACTIVITY_COLUMNS:
        for name in (key, column_title(key, "ja"), column_title(key, "en"), key.upper()):
            assert column_key(name) == key
    assert column_key("ＨＥＡＤ＿ＣＯＵＮＴ") == "head_count"  # full-width, as an IME types it
    assert column_key(" 人数 ") == "head_count" and column_key("メモ欄") == "メモ欄"


def test_a_csv_with_blank_lines_short_rows_and_cells_past_the_header_reads_as_excel_shows_it(
    cli: Cli, data_dir: Path, tmp_path: Path
) -> None:
    """What csv.DictReader gave, kept by the reader that replaced it: a blank line is no row, a
    short row leaves its missing columns empty, cells past the header are ignored; and a bad row
    is named by the number Excel shows it under (a blank line counts, as there)."""
    table = tmp_path / "in.csv"
    table.write_text(
        "\ufeffdate,municipality_code,kind,title,location\r\n"
        "2024-07-17,282090,workshop,意見交換会,公民館,余りのセル,もう一つ\r\n"
        "\r\n"
        "2024-07-18,282090,meeting,短い行\r\n"
        "'=1+1,282090,meeting,式のような題,\r\n",
        encoding="utf-8",
    )
    refused = cli("--data-dir", str(data_dir), "import-table", "--format", "csv", str(table))
    assert refused.code != 0 and "row 5" in refused.err and "date" in refused.err
    table.write_text(table.read_text("utf-8").replace("'=1+1", "2024-07-19"), "utf-8")
    assert "3 added" in _run(cli, data_dir, "import-table", "--format", "csv", str(table))
    rows = json.loads(_run(cli, data_dir, "activity", "list", "--json"))
    assert sorted((r["date"], r["title"], r["location"]) for r in rows) == [
        ("2024-07-17", "意見交換会", "公民館"),
        ("2024-07-18", "短い行", ""),
        ("2024-07-19", "式のような題", ""),
    ]
