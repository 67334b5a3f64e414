"""The report's figures for dxfield's performance suite (`benchmarks/run.py --only report`).

On a store of N synthetic activities over fiscal year 2024:

- report_md / report_html: `write_report` for the whole fiscal year (every activity listed by
  municipality and kind, the month tables, the charts) vs `export_table` of the same activities
  as CSV, which reads the same rows from the store and writes a line for each (streamed, straight
  from the rows: it no longer validates each activity as the report's `all_activities` does).
  The medians of three interleaved runs. Target <= 1.5.
"""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path

from dxfield.report.content import make_scope
from dxfield.report.render import write_report
from dxfield.report.tables import export_table
from dxfield.store.engine import Store
from run import Figure, bulk_load, figure, synthetic_activities, timed


def measure_report(workdir: Path, count: int, built: Path | None = None) -> list[Figure]:
    """The report's figures on the suite's store of `count` activities (built here if needed)."""
    folder = built or workdir / "report-store"
    with Store.open(folder) as store:
        if built is None:
            bulk_load(store, synthetic_activities(count))
        scope = make_scope(store, as_of=dt.date(2025, 3, 31), fiscal_year=2024)
        runs: dict[str, list[float]] = {"md": [], "html": [], "csv": []}
        for _ in range(3):
            runs["csv"].append(
                timed(lambda: export_table(store, workdir / "a.csv", what="activities", fmt="csv"))
            )
            for fmt in ("md", "html"):
                runs[fmt].append(
                    timed(lambda fmt=fmt: write_report(store, scope, workdir / f"r.{fmt}", fmt))
                )
    baseline = statistics.median(runs["csv"])
    return [
        figure("report_md", statistics.median(runs["md"]), baseline, 1.5),
        figure("report_html", statistics.median(runs["html"]), baseline, 1.5),
    ]
