"""The app's tables show their rows whole, even when a paint comes before the table is idle."""

from __future__ import annotations

import html
import re

from textual.app import App, ComposeResult
from textual.geometry import Region

from dxfield.tui.screens.followups import FollowUpTable


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
        assert painted(table, 2)[1] == " Insi  a findi"
        await pilot.pause()
        await pilot.pause()
        assert painted(table, 2) == [
            " Kind     Finding",
            " Insight  a finding longer than its header",
        ]
        assert "Insight  a finding longer than its header" in screen_text(app)
