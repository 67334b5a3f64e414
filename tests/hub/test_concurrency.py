"""Many staff at once on the hub: real `dxfield` processes against a real PostgreSQL server.

Every import is all or nothing, none is lost, nobody sees a deadlock or a serialization error,
the clock never mints one stamp twice, an export that runs while imports are in flight never
makes a laptop miss what commits after it, and a server that dies in the middle of an import
leaves none of that bundle behind. Where two processes must overlap, the test makes them
(`fleet.Blocker` holds a lock, `fleet.Watch` sees who waits): nothing rests on timing luck.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dxfield.domain.errors import StoreError
from dxfield.store import local_state, maintenance
from dxfield.store.conflicts import list_conflicts
from dxfield.store.engine import Store
from dxfield.store.schema import REVISIONS
from dxfield.sync import bundle as bundles
from dxfield.sync.bundle import export_bundle, import_bundle
from tests.hub import fleet
from tests.postgres import Cluster

pytestmark = pytest.mark.slow

HLC_ROW = "hlc"
"""The hub clock's row in local_state: an import updates it right after inserting its revisions,
so a test holding it stops an import in the middle of its unit."""


# -- export watermarks, in commit order ------------------------------------------------------------

ROUNDS = 10
PER_ROUND = 20


def test_an_export_between_overlapping_imports_lets_the_laptop_receive_everything(
    pg_database: str, tmp_path: Path
) -> None:
    """Round after round, two imports (two processes) overlap while an export to a third laptop
    (a third process) reads the hub: in odd rounds the export reads while the first import is
    stopped in the middle of its unit (its revisions numbered, not committed) and the second
    waits for it; in even rounds while both wait to begin. The export carries neither round's
    revisions, and the next one carries both: the receiving laptop ends with the hub's log."""
    hub = fleet.make_hub(tmp_path / "hub", pg_database)
    account = fleet.Account(tmp_path / "hub", pg_database, tmp_path / "logs")
    toyooka = fleet.make_laptop(tmp_path / "toyooka", "豊岡リエゾン")
    nishinomiya = fleet.make_laptop(tmp_path / "nishinomiya", "西宮リエゾン")
    awaji = fleet.make_laptop(tmp_path / "awaji", "淡路リエゾン")
    for laptop in (toyooka, nishinomiya, awaji):
        fleet.pair(hub, laptop)
    fleet.bulk_activities(toyooka, 3, "初回")
    import_bundle(hub, fleet.send(toyooka, hub, tmp_path / "seed.dxb"))  # the clock's row made
    had = set(fleet.rev_ids(hub))
    rounds: list[Round] = []
    for n in range(ROUNDS):  # each round's two bundles, made in advance
        fleet.bulk_activities(toyooka, PER_ROUND, f"豊岡 {n}")
        fleet.bulk_activities(nishinomiya, PER_ROUND, f"西宮 {n}")
        paths = [
            fleet.send(toyooka, hub, tmp_path / f"toyooka-{n}.dxb"),
            fleet.send(nishinomiya, hub, tmp_path / f"nishinomiya-{n}.dxb"),
        ]
        new = set().union(*(fleet.bundle_rev_ids(hub, p) for p in paths)) - had
        assert len(new) == 2 * PER_ROUND  # a first bundle carries the reference data too
        rounds.append(Round(n, paths, tmp_path / f"awaji-{n}.dxb", new))
    with fleet.Watch(pg_database) as watch, fleet.all_killed([]) as started:
        started += rounds[0].start(account)
        for round_ in rounds:
            if round_.number + 1 < ROUNDS:  # the next round's processes start meanwhile
                started += rounds[round_.number + 1].start(account)
            round_.run(watch)
            carried = fleet.bundle_rev_ids(awaji, round_.out)
            assert not carried & round_.new, "the export read the hub between the imports"
            if round_.number:  # what committed after the last export's reading, this one has
                assert rounds[round_.number - 1].new <= carried
            assert round_.new <= set(fleet.rev_ids(hub))
            import_bundle(awaji, round_.out)
    last = tmp_path / "last.dxb"
    account.run("final-export", "export", "--to", str(last), "--recipient", "淡路リエゾン")
    assert rounds[-1].new <= fleet.bundle_rev_ids(awaji, last)
    import_bundle(awaji, last)
    on_hub = fleet.rev_ids(hub)
    assert len(on_hub) == len(set(on_hub))
    assert set(fleet.rev_ids(awaji)) == set(on_hub)
    assert maintenance.dump_text(awaji) == maintenance.dump_text(hub)
    assert maintenance.check(hub).ok


