"""dxfield's performance suite: each figure is a ratio against a baseline measured in the same run.

    uv run python benchmarks/run.py [--records N] [--json FILE] [--only PART]

Machines here are shared and noisy, so nothing is an absolute time: every measurement is paired
with a baseline doing the same job the plainest way, on the same data, in the same run (peak
memory is the one exception: a fixed limit in MB stands as its baseline). What users run as
processes is measured as processes, on real files, with peak memory beside time. It exits
non-zero when any figure misses its target.

- tables (see `benchmarks/tables.py`; `--records 1000000 --only tables` for the million):
  import_table_csv (`dxfield import-table` of a CSV vs `sqlite-utils insert --csv`, <= 1),
  import_table_rss (its peak memory, <= 150 MB), import_table_own (vs csv.reader + executemany
  of the rows it wrote into dxfield's own schema, <= 1.5), import_table_flat (peak memory at N
  vs N/10, <= 1.2), export_table_csv (`dxfield export-table` vs sqlite3 + csv.writer, <= 2),
  export_table_rss (<= 100 MB), export_table_flat (<= 1.2), export_table_xlsx (vs openpyxl's
  write-only workbook, <= 1.3). This part's imported store is the store the parts below read.
- search_long / search_short: the median time of `search_ids` for terms of 3+ characters (FTS5
  trigram) and of 1-2 characters (normalized scan) vs a LIKE scan of the activity table's title,
  notes and location. Targets <= 0.25 and <= 1.5. Without the tables part, the store is set up
  through the store's bulk path (`bulk_load`: a shortcut, set-up only, never a figure).
- verb_activity_list, verb_search_json: CPU time of `dxfield activity list --limit 10` and
  `dxfield search 農業 --json` as processes vs a hello-world Typer app, compiled bytecode
  (see `benchmarks/verbs.py`). Target <= 2.2.
- cli_help: wall time of `dxfield --help` vs `python -c "import typer"`. Target <= 1.5.
- cli_help_ja: wall time of `dxfield --help` under `LANG=ja_JP.UTF-8` (the catalogue loaded and
  every help translated) vs a hello-world Typer app's `--help`, same environment. Target <= 1.5.
- sync_import, sync_reimport, sync_export, sync_size: bundles, `dxfield export` and `dxfield
  import` as processes on real files; the import's baseline is executemany of the same rows (and
  the full-text index of them, one statement) plus PyNaCl verifying as many signatures (see
  `benchmarks/sync.py`).
- sync_blobs_export, sync_blobs_import, sync_blobs_export_rss, sync_blobs_import_rss: 200
  photos of 3 MB through `dxfield export` and `dxfield import` as processes vs copying and
  encrypting (decrypting) the same files with secretstream, and peak memory under 200 MB.
- report_md, report_html: `dxfield report` as a process vs `dxfield export-table` of the same
  activities (see `benchmarks/report.py`).
- hub_import, hub_search_long, hub_search_short, hub_report: the prefecture's hub on
  PostgreSQL, in a throwaway cluster the section starts and removes (see `benchmarks/hub.py`).
- hub_import_table, hub_export_table_csv, hub_verb_activity_list, hub_verb_search_json: the
  tables and verbs on the hub, as processes; COPY is the bulk write's baseline (see
  `benchmarks/hub_tables.py`).
- tui_start, tui_start_log, tui_start_floor, tui_first_paint, tui_scroll, tui_loop_gap,
  tui_memory, tui_attachments_view: the app's figures, measured in subprocesses driving it headless (see `benchmarks/tui.py`). The store
  part's store of N activities is reused when both parts run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import tui
from dxfield.domain.enums import ActivityKind
from dxfield.store import records, revisions
from dxfield.store.engine import Store
from dxfield.store.ids import new_id
from dxfield.store.reference import municipality_id
from dxfield.store.search import search_ids

MUNICIPALITY_CODES = ["282022", "282049", "282201", "283657", "284815", "282090", "280003"]
KINDS = [kind.value for kind in ActivityKind]
TITLES = [
    "住民説明会",
    "意見交換会",
    "庁内ヒアリング",
    "DX推進本部会議",
    "現地視察",
    "DX研修",
    "よろず相談会",
    "窓口体験調査",
    "実証実験の調整",
    "ワークショップ",
]
LOCATIONS = ["市役所", "公民館", "但東支所", "オンライン", "町役場", "集会所", ""]
LONG_TERMS = [
    "住民合意形成",
    "ドローン配送",
    "窓口体験調査",
    "スマート農業",
    "データ利活用",
    "ケアマネージャー",
]
SHORT_TERMS = ["農業", "窓口", "町", "DX", "配送", "研修"]


@dataclass
class Figure:
    """One line of the report."""

    name: str
    value: float
    baseline: float
    ratio: float
    target: float
    unit: str
    note: str = ""
    """What the baseline is made of, when it is more than one job (printed under the line)."""

    @property
    def ok(self) -> bool:
        """True when the ratio meets its target."""
        return self.ratio <= self.target


def figure(
    name: str, value: float, baseline: float, target: float, unit: str = "s", note: str = ""
) -> Figure:
    """A measurement with its ratio to the baseline."""
    return Figure(
        name, value, baseline, value / baseline if baseline else float("inf"), target, unit, note
    )


def _sentences() -> list[str]:
    text = resources.files("dxfield.demo").joinpath("hyogo-regional-dx-r6.txt").read_text("utf-8")
    pieces = [s.strip(" -|\n") + "。" for s in text.replace("\n", "").split("。")]
    return [p for p in pieces if len(p) > 12]


def synthetic_activities(count: int, seed: int = 20241031) -> list[dict[str, Any]]:
    """`count` activities with Japanese notes built from the source document's sentences."""
    return list(iter_synthetic_activities(count, seed))


