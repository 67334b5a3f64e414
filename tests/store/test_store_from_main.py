"""The store a laptop kept under the release before the unit of work goes on working with
today's code (tests/fixtures/main-4b25afa): opening it migrates it from schema 0001 to 0002 (the
search index's dates, filled from its records), its records are the same, and every verb a
liaison runs on it behaves as before."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import pytest

from dxfield.store.migrations import SCHEMA_HEAD
from dxfield.tui.app import DxfieldApp
from tests.conftest import Cli
from tests.tui.test_app import SIZE, open_log, titles

# About a store kept in a file (its bytes, its folder, a copy of it, a process killed on it).
pytestmark = pytest.mark.sqlite_only

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "main-4b25afa"
TITLES = {
    "神河町 住民説明会(第1回)",
    "神河町 庁内ヒアリング",
    "香美町 DX研修",
    "香美町 現地視察",
}


@pytest.fixture
def laptop(tmp_path: Path) -> Path:
    folder = tmp_path / "laptop"
    shutil.copytree(FIXTURE / "laptop", folder)
    (folder / "device-keys.json").chmod(0o600)  # git keeps no modes; the key file is owner-only
    return folder


def test_it_checks_and_holds_the_same_records(cli: Cli, laptop: Path) -> None:
    checked = cli("--lang", "en", "--data-dir", str(laptop), "check")
    assert checked.code == 0, checked.out + checked.err
    assert f"schema: {SCHEMA_HEAD} (head {SCHEMA_HEAD})" in checked.out
    assert "activity: 4 (+1 deleted)" in checked.out
    dumped = cli("--data-dir", str(laptop), "dump")
    assert dumped.out == (FIXTURE / "laptop.dump.json").read_text(encoding="utf-8")


def test_its_search_comes_newest_first_after_the_migration(cli: Cli, laptop: Path) -> None:
    found = cli("--lang", "en", "--data-dir", str(laptop), "search", "町", "--json")
    assert found.code == 0, found.err
    hits = json.loads(found.out)["hits"]
    listed = json.loads(cli("--data-dir", str(laptop), "activity", "list", "--json").out)
    dates = {a["id"]: a["date"] for a in listed}
    shown = [dates[h["id"]] for h in hits if h["id"] in dates]
    assert len(shown) == len(TITLES)
    assert shown == sorted(shown, reverse=True)


def test_it_lists_edits_restores_reports_and_exports(
    cli: Cli, laptop: Path, tmp_path: Path
) -> None:
    def run(*args: str) -> str:
        result = cli("--lang", "en", "--data-dir", str(laptop), *args)
        assert result.code == 0, result.out + result.err
        return result.out

    listed = json.loads(run("activity", "list", "--json", "--limit", "100"))
    assert {a["title"] for a in listed} == TITLES
    briefing = next(a for a in listed if a["title"] == "神河町 住民説明会(第1回)")
    before = json.loads(run("activity", "show", briefing["id"], "--json"))
    assert before["participants"]["head_count"] == 14

    run("activity", "edit", briefing["id"], "--head-count", "15")
    shown = json.loads(run("activity", "show", briefing["id"], "--json"))
    assert shown["participants"]["head_count"] == 15
    assert shown["participants"]["organization_ids"]  # the community kept
    assert shown["title"] == "神河町 住民説明会(第1回)"
    assert len(run("history", briefing["id"]).strip().splitlines()) >= 4

    deleted = run("deleted")
    assert "消す予定の記録" in deleted
    gone = next(line.split()[-1] for line in deleted.splitlines() if "消す予定の記録" in line)
    run("restore", gone)
    listed = json.loads(run("activity", "list", "--json", "--limit", "100"))
    assert {a["title"] for a in listed} == TITLES | {"消す予定の記録"}

    assert "長谷地区" in run("track", "list")
    report = tmp_path / "report.md"
    run("report", "--format", "md", "--out", str(report))
    text = report.read_text(encoding="utf-8")
    assert "令和6年度 地域DX推進 報告" in text
    assert "神河町" in text

    bundle = tmp_path / "to-hub.dxb"
    assert "revisions" in run("export", "--to", str(bundle), "--recipient", "hyogo-hub")
    assert bundle.stat().st_size > 0
    assert "integrity_check: ok" in run("check")


@pytest.mark.usefixtures("frozen_today")
async def test_the_app_shows_its_log(laptop: Path) -> None:
    app = DxfieldApp(laptop)
    async with app.run_test(size=SIZE) as pilot:
        await open_log(app, pilot)
        assert set(titles(app)) >= TITLES


def test_its_full_text_index_gathers_more_before_writing_out(cli: Cli, laptop: Path) -> None:
    """Migration 0009: FTS5 holds 16 MiB of new entries in memory before it writes them out (a
    bulk write's index time); what the index held stays whole and findable."""
    import sqlite3

    def hashsize() -> object:
        with contextlib.closing(sqlite3.connect(laptop / "dxfield.sqlite3")) as conn:
            found = conn.execute("SELECT v FROM search_fts_config WHERE k = 'hashsize'").fetchone()
            return None if found is None else found[0]

    assert hashsize() is None  # FTS5's default, 1 MiB, as the release before kept it
    assert cli("--data-dir", str(laptop), "check").code == 0
    assert hashsize() == 16 * 1024 * 1024
    with contextlib.closing(sqlite3.connect(laptop / "dxfield.sqlite3")) as conn:
        conn.execute("INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)")
    found = json.loads(cli("--data-dir", str(laptop), "search", "住民説明会", "--json").out)
    assert [hit["title"] for hit in found["hits"]] == ["神河町 住民説明会(第1回)"]
