"""The load test of the hub on PostgreSQL (issue 15), bounded in count and time.

Eight field laptops, with overlapping and conflicting edits (sixteen records made on one laptop
and synced to the others, then changed on several; every laptop's first bundle carries them and
the reference data again), each write 25 bundles. Eight `dxfield import` processes, one per
laptop, take their 25 bundles while two processes write reports in a loop, two search in a loop
(terms of one, two and three or more characters) and one exports to a laptop in a loop. Then:

- every process exited 0 and printed no error;
- no revision is lost or doubled: the hub holds each revision of every bundle once;
- the laptop that received the loop's exports, having imported them all and one last export,
  holds what the hub holds (the same dump);
- `dxfield dump` of the hub is byte for byte the dump of a hub in a SQLite file that imported
  the same bundles one by one (each laptop wrote its bundles for both hubs: the same revisions,
  checked, each sealed to its hub).

The laptops' data is made in-process (quick); what runs at once runs as separate processes of
the real command line. The loops are small Python scripts calling the command line's `main`
over and over in one process (see LOOP), so that they spend their time on the hub rather than
on starting Python; each run's exit code and error output are checked.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path

import pytest

from dxfield.store import local_state, maintenance
from dxfield.store.activities import delete_activity
from dxfield.store.conflicts import count_conflicts
from dxfield.store.engine import Store
from dxfield.sync.bundle import import_bundle, read_bundle
from tests.hub import fleet

pytestmark = pytest.mark.slow

LAPTOPS = 8
BUNDLES = 25
SHARED = 16
NEW_PER_BUNDLE = 2

LOOP = """
import contextlib, gc, io, json, sys, time
from pathlib import Path

started, stop, commands = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
PAUSE_S = float(sys.argv[4])
from dxfield.cli import main

runs = failed = 0
started.touch()
while True:
    for command in commands:
        args = [arg.replace("{n}", f"{runs:05d}") for arg in command]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(args)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        runs += 1
        if code or err.getvalue().strip():
            failed += 1
            print(f"{args[4:]}: exit {code}: {err.getvalue().strip()}", file=sys.stderr)
        gc.collect()  # each run's store (its connections) goes with it
        time.sleep(PAUSE_S)
    if stop.exists():
        break