def iter_synthetic_activities(count: int, seed: int = 20241031) -> Iterator[dict[str, Any]]:
    """`synthetic_activities` one at a time (a million of them fit in little memory)."""
    rng = random.Random(seed)
    sentences = _sentences()
    start = dt.date(2024, 4, 1)
    for index in range(count):
        notes = "".join(rng.sample(sentences, rng.randint(1, 4)))
        yield (
            {
                "municipality_id": municipality_id(rng.choice(MUNICIPALITY_CODES)),
                "kind": rng.choice(KINDS),
                "title": f"{rng.choice(TITLES)} 第{index % 97 + 1}回",
                "date": (start + dt.timedelta(days=rng.randint(0, 364))).isoformat(),
                "location": rng.choice(LOCATIONS),
                "notes": notes,
                "areas": rng.sample(["vision", "talent", "implementation"], rng.randint(0, 2)),
            }
        )


def timed(action: Callable[[], object]) -> float:
    """Seconds one call takes."""
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def bulk_load(store: Store, activities: list[dict[str, Any]]) -> None:
    """Set-up only: N activities through the store's bulk path (validate every record, then
    executemany revisions, rows, index). It passes municipality ids straight in, a shortcut no
    user's path takes: no figure measures it (`tables` measures `import-table`)."""
    validated = [(new_id(), records.validate("activity", a)) for a in activities]
    with store.unit() as unit:
        revisions.bulk_create(unit, "activity", validated, device_id=store.device.id)


def raw_load(path: Path, rows: dict[str, tuple[str, list[tuple[Any, ...]]]]) -> None:
    """The baseline: plain sqlite3 executemany of prepared rows, one transaction, same pragmas;
    then the full-text index of the `search_text` rows it wrote, by the one statement the store
    uses since migration 0004 (which dropped the per-row trigger: without this step the baseline
    left the index empty, work every import of the store does)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("BEGIN IMMEDIATE")
    before = conn.execute("SELECT coalesce(max(rowid), 0) FROM search_text").fetchone()[0]
    for statement, values in rows.values():
        conn.executemany(statement, values)
    if "search_text" in rows:
        conn.execute(
            "INSERT INTO search_fts(rowid, body) SELECT rowid, body FROM search_text WHERE rowid > ?",
            (before,),
        )
    conn.execute("COMMIT")
    conn.close()


def measure_search(
    store: Store, terms: list[str], name: str, target: float, repeats: int
) -> Figure:
    """Median of search_ids over terms vs the median of a LIKE scan of the same terms."""
    ours: list[float] = []
    like: list[float] = []
    scan = (
        "SELECT id FROM activity WHERE deleted = 0 AND "
        "(title LIKE ? OR notes LIKE ? OR location LIKE ?)"
    )
    raw = sqlite3.connect(store.path)
    with store.read() as conn:
        for _ in range(repeats):
            for term in terms:
                ours.append(timed(lambda t=term: search_ids(conn, t)))  # type: ignore[misc]
                pattern = f"%{term}%"
                like.append(timed(lambda p=pattern: raw.execute(scan, (p, p, p)).fetchall()))  # type: ignore[misc]
    raw.close()
    return figure(name, statistics.median(ours), statistics.median(like), target)


def measure_cli_help(repeats: int) -> Figure:
    """`dxfield --help` vs `python -c "import typer"`, medians of whole-process wall times."""

    def run(*args: str) -> float:
        return timed(
            lambda: subprocess.run([sys.executable, *args], check=True, capture_output=True)
        )

    run("-m", "dxfield", "--help")  # warm the bytecode cache once
    ours = [run("-m", "dxfield", "--help") for _ in range(repeats)]
    base = [run("-c", "import typer") for _ in range(repeats)]
    return figure("cli_help", statistics.median(ours), statistics.median(base), 1.5)


HELLO_TYPER = """
import typer

