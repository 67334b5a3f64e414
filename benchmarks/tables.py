"""Tables in and out, as a person runs them, for dxfield's performance suite
(`benchmarks/run.py --only tables`).

Every job here is a process on real files, dxfield's and its baseline's alike: the CLI
(`sys.executable -m dxfield`), `sqlite-utils`, or a small Python script. Each is started from a
tiny launcher (`LAUNCHER`) that times it from its start to its exit and reads its own resource
use from `os.wait4`: its CPU time and its peak memory (maximum resident set). Linux counts in a
child's peak the memory of the process it was forked from, so the suite's own process (large
after making N rows) must not be the one measured processes are forked from: the launcher is.

The file is a CSV of N activities as a person's table has them (UTF-8 with a BOM, as Excel
writes "CSV UTF-8"): date, municipality_code, kind, title, location, areas, notes, one row per
`run.synthetic_activities` record, the English keys as headers. A store is "fresh" when `dxfield
init` has just made it (reference data only). Figures (wall times; each note gives both sides'
CPU seconds and peak memory):

- import_table_csv: `dxfield --data-dir FRESH import-table FILE.csv` vs `sqlite-utils insert DB
  activities FILE.csv --csv` of the same file into a plain table of a new database. Target <= 1.
- import_table_rss: the import's peak memory, in MB, against a fixed limit of 150 MB (the
  "baseline" is that limit, not a measurement: the ratio is the share of it used). Target <= 1.
- import_table_own: the same import vs a Python script (a process) that reads the same CSV
  through `csv.reader` and inserts, with `executemany` in one transaction (WAL, synchronous
  FULL, as the store), the rows the import wrote (its revisions with their signatures, the
  activity rows, the search rows, read back from the imported store beforehand and handed to
  the script as pickled batches) into another fresh store: dxfield's own schema, its indexes
  and its search index's triggers. Target <= 1.5. Its note gives the check alone too:
  `import-table --dry-run` of the same file into another fresh store, which reads and checks
  every row and writes nothing. The import checks every row before it takes the write lock
  (issue 17), so (check + baseline) / baseline is what an import would reach that wrote at
  exactly the baseline's pace after its check.
- import_table_flat: the import's peak memory at N vs at N/10 (another fresh store, the first
  N/10 rows of the same table). Target <= 1.2.
- export_table_csv: `dxfield --data-dir IMPORTED export-table --out F.csv` vs a script using
  `sqlite3` and `csv.writer` writing the same columns (ACTIVITY_COLUMNS: the municipality's
  name and code, areas, tags and participants as text) of the same activities in the same order
  to a file of its own. Medians of EXPORT_RUNS interleaved runs (one at a million). Target <= 2.
- export_table_rss: the CSV export's peak memory in MB against a fixed limit of 100 MB.
  Target <= 1.
- export_table_flat: the CSV export's peak memory at N vs at N/10. Target <= 1.2.
- export_table_xlsx: `dxfield export-table --format xlsx --what activities --out F.xlsx` vs a
  script writing the same cells (dates as dates) with openpyxl's write-only workbook. Medians as
  above. Target <= 1.3.

Before anything is timed, each program runs once on a small table with bytecode writing on
(`sync._cli_env`), so every measured run starts from compiled bytecode as on a person's machine.

    uv run python benchmarks/tables.py N     # this section alone, its figures as JSON
    uv run python benchmarks/run.py --records 1000000 --only tables   # the million
"""

from __future__ import annotations

import csv
import filecmp
import json
import pickle
import sqlite3
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from dxfield.store.reference import municipality_id
from run import MUNICIPALITY_CODES, Figure, figure, iter_synthetic_activities
from sync import _cli_env

MB = 1 << 20
IMPORT_PEAK_LIMIT = 150 * MB
EXPORT_PEAK_LIMIT = 100 * MB
EXPORT_RUNS = 3
TIMEOUT = 4 * 3600.0
"""Seconds one measured process may take (a million rows take many minutes today)."""

CSV_HEADERS = ["date", "municipality_code", "kind", "title", "location", "areas", "notes"]

