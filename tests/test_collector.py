"""Bulk work (imports, exports, a report's year) runs with Python's cycle collector eased: its
first generation collected every BULK_THRESHOLD new objects, not every 700, the thresholds
found before put back once the last bulk work ends."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dxfield.collector import BULK_THRESHOLD, collector_eased
from dxfield.report.content import build_report, make_scope
from dxfield.report.table_import import import_table
from dxfield.report.tables import export_table
from dxfield.store.engine import Store
from dxfield.sync.bundle import export_bundle, import_bundle
from tests.report.test_report import AS_OF
from tests.sync.test_import_authorship import pair

__all__ = ["pair"]  # the fixture, shared


@pytest.fixture
def found() -> Iterator[tuple[int, int, int]]:
    """Thresholds of its own for the test (not Python's defaults), put back after it."""
    before = gc.get_threshold()
    gc.set_threshold(900, 11, 12)
    try:
        yield gc.get_threshold()
    finally:
        gc.set_threshold(*before)


def test_eased_while_any_bulk_work_runs_and_as_found_after(found: tuple[int, int, int]) -> None:
    entered, release = threading.Event(), threading.Event()

    def other() -> None:
        with collector_eased():
            entered.set()
            release.wait(5)

    eased = (BULK_THRESHOLD, *found[1:])  # Python 3.14 reads no third threshold: it says 0
    with collector_eased():
        assert gc.get_threshold() == eased
        worker = threading.Thread(target=other)
        worker.start()
        entered.wait(5)
    assert gc.get_threshold() == eased  # the other one still runs
    release.set()
    worker.join(5)
    assert gc.get_threshold() == found
    assert gc.isenabled()


def test_eased_work_that_fails_leaves_the_collector_as_found(found: tuple[int, int, int]) -> None:
    with pytest.raises(RuntimeError), collector_eased(), collector_eased():
        raise RuntimeError("the import failed")
    assert gc.get_threshold() == found


def test_only_the_first_threshold_changes_and_a_collector_turned_off_stays_off(
    found: tuple[int, int, int],
) -> None:
    with collector_eased():
        gc.set_threshold(BULK_THRESHOLD, 5)  # someone else's choice, meanwhile
    assert gc.get_threshold()[:2] == (found[0], 5)
    gc.set_threshold(0)  # automatic collection off
    with collector_eased():
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold()[0] == 0


def _thresholds_in_units(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The collector's first threshold each time a unit of work begins, as they begin."""
    seen: list[int] = []
    real = Store.unit

    @contextlib.contextmanager
    def unit(self: Store, **options: Any) -> Iterator[Any]:
        seen.append(gc.get_threshold()[0])
        with real(self, **options) as opened:
            yield opened

    monkeypatch.setattr(Store, "unit", unit)
    return seen


def test_every_bulk_path_runs_eased(
    pair: tuple[Store, Store],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    found: tuple[int, int, int],
) -> None:
    sender, receiver = pair
    table, bundle_file = tmp_path / "activities.csv", tmp_path / "full.dxb"
    paths: dict[str, Callable[[], object]] = {
        "export_table": lambda: export_table(sender, table, what="activities", fmt="csv"),
        "import_table": lambda: import_table(receiver, table, fmt="csv"),
        "export_bundle": lambda: export_bundle(sender, bundle_file, "receiver", full=True),
        "import_bundle": lambda: import_bundle(receiver, bundle_file),
        "build_report": lambda: build_report(receiver, make_scope(receiver, as_of=AS_OF)),
    }
    for name, run in paths.items():
        seen = _thresholds_in_units(monkeypatch)
        run()
        assert seen, name
        assert set(seen) == {BULK_THRESHOLD}, name
        assert gc.get_threshold() == found, name
