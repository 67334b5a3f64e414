"""Tables and verbs on the prefecture's hub (PostgreSQL), for dxfield's performance suite
(`benchmarks/run.py --only hub-tables`).

The same jobs as the tables and verbs sections (`benchmarks/tables.py`, `benchmarks/verbs.py`),
where the verb exists on the hub, run as a person runs them there: `dxfield --data-dir HUB
--database URL ...` as a process, started from the tables section's launcher (wall and CPU time,
peak memory), in a throwaway cluster (`benchmarks/hub.py`'s, removed at the end whatever
happens). The hub is set up with `dxfield init --role hub`. There, `COPY` is the baseline for
bulk writes:

- hub_import_table: `import-table FILE.csv` of the tables section's CSV of N activities into a
  fresh hub vs psycopg's `COPY ... FROM STDIN` of the rows it wrote (its revisions, activity
  rows and search rows, read back) into a second fresh hub's tables (same schema, indexes and
  trigram index), one transaction, as a process. Target <= 1.5 (the SQLite import's target
  against executemany into its own schema). The note gives the peak memory.
- hub_export_table_csv: `export-table --out F.csv` vs a script reading the same columns with
  psycopg (a server-side cursor) and writing them with `csv.writer`; the same bytes. Medians of
  three interleaved runs. Target <= 2.
- hub_verb_activity_list, hub_verb_search_json: CPU time of `activity list --limit 10` and
  `search 農業 --json` on the hub vs the hello-world Typer app, compiled bytecode, medians.
  Target <= 2.2. Both read the hub through psycopg alone (store/light.py), and psycopg's own
  import is most of what they cost over the laptop's verbs: the note gives, from the same runs,
  the hello-world app importing psycopg too (`import psycopg` first), the floor of any verb that
  reads a hub.
"""

from __future__ import annotations

import filecmp
import os
import statistics
import sys
import time
from pathlib import Path

import hub
from run import HELLO_TYPER, Figure, figure
from sync import _cli_env
from tables import MB, Ran, baseline, dxfield, measured, median_run, write_csv
from verbs import VERBS

EXPORT_RUNS = 3

COPY_BASELINE = """
import pickle, sys
import psycopg
url, rows_path = sys.argv[1:3]
with open(rows_path, "rb") as handle:
    data = pickle.load(handle)
with psycopg.connect(url) as conn, conn.cursor() as cur:
    for table, columns in data["columns"].items():
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            copy.write(data["rows"][table])
    conn.commit()
"""
"""hub_import_table's baseline: COPY of the rows the import wrote, one transaction."""

CSV_BASELINE = """
import csv, datetime as dt, json, sys
import psycopg
url, out = sys.argv[1:3]
HEADERS = [
    "date", "date_precision", "municipality", "municipality_code", "initiative", "kind",
    "title", "location", "areas", "tags", "participants", "head_count", "participants_text",
    "notes", "follow_up", "id",
]
QUERY = (
    "SELECT date, date_precision, municipality_id, initiative_id, kind, title, location, "
    "areas, tags, participants, notes, follow_up, id FROM activity WHERE NOT deleted "
    "ORDER BY date, id"
)


def loaded(value):
    return json.loads(value) if isinstance(value, str) else value


with psycopg.connect(url) as conn:
    names = dict(conn.execute("SELECT id, name FROM organization WHERE NOT deleted"))
    codes = dict(conn.execute("SELECT id, code FROM organization WHERE NOT deleted"))
    with conn.cursor(name="export") as cursor, open(
        out, "w", encoding="utf-8-sig", newline=""
    ) as handle:
        cursor.itersize = 5000
        cursor.execute(QUERY)
        writer = csv.writer(handle, lineterminator="\\r\\n")
        writer.writerow(HEADERS)
        for (date, precision, place, initiative, kind, title, location, areas, tags,
             participants, notes, follow_up, id_) in cursor:
            people = loaded(participants)
            count = people.get("head_count")
            writer.writerow([
                date.isoformat() if isinstance(date, dt.date) else date, precision,
                names.get(place, place or ""), codes.get(place) or "", initiative or "", kind,
                title, location or "", " ".join(loaded(areas)), " ".join(loaded(tags)),
                "; ".join(names.get(i, i) for i in people.get("organization_ids", [])),
                "" if count is None else count, "", notes, "yes" if follow_up else "", id_,
            ])
"""
"""hub_export_table_csv's baseline: psycopg and csv.writer, the same columns."""


def _both(ours: Ran, theirs: Ran) -> str:
    return (
        f"CPU {ours.cpu:.3f}s vs {theirs.cpu:.3f}s; "
        f"peak {ours.peak / MB:.0f} MB vs {theirs.peak / MB:.0f} MB"
    )


