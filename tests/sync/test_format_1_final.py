"""The last release of bundle format 1 (tests/fixtures/format-1-final): its hub takes the
bundles its laptops wrote then, with the same result that release printed, and its laptop's
store opens with the same records. What a laptop left unsynced for months still syncs."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from dxfield import clock
from tests.conftest import Cli

# About stores kept in files and copied (their bytes, their folders).
pytestmark = pytest.mark.sqlite_only

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "format-1-final"


def _copy(name: str, tmp_path: Path) -> Path:
    folder = tmp_path / name
    shutil.copytree(FIXTURE / name, folder)
    (folder / "device-keys.json").chmod(0o600)  # git keeps no modes; the key file is owner-only
    return folder


def _accept_format_1(cli: Cli, hub: Path) -> None:
    """The hub takes format-1 bundles for a month from today (`hub accept-v1`)."""
    until = (clock.today() + dt.timedelta(days=30)).isoformat()
    result = cli("--data-dir", str(hub), "hub", "accept-v1", "--until", until)
    assert result.code == 0, result.err


def test_the_hub_takes_the_bundles_its_laptops_wrote_then(cli: Cli, tmp_path: Path) -> None:
    hub = _copy("hub", tmp_path)
    checked = cli("--data-dir", str(hub), "check")
    assert checked.code == 0, checked.out + checked.err
    _accept_format_1(cli, hub)
    bundles = [str(FIXTURE / f"{name}-to-hub-2.dxb") for name in ("toyooka", "nishinomiya")]
    imported = cli("--lang", "en", "--data-dir", str(hub), "import", *bundles)
    assert imported.code == 0, imported.err
    expected_lines = (FIXTURE / "hub-after-import.txt").read_text(encoding="utf-8").splitlines()
    # That release printed the path it was given; the counts are what must be the same.
    # Now each line goes on to say how many came unsigned, which the hub attested.
    assert [line.split(" ", 1)[1].split("; ")[0] for line in imported.out.splitlines()] == [
        line.split(" ", 1)[1] for line in expected_lines
    ]
    assert all("came unsigned and the hub attested" in line for line in imported.out.splitlines())
    expected = (FIXTURE / "hub-after-import.dump.json").read_text(encoding="utf-8")
    assert cli("--data-dir", str(hub), "dump").out == expected
    conflicts = cli("--lang", "en", "--data-dir", str(hub), "conflicts", "list")
    assert "奥矢根区" in conflicts.out


def test_the_laptop_opens_with_the_same_records(cli: Cli, tmp_path: Path) -> None:
    laptop = _copy("toyooka", tmp_path)
    checked = cli("--data-dir", str(laptop), "check")
    assert checked.code == 0, checked.out + checked.err
    expected = (FIXTURE / "toyooka.dump.json").read_text(encoding="utf-8")
    assert cli("--data-dir", str(laptop), "dump").out == expected
