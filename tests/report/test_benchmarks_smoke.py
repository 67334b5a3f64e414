"""The performance suite's tables, verbs and report sections (benchmarks/tables.py, verbs.py,
report.py) run end to end at a tiny size: `import-table`, `export-table`, the light verbs and
`report` as processes with their baselines (sqlite-utils, executemany, csv.writer, openpyxl's
write-only workbook, a hello-world Typer app). Nothing here asserts a time: the figures are
ratios for `benchmarks/run.py` to judge, on a quiet machine."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.bench_suite import suite_module

# The sections make their own SQLite stores and run the CLI on them.
pytestmark = pytest.mark.sqlite_only

TABLES = [
    "import_table_csv",
    "import_table_rss",
    "import_table_own",
    "import_table_flat",
    "export_table_csv",
    "export_table_rss",
    "export_table_flat",
    "export_table_xlsx",
]


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, ModuleType]]:
    """benchmarks/tables.py, verbs.py and report.py, imported as the suite imports them."""
    with (
        suite_module("tables", monkeypatch) as tables,
        suite_module("verbs", monkeypatch) as verbs,
        suite_module("report", monkeypatch) as report,
    ):
        yield {"tables": tables, "verbs": verbs, "report": report}


def _sound(figures: list[object]) -> None:
    for f in figures:
        assert f.value > 0 and f.baseline > 0, f  # type: ignore[attr-defined]
        assert math.isfinite(f.ratio) and f.ratio > 0 and f.target > 0, f  # type: ignore[attr-defined]


def test_the_tables_verbs_and_report_sections_give_their_figures(
    bench: dict[str, ModuleType], tmp_path: Path
) -> None:
    figures, store = bench["tables"].measure_tables(tmp_path / "tables", 30)
    assert [f.name for f in figures] == TABLES
    _sound(figures)
    # The memory figures are in MB against a fixed limit, or against the same job at N/10.
    rss = {f.name: f for f in figures if f.unit == "MB"}
    assert rss["import_table_rss"].baseline == 150 and rss["export_table_rss"].baseline == 100
    assert rss["import_table_rss"].value == rss["import_table_flat"].value

    # The verbs and the report read the store import-table filled.
    verbs = bench["verbs"].measure_verbs(tmp_path / "verbs", 30, repeats=1, built=store)
    assert [f.name for f in verbs] == ["verb_activity_list", "verb_search_json"]
    _sound(verbs)
    report = bench["report"].measure_report(tmp_path / "report", 30, store)
    assert [f.name for f in report] == ["report_md", "report_html"]
    _sound(report)


def test_the_csv_is_a_persons_table_streamed(bench: dict[str, ModuleType], tmp_path: Path) -> None:
    """The table has the columns a person's log has, English keys as headers, a row per
    generated activity (the same ones the other sections' stores hold)."""
    import csv

    path = tmp_path / "a.csv"
    bench["tables"].write_csv(path, 12)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == bench["tables"].CSV_HEADERS
    run = __import__("run")
    expected = run.synthetic_activities(12)
    assert [r["title"] for r in rows] == [a["title"] for a in expected]
    assert all(r["municipality_code"] in run.MUNICIPALITY_CODES for r in rows)
