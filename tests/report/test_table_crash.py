"""A killed `import-table` leaves the store sound and holding none of the table or all of it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dxfield.cli import common
from dxfield.store import maintenance
from dxfield.store.activities import count_activities
from dxfield.store.engine import Store
from tests.conftest import Cli

# About a store kept in a file (a process killed on it).
pytestmark = pytest.mark.sqlite_only

ROWS = 6_000
KILLS = 10


def _table(path: Path) -> Path:
    lines = ["date,municipality,kind,title,notes"]
    lines += [
        f"2024-{n % 12 + 1:02d}-{n % 28 + 1:02d},豊岡市,meeting,会議 {n},"
        + "配送DXの実装に向けた住民との意見交換。" * 5
        for n in range(ROWS)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _import(folder: Path, table: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "dxfield",
        "--data-dir",
        str(folder),
        "import-table",
        str(table),
    ]
    env = {**os.environ, "DXFIELD_LANG": "en"}
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def _held(folder: Path) -> tuple[bool, int]:
    with Store.open(folder) as store:
        return maintenance.check(store).integrity == "ok", count_activities(store)


def test_an_import_table_killed_at_random_moments_is_all_or_nothing(tmp_path: Path) -> None:
    table = _table(tmp_path / "large.csv")
    with Store.open(tmp_path / "template"):
        pass
    began = time.perf_counter()
    whole = _import(_copy(tmp_path / "template", tmp_path / "whole"), table)
    _, errors = whole.communicate(timeout=300)
    duration = time.perf_counter() - began
    assert whole.returncode == 0, errors
    assert _held(tmp_path / "whole") == (True, ROWS)

    rng = random.Random(20241031)
    outcomes = []
    for attempt in range(KILLS):
        folder = _copy(tmp_path / "template", tmp_path / f"kill{attempt}")
        process = _import(folder, table)
        # From the middle of the start-up to just past the end: kills land in the check, in the
        # write, and some after the commit.
        time.sleep(rng.uniform(0.3, 1.1) * duration)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        sound, count = _held(folder)
        assert sound, f"integrity_check failed after a kill at attempt {attempt}"
        assert count in (0, ROWS), f"a partial import ({count}) at attempt {attempt}"
        # Nothing of the spool is left in the data folder (it had no name there).
        assert not [p for p in folder.iterdir() if p.name.startswith(".import-")]
        outcomes.append(count)
    assert 0 in outcomes, outcomes


def _copy(template: Path, target: Path) -> Path:
    import shutil

    shutil.copytree(template, target)
    return target


INTERRUPTED = """
import os, signal, sys
from dxfield.cli import main
from dxfield.store import activity_import, revisions

# A process started in the foreground of a terminal takes Ctrl-C; one started by a runner in
# the background of a shell without job control would inherit SIGINT ignored, and go on.
signal.signal(signal.SIGINT, signal.default_int_handler)

def interrupt(*_args):
    os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C in the terminal

if sys.argv[1] == "check":
    checking = activity_import.ActivityImport.check
    def check(self, *args, **kwargs):
        interrupt()
        return checking(self, *args, **kwargs)
    activity_import.ActivityImport.check = check
else:  # after the write's first chunk, its rows in the transaction
    creating = revisions.bulk_create
    def bulk_create(*args, **kwargs):
        kwargs["advance"] = interrupt
        return creating(*args, **kwargs)
    revisions.bulk_create = bulk_create
main(sys.argv[2:])
"""


@pytest.mark.parametrize("phase", ["check", "write"])
def test_ctrl_c_says_aborted_and_leaves_nothing(tmp_path: Path, phase: str) -> None:
    """Ctrl-C during a long import: one `error: aborted` line and exit 130 (Typer's own main
    exited 130 without a word), and none of the table in the store."""
    table = _table(tmp_path / "large.csv")
    folder = tmp_path / "data"
    with Store.open(folder):
        pass
    ran = subprocess.run(
        [
            sys.executable,
            "-c",
            INTERRUPTED,
            phase,
            "--data-dir",
            str(folder),
            "import-table",
            table,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "DXFIELD_LANG": "en"},
        timeout=300,
    )
    assert (ran.returncode, ran.stderr) == (130, "error: aborted\n")
    assert _held(folder) == (True, 0)


def test_ctrl_c_as_the_store_closes_says_aborted_too(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C outside the command itself (here, as the store closes after it) is said the same
    way: Typer turns it into exit code 130 wherever it lands."""

    def interrupted(_settings: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(common.Settings, "close", interrupted)
    result = cli("activity", "list")
    assert (result.code, result.err) == (130, "error: aborted\n")
