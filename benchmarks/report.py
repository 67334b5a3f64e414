"""The report's figures for dxfield's performance suite (`benchmarks/run.py --only report`).

On a store of N synthetic activities over fiscal year 2024 (the one the tables section's
`import-table` filled when it ran, otherwise set up through the store's bulk path: set-up, not a
figure), as a person runs them: the CLI as a process (`sys.executable -m dxfield`), started from
the tables section's launcher, with compiled bytecode (one run of each first):

- report_md / report_html: `dxfield --data-dir D report --fiscal-year 2024 --as-of 2025-03-31
  --out r.md` (and `r.html`): every activity listed by municipality and kind, the month tables,
  the charts; vs `dxfield --data-dir D export-table --out a.csv` of the same activities, which
  reads the same records through the same service and writes a line for each. Wall times, the
  medians of three interleaved runs; the note gives the CPU seconds and peak memory of both.
  Target <= 1.5.
"""

from __future__ import annotations

from pathlib import Path

from run import Figure, bulk_load, figure, synthetic_activities
from sync import _cli_env
from tables import MB, Ran, dxfield, measured, median_run

RUNS = 3
YEAR = ("--fiscal-year", "2024", "--as-of", "2025-03-31")


def _note(ours: Ran, theirs: Ran) -> str:
    return (
        f"dxfield export-table (CSV); CPU {ours.cpu:.3f}s vs {theirs.cpu:.3f}s; "
        f"peak {ours.peak / MB:.0f} MB vs {theirs.peak / MB:.0f} MB"
    )


def measure_report(workdir: Path, count: int, built: Path | None = None) -> list[Figure]:
    """The report's figures on the suite's store of `count` activities (set up here if needed)."""
    workdir.mkdir(parents=True, exist_ok=True)
    folder = built
    if folder is None:
        from dxfield.store.engine import Store

        folder = workdir / "report-store"
        with Store.open(folder) as store:
            bulk_load(store, synthetic_activities(count))
    env = _cli_env(workdir)
    logs = workdir / "logs"
    commands = {
        "csv": dxfield(folder, "export-table", "--out", str(workdir / "a.csv")),
        "md": dxfield(folder, "report", *YEAR, "--out", str(workdir / "r.md")),
        "html": dxfield(folder, "report", *YEAR, "--out", str(workdir / "r.html")),
    }
    for command in commands.values():  # bytecode written, caches warm
        measured(command, env, logs)
    runs: dict[str, list[Ran]] = {name: [] for name in commands}
    for _ in range(RUNS):
        for name, command in commands.items():
            runs[name].append(measured(command, env, logs))
    base = median_run(runs["csv"])
    md, html = median_run(runs["md"]), median_run(runs["html"])
    return [
        figure("report_md", md.wall, base.wall, 1.5, note=_note(md, base)),
        figure("report_html", html.wall, base.wall, 1.5, note=_note(html, base)),
    ]