LAUNCHER = """
import json, os, subprocess, sys, time
began = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - began
unit = 1 if sys.platform == "darwin" else 1024
code = os.waitstatus_to_exitcode(status)
with open(sys.argv[1], "w") as out:
    json.dump({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
               "peak": usage.ru_maxrss * unit, "code": code}, out)
sys.exit(code)
"""
"""Runs a command; writes its wall time, CPU time (user + system) and peak memory (bytes) as
JSON to a file. The command is forked from this small process, not from the suite's."""


@dataclass(frozen=True)
class Ran:
    """One measured process."""

    wall: float
    cpu: float
    """User + system seconds of the process (and of any it waited for)."""
    peak: int
    """Bytes: the process's maximum resident set size."""
    out: str


def measured(command: list[str], env: dict[str, str], logs: Path) -> Ran:
    """`command` as a process started from `LAUNCHER`, its output and its resource use; an
    error if it fails."""
    logs.mkdir(parents=True, exist_ok=True)
    usage_path = logs / "usage.json"
    usage_path.unlink(missing_ok=True)
    result = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(usage_path), *command],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=TIMEOUT,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}{result.stdout}")
    usage = json.loads(usage_path.read_text("utf-8"))
    return Ran(usage["wall"], usage["cpu"], usage["peak"], result.stdout)


def dxfield(data_dir: Path, *args: str) -> list[str]:
    """The command line of `dxfield --data-dir DATA_DIR ARGS...`."""
    return [sys.executable, "-m", "dxfield", "--data-dir", str(data_dir), *args]


def init_store(env: dict[str, str], data_dir: Path) -> Path:
    """A fresh store made by `dxfield init` as a person makes one (untimed); its database file."""
    subprocess.run(
        dxfield(data_dir, "init", "--device-name", "bench"),
        capture_output=True,
        env=env,
        check=True,
    )
    return data_dir / "dxfield.sqlite3"


def write_csv(path: Path, count: int) -> None:
    """A person's table of `count` activities (streamed: a million rows fit in little memory)."""
    codes = {municipality_id(code): code for code in MUNICIPALITY_CODES}
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(CSV_HEADERS)
        for a in iter_synthetic_activities(count):
            writer.writerow(
                [
                    a["date"],
                    codes[a["municipality_id"]],
                    a["kind"],
                    a["title"],
                    a["location"],
                    " ".join(a["areas"]),
                    a["notes"],
                ]
            )


def _mb(peak: float) -> str:
    return f"{peak / MB:.0f} MB"


def _both(ours: Ran, theirs: Ran) -> str:
    """Both sides' CPU seconds and peak memory, for a figure's note."""
    ratio = ours.cpu / theirs.cpu if theirs.cpu else float("inf")
    return (
        f"CPU {ours.cpu:.3f}s vs {theirs.cpu:.3f}s (ratio {ratio:.3f}); "
        f"peak {_mb(ours.peak)} vs {_mb(theirs.peak)}"
    )