app = typer.Typer()


@app.command()
def hello(name: str = "world") -> None:
    \"\"\"Say hello.\"\"\"
    print(f"hello {name}")


app()
"""


def measure_cli_help_ja(repeats: int, tmp: Path) -> Figure:
    """`dxfield --help` in Japanese vs a hello-world Typer app's `--help`, medians of
    whole-process wall times, both under a Japanese locale."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DXFIELD_LANG", "LC_ALL", "LANGUAGE")}
    env.update(LANG="ja_JP.UTF-8", DXFIELD_CONFIG_DIR=str(tmp / "config"))

    def run(*args: str) -> float:
        return timed(
            lambda: subprocess.run(
                [sys.executable, *args], check=True, capture_output=True, env=env
            )
        )

    run("-m", "dxfield", "--help")  # warm the bytecode cache once
    run("-c", HELLO_TYPER, "--help")
    ours = [run("-m", "dxfield", "--help") for _ in range(repeats)]
    base = [run("-c", HELLO_TYPER, "--help") for _ in range(repeats)]
    return figure("cli_help_ja", statistics.median(ours), statistics.median(base), 1.5)


def main() -> int:
    """Run the suite and print (and optionally write) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000, help="synthetic activities")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--repeats", type=int, default=5, help="repeats per timing")
    parser.add_argument(
        "--only",
        choices=["tables", "store", "verbs", "cli", "tui", "sync", "report", "hub", "hub-tables"],
        help="run only one part",
    )
    args = parser.parse_args()

    figures: list[Figure] = []
    setup: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dxfield-bench-") as tmp:
        # The store of N activities the search, verbs, app and report parts read: the one a
        # user's `import-table` filled when the tables part ran, else one set up quickly
        # through the store's bulk path (set-up, not a figure).
        built: Path | None = None
        if args.only in (None, "tables"):
            import tables

            found, built = tables.measure_tables(Path(tmp), args.records)
            figures.extend(found)
            setup.append("the store read below: filled by import-table (tables)")
        if args.only in (None, "store"):
            if built is None:
                built = Path(tmp) / "store"
                with Store.open(built) as store:
                    bulk_load(store, synthetic_activities(args.records))
                setup.append("the store read below: set up by the bulk path, not a figure")
            with Store.open(built) as store:
                figures.append(measure_search(store, LONG_TERMS, "search_long", 0.25, args.repeats))
                figures.append(
                    measure_search(store, SHORT_TERMS, "search_short", 1.5, args.repeats)
                )
        if args.only in (None, "verbs"):
            import verbs

            figures.extend(verbs.measure_verbs(Path(tmp), args.records, args.repeats, built))
        if args.only in (None, "cli"):
            figures.append(measure_cli_help(args.repeats * 3))
            figures.append(measure_cli_help_ja(args.repeats * 3, Path(tmp)))
        if args.only in (None, "tui"):
            figures.extend(tui.measure_tui(Path(tmp), args.records, args.repeats, built))
        if args.only in (None, "sync"):
            import sync

            figures.extend(sync.measure_sync(Path(tmp), args.records))
            figures.extend(sync.measure_blob_sync(Path(tmp)))
        if args.only in (None, "report"):
            import report

            figures.extend(report.measure_report(Path(tmp), args.records, built))
        if args.only in (None, "hub"):
            import hub

            figures.extend(hub.measure_hub(Path(tmp), args.records, args.repeats))
        if args.only in (None, "hub-tables"):
            import hub_tables

            figures.extend(hub_tables.measure_hub_tables(Path(tmp), args.records, args.repeats))

    if args.only != "cli":
        print(f"records: {args.records}")
    for line in setup:
        print(f"set-up: {line}")
    for f in figures:
        mark = "ok " if f.ok else "MISS"
        print(
            f"{mark} {f.name:<22} {f.value:10.4f}{f.unit} vs {f.baseline:10.4f}{f.unit}  "
            f"ratio {f.ratio:6.3f} (target <= {f.target})"
        )
        if f.note:
            print(f"     {'':<22} baseline: {f.note}")
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in figures], indent=2) + "\n")
    return 0 if all(f.ok for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
