"""The app, driven through Textual's Pilot on the demo store."""

from __future__ import annotations

import contextlib
from pathlib import Path

from textual.widgets import DataTable, Static
from textual.worker import WorkerFailed

from dxfield.demo.service import prepare_demo
from dxfield.tui.app import DxfieldApp


async def test_the_log_lists_the_demo_newest_first(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    prepare_demo(demo)
    app = DxfieldApp(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.query_one("#log", DataTable)
        assert table.row_count == 27
        first = table.get_row_at(0)
        assert first[0] == "late Oct 2024" and first[3] == "窓口体験調査"
        status = str(app.query_one("#status", Static).render())
        assert "27" in status
        await pilot.press("q")
    assert app.return_code == 0


async def test_a_broken_store_is_a_notification_not_a_crash(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "dxfield.sqlite3").write_bytes(b"not a database" * 50)
    app = DxfieldApp(broken)
    async with app.run_test() as pilot:
        with contextlib.suppress(WorkerFailed):  # the failure is the point; it must be shown
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running
        assert any("cannot be read" in str(n.message) for n in app._notifications)
        await pilot.press("ctrl+q")