def measure_hub_tables(
    workdir: Path, records: int, repeats: int = 3, cluster: hub.Cluster | None = None
) -> list[Figure]:
    """The hub's tables and verbs figures over `records` activities."""
    import pickle

    workdir.mkdir(parents=True, exist_ok=True)
    env = _cli_env(workdir)
    logs = workdir / "logs"
    table = workdir / "hub-activities.csv"
    write_csv(table, records)
    with hub._cluster(cluster) as pg:
        suffix = f"{os.getpid()}_{time.monotonic_ns()}"
        url = pg.create_database(f"bench_tables_{suffix}")
        copy_url = pg.create_database(f"bench_tables_copy_{suffix}")
        hub_dir, copy_dir = workdir / "hub-tables", workdir / "hub-tables-copy"

        def on(folder: Path, where: str, *args: str) -> list[str]:
            return dxfield(folder, "--database", where, *args)

        for folder, where in ((hub_dir, url), (copy_dir, copy_url)):
            measured(on(folder, where, "init", "--role", "hub", "--device-name", "hub"), env, logs)

        # hub_import_table: the CLI as a process vs COPY of the rows it wrote.
        hub._checkpoint(pg)
        ours = measured(on(hub_dir, url, "import-table", str(table)), env, logs)
        if f"imported {records} activit" not in ours.out:
            raise RuntimeError(f"import-table on the hub: {ours.out}")
        rows = workdir / "hub-written.pickle"
        with rows.open("wb") as handle:
            columns = {name: columns for name, (columns, _) in hub._COPIED.items()}
            pickle.dump({"columns": columns, "rows": hub._copy_out(url)}, handle)
        hub._checkpoint(pg)
        copied = measured(baseline(COPY_BASELINE, copy_url, rows), env, logs)
        rows.unlink()
        for name in hub._COPIED:
            assert hub._count(copy_url, name) == hub._count(url, name), name
        assert hub._count(url, "activity") == records
        pg.drop_database(f"bench_tables_copy_{suffix}")

        # hub_export_table_csv: the CLI vs psycopg + csv.writer, interleaved.
        hub._checkpoint(pg)
        out, base = workdir / "hub-a.csv", workdir / "hub-base.csv"
        export_command = on(hub_dir, url, "export-table", "--out", str(out))
        base_command = baseline(CSV_BASELINE, url, base)
        measured(export_command, env, logs)  # bytecode written, caches warm
        measured(base_command, env, logs)
        exports: list[Ran] = []
        bases: list[Ran] = []
        for _ in range(EXPORT_RUNS):
            exports.append(measured(export_command, env, logs))
            bases.append(measured(base_command, env, logs))
        assert filecmp.cmp(out, base, shallow=False), "the hub's CSVs differ"

        # The verbs on the hub vs the hello-world Typer app.
        commands = {f"hub_{name}": on(hub_dir, url, *args) for name, args in VERBS.items()}
        hello_command = [sys.executable, "-c", HELLO_TYPER]
        floor_command = [sys.executable, "-c", "import psycopg\n" + HELLO_TYPER]
        for command in (*commands.values(), hello_command, floor_command):
            measured(command, env, logs)
        verb_runs: dict[str, list[Ran]] = {name: [] for name in commands}
        hello: list[Ran] = []
        floor: list[Ran] = []
        for _ in range(max(repeats, 1)):
            for name, command in commands.items():
                verb_runs[name].append(measured(command, env, logs))
            hello.append(measured(hello_command, env, logs))
            floor.append(measured(floor_command, env, logs))
        if cluster is not None:
            pg.drop_database(f"bench_tables_{suffix}")

    export, base_export = median_run(exports), median_run(bases)
    hello_cpu = statistics.median(r.cpu for r in hello)
    floor_cpu = statistics.median(r.cpu for r in floor)
    return [
        figure("hub_import_table", ours.wall, copied.wall, 1.5, note=_both(ours, copied)),
        figure(
            "hub_export_table_csv",
            export.wall,
            base_export.wall,
            2.0,
            note=_both(export, base_export),
        ),
        *(
            figure(
                name,
                statistics.median(r.cpu for r in ran),
                hello_cpu,
                2.2,
                note=(
                    f"hello-world Typer app; peak {max(r.peak for r in ran) / MB:.0f} MB; "
                    f"with psycopg imported {floor_cpu:.3f}s ({floor_cpu / hello_cpu:.2f}x)"
                ),
            )
            for name, ran in verb_runs.items()
        ),
    ]


def main() -> None:  # pragma: no cover - a convenience: `python benchmarks/hub_tables.py N`
    """Run the section alone and print its figures as JSON."""
    import json
    import tempfile
    from dataclasses import asdict

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory(prefix="dxfield-bench-hub-tables-") as tmp:
        print(json.dumps([asdict(f) for f in measure_hub_tables(Path(tmp), count)], indent=2))


if __name__ == "__main__":
    main()
