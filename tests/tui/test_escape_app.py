"""The app shows control characters escaped and brackets as text, on every screen that shows
data: what reaches the terminal is checked on the screenshot of the whole screen."""

from __future__ import annotations

import contextlib
import html
import re
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static
from textual.worker import WorkerCancelled, WorkerFailed

from dxfield.store import records
from dxfield.store.engine import Store
from dxfield.store.followups import add_action, add_finding
from dxfield.store.organizations import resolve_municipality
from dxfield.sync.keys import own_card
from dxfield.tui.app import DxfieldApp
from dxfield.tui.screens.activity_view import ActivityViewScreen
from dxfield.tui.screens.followups import ActionsScreen, FindingsScreen
from dxfield.tui.screens.log import LogScreen
from dxfield.tui.screens.sync import SyncScreen
from dxfield.tui.widgets.activity_list import ActivityList
from tests.hostile import (
    BIDI,
    BIDI_SHOWN,
    DEVICE,
    DEVICE_SHOWN,
    ESCAPES,
    RECORD_ID,
    RECORD_ID_SHOWN,
    SHOWN,
    name_device,
    raw_controls,
    taint,
    trust_under_name,
    write_activity,
)
from tests.tui.test_app import SIZE, settle


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A store whose records, device and trusted device all try to drive the terminal."""
    folder = tmp_path / "hostile"
    with Store.open(tmp_path / "other") as other:
        card = own_card(other)
    name_device(folder, DEVICE)  # refused by `init` today; a store from before may hold it
    with Store.open(folder) as store:
        write_activity(store, title=f"会議{ESCAPES}", location=f"場所{ESCAPES}")
        write_activity(
            store,
            title=f"説明会{BIDI} [/]*強調* <b>",
            notes=f"一行目{BIDI}\n\n- 項目 [/] [@click=app.quit]押す[/]",
            record_id=RECORD_ID,
            device_id=card.id,  # written on the trusted device, whose name is hostile
        )
        trust_under_name(store, card, DEVICE)
    return folder


@pytest.fixture
def bracketed(hostile: Path) -> Path:
    """The hostile store with an initiative, an action and a finding holding brackets."""
    with Store.open(hostile) as store:
        initiative = records.create(
            store,
            "initiative",
            {
                "municipality_id": resolve_municipality(store, "豊岡市"),
                "theme": "[/]配送",
                "title": "ドローン",
            },
        )
        action = add_action(store, text="[/]連絡", initiative=initiative.id, owner="[b]担当")
        finding = add_finding(store, kind="insight", text="[/]気づき", initiative=initiative.id)
        # Bidi overrides are refused today; a store from before that rule may hold them.
        taint(store, "initiative", initiative.id, title=f"ドローン{BIDI}")
        taint(store, "action", action.id, text=f"[/]連絡{BIDI}")
        taint(store, "finding", finding.id, text=f"[/]気づき{BIDI}")
    return hostile


def screen_text(app: DxfieldApp) -> str:
    """What the screen shows, as text (tags of the SVG screenshot dropped, entities read)."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]*>", "", svg)).replace("\xa0", " ")


async def shown(app: DxfieldApp, pilot: Pilot[None], *needles: str, tries: int = 200) -> str:
    """The screen's text once it shows every one of `needles` (a table paints a little after
    its worker is done), checked clean of control characters. A shared machine may be slow:
    up to 20 seconds, waiting on the workers each time; a screen that shows them at once
    costs nothing more."""
    for _ in range(tries):
        text = assert_screen_is_clean(app)
        if all(n in text for n in needles):
            return text
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause(0.1)
    return assert_screen_is_clean(app)


def assert_screen_is_clean(app: DxfieldApp) -> str:
    """No control character on the screen; returns the screen's text."""
    assert raw_controls(app.export_screenshot()) == set()
    return screen_text(app)


@pytest.mark.usefixtures("frozen_today")
async def test_the_log_shows_a_hostile_title_escaped(hostile: Path) -> None:
    app = DxfieldApp(hostile)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("l")
        await settle(app, pilot)
        assert isinstance(app.screen, LogScreen)
        listing = app.screen.query_one(ActivityList)
        lines = ["".join(s.text for s in listing.render_line(y)) for y in range(listing.total)]
        assert any("会議<ESC>]0;pwned<BEL>" in line for line in lines), lines
        assert not any(raw_controls(line) for line in lines)
        assert any(f"会議{SHOWN}" == row.title for row in listing.state.blocks[0])
        text = await shown(app, pilot, "会議<ESC>]0;pwned<BEL>")
        assert "会議<ESC>]0;pwned<BEL>" in text
        status = str(app.screen.query_one("StatusBar", Static).render())
        assert DEVICE_SHOWN in status


@pytest.mark.usefixtures("frozen_today")
async def test_the_activity_view_shows_id_title_notes_and_history_as_stored(
    hostile: Path,
) -> None:
    app = DxfieldApp(hostile)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.open_activity(RECORD_ID)
        await settle(app, pilot)
        assert isinstance(app.screen, ActivityViewScreen)
        text = await shown(app, pilot, f"説明会{BIDI_SHOWN} [/]*強調* <b>", DEVICE_SHOWN)
        assert f"説明会{BIDI_SHOWN} [/]*強調* <b>" in text  # not Markdown, not HTML
        assert RECORD_ID_SHOWN in text
        assert f"一行目{BIDI_SHOWN}" in text
        assert "[@click=app.quit]押す[/]" in text
        assert DEVICE_SHOWN in text  # the author: a device by its name, never its id
        await pilot.press("d")  # the question quotes the title
        await settle(app, pilot)
        assert f"説明会{BIDI_SHOWN} [/]*強調* <b>" in await shown(app, pilot, "説明会")
        await pilot.press("n")


@pytest.mark.usefixtures("frozen_today")
async def test_dashboard_actions_findings_and_sync_show_data_as_text(bracketed: Path) -> None:
    app = DxfieldApp(bracketed)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        text = await shown(app, pilot, "[/]配送", f"ドローン{BIDI_SHOWN}")
        assert "[/]配送" in text and f"ドローン{BIDI_SHOWN}" in text

        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, ActionsScreen)
        text = await shown(app, pilot, f"[/]連絡{BIDI_SHOWN}", "[b]担当")
        assert f"[/]連絡{BIDI_SHOWN}" in text and "[b]担当" in text

        await pilot.press("i")
        await settle(app, pilot)
        assert isinstance(app.screen, FindingsScreen)
        assert f"[/]気づき{BIDI_SHOWN}" in await shown(app, pilot, f"[/]気づき{BIDI_SHOWN}")

        await pilot.press("s")
        await settle(app, pilot)
        assert isinstance(app.screen, SyncScreen)
        text = await shown(app, pilot, DEVICE_SHOWN)
        assert DEVICE_SHOWN in text  # the recipient and what it has not been sent
        assert app.is_running
