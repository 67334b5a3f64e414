"""A killed import leaves the store sound and holding none of the bundle or all of it."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dxfield.store import maintenance, records, revisions
from dxfield.store.activities import count_activities
from dxfield.store.engine import STORE_FILE, Store
from dxfield.store.ids import new_id
from dxfield.store.reference import municipality_id
from dxfield.sync.bundle import export_bundle
from dxfield.sync.keys import KEY_FILE, card_text, own_card, parse_card, trust_card

# About a store kept in a file (its bytes, its folder, a copy of it, a process killed on it).
pytestmark = pytest.mark.sqlite_only

ACTIVITIES = 3_000
KILLS = 20


@pytest.fixture(scope="module")
def bundle_and_receiver(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("crash")
    with (
        Store.open(root / "sender", device_name="sender") as sender,
        Store.open(root / "receiver", device_name="receiver") as receiver,
    ):
        trust_card(sender, parse_card(card_text(own_card(receiver))))
        trust_card(receiver, parse_card(card_text(own_card(sender))))
        toyooka = municipality_id("282090")
        validated = [
            (
                new_id(),
                records.validate(
                    "activity",
                    {
                        "municipality_id": toyooka,
                        "kind": "meeting",
                        "title": f"会議 {n}",
                        "date": "2024-07-17",
                        "notes": "配送DXの実装に向けた住民との意見交換。" * 5,
                    },
                ),
            )
            for n in range(ACTIVITIES)
        ]
        with sender.unit() as unit:
            revisions.bulk_create(unit, "activity", validated, device_id=sender.device.id)
        bundle = root / "large.dxb"
        export_bundle(sender, bundle, "receiver", full=True)
    return bundle, root / "receiver"


def _copy(template: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for name in (STORE_FILE, KEY_FILE):
        shutil.copy(template / name, target / name)
    return target


def _import(folder: Path, bundle: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "dxfield", "--data-dir", str(folder), "import", str(bundle)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _held(folder: Path) -> tuple[bool, int]:
    with Store.open(folder) as store:
        return maintenance.check(store).integrity == "ok", count_activities(store)


def test_an_import_killed_at_random_moments_is_all_or_nothing(
    bundle_and_receiver: tuple[Path, Path], tmp_path: Path
) -> None:
    bundle, template = bundle_and_receiver
    began = time.perf_counter()
    whole = _import(_copy(template, tmp_path / "whole"), bundle)
    _, errors = whole.communicate(timeout=300)
    duration = time.perf_counter() - began
    assert whole.returncode == 0, errors
    assert _held(tmp_path / "whole") == (True, ACTIVITIES)

    rng = random.Random(20241031)
    outcomes = []
    for attempt in range(KILLS):
        folder = _copy(template, tmp_path / f"kill{attempt}")
        process = _import(folder, bundle)
        # From the middle of the start-up to just past the end: most kills land inside the
        # import, some after its commit.
        time.sleep(rng.uniform(0.5, 1.15) * duration)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        sound, count = _held(folder)
        assert sound, f"integrity_check failed after a kill at attempt {attempt}"
        assert count in (0, ACTIVITIES), f"a partial import ({count}) at attempt {attempt}"
        outcomes.append(count)
    # Whatever the moment, it was all or nothing; and some kills did land before the commit
    # (how many depends on the machine: the first run, which sets the pace, may be slower).
    assert 0 in outcomes, outcomes