@dataclass
class Round:
    """One round: two bundles imported by two processes, an export to 淡路 by a third."""

    number: int
    bundles: list[Path]
    out: Path
    new: set[str]
    """The revisions the round's bundles bring the hub."""
    imports: list[fleet.Running] = field(default_factory=list)
    export: fleet.Running | None = None

    @property
    def mid_import(self) -> bool:
        """Whether the export reads while one import is in the middle of its unit (odd rounds),
        or while both wait to begin (even ones)."""
        return self.number % 2 == 1

    def start(self, account: fleet.Account) -> list[fleet.Running]:
        """Its three processes, started ahead (primed): they run when the round does."""
        self.imports = [
            account.start(f"import-{self.number}-{n}", "import", str(path), primed=True)
            for n, path in enumerate(self.bundles)
        ]
        self.export = account.start(
            f"export-{self.number}", "export", "--to", str(self.out),
            "--recipient", "淡路リエゾン", primed=True,
        )  # fmt: skip
        return [*self.imports, self.export]

    def run(self, watch: fleet.Watch) -> None:
        """The imports go, and are held (one in its unit, or both before it); the export reads
        the hub meanwhile and waits for them to note how far it carried; then all go on, and
        all end well."""
        export = self.export
        assert export is not None
        fleet.all_ready([*self.imports, export])
        with fleet.Blocker(watch.url) as blocker:
            if self.mid_import:
                blocker.row(HLC_ROW)
            else:
                blocker.write_lock()
            for process in self.imports:
                process.go()
            if self.mid_import:
                fleet.wait_until(
                    lambda: watch.waiting_for_a_row() == 1 and watch.waiting("advisory") == 1,
                    "one import in the middle of its unit, the other waiting for it",
                )
            else:
                fleet.wait_until(lambda: watch.waiting("advisory") == 2, "both imports to wait")
            export.go()
            waiters = 2 if self.mid_import else 3
            fleet.wait_until(
                lambda: export.done() or watch.waiting("advisory") == waiters,
                "the export to wait for the imports",
            )
        for process in [*self.imports, export]:
            process.wait().assert_clean()


