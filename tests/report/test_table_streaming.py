"""export-table writes a table as it reads it: the same bytes as the in-memory path it replaced
(tests/report/table_oracle.py), memory that does not grow with the table, and no file (nor a
temporary one) when a row cannot be written."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from dxfield.domain.errors import LocalizedError
from dxfield.i18n import set_language
from dxfield.report.tables import EXCEL_CELL_LIMIT, TABLES, export_table
from dxfield.store.engine import Store
from tests.report import table_oracle


def _awkward(store: Store) -> None:
    """Cells that are hard to write: formula starts, quotes, commas, line breaks, characters
    outside the BMP, names shared by two organizations or initiatives, empty and zero numbers,
    partial dates, a deleted activity; findings and actions of every shape."""
    from dxfield.store import records
    from dxfield.store.activities import ActivityInput, add_activity, delete_activity
    from dxfield.store.followups import add_action, add_finding
    from dxfield.store.organizations import add_organization, resolve_municipality

    place = resolve_municipality(store, "豊岡市")

    def initiative(theme: str, title: str) -> str:
        made = records.create(
            store, "initiative", {"municipality_id": place, "theme": theme, "title": title}
        )
        return str(made.id)

    shared = initiative("スマート農業", "令和6年度")
    initiative("スマート農業", "令和7年度")
    own = initiative("=配送DX", "取組")
    twin = add_organization(store, kind="business", name="ジオグリフ")
    add_organization(store, kind="business", name="ジオグリフ")
    given: list[dict[str, Any]] = [
        {"title": '=HYPERLINK("http://x","y")', "notes": "=cmd|' /C calc'!A0", "location": "-3",
         "tags": ["@x", "+1", "ドローン"], "head_count": 0, "municipality": "豊岡市"},
        {"title": "'quoted", "location": "#N/A", "notes": '一行目\r\n二行目、「引用」, "カンマ"',
         "municipality": "282022", "date": "2024-07-01", "date_precision": "month"},
        {"title": "𠮷野家 🙂 ＡＢＣ", "notes": "\ttab first", "initiative": shared,
         "participants": [twin.id, "豊岡市", "兵庫県"], "participants_text": "区長 山田",
         "follow_up": True, "areas": ["talent", "vision"], "date_precision": "fiscal_year"},
        {"title": "+81 電話", "initiative": own, "head_count": 12, "location": "@home"},
    ]  # fmt: skip
    for number, fields in enumerate(given):
        add_activity(
            store,
            ActivityInput(
                **{"kind": "meeting", "date": f"2024-08-{number + 1:02d}", **fields},
            ),
        )
    gone = add_activity(
        store, ActivityInput(title="消す", kind="survey", date="2024-09-01", municipality="豊岡市")
    )
    delete_activity(store, gone.id)
    add_finding(store, kind="issue", text="=1+1 と\n改行", initiative=own, area="talent")
    add_finding(store, kind="outcome", text="日付なし", date=None)
    add_finding(store, kind="insight", text="#DIV/0!", date="2024-07-01")
    add_action(store, text="期限切れ", owner="鈴木花子", due="2020-01-01", initiative=own)
    add_action(store, text="済み", owner="-", due="2020-01-01", status="done")
    add_action(store, text="期限なし", owner="@owner")


@pytest.fixture
def awkward_store(demo_store: Store) -> Store:
    _awkward(demo_store)
    return demo_store


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_each_csv_is_byte_for_byte_what_the_in_memory_path_wrote(
    awkward_store: Store, tmp_path: Path, lang: str
) -> None:
    set_language(lang)
    for what in TABLES:
        for personal in (False, True):
            out = tmp_path / f"{what}.csv"
            counts = export_table(
                awkward_store, out, what=what, fmt="csv", include_personal=personal
            )
            table = table_oracle.build_table(awkward_store, what, include_personal=personal)
            assert counts == {what: len(table.rows)}
            assert out.read_bytes() == table_oracle.csv_bytes(table), (what, personal)
    assert counts["tracks"] > 0


def _cells(data: bytes) -> dict[str, Any]:
    """What a person sees of a workbook: each sheet's cells (value, type, format, bold), its
    frozen pane and its column widths."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data))
    return {
        sheet.title: (
            sheet.freeze_panes,
            {k: d.width for k, d in sheet.column_dimensions.items()},
            [
                [(c.value, c.data_type, c.number_format, bool(c.font.b)) for c in row]
                for row in sheet.iter_rows()
            ],
        )
        for sheet in workbook.worksheets
    }


