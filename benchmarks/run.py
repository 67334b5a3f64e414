"""dxfield's performance suite: each figure is a ratio against a baseline measured in the same run.

    uv run python benchmarks/run.py [--records N] [--json FILE]

Machines here are shared and noisy, so nothing is an absolute time: every measurement is paired
with a baseline doing the same job the plainest way, on the same data, in the same process run.

- bulk_load: N synthetic activities through the store's bulk path (validation, revisions,
  materialized rows, search index) vs raw `sqlite3.executemany` of the same rows into the same
  schema (triggers and indexes included). Target <= 2.5.
- search_long / search_short: the median time of `search_ids` for terms of 3+ characters (FTS5
  trigram) and of 1-2 characters (normalized scan) vs a LIKE scan of the activity table's title,
  notes and location. Targets <= 0.25 and <= 1.5.
- cli_help: wall time of `dxfield --help` vs `python -c "import typer"`. Target <= 1.5.
- cli_help_ja: wall time of `dxfield --help` under `LANG=ja_JP.UTF-8` (the catalogue loaded and
  every help translated) vs a hello-world Typer app's `--help`, same environment. Target <= 1.5.
- sync_import, sync_reimport, sync_export, sync_size: bundles, `dxfield export` and `dxfield
  import` as processes on real files; the import's baseline is executemany of the same rows plus
  PyNaCl verifying as many signatures (see `benchmarks/sync.py`).
- report_md, report_html: the prefecture's report vs a CSV of the same activities (see
  `benchmarks/report.py`).
- hub_import, hub_search_long, hub_search_short, hub_report: the prefecture's hub on
  PostgreSQL, in a throwaway cluster the section starts and removes (see `benchmarks/hub.py`).
- tui_start, tui_start_floor, tui_first_paint, tui_scroll, tui_loop_gap, tui_memory: the app's
  figures, measured in subprocesses driving it headless (see `benchmarks/tui.py`). The store
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
from collections.abc import Callable
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
from dxfield.store.search_index import body_for

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
    rng = random.Random(seed)
    sentences = _sentences()
    start = dt.date(2024, 4, 1)
    out = []
    for index in range(count):
        notes = "".join(rng.sample(sentences, rng.randint(1, 4)))
        out.append(
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
    return out


def timed(action: Callable[[], object]) -> float:
    """Seconds one call takes."""
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def bulk_load(store: Store, activities: list[dict[str, Any]]) -> None:
    """The store's bulk path: validate every record, then executemany revisions, rows, index."""
    validated = [(new_id(), records.validate("activity", a)) for a in activities]
    with store.unit() as unit:
        revisions.bulk_create(unit, "activity", validated, device_id=store.device.id)


def raw_rows(activities: list[dict[str, Any]]) -> dict[str, tuple[str, list[tuple[Any, ...]]]]:
    """The same rows the bulk path writes, prepared ahead, as plain INSERT statements."""
    now = dt.datetime.now(dt.UTC).isoformat()
    revision_rows, activity_rows, search_rows = [], [], []
    for index, activity in enumerate(activities):
        record_id = new_id()
        content = records.validate("activity", activity)
        data = {"created_at": now, **content}
        hlc = f"{index:013d}-000000"
        rev = f"1-{index:032x}"
        revision_rows.append(
            (
                rev,
                "activity",
                record_id,
                1,
                "[]",
                hlc,
                "device",
                0,
                json.dumps(data, ensure_ascii=False),
                1,
                0,
            )
        )
        activity_rows.append(
            (
                record_id,
                rev,
                hlc,
                "device",
                0,
                now,
                content["initiative_id"],
                content["municipality_id"],
                content["kind"],
                content["title"],
                content["date"],
                content["date_precision"],
                None,
                None,
                content["location"],
                json.dumps(content["participants"], ensure_ascii=False),
                content["notes"],
                json.dumps(content["areas"]),
                "[]",
                0,
            )
        )
        search_rows.append(("activity", record_id, body_for("activity", data)))
    return {
        "revision": (
            "INSERT INTO revision (rev_id, entity, entity_id, generation, parents, hlc, "
            "device_id, deleted, data, leaf, clock_skew) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            revision_rows,
        ),
        "activity": (
            "INSERT INTO activity (id, rev, hlc, device_id, deleted, created_at, initiative_id, "
            "municipality_id, kind, title, date, date_precision, start_time, end_time, location, "
            "participants, notes, areas, tags, follow_up) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            activity_rows,
        ),
        "search_text": (
            "INSERT INTO search_text (entity, entity_id, body) VALUES (?,?,?)",
            search_rows,
        ),
    }


def raw_load(path: Path, rows: dict[str, tuple[str, list[tuple[Any, ...]]]]) -> None:
    """The baseline: plain sqlite3 executemany of prepared rows, one transaction, same pragmas."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("BEGIN IMMEDIATE")
    for statement, values in rows.values():
        conn.executemany(statement, values)
    conn.execute("COMMIT")
    conn.close()


def measure_bulk_load(workdir: Path, activities: list[dict[str, Any]]) -> tuple[Figure, Store]:
    """Bulk load vs raw executemany, each into a fresh store of the same schema."""
    baseline_store = Store.open(workdir / "baseline")
    baseline_path = baseline_store.path
    baseline_store.close()
    rows = raw_rows(activities)
    baseline = timed(lambda: raw_load(baseline_path, rows))
    store = Store.open(workdir / "bulk")
    value = timed(lambda: bulk_load(store, activities))
    return figure("bulk_load", value, baseline, 2.5), store


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
        choices=["store", "cli", "tui", "sync", "report", "hub"],
        help="run only one part",
    )
    args = parser.parse_args()

    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="dxfield-bench-") as tmp:
        built: Path | None = None  # the store part's store of N activities, for the app's part
        if args.only in (None, "store"):
            activities = synthetic_activities(args.records)
            bulk, store = measure_bulk_load(Path(tmp), activities)
            figures.append(bulk)
            with store:
                figures.append(measure_search(store, LONG_TERMS, "search_long", 0.25, args.repeats))
                figures.append(
                    measure_search(store, SHORT_TERMS, "search_short", 1.5, args.repeats)
                )
            built = store.path.parent
            del activities
        if args.only in (None, "cli"):
            figures.append(measure_cli_help(args.repeats * 3))
            figures.append(measure_cli_help_ja(args.repeats * 3, Path(tmp)))
        if args.only in (None, "tui"):
            figures.extend(tui.measure_tui(Path(tmp), args.records, args.repeats, built))
        if args.only in (None, "sync"):
            import sync

            figures.extend(sync.measure_sync(Path(tmp), args.records))
        if args.only in (None, "report"):
            import report

            figures.extend(report.measure_report(Path(tmp), args.records, built))
        if args.only in (None, "hub"):
            import hub

            figures.extend(hub.measure_hub(Path(tmp), args.records, args.repeats))

    if args.only != "cli":
        print(f"records: {args.records}")
    for f in figures:
        mark = "ok " if f.ok else "MISS"
        print(
            f"{mark} {f.name:<16} {f.value:10.4f}{f.unit} vs {f.baseline:10.4f}{f.unit}  "
            f"ratio {f.ratio:6.3f} (target <= {f.target})"
        )
        if f.note:
            print(f"     {'':<16} baseline: {f.note}")
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in figures], indent=2) + "\n")
    return 0 if all(f.ok for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
