"""Stores and bundles outlive releases: the previous release's hub store opens, and a bundle that
release wrote imports into it with the same result that release got (tests/fixtures/release-0.1)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from dxfield import clock
from tests.conftest import Cli

# About a store kept in a file (its bytes, its folder, a copy of it, a process killed on it).
pytestmark = pytest.mark.sqlite_only

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1"


def _hub(tmp_path: Path) -> Path:
    hub = tmp_path / "hub"
    shutil.copytree(FIXTURE / "hub", hub)
    (hub / "device-keys.json").chmod(0o600)  # git keeps no modes; the key file is owner-only
    return hub


def _accept_format_1(cli: Cli, hub: Path) -> None:
    """The hub takes format-1 bundles for a month from today (`hub accept-v1`)."""
    until = (clock.today() + dt.timedelta(days=30)).isoformat()
    result = cli("--data-dir", str(hub), "hub", "accept-v1", "--until", until)
    assert result.code == 0, result.err


def test_the_previous_release_store_opens_and_refuses_its_demo_bundle(
    cli: Cli, tmp_path: Path
) -> None:
    """That release's laptop sent the Hyogo demo to its hub. The demo's records are written by a
    pseudo-device that signs nothing, in every demo store alike: no bundle carries them now, and
    a format-1 bundle that does is refused in one line naming it, with nothing kept. (The last
    format-1 release's own fixture, tests/fixtures/format-1-final, syncs real work.)"""
    hub = _hub(tmp_path)
    checked = cli("--data-dir", str(hub), "check")
    assert checked.code == 0, checked.out + checked.err
    before = cli("--data-dir", str(hub), "dump").out
    _accept_format_1(cli, hub)
    bundle = FIXTURE / "laptop-to-hub.dxb"
    imported = cli("--lang", "en", "--data-dir", str(hub), "import", str(bundle))
    assert imported.code == 1
    (line,) = imported.err.splitlines()
    assert "came unsigned from 'toyooka-liaison'" in line
    assert cli("--data-dir", str(hub), "dump").out == before


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

    made = run("activity", "add", "--municipality", "豊岡市", "--kind", "workshop",
               "--date", "2024-11-06", "--title", "奥矢根区 意見交換会(第2回)").strip()  # fmt: skip
    listed = json.loads(run("activity", "list", "--json", "--limit", "100"))
    edited = next(a for a in listed if a["title"] == "奥矢根区 意見交換会(第2回)")
    assert edited["id"] == made
    run("activity", "edit", edited["id"], "--title", "奥矢根区 意見交換会(第2回・県で確認)")
    shown = json.loads(run("activity", "show", edited["id"], "--json"))
    assert shown["title"] == "奥矢根区 意見交換会(第2回・県で確認)"
    out = tmp_path / "back.dxb"
    assert "revisions" in run("export", "--to", str(out), "--recipient", "toyooka-liaison")
    assert out.stat().st_size > 0
    assert "integrity_check: ok" in run("check")


def test_the_previous_release_store_takes_note_templates_after_its_migration(
    cli: Cli, tmp_path: Path
) -> None:
    """That release knew no note template record: opening its store runs every migration since
    (0005 adds the table), and a template saved there is a record like any other."""
    import json

    from dxfield.store.migrations import SCHEMA_HEAD

    hub = _hub(tmp_path)
    template = tmp_path / "meeting.md"
    template.write_text("## 日時\n\n## 決定事項\n", encoding="utf-8")

    def run(*args: str) -> str:
        result = cli("--lang", "en", "--data-dir", str(hub), *args)
        assert result.code == 0, result.err
        return result.out

    assert "the template of Meeting" in run("template", "set", "meeting", "--file", str(template))
    listed = {t["kind"]: t for t in json.loads(run("template", "list", "--json"))}
    assert listed["meeting"]["saved"] and listed["meeting"]["text"] == "## 日時\n\n## 決定事項\n"
    checked = run("check", "--json")
    report = json.loads(checked)
    assert report["schema_revision"] == SCHEMA_HEAD == "0009"
    assert report["counts"]["note_template"] == {"live": 1, "deleted": 0}