@pytest.mark.parametrize("personal", [False, True])
def test_the_xlsx_has_the_cells_the_in_memory_path_wrote(
    awkward_store: Store, tmp_path: Path, personal: bool
) -> None:
    out = tmp_path / "all.xlsx"
    counts = export_table(awkward_store, out, what=None, fmt="xlsx", include_personal=personal)
    tables = [table_oracle.build_table(awkward_store, t, include_personal=personal) for t in TABLES]
    assert counts == {t.name: len(t.rows) for t in tables}
    assert _cells(out.read_bytes()) == _cells(table_oracle.xlsx_bytes(tables))


# -- memory and failures --------------------------------------------------------------------------


def _many(store: Store, count: int, *, long_last: bool = False) -> None:
    """`count` activities through the store's bulk path; with `long_last`, the last of them (by
    date) has notes too long for an Excel cell."""
    from dxfield.store import records, revisions
    from dxfield.store.ids import new_id
    from dxfield.store.reference import municipality_id

    place = municipality_id("282090")
    start = dt.date(2024, 4, 1)
    rows = []
    for n in range(count):
        notes = f"{n}件目の記録、" * 8
        day = start + dt.timedelta(days=n // 50)
        if long_last and n == count - 1:
            notes, day = "あ" * (EXCEL_CELL_LIMIT + 1), dt.date(2025, 3, 31)
        content = records.validate(
            "activity",
            {"municipality_id": place, "kind": "meeting", "title": f"会議 第{n}回",
             "date": day.isoformat(), "notes": notes,
             "tags": ["タグ", f"t{n % 7}"], "areas": ["vision"]},
        )  # fmt: skip
        rows.append((new_id(), content))
    with store.unit() as unit:
        revisions.bulk_create(unit, "activity", rows, device_id=store.device.id)


def _peak(store: Store, out: Path, fmt: str) -> int:
    tracemalloc.start()
    try:
        export_table(store, out, what="activities", fmt=fmt)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fmt", "small", "large"), [("csv", 2_000, 20_000), ("xlsx", 2_000, 10_000)]
)
def test_memory_stays_flat_as_the_table_grows(
    tmp_path: Path, fmt: str, small: int, large: int
) -> None:
    """The peak of what Python holds while writing ten times the rows stays about the same
    (the in-memory path's grew with them: about 9x here)."""
    peaks = []
    for count in (small, large):
        with Store.open(tmp_path / f"d{count}") as store:
            _many(store, count)
            export_table(store, tmp_path / "warm", what="activities", fmt=fmt)  # imports, caches
            peaks.append(_peak(store, tmp_path / f"{count}.{fmt}", fmt))
    assert peaks[1] < peaks[0] * 1.3, peaks


@pytest.mark.slow
def test_a_row_that_cannot_be_written_leaves_no_file_and_no_temporary_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpyxl.worksheet._writer import ALL_TEMP_FILES

    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "all.xlsx"
    # openpyxl's temporary files in a folder of this test's own: another process's export
    # (a test run beside this one) leaves its own in the machine's.
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    with Store.open(tmp_path / "d") as store:
        _many(store, 5_000, long_last=True)
        with pytest.raises(LocalizedError) as raised:
            export_table(store, out, what=None, fmt="xlsx")
        assert "activities" in raised.value.message("en")
        assert "row 5001 (notes)" in raised.value.message("en")  # row 1 is the header
        assert list(folder.iterdir()) == []
        assert list(temporary.iterdir()) == []
        assert ALL_TEMP_FILES == []
        out.write_bytes(b"before")  # a file already there stays as it was
        with pytest.raises(LocalizedError):
            export_table(store, out, what="activities", fmt="xlsx")
        assert out.read_bytes() == b"before" and list(folder.iterdir()) == [out]
