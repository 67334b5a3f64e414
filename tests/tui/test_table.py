"""The app's tables show their rows whole, even when a paint comes before the table is idle."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region

from dxfield.tui.screens.followups import FollowUpTable
from dxfield.tui.widgets.table import RowDetail, fitted_widths


class OneTable(App[None]):
    """An app holding one table, of fixed height as on the Actions and Findings screens."""

    def compose(self) -> ComposeResult:
        yield FollowUpTable(id="table")


def painted(table: FollowUpTable, lines: int) -> list[str]:
    """The table's first `lines` lines as the screen paints them (through its caches)."""
    width = table.size.width
    return [strip.text.rstrip() for strip in table.render_lines(Region(0, 0, width, lines))]


def screen_text(app: App[None]) -> str:
    """What the screen shows, as text (tags of the SVG screenshot dropped, entities read)."""
    return html.unescape(re.sub(r"<[^>]*>", "", app.export_screenshot())).replace("\xa0", " ")


async def test_rows_painted_before_the_columns_grow_are_painted_again_whole() -> None:
    app = OneTable()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(FollowUpTable)
        table.add_columns("Kind", "Finding")
        await pilot.pause()
        table.clear()
        table.add_row("Insight", "a finding longer than its header")
        # The screen's refresh timer may paint now, before the table's idle widens the columns
        # (a worker's rows arriving on a screen just switched to): the cut lines get cached.
        assert painted(table, 2)[1] == " Ins…  a find…"
        await pilot.pause()
        await pilot.pause()
        assert painted(table, 2) == [
            " Kind     Finding",
            " Insight  a finding longer than its header",
        ]
        assert "Insight  a finding longer than its header" in screen_text(app)


def test_columns_too_wide_together_are_cut_the_widest_first() -> None:
    assert fitted_widths([10, 20, 30], 100) == [10, 20, 30]
    # The widest gives way first, down to a third of the room...
    assert fitted_widths([10, 10, 120], 60) == [10, 10, 40]
    # ...then the others share what is left, at one width, and the widest takes the rest.
    assert fitted_widths([14, 10, 16, 14, 120], 70) == [12, 10, 12, 12, 24]
    assert sum(fitted_widths([30, 30, 30, 30, 80], 60)) <= 60


LONG = "年内の実証実験実施に向け、具体的な配送モデル検討・住民との実証実験仕様の調整を支援する。"


async def test_a_narrow_table_cuts_with_an_ellipsis_and_shows_the_focused_row_whole() -> None:
    app = OneTable()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(FollowUpTable)
        table.add_columns("Status", "Initiative", "Action")
        table.add_row("Planned", "豊岡市 配送DX", LONG)
        table.add_row("Planned", "多可町 保健福祉DX", "short")
        table.focus()
        await pilot.pause()
        await pilot.pause()
        lines = painted(table, 3)
        assert all(len(line) <= 60 for line in lines)
        assert lines[1].startswith(" Planned  豊岡市 配送DX") and lines[1].endswith("…")
        detail = app.query_one(RowDetail)
        assert detail.display
        assert str(detail.render()) == f"Action: {LONG}"
        await pilot.press("down")
        await pilot.pause()
        assert str(detail.render()) == ""  # nothing of that row is cut
        assert LONG[:10] in screen_text(app)


@pytest.mark.usefixtures("frozen_today")
async def test_the_logs_long_titles_end_in_an_ellipsis_and_show_whole_below(demo: Path) -> None:
    """At 80x24 a title too long for its row ends in `…` before the scrollbar (it was cut by
    the scrollbar, with none), and the cursor's row shows whole under the list (issue 18)."""
    from rich.cells import cell_len

    from dxfield.store.activities import ActivityInput, add_activity
    from dxfield.store.engine import Store
    from dxfield.tui.app import DxfieldApp
    from dxfield.tui.widgets.activity_list import ActivityList
    from tests.tui.test_app import settle

    with Store.open(demo) as store:
        add_activity(
            store,
            ActivityInput(title=LONG, kind="meeting", date="2024-11-20", municipality="豊岡市"),
        )
    app = DxfieldApp(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("l")
        await settle(app, pilot)
        listing = app.screen.query_one(ActivityList)
        width = listing.scrollable_content_region.width
        assert width < listing.size.width  # a scrollbar: 27 activities and more
        first = listing.render_line(0).text.rstrip()
        assert cell_len(first) <= width and first.endswith("…"), first
        detail = app.screen.query_one(RowDetail)
        assert LONG in str(detail.render()).replace("\n", "")
        assert detail.region.bottom <= 22  # above the status bar and the keys
