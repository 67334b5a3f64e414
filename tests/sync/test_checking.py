"""`authors.Checking` judges who wrote each revision as it is handed over and verifies the
proofs a batch at a time in helper processes: whichever way a proof is verified (a helper, this
process for a few, this process again when no helper starts or one dies), the answer is the
first revision, in the order they were handed over, that may not be taken."""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nacl.signing import SigningKey

from dxfield.store.authorship import SIGNATURE_PREFIX
from dxfield.sync import verifying
from dxfield.sync.authors import Authors, Checking

ALICE, BOB = "01a24249-a8cc-710e-a037-9f25a2e2e604", "01a24249-a8cc-710e-a037-9f25a2e2e605"
KEY = SigningKey(bytes(range(32)))

pytestmark = pytest.mark.sqlite_only  # no store here: once is enough


def _judged() -> Authors:
    return Authors({ALICE: bytes(KEY.verify_key)}, {ALICE: "alice", BOB: "bob"}, {}, ())


def _revision(n: int, *, forged: bool = False, author: str = ALICE) -> tuple[dict[str, Any], bytes]:
    found = hashlib.sha256(str(n).encode()).digest()
    signed = KEY.sign(SIGNATURE_PREFIX + (found if not forged else bytes(32))).signature
    row = {
        "rev_id": f"1-{n:032x}",
        "device_id": author,
        "entity": "activity",
        "signature": base64.b64encode(signed).decode(),
        "data": "{}",  # not judged: not kept
    }
    return row, found


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """A helper for as few as 2 proofs, sent 3 at a time: ten revisions go in four batches."""
    monkeypatch.setattr(Checking, "HELPED_FROM", 2)
    monkeypatch.setattr(Checking, "BATCH", 3)


@pytest.fixture
def checking() -> Iterator[Checking]:
    """A `Checking` of `_judged`'s authors, its helpers ended after the test."""
    made = Checking(_judged())
    yield made
    made.close()


def _first_refused(checking: Checking, revisions: list[tuple[dict[str, Any], bytes]]) -> Any:
    for row, found in revisions:
        checking.check(row, found)
    checking.flush()
    found = checking.settle()
    return None if found is None else (found[0]["rev_id"], str(found[1]))


def test_a_helper_verifies_the_batches_and_the_first_forgery_is_named(
    small_batches: None, checking: Checking
) -> None:
    good = [_revision(n) for n in range(10)]
    assert _first_refused(checking, good) is None
    assert checking.helped == 4  # every proof verified in a helper
    forged = [_revision(n, forged=n in (4, 8)) for n in range(10)]
    rev_id, problem = _first_refused(checking, forged)
    assert rev_id.endswith("04") and "not signed by" in problem and "alice" in problem
    assert checking.helped == 8


def test_an_author_refused_before_a_later_forgery_is_named_first(
    small_batches: None, checking: Checking
) -> None:
    """Who wrote a revision is judged at once and its proof later: the order handed over
    decides which is named, not which was found first."""
    revisions = [_revision(n, forged=n == 7) for n in range(10)]
    revisions[8] = _revision(8, author=BOB)  # unknown here
    assert _first_refused(checking, revisions)[0].endswith("07")
    revisions[3] = _revision(3, author=BOB)
    rev_id, problem = _first_refused(checking, revisions)
    assert rev_id.endswith("03") and "bob" in problem and "not an enrolled device" in problem


def test_a_few_proofs_are_verified_here_without_a_helper(checking: Checking) -> None:
    revisions = [_revision(n, forged=n == 2) for n in range(5)]
    assert _first_refused(checking, revisions)[0].endswith("02")
    assert checking.helped == 0


def test_a_helper_that_dies_leaves_its_batch_to_be_verified_here(
    small_batches: None, checking: Checking
) -> None:
    for row, found in [_revision(n, forged=n == 1) for n in range(3)]:
        checking.check(row, found)  # the third sends the batch: a helper starts for it
    assert checking._helpers
    for helper in checking._helpers:  # killed, as by the OOM killer
        helper.process.kill()
        helper.process.wait()
    found = checking.settle()
    assert found is not None and found[0]["rev_id"].endswith("01")
    assert checking.helped == 0  # its batch was verified here
    revisions = [_revision(n, forged=n == 6) for n in range(10)]
    assert _first_refused(checking, revisions)[0].endswith("06")
    assert _first_refused(checking, [_revision(n) for n in range(10)]) is None
    assert checking.helped == 0


def test_where_no_process_can_start_every_proof_is_verified_here(
    small_batches: None, monkeypatch: pytest.MonkeyPatch, checking: Checking
) -> None:
    def refused(*_args: object, **_kwargs: object) -> None:
        raise OSError("no processes here")

    monkeypatch.setattr(verifying, "Helper", refused)
    revisions = [_revision(n, forged=n == 9) for n in range(10)]
    assert _first_refused(checking, revisions)[0].endswith("09")
    assert checking.helped == 0


def _ended(pid: int) -> bool:
    """Whether process `pid` is gone (or a zombie no one reaps: it runs no more)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True
    return state in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_killed_import_leaves_no_helper_behind_and_no_script_runs_twice(
    tmp_path: Path,
) -> None:
    """An import killed (SIGKILL) while a helper works for it: the helper ends too. And a
    script that calls dxfield without a main guard runs once: a helper starts by importing
    only `sync.verifying`, never the script (multiprocessing's pool imports it again)."""
    ran = tmp_path / "ran"
    script = tmp_path / "importer.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
            with open({str(ran)!r}, "a") as out:
                out.write("ran\\n")
            from dxfield.sync.authors import Checking
            from tests.sync.test_checking import _judged, _revision
            Checking.HELPED_FROM, Checking.BATCH = 2, 3
            checking = Checking(_judged())
            for row, found in [_revision(n) for n in range(3)]:
                checking.check(row, found)
            print(checking._helpers[0].process.pid, flush=True)
            time.sleep(60)
            """
        )
    )
    importer = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert importer.stdout is not None
        helper = int(importer.stdout.readline())
        time.sleep(1)  # the helper up and answering
        assert not _ended(helper)
        os.kill(importer.pid, signal.SIGKILL)
        importer.wait()
        deadline = time.monotonic() + 15
        while not _ended(helper) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _ended(helper), "the helper outlived the import"
    finally:
        importer.kill()
        importer.wait()
    assert ran.read_text() == "ran\n"
