"""Stores and bundles outlive releases: the previous release's hub store opens, and a bundle that
release wrote imports into it with the same result that release got (tests/fixtures/release-0.1)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import Cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1"


def _hub(tmp_path: Path) -> Path:
    hub = tmp_path / "hub"
    shutil.copytree(FIXTURE / "hub", hub)
    (hub / "device-keys.json").chmod(0o600)  # git keeps no modes; the key file is owner-only
    return hub


def test_the_previous_release_store_opens_and_takes_its_bundle(cli: Cli, tmp_path: Path) -> None:
    hub = _hub(tmp_path)
    checked = cli("--data-dir", str(hub), "check")
    assert checked.code == 0, checked.out + checked.err
    bundle = FIXTURE / "laptop-to-hub.dxb"
    imported = cli("--lang", "en", "--data-dir", str(hub), "import", str(bundle))
    assert imported.code == 0, imported.err
    assert "new 97, updated 0, unchanged 43, conflicting 0" in imported.out
    dumped = cli("--data-dir", str(hub), "dump")
    expected = (FIXTURE / "hub-after-import.dump.json").read_text(encoding="utf-8")
    assert dumped.out == expected
    again = cli("--lang", "en", "--data-dir", str(hub), "import", str(bundle))
    assert "new 0, updated 0" in again.out
    assert cli("--data-dir", str(hub), "dump").out == expected