print(json.dumps({"runs": runs, "failed": failed}))
"""
"""A loop of `dxfield` commands (`{n}` in an argument: the run's number), run until `stop`
exists, each pass whole, with a pause after each run; prints how many runs there were, and
every failed one to stderr."""
PAUSE_S = 0.2
"""A person runs the next report or search a moment after the last, not at once: the pause leaves
the importers (whose time the test waits for) a share of two cores."""


def test_eight_laptops_imported_at_once_while_others_report_search_and_export(
    pg_database: str, tmp_path: Path
) -> None:
    began = time.monotonic()
    hub = fleet.make_hub(tmp_path / "hub", pg_database)
    account = fleet.Account(tmp_path / "hub", pg_database, tmp_path / "logs")
    mirror = Store.open(tmp_path / "mirror", device_name="兵庫県 (SQLite)")
    laptops = [fleet.make_laptop(tmp_path / f"laptop{n}", f"リエゾン{n}") for n in range(LAPTOPS)]
    first = laptops[0]
    for laptop in laptops:
        fleet.pair(hub, laptop)
        # A laptop follows one hub: it knows the mirror (a test's device, not the prefecture's)
        # by the card the mirror had before it was made a hub.
        fleet.pair(mirror, laptop)
    local_state.set_device_role(mirror, "hub")
    bundles, mirrored = _make_bundles(laptops, hub, mirror, tmp_path)
    made = time.monotonic()

    # The same bundles for both hubs: the same revisions, each sealed to its own hub.
    brought: set[str] = set()
    for to_hub, to_mirror in zip(
        itertools.chain(*bundles), itertools.chain(*mirrored), strict=True
    ):
        carried = read_bundle(hub, to_hub)[1]
        assert carried == read_bundle(mirror, to_mirror)[1]
        brought |= {r["rev_id"] for r in carried}
    reference = set(fleet.rev_ids(hub))  # all the hub holds yet
    assert brought and not reference & brought  # reference data is in every store: not sent

    exports = tmp_path / "exports"
    exports.mkdir()
    hub_args = ["--data-dir", str(account.folder), "--database", pg_database]
    report = ["report", "--fiscal-year", "2024", "--as-of", "2025-03-31", "--out"]
    loops = {
        "report-a": [[*hub_args, *report, str(tmp_path / "report-a-{n}.md")]],
        "report-b": [[*hub_args, *report, str(tmp_path / "report-b-{n}.html")]],
        "search-a": [[*hub_args, "search", "会議"], [*hub_args, "search", "案"]],
        "search-b": [[*hub_args, "search", "共有 会議"], [*hub_args, "search", "リエゾン3"]],
        "export": [
            [
                *hub_args,
                "export",
                "--to",
                str(exports / "{n}.dxb"),
                "--recipient",
                first.device.name,
            ]
        ],
    }
    stop = tmp_path / "stop"
    looping = [
        fleet.Running(name, [sys.executable, "-c", LOOP, str(tmp_path / f"{name}.started"),
                             str(stop), json.dumps(commands), str(PAUSE_S)], account.logs)
        for name, commands in loops.items()
    ]  # fmt: skip
    importers = [
        account.start(f"import-{n}", "import", *map(str, bundles[n]), primed=True)
        for n in range(LAPTOPS)
    ]
    with fleet.all_killed([*looping, *importers]):
        fleet.all_ready(importers)
        fleet.wait_until(
            lambda: (
                all((tmp_path / f"{name}.started").exists() for name in loops)
                or any(loop.done() for loop in looping)
            ),
            "the loops to begin",
        )
        loaded = time.monotonic()
        for importer in importers:
            importer.go()
        cpu = fleet.children_cpu()
        imported = [importer.wait(timeout=600) for importer in importers]
        importers_cpu, cpu = fleet.children_cpu() - cpu, fleet.children_cpu()
        stop.touch()
        looped = [loop.wait(timeout=300) for loop in looping]
        loops_cpu = fleet.children_cpu() - cpu
    ended = time.monotonic()

    for result in imported:
        result.assert_clean()
        assert result.out.count(": new ") == BUNDLES, result.out
    runs = {}
    for result in looped:
        result.assert_clean()
        runs[result.name] = json.loads(result.out.strip().splitlines()[-1])["runs"]
        assert runs[result.name] >= 1

    # Nothing lost, nothing twice.
    on_hub = fleet.rev_ids(hub)
    assert len(on_hub) == len(set(on_hub)), "a revision is held twice"
    assert set(on_hub) - reference == brought, (
        "the hub lacks revisions, or holds some no bundle brought"
    )
    assert count_conflicts(hub) > 0  # the laptops did conflict
    assert maintenance.check(hub).ok

    # The laptop that took the loop's exports, and one last one, holds what the hub holds.
    for path in sorted(exports.glob("*.dxb")):
        import_bundle(first, path)
    last = tmp_path / "last.dxb"
    account.run("last-export", "export", "--to", str(last), "--recipient", first.device.name)
    import_bundle(first, last)
    assert set(fleet.rev_ids(first)) == set(on_hub)

    # The same dump as a hub in a SQLite file that took the same bundles one by one.
    for round_ in range(BUNDLES):
        for n in range(LAPTOPS):
            import_bundle(mirror, mirrored[n][round_])
    dumped = account.run("dump", "dump")
    dumped.assert_clean()
    assert dumped.out == maintenance.dump_text(mirror)
    assert dumped.out == maintenance.dump_text(first)
    assert len(fleet.dump_records(dumped.out)) > LAPTOPS * BUNDLES * NEW_PER_BUNDLE
    print(
        f"\nload: bundles made in {made - began:.1f}s; 8 importers with 5 loops "
        f"{ended - loaded:.1f}s (CPU: importers {importers_cpu:.0f}s, loops {loops_cpu:.0f}s); "
        f"checked in {time.monotonic() - ended:.1f}s; loop runs {runs}; {len(on_hub)} revisions; "
        f"{count_conflicts(hub)} conflicts; {len(list(exports.glob('*.dxb')))} exports"
    )
    mirror.close()


def _make_bundles(
    laptops: list[Store], hub: Store, mirror: Store, tmp_path: Path
) -> tuple[list[list[Path]], list[list[Path]]]:
    """Each laptop's 25 bundles for the hub, and the same for the SQLite hub. The first laptop
    makes SHARED records and syncs them to the others; then, bundle after bundle, every laptop
    makes NEW_PER_BUNDLE records and changes a shared record that its neighbour changes too
    (laptops 0 and 1, 2 and 3...: conflicts; a laptop's change follows its last one, which an
    earlier bundle carried), and now and then deletes one of its own."""
    first = laptops[0]
    shared = fleet.bulk_activities(first, SHARED, "共有")
    for n, laptop in enumerate(laptops[1:], 1):
        fleet.pair(first, laptop)
        import_bundle(laptop, fleet.send(first, laptop, tmp_path / f"seed-{n}.dxb"))
    (tmp_path / "to-hub").mkdir()
    (tmp_path / "to-mirror").mkdir()
    bundles: list[list[Path]] = [[] for _ in laptops]
    mirrored: list[list[Path]] = [[] for _ in laptops]
    own: list[list[str]] = [[] for _ in laptops]
    for round_ in range(BUNDLES):
        for n, laptop in enumerate(laptops):
            name = laptop.device.name
            own[n] += fleet.bulk_activities(laptop, NEW_PER_BUNDLE, f"{name} {round_}")
            fleet.retitle(laptop, shared[(3 * round_ + n // 2) % SHARED], f"{name}の案 {round_}")
            if round_ % 5 == 4:
                delete_activity(laptop, own[n][round_ // 5])
            bundles[n].append(
                fleet.send(laptop, hub, tmp_path / "to-hub" / f"{n}-{round_:02d}.dxb")
            )
            mirrored[n].append(
                fleet.send(laptop, mirror, tmp_path / "to-mirror" / f"{n}-{round_:02d}.dxb")
            )
    return bundles, mirrored