def median_run(runs: list[Ran]) -> Ran:
    """The run of median wall time (its CPU and peak with it)."""
    return sorted(runs, key=lambda r: r.wall)[len(runs) // 2]


# --- import_table_own's baseline -------------------------------------------------------------

# What an import of activities writes, read back (the integer key of search_text is the
# database's to give, as it is when dxfield inserts).
_WRITTEN = {
    "revision": "entity = 'activity'",
    "activity": "1",
    "search_text": "entity = 'activity'",
}
_BATCH = 5000

OWN_BASELINE = """
import csv, pickle, sqlite3, sys
table, rows_path, database = sys.argv[1:4]
with open(table, encoding="utf-8-sig", newline="") as handle:
    count = sum(1 for _ in csv.reader(handle)) - 1
conn = sqlite3.connect(database, isolation_level=None)
conn.execute("PRAGMA journal_mode = WAL")
conn.execute("PRAGMA synchronous = FULL")
conn.execute("BEGIN IMMEDIATE")
before = conn.execute("SELECT coalesce(max(rowid), 0) FROM search_text").fetchone()[0]
with open(rows_path, "rb") as handle:
    while True:
        try:
            statement, rows = pickle.load(handle)
        except EOFError:
            break
        conn.executemany(statement, rows)
# The full-text index, as the store fills it since migration 0004: one statement for the rows.
conn.execute(
    "INSERT INTO search_fts(rowid, body) SELECT rowid, body FROM search_text WHERE rowid > ?",
    (before,),
)
conn.execute("COMMIT")
conn.close()
print(count)
"""
"""import_table_own's baseline: reads the table, then inserts the prepared rows."""


def dump_written(database: Path, out: Path) -> int:
    """The rows an import wrote, read back from its store as INSERT statements with batches of
    values, pickled one batch after another (the baseline reads them so, in little memory);
    how many activity rows."""
    conn = sqlite3.connect(database)
    activities = 0
    with out.open("wb") as handle:
        for table, where in _WRITTEN.items():
            columns = [
                row[1]
                for row in conn.execute(f"PRAGMA table_info({table})")
                if not (row[1] == "rowid" and row[5])
            ]
            statement = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            cursor = conn.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {where}")
            while batch := cursor.fetchmany(_BATCH):
                pickle.dump((statement, batch), handle, protocol=pickle.HIGHEST_PROTOCOL)
                activities += len(batch) if table == "activity" else 0
    conn.close()
    return activities


# --- the exports' baselines ------------------------------------------------------------------

_EXPORT_COMMON = """
import json, sqlite3, sys
database, out = sys.argv[1:3]
HEADERS = [
    "date", "date_precision", "municipality", "municipality_code", "initiative", "kind",
    "title", "location", "areas", "tags", "participants", "head_count", "participants_text",
    "notes", "follow_up", "id",
]
conn = sqlite3.connect(database)
names = dict(conn.execute("SELECT id, name FROM organization WHERE deleted = 0"))
codes = dict(conn.execute("SELECT id, code FROM organization WHERE deleted = 0"))
QUERY = (
    "SELECT date, date_precision, municipality_id, initiative_id, kind, title, location, "
    "areas, tags, participants, notes, follow_up, id FROM activity WHERE deleted = 0 "
    "ORDER BY date, id"
)


def rows():
    for (date, precision, place, initiative, kind, title, location, areas, tags,
         participants, notes, follow_up, id_) in conn.execute(QUERY):
        people = json.loads(participants)
        count = people.get("head_count")
        yield [
            date, precision, names.get(place, place or ""), codes.get(place) or "",
            initiative or "", kind, title, location or "", " ".join(json.loads(areas)),
            " ".join(json.loads(tags)),
            "; ".join(names.get(i, i) for i in people.get("organization_ids", [])),
            "" if count is None else count, "", notes, "yes" if follow_up else "", id_,
        ]
"""

CSV_BASELINE = (
    _EXPORT_COMMON
    + """
import csv
with open(out, "w", encoding="utf-8-sig", newline="") as handle:
    writer = csv.writer(handle, lineterminator="\\r\\n")
    writer.writerow(HEADERS)
    writer.writerows(rows())
"""
)
"""export_table_csv's baseline: sqlite3 and csv.writer, the same columns."""

XLSX_BASELINE = (
    _EXPORT_COMMON
    + """
import datetime as dt
from openpyxl import Workbook
workbook = Workbook(write_only=True)
sheet = workbook.create_sheet("activities")
sheet.append(HEADERS)
for row in rows():
    row[0] = dt.date.fromisoformat(row[0])
    sheet.append(row)
workbook.save(out)
"""
)
"""export_table_xlsx's baseline: the same cells through openpyxl's write-only workbook."""


# --- the section -----------------------------------------------------------------------------


def _head(source: Path, out: Path, rows: int) -> None:
    """The header and the first `rows` lines of a table (its rows are one line each)."""
    with source.open("rb") as handle, out.open("wb") as written:
        written.writelines(islice(handle, rows + 1))


def _imported(ran: Ran, count: int) -> Ran:
    expected = f"imported {count} activit"
    if expected not in ran.out:
        raise RuntimeError(f"import-table did not import {count} rows: {ran.out}")
    return ran


def _exported(ran: Ran, count: int) -> Ran:
    if f"activities {count}" not in ran.out:
        raise RuntimeError(f"export-table did not write {count} rows: {ran.out}")
    return ran


def _count(database: Path, table: str) -> int:
    conn = sqlite3.connect(database)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def _indexed(database: Path) -> int:
    """How many rows the full-text index finds for a common term, once the index is checked
    against its content (so the baseline built the index, not only its content table)."""
    conn = sqlite3.connect(database)
    try:
        # With rank 1, the index is checked against its content table: a row not indexed fails.
        conn.execute("INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)")
        found = conn.execute(
            """SELECT count(*) FROM search_fts WHERE search_fts MATCH '"取り組"'"""
        )
        return int(found.fetchone()[0])
    finally:
        conn.close()


def _warm(env: dict[str, str], workdir: Path, table: Path) -> None:
    """Each program once on a small table, bytecode written: later runs start compiled."""
    sample = workdir / "warm.csv"
    _head(table, sample, 20)
    store = workdir / "warm-store"
    database = init_store(env, store)
    logs = workdir / "logs"
    measured(dxfield(store, "import-table", str(sample)), env, logs)
    measured(sqlite_utils(workdir / "warm-plain.db", sample), env, logs)
    measured(dxfield(store, "export-table", "--out", str(workdir / "w.csv")), env, logs)
    xlsx = ("--format", "xlsx", "--what", "activities", "--out", str(workdir / "w.xlsx"))
    measured(dxfield(store, "export-table", *xlsx), env, logs)
    measured(baseline(CSV_BASELINE, database, workdir / "w-base.csv"), env, logs)
    measured(baseline(XLSX_BASELINE, database, workdir / "w-base.xlsx"), env, logs)


def sqlite_utils(database: Path, table: Path) -> list[str]:
    """`sqlite-utils insert DATABASE activities TABLE --csv` (sqlite-utils installed beside
    dxfield, run by the same interpreter)."""
    return [
        sys.executable, "-m", "sqlite_utils", "insert", str(database), "activities", str(table),
        "--csv",
    ]  # fmt: skip


def baseline(script: str, *args: Path | str) -> list[str]:
    """A baseline script as a process."""
    return [sys.executable, "-c", script, *map(str, args)]


def _export_runs(
    env: dict[str, str], logs: Path, runs: int, pairs: Iterable[tuple[list[str], list[str]]]
) -> list[tuple[list[Ran], list[Ran]]]:
    """Each pair of commands (ours, the baseline) `runs` times, interleaved."""
    out: list[tuple[list[Ran], list[Ran]]] = []
    for ours, theirs in pairs:
        mine: list[Ran] = []
        base: list[Ran] = []
        for _ in range(runs):
            mine.append(measured(ours, env, logs))
            base.append(measured(theirs, env, logs))
        out.append((mine, base))
    return out


def measure_tables(workdir: Path, records: int) -> tuple[list[Figure], Path]:
    """The tables section's figures over `records` activities; the folder of the store that
    `import-table` filled (a store of `records` activities the other sections may reuse)."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = _cli_env(workdir)
    logs = workdir / "logs"
    tenth = max(records // 10, 1)
    table, small = workdir / "activities.csv", workdir / "activities-tenth.csv"
    write_csv(table, records)
    _head(table, small, tenth)
    _warm(env, workdir, table)

    # The imports: ours at N/10 (memory only) and at N; sqlite-utils; executemany of our rows.
    small_store, store = workdir / "tables-tenth", workdir / "tables-store"
    init_store(env, small_store)
    database = init_store(env, store)
    ours_small = _imported(
        measured(dxfield(small_store, "import-table", str(small)), env, logs), tenth
    )
    ours = _imported(measured(dxfield(store, "import-table", str(table)), env, logs), records)
    plain = measured(sqlite_utils(workdir / "plain.db", table), env, logs)
    assert _count(workdir / "plain.db", "activities") == records
    rows = workdir / "written.pickle"
    assert dump_written(database, rows) == records
    own_database = init_store(env, workdir / "tables-own")
    own = measured(baseline(OWN_BASELINE, table, rows, own_database), env, logs)
    rows.unlink()
    assert _count(own_database, "activity") == records
    assert _indexed(own_database) == _indexed(database)
    # The check alone: what the import does before it may write.
    dry_store = workdir / "tables-dry"
    init_store(env, dry_store)
    checked = measured(dxfield(dry_store, "import-table", "--dry-run", str(table)), env, logs)
    assert f"{records} rows, all valid" in checked.out, checked.out

    # The exports, from the store the import filled (and the small one, for memory).
    runs = EXPORT_RUNS if records <= 100_000 else 1
    out = workdir / "out"
    out.mkdir(exist_ok=True)
    xlsx = ("--format", "xlsx", "--what", "activities")
    (csv_runs, xlsx_runs) = _export_runs(
        env,
        logs,
        runs,
        [
            (
                dxfield(store, "export-table", "--out", str(out / "a.csv")),
                baseline(CSV_BASELINE, database, out / "base.csv"),
            ),
            (
                dxfield(store, "export-table", *xlsx, "--out", str(out / "a.xlsx")),
                baseline(XLSX_BASELINE, database, out / "base.xlsx"),
            ),
        ],
    )
    for ran in (*csv_runs[0], *xlsx_runs[0]):
        _exported(ran, records)
    small_export = _exported(
        measured(dxfield(small_store, "export-table", "--out", str(out / "s.csv")), env, logs),
        tenth,
    )
    # The baseline did the same job: the same bytes.
    assert filecmp.cmp(out / "a.csv", out / "base.csv", shallow=False), "the CSVs differ"
    export_csv, base_csv = median_run(csv_runs[0]), median_run(csv_runs[1])
    export_xlsx, base_xlsx = median_run(xlsx_runs[0]), median_run(xlsx_runs[1])
    peak_csv = max(r.peak for r in csv_runs[0])

    return [
        figure("import_table_csv", ours.wall, plain.wall, 1.0, note=_both(ours, plain)),
        figure(
            "import_table_rss",
            ours.peak / MB,
            IMPORT_PEAK_LIMIT / MB,
            1.0,
            "MB",
            note=f"a fixed limit, not a measurement (sqlite-utils: {_mb(plain.peak)})",
        ),
        figure(
            "import_table_own",
            ours.wall,
            own.wall,
            1.5,
            note=(
                f"csv.reader + executemany of the rows it wrote; {_both(ours, own)}; "
                f"the check alone (--dry-run) {checked.wall:.2f}s: checked first, then written "
                f"at the baseline's pace, {(checked.wall + own.wall) / own.wall:.3f}"
            ),
        ),
        figure(
            "import_table_flat",
            ours.peak / MB,
            ours_small.peak / MB,
            1.2,
            "MB",
            note=f"the same import of {tenth} rows",
        ),
        figure(
            "export_table_csv",
            export_csv.wall,
            base_csv.wall,
            2.0,
            note=_both(export_csv, base_csv),
        ),
        figure(
            "export_table_rss",
            peak_csv / MB,
            EXPORT_PEAK_LIMIT / MB,
            1.0,
            "MB",
            note=f"a fixed limit, not a measurement (sqlite3 + csv.writer: {_mb(base_csv.peak)})",
        ),
        figure(
            "export_table_flat",
            peak_csv / MB,
            small_export.peak / MB,
            1.2,
            "MB",
            note=f"the same export of {tenth} rows",
        ),
        figure(
            "export_table_xlsx",
            export_xlsx.wall,
            base_xlsx.wall,
            1.3,
            note=_both(export_xlsx, base_xlsx),
        ),
    ], store


def main() -> None:  # pragma: no cover - a convenience: `python benchmarks/tables.py N`
    """Run the section alone and print its figures as JSON."""
    import tempfile
    from dataclasses import asdict

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory(prefix="dxfield-bench-tables-") as tmp:
        figures, _ = measure_tables(Path(tmp), count)
        print(json.dumps([asdict(f) for f in figures], indent=2))


if __name__ == "__main__":
    main()