def test_two_exports_to_one_laptop_at_once_never_take_its_watermark_back(
    pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export that read the hub before an import, and finishes after a second export that
    read it after: the watermark stays where the second one left it (nothing sent twice), and
    the laptop, taking both bundles, holds everything."""
    hub = fleet.make_hub(tmp_path / "hub", pg_database)
    toyooka = fleet.make_laptop(tmp_path / "toyooka", "豊岡リエゾン")
    awaji = fleet.make_laptop(tmp_path / "awaji", "淡路リエゾン")
    fleet.pair(hub, toyooka)
    fleet.pair(hub, awaji)
    fleet.bulk_activities(toyooka, 5, "最初")
    import_bundle(hub, fleet.send(toyooka, hub, tmp_path / "first.dxb"))
    fleet.bulk_activities(toyooka, 5, "次")
    later = fleet.send(toyooka, hub, tmp_path / "second.dxb")
    key = local_state.EXPORT_WATERMARK + awaji.device.id
    written = bundles.container.write_container

    def meanwhile(*args: Any, **kwargs: Any) -> Any:
        # The slow export has read the hub; before it notes its watermark, a colleague's
        # session imports, and another export to the same laptop reads and finishes.
        result = written(*args, **kwargs)
        monkeypatch.setattr(bundles.container, "write_container", written)
        with Store.open(tmp_path / "hub", database=pg_database) as other:
            import_bundle(other, later)
            export_bundle(other, tmp_path / "fast.dxb", "淡路リエゾン")
            assert local_state.get_value(other, key) == fleet.latest_arrival(other)
        return result

    monkeypatch.setattr(bundles.container, "write_container", meanwhile)
    export_bundle(hub, tmp_path / "slow.dxb", "淡路リエゾン")
    assert local_state.get_value(hub, key) == fleet.latest_arrival(hub)
    for path in ("slow.dxb", "fast.dxb"):
        import_bundle(awaji, tmp_path / path)
    assert set(fleet.rev_ids(awaji)) == set(fleet.rev_ids(hub))
    nothing = export_bundle(hub, tmp_path / "again.dxb", "淡路リエゾン")
    assert nothing.revisions == 0


# -- imports, reports, conflicts and the clock at once ----------------------------------------------


def test_two_imports_of_different_bundles_at_once_both_take_everything(
    pg_database: str, tmp_path: Path
) -> None:
    """Two processes, each importing a laptop's five bundles, let go at the same moment: both
    succeed, say nothing of deadlocks or serialization, and every revision is there once."""
    hub = fleet.make_hub(tmp_path / "hub", pg_database)
    account = fleet.Account(tmp_path / "hub", pg_database, tmp_path / "logs")
    laptops = [
        fleet.make_laptop(tmp_path / "toyooka", "豊岡リエゾン"),
        fleet.make_laptop(tmp_path / "nishinomiya", "西宮リエゾン"),
    ]
    had = set(fleet.rev_ids(hub))
    brought: set[str] = set()
    files: list[list[str]] = [[], []]
    for n, laptop in enumerate(laptops):
        fleet.pair(hub, laptop)
        made: list[str] = []
        for round_ in range(5):
            made += fleet.bulk_activities(laptop, 30, f"{laptop.device.name} {round_}")
            fleet.retitle(laptop, made[round_], f"{laptop.device.name} 改 {round_}")
            path = fleet.send(laptop, hub, tmp_path / f"{n}-{round_}.dxb")
            brought |= fleet.bundle_rev_ids(hub, path)
            files[n].append(str(path))
    importers = [account.start(f"import-{n}", "import", *files[n], primed=True) for n in (0, 1)]
    with (
        fleet.all_killed(importers),
        fleet.Watch(pg_database) as watch,
        fleet.Blocker(pg_database) as blocker,
    ):
        fleet.all_ready(importers)
        blocker.write_lock()
        for importer in importers:
            importer.go()
        fleet.wait_until(lambda: watch.waiting("advisory") == 2, "both imports to wait")
        blocker.release()
        finished = [importer.wait() for importer in importers]
    for result in finished:
        result.assert_clean()
        assert result.out.count(": new ") == 5
    ids = fleet.rev_ids(hub)
    assert len(ids) == len(set(ids))
    assert set(ids) == had | brought
    assert maintenance.check(hub).ok


def test_an_import_while_a_report_is_written(pg_database: str, tmp_path: Path) -> None:
    """A report written while an import is in the middle of its unit: both succeed; the report
    shows the hub as it was, the next one with the import."""
    hub = fleet.make_hub(tmp_path / "hub", pg_database)
    account = fleet.Account(tmp_path / "hub", pg_database, tmp_path / "logs")
    laptop = fleet.make_laptop(tmp_path / "toyooka", "豊岡リエゾン")
    fleet.pair(hub, laptop)
    fleet.bulk_activities(laptop, 40, "前")
    import_bundle(hub, fleet.send(laptop, hub, tmp_path / "first.dxb"))
    fleet.bulk_activities(laptop, 300, "後")
    second = fleet.send(laptop, hub, tmp_path / "second.dxb")
    report = ("report", "--fiscal-year", "2024", "--as-of", "2025-03-31", "--out")
    importer = account.start("import", "import", str(second), primed=True)
    with (
        fleet.all_killed([importer]),
        fleet.Watch(pg_database) as watch,
        fleet.Blocker(pg_database) as blocker,
    ):
        fleet.all_ready([importer])
        blocker.row(HLC_ROW)
        importer.go()
        fleet.wait_until(lambda: watch.waiting_for_a_row() == 1, "the import to be in its unit")
        during = account.run("report-during", *report, str(tmp_path / "during.md"))
        assert watch.write_lock_holder() is not None  # the import was in its unit throughout
        blocker.release()
        imported = importer.wait()
    during.assert_clean()
    imported.assert_clean()
    assert "new 300," in imported.out
    after = account.run("report-after", *report, str(tmp_path / "after.md"))
    after.assert_clean()
    assert "40 activities" in during.out and "340 activities" in after.out
    assert maintenance.check(hub).ok


def test_a_report_reads_one_state_of_the_hub(
    pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import that commits while a report is being gathered (after it read the initiatives,
    before the activities) is in none of it: the report is the one of the hub before."""
    from dxfield.report import content

    hub = fleet.make_hub(tmp_path / "hub", pg_database)
    laptop = fleet.make_laptop(tmp_path / "toyooka", "豊岡リエゾン")
    fleet.pair(hub, laptop)
    fleet.bulk_activities(laptop, 5, "前")
    import_bundle(hub, fleet.send(laptop, hub, tmp_path / "first.dxb"))
    fleet.bulk_activities(laptop, 7, "後")
    later = fleet.send(laptop, hub, tmp_path / "second.dxb")
    scope = content.make_scope(hub, as_of="2025-03-31", fiscal_year=2024)
    before = content.build_report(hub, scope)
    initiatives = content.list_initiatives

    def meanwhile(work: object) -> object:
        found = initiatives(work)  # type: ignore[arg-type]
        with Store.open(tmp_path / "hub", database=pg_database) as colleague:
            import_bundle(colleague, later)
        return found

    monkeypatch.setattr(content, "list_initiatives", meanwhile)
    during = content.build_report(hub, scope)
    assert during.activity_count == before.activity_count == 5
    assert during == before
    monkeypatch.setattr(content, "list_initiatives", initiatives)
    assert content.build_report(hub, scope).activity_count == 12


SHARED = 6


def test_two_people_resolving_conflicts_at_once(pg_database: str, tmp_path: Path) -> None:
    """The hub's account and a colleague (enrolled, under her own identity) resolve conflicts
    at the same moment: two different ones, both resolved; then both the same one, which one of
    them resolves and the other is told, in one line, is not in conflict any more. No deadlock,
    no serialization error, and the hub stays sound."""
    hub = fleet.make_hub(tmp_path / "hub", pg_database)
    logs = tmp_path / "logs"
    account = fleet.Account(tmp_path / "hub", pg_database, logs)
    sato = fleet.enroll(hub, tmp_path / "sato", pg_database, "佐藤")
    colleague = fleet.Account(tmp_path / "sato", pg_database, logs)
    toyooka = fleet.make_laptop(tmp_path / "toyooka", "豊岡リエゾン")
    nishinomiya = fleet.make_laptop(tmp_path / "nishinomiya", "西宮リエゾン")
    for laptop in (toyooka, nishinomiya):
        fleet.pair(hub, laptop)
    shared = fleet.bulk_activities(toyooka, SHARED, "共有")
    import_bundle(hub, fleet.send(toyooka, hub, tmp_path / "shared.dxb"))
    import_bundle(nishinomiya, fleet.send(hub, nishinomiya, tmp_path / "to-nishinomiya.dxb"))
    for laptop in (toyooka, nishinomiya):  # both change every shared record before syncing
        for record_id in shared:
            fleet.retitle(laptop, record_id, f"{laptop.device.name}の案")
        import_bundle(hub, fleet.send(laptop, hub, tmp_path / f"{laptop.device.name}.dxb"))
    conflicts = {c.entity_id: c for c in list_conflicts(hub)}
    assert set(conflicts) == set(shared)

    def resolving(who: fleet.Account, name: str, record_id: str) -> fleet.Running:
        keep = conflicts[record_id].versions[-1].rev_id  # the version not shown
        return who.start(name, "conflicts", "resolve", record_id, "--keep", keep, primed=True)

    def at_once(processes: list[fleet.Running]) -> list[fleet.Finished]:
        with (
            fleet.all_killed(processes),
            fleet.Watch(pg_database) as watch,
            fleet.Blocker(pg_database) as blocker,
        ):
            fleet.all_ready(processes)
            blocker.write_lock()
            for process in processes:
                process.go()
            fleet.wait_until(lambda: watch.waiting("advisory") == 2, "both to wait")
            blocker.release()
            return [process.wait() for process in processes]

    different = at_once(
        [resolving(account, "hub-0", shared[0]), resolving(colleague, "sato-1", shared[1])]
    )
    for result in different:
        result.assert_clean()
        assert result.out.startswith("resolved: ")
    same = at_once(
        [resolving(account, "hub-2", shared[2]), resolving(colleague, "sato-2", shared[2])]
    )
    assert sorted(r.code for r in same) == [0, 1], same
    told = next(r for r in same if r.code)
    assert told.out == "" and told.err == f"error: '{shared[2]}' is not in conflict\n"
    assert not any(w in told.err.lower() for w in ("deadlock", "serializ", "traceback"))
    left = {c.entity_id for c in list_conflicts(hub)}
    assert left == set(shared[3:])
    with hub.read() as conn:
        authors = {
            row.device_id
            for row in conn.execute(
                select(REVISIONS.c.device_id).where(REVISIONS.c.entity_id.in_(shared[:3]))
            )
        }
    assert {hub.device.id, sato.device.id} <= authors  # history says who resolved which
    assert maintenance.check(hub).ok


WRITER = """
import sys, time
from pathlib import Path
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.conflicts import list_conflicts
from dxfield.store.engine import Store
from dxfield.store.schema import REVISIONS
folder, url, count, name, go = sys.argv[1:]
with Store.open(Path(folder), database=url) as store:
    Path(go + "." + name).touch()
    while not Path(go).exists():
        time.sleep(0.005)
    for n in range(int(count)):
        add_activity(store, ActivityInput(title=f"{name}-{n}", kind="meeting",
                                          date="2024-07-17", municipality="豊岡市"))
"""


def test_two_people_writing_at_once_never_mint_the_same_stamp(
    pg_database: str, tmp_path: Path
) -> None:
    """The hub's clock is one row, ticked under the write lock: two processes (the hub's account
    and a colleague) adding activities at the same moment never stamp two revisions alike."""
    hub = fleet.make_hub(tmp_path / "hub", pg_database)
    fleet.enroll(hub, tmp_path / "sato", pg_database, "佐藤").close()
    count, go = 150, tmp_path / "go"
    names = ("hub", "sato")
    writers = [
        fleet.Running(name, [sys.executable, "-c", WRITER, *map(str, (
            tmp_path / name, pg_database, count, name, go))], tmp_path / "logs")
        for name in names
    ]  # fmt: skip
    opened = [Path(f"{go}.{name}") for name in names]
    with fleet.all_killed(writers):
        fleet.wait_until(
            lambda: all(p.exists() for p in opened) or any(w.done() for w in writers),
            "both writers to open the hub",
        )
        go.touch()
        for writer in writers:
            writer.wait().assert_clean()
    with hub.read() as conn:
        rows = conn.execute(
            select(REVISIONS.c.hlc, REVISIONS.c.device_id)
            .where(REVISIONS.c.entity == "activity")
            .order_by(REVISIONS.c.hlc)
        ).all()
    stamps = [row.hlc for row in rows]
    assert len(stamps) == 2 * count and len(set(stamps)) == len(stamps)
    turns = sum(a.device_id != b.device_id for a, b in itertools.pairwise(rows))
    assert turns >= 2, "the two writers took turns"
    assert maintenance.check(hub).ok


# -- a server killed in the middle of an import ----------------------------------------------------

BIG_BUNDLE = 3_000


def test_a_server_killed_during_an_import_leaves_none_of_the_bundle(
    own_pg_cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pg_ctl stop -m immediate` in the middle of an import (its 3,000 revisions inserted, not
    committed): the import says so in one line (no traceback, no password), the restarted hub
    holds none of that bundle, and importing it again succeeds. The hub is reached over TCP
    with a password, kept in a .pgpass file."""
    cluster = own_pg_cluster
    cluster.create_database("hub")
    password = cluster.superuser_password
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{cluster.port}:hub:{cluster.superuser}:{password}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    url = f"postgresql://{cluster.superuser}@127.0.0.1:{cluster.port}/hub"
    account = fleet.Account(tmp_path / "hub", url, tmp_path / "logs")

    hub = fleet.make_hub(account.folder, url)
    laptop = fleet.make_laptop(tmp_path / "toyooka", "豊岡リエゾン")
    fleet.pair(hub, laptop)
    fleet.bulk_activities(laptop, 3, "初回")
    import_bundle(hub, fleet.send(laptop, hub, tmp_path / "seed.dxb"))  # the clock's row made
    notes = "配送DXの実装に向けた住民との意見交換。"
    fleet.bulk_activities(laptop, BIG_BUNDLE, "大量", notes=notes)
    bundle = fleet.send(laptop, hub, tmp_path / "big.dxb")
    carried = fleet.bundle_rev_ids(hub, bundle)
    before = set(fleet.rev_ids(hub))
    assert len(carried - before) == BIG_BUNDLE

    importer = account.start("import", "import", str(bundle))
    with fleet.all_killed([importer]), fleet.Watch(url) as watch, fleet.Blocker(url) as blocker:
        numbered = watch.arrivals_numbered()
        blocker.row(HLC_ROW)  # the import stops once its revisions are in, before its commit
        fleet.wait_until(lambda: watch.waiting_for_a_row() == 1, "the import to be in its unit")
        assert watch.arrivals_numbered() >= numbered + BIG_BUNDLE
        watch.close()
        cluster.stop("immediate")
        finished = importer.wait()
    assert finished.code != 0
    lines = (finished.out + finished.err).strip().splitlines()
    assert len(lines) == 1, finished.out + finished.err
    assert lines[0].startswith("error: cannot reach the PostgreSQL server of "), lines[0]
    assert password not in lines[0] and "Traceback" not in lines[0]
    # Someone reading the hub meanwhile (a report, a screen) is told the same, in one line.
    with pytest.raises(StoreError) as gone:
        maintenance.dump(hub)
    assert gone.value.code == "hub.unreachable" and password not in gone.value.message()
    hub.close()

    cluster.start()
    with Store.open(account.folder, database=url) as hub:
        assert set(fleet.rev_ids(hub)) == before  # none of the bundle
        assert maintenance.check(hub).ok
    again = account.run("again", "import", str(bundle))
    again.assert_clean()
    assert f"new {BIG_BUNDLE}," in again.out
    with Store.open(account.folder, database=url) as hub:
        ids = fleet.rev_ids(hub)
        assert len(ids) == len(set(ids)) and set(ids) == before | carried
        assert maintenance.check(hub).ok
