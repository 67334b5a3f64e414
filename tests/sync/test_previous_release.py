"""Stores and bundles outlive releases: the previous release's hub store opens, and a bundle that
release wrote imports into it with the same result that release got (tests/fixtures/release-0.1)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import Cli

# About a store kept in a file (its bytes, its folder, a copy of it, a process killed on it).
pytestmark = pytest.mark.sqlite_only

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


def test_the_previous_release_store_lists_edits_exports_and_checks(
    cli: Cli, tmp_path: Path
) -> None:
    """The store a hub kept under the previous release goes on working: the unit of work and
    the typed records changed no table."""
    import json

    hub = _hub(tmp_path)

    def run(*args: str) -> str:
        result = cli("--lang", "en", "--data-dir", str(hub), *args)
        assert result.code == 0, result.err
        return result.out

    run("import", str(FIXTURE / "laptop-to-hub.dxb"))
    listed = json.loads(run("activity", "list", "--json", "--limit", "100"))
    edited = next(a for a in listed if a["title"] == "奥矢根区 意見交換会(第2回)")
    run("activity", "edit", edited["id"], "--title", "奥矢根区 意見交換会(第2回・県で確認)")
    shown = json.loads(run("activity", "show", edited["id"], "--json"))
    assert shown["title"] == "奥矢根区 意見交換会(第2回・県で確認)"
    out = tmp_path / "back.dxb"
    assert "revisions" in run("export", "--to", str(out), "--recipient", "toyooka-liaison")
    assert out.stat().st_size > 0
    assert "integrity_check: ok" in run("check")
