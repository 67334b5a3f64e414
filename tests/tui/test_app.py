"""The app, driven from the keyboard through Textual's Pilot, on the demo store."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Label, Static
from textual.worker import WorkerCancelled, WorkerFailed

from dxfield.store import activities
from dxfield.store.engine import Store
from dxfield.store.local_state import list_drafts
from dxfield.tui.app import DxfieldApp
from dxfield.tui.screens.activity_form import ActivityFormScreen
from dxfield.tui.screens.activity_view import ActivityViewScreen
from dxfield.tui.screens.dashboard import DashboardScreen, InitiativeCardView
from dxfield.tui.screens.log import LogScreen
from dxfield.tui.widgets.activity_list import ActivityList
from dxfield.tui.widgets.key_bar import KeyBar
from tests.writers import OtherWriter

SIZE = (120, 40)


async def settle(app: DxfieldApp, pilot: Pilot[None], rounds: int = 6) -> None:
    """Let the Store open (timed from the first paint, see `OPEN_AFTER`) and workers finish, and
    the workers their results start, and the screen repaint."""
    for _ in range(400):  # at most about 20 s: a Store that cannot open is tried too
        if app._store_tried.is_set():
            break
        await pilot.pause(0.05)
    for _ in range(rounds):
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()


def titles(app: DxfieldApp) -> list[str]:
    listing = app.screen.query_one(ActivityList)
    rows = [listing.row_at(i) for i in range(min(listing.total, 100))]
    return [r.title for r in rows if r is not None]


def stored_titles(folder: Path) -> list[str]:
    with Store.open(folder) as store:
        return [r.title for r in activities.list_activities(store, limit=1000)]


async def open_log(app: DxfieldApp, pilot: Pilot[None]) -> None:
    await settle(app, pilot)
    await pilot.press("l")
    await settle(app, pilot)
    assert isinstance(app.screen, LogScreen)


async def new_form(app: DxfieldApp, pilot: Pilot[None]) -> ActivityFormScreen:
    """A new activity form, opened with n from the screen shown."""
    await settle(app, pilot)
    await pilot.press("n")
    await settle(app, pilot)
    form = app.screen
    assert isinstance(form, ActivityFormScreen)
    return form


@pytest.mark.usefixtures("frozen_today")
async def test_home_is_the_dashboard_with_a_card_per_initiative(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen)
        cards = list(app.screen.query(InitiativeCardView))
        assert len(cards) == 7
        toyooka = next(c for c in cards if c.card.municipality == "豊岡市")
        assert toyooka.card.theme == "配送DX"
        toyooka.focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, LogScreen)
        assert set(titles(app)) >= {"ドローン配送説明会", "西米良村への訪問"}
        assert "窓口体験調査" not in titles(app)


@pytest.mark.usefixtures("frozen_today")
async def test_the_dashboards_cards_are_walked_with_down_j_up_k(demo: Path) -> None:
    """From the keyboard: each key goes to the next or the card before, scrolled whole into
    view on the smallest terminal (the keys were bound to an action screens do not have)."""
    app = DxfieldApp(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        cards = list(screen.query(InitiativeCardView))
        assert app.focused is cards[0]
        for key, expected in [("down", 1), ("j", 2), ("up", 1), ("k", 0), ("k", 0)]:
            await pilot.press(key)
            await pilot.pause()
            assert app.focused is cards[expected], key
            assert screen.can_view_entire(cards[expected]), key
        for _ in cards:
            await pilot.press("j")
        await pilot.pause()
        assert app.focused is cards[-1]
        assert screen.can_view_entire(cards[-1])


@pytest.mark.usefixtures("frozen_today")
async def test_log_a_visit_from_the_keyboard_then_edit_and_delete_it(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_log(app, pilot)
        form = await new_form(app, pilot)
        assert app.focused is form.query_one("#title", Input)
        assert form.query_one("#date", Input).value == "2024-11-26"
        await pilot.press(*"奥矢根区 意見交換会")
        assert form.values()["municipality_id"]  # defaults to the last used
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, LogScreen)
        assert titles(app)[0] == "奥矢根区 意見交換会"
        assert "奥矢根区 意見交換会" in stored_titles(demo)

        await pilot.press("home", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ActivityViewScreen)
        await pilot.press("e")
        await settle(app, pilot)
        title = app.screen.query_one("#title", Input)
        title.value = "奥矢根区 意見交換会(第2回)"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ActivityViewScreen)
        assert "奥矢根区 意見交換会(第2回)" in stored_titles(demo)
        await pilot.press("d")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        assert isinstance(app.screen, LogScreen)
        assert "奥矢根区 意見交換会(第2回)" not in stored_titles(demo)
        assert "奥矢根区 意見交換会(第2回)" not in titles(app)


@pytest.mark.usefixtures("frozen_today")
async def test_an_invalid_date_shows_its_error_and_saves_nothing(demo: Path) -> None:
    before = stored_titles(demo)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press(*"日付の誤り")
        form = app.screen
        form.query_one("#date", Input).value = "2024-02-30"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is form
        error = str(form.query_one("#error-date", Label).render())
        assert "2024-02-30" in error and "not a real date" in error
        assert form.query_one("#title", Input).value == "日付の誤り"  # nothing typed is lost
    assert stored_titles(demo) == before


DEMO_MATCHES = {
    "農業": {
        "外部ステークホルダーであるECサイトの運営者や農家の方への声掛け・巻き込み",
        "農業DX推進体制構築",
    },
    "配送": {"ドローン配送説明会", "意見交換・ワークショップ", "西米良村への訪問"},
}


@pytest.mark.usefixtures("frozen_today")
@pytest.mark.parametrize("word", list(DEMO_MATCHES))
async def test_search_finds_the_demo_records(demo: Path, word: str) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_log(app, pilot)
        await pilot.press("slash", *word)
        await pilot.pause(0.3)
        await settle(app, pilot)
        assert set(titles(app)) == DEMO_MATCHES[word]
        summary = str(app.screen.query_one("#summary", Label).render())
        assert str(len(DEMO_MATCHES[word])) in summary


@pytest.mark.usefixtures("frozen_today")
async def test_editing_keeps_what_the_form_does_not_change(demo: Path) -> None:
    from dxfield.demo.loader import demo_id

    visit_id = demo_id("activity", "toyooka-nishimera-visit")
    fiscal_id = next(
        r.id
        for r in (lambda s: activities.list_activities(s, limit=100))(Store.open(demo))
        if r.title == "子どもの予防接種アプリ"
    )
    with Store.open(demo) as store:
        before = {i: activities.get_activity(store, i) for i in (visit_id, fiscal_id)}
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for activity_id in (visit_id, fiscal_id):
            app.open_form(activity_id=activity_id)
            await settle(app, pilot)
            await pilot.press("end", *"(改)", "ctrl+s")
            await settle(app, pilot)
    with Store.open(demo) as store:
        for activity_id, old in before.items():
            new = activities.get_activity(store, activity_id)
            assert new.title == old.title + "(改)"
            assert new.participants == old.participants
            assert (new.date, new.date_precision) == (old.date, old.date_precision)
            assert (new.areas, new.location, new.notes) == (old.areas, old.location, old.notes)


@pytest.mark.usefixtures("frozen_today")
async def test_a_dirty_form_is_not_left_by_the_navigation_keys(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press(*"消えてはいけないメモ", "tab")  # focus leaves the text field
        for key in ("h", "l", "n"):
            await pilot.press(key)
            await settle(app, pilot)
            assert isinstance(app.screen, ActivityFormScreen)
        assert len([s for s in app.screen_stack if isinstance(s, ActivityFormScreen)]) == 1
        await pilot.press("ctrl+q")  # quitting writes the draft first
    assert _draft_titles(demo) == ["消えてはいけないメモ"]
    again = DxfieldApp(demo)
    async with again.run_test(size=SIZE) as pilot:
        await settle(again, pilot)
        await pilot.press("escape")  # not now: the draft is kept for later
        await settle(again, pilot)
    assert _draft_titles(demo) == ["消えてはいけないメモ"]


@pytest.mark.usefixtures("frozen_today")
async def test_a_draft_comes_back_after_the_app_stopped_mid_typing(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press(*"書きかけのメモ")
        await pilot.pause(0.6)  # the draft is saved a moment after typing stops
        await settle(app, pilot)
    # The app stopped without saving (as a closed terminal would).
    assert _draft_titles(demo) == ["書きかけのメモ"]

    again = DxfieldApp(demo)
    async with again.run_test(size=SIZE) as pilot:
        await settle(again, pilot)
        await pilot.press("y")
        await settle(again, pilot)
        assert isinstance(again.screen, ActivityFormScreen)
        assert again.screen.query_one("#title", Input).value == "書きかけのメモ"


@pytest.mark.usefixtures("frozen_today")
async def test_typing_while_another_dxfield_writes_says_nothing_and_the_newest_draft_lands(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long import writing: the drafts written as one types wait for it, quietly (they used
    to fail as "busy" with an error each), and the newest lands, never an older one after."""
    from tests.writers import another_writer

    _busy_at_once(monkeypatch)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        with another_writer(demo) as other:
            other.take()
            await pilot.press(*"書きかけ")
            await pilot.pause(1.0)  # its draft waits for the other writer
            await pilot.press(*"のメモ")
            await pilot.pause(1.0)  # and this one after it
            other.let_go()
        assert await _drafts_once(pilot, demo, ["書きかけのメモ"]) == ["書きかけのメモ"]
        said = [(n.severity, str(n.message)) for n in app._notifications]
        assert not [m for severity, m in said if severity == "error"], said


async def _drafts_once(pilot: Pilot[None], demo: Path, expected: list[str]) -> list[str]:
    """The titles of the store's drafts once they are `expected` (or after some 10 s)."""
    titles: list[str] = []
    for _ in range(200):
        await pilot.pause(0.05)
        with Store.open(demo) as store:
            titles = [str(d.data["title"]) for d in list_drafts(store)]
        if titles == expected:
            break
    return titles


def _busy_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain writer is "busy" after 200 ms (the store's connections are made with this)."""
    from dxfield.store import sqlite_features

    monkeypatch.setattr(sqlite_features, "BUSY_TIMEOUT_MS", 200)
    monkeypatch.setattr(
        sqlite_features,
        "PRAGMAS",
        tuple(
            "PRAGMA busy_timeout = 200" if p.startswith("PRAGMA busy_timeout") else p
            for p in sqlite_features.PRAGMAS
        ),
    )


@pytest.mark.usefixtures("frozen_today")
async def test_a_draft_discarded_while_another_dxfield_writes_does_not_come_back(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Escape, then "discard", while a draft write waits for a long import: once the import is
    done the draft is gone, not written after the form closed (nor an older one left)."""
    from tests.writers import another_writer

    _busy_at_once(monkeypatch)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press(*"abc")
        await pilot.pause(0.6)
        await settle(app, pilot)  # its draft is there
        with Store.open(demo) as store:
            assert [d.data["title"] for d in list_drafts(store)] == ["abc"]
        with another_writer(demo) as other:
            other.take()
            await pilot.press(*"def")
            await pilot.pause(1.0)  # its draft waits
            await pilot.press("escape")
            await pilot.pause(0.3)
            await pilot.press("y")  # discard
            await pilot.pause(0.5)
            other.let_go()
        assert await _drafts_once(pilot, demo, []) == []
        await pilot.pause(1.0)
        with Store.open(demo) as store:
            assert list_drafts(store) == []  # and none landed after


async def _quit_once(pilot: Pilot[None], app: DxfieldApp, seconds: float = 10) -> float:
    """How long the app took to end (it must, within some `seconds`)."""
    import time

    started = time.monotonic()
    for _ in range(int(seconds / 0.05)):
        if not app.is_running:
            break
        await pilot.pause(0.05)
    assert not app.is_running
    return time.monotonic() - started


def _draft_titles(folder: Path) -> list[str]:
    with Store.open(folder) as store:
        return [d.data["title"] for d in list_drafts(store)]


def _said(app: DxfieldApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


@contextlib.asynccontextmanager
async def _typing_during_an_import(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[DxfieldApp, Pilot[None], OtherWriter]]:
    """A new activity form, "abc" typed in it while another writer holds the store (a long
    import): its draft waits for it."""
    from tests.writers import another_writer

    _busy_at_once(monkeypatch)
    app = DxfieldApp(demo)
    with another_writer(demo) as other:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("n")
            await settle(app, pilot)
            other.take()
            await pilot.press(*"abc")
            await pilot.pause(1.0)  # its draft waits
            yield app, pilot, other


@pytest.mark.usefixtures("frozen_today")
async def test_quitting_while_another_dxfield_writes_keeps_the_draft_then_quits(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ctrl+q while the draft waits for a long import: the app says it waits, stays until
    the draft lands, then quits by itself; the next start restores what was typed (the app
    used to give the draft up after the busy timeout and quit, losing it)."""
    async with _typing_during_an_import(demo, monkeypatch) as (app, pilot, other):
        await pilot.press("ctrl+q")
        await pilot.pause(1.5)  # past the busy timeout: it waits on
        assert app.is_running
        assert any("quits once what you typed is saved" in m for m in _said(app))
        other.let_go()
        await _quit_once(pilot, app)
    assert app.return_code == 0
    assert _draft_titles(demo) == ["abc"]


@pytest.mark.usefixtures("frozen_today")
async def test_typing_after_ctrl_q_while_the_quit_waits_is_kept_too(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The form still takes keys while the quit waits: what is typed then is in the draft
    kept (the quit waits for the drafts queued meanwhile too)."""
    async with _typing_during_an_import(demo, monkeypatch) as (app, pilot, other):
        await pilot.press("ctrl+q")
        await pilot.pause(0.8)
        await pilot.press(*"def")
        await pilot.pause(0.3)
        assert app.is_running
        other.let_go()
        await _quit_once(pilot, app)
    assert _draft_titles(demo) == ["abcdef"]


@pytest.mark.usefixtures("frozen_today")
async def test_quitting_waits_for_a_discard_of_a_form_already_closed(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Escape, "discard", then ctrl+q, during a long import: the discard lands before the
    app quits (the draft is not offered back at the next start)."""
    from tests.writers import another_writer

    _busy_at_once(monkeypatch)
    app = DxfieldApp(demo)
    with another_writer(demo) as other:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("n")
            await settle(app, pilot)
            await pilot.press(*"abc")
            await pilot.pause(0.6)
            await settle(app, pilot)  # its draft is there
            other.take()
            await pilot.press("escape")
            await pilot.pause(0.3)
            await pilot.press("y")  # discard: it waits for the other writer
            await pilot.pause(0.3)
            await pilot.press("ctrl+q")
            await pilot.pause(0.8)
            assert app.is_running
            other.let_go()
            await _quit_once(pilot, app)
    with Store.open(demo) as store:
        assert list_drafts(store) == []


@pytest.mark.usefixtures("frozen_today")
async def test_a_save_refused_after_the_wait_calls_the_quit_off(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ctrl+s, ctrl+q, and the save, once the other writer is done, is refused (say, the
    import deleted the activity being edited): the app stays, its error is seen, what was
    typed is still in the form, and a later ctrl+q quits as usual, keeping the draft."""
    import threading

    from dxfield.domain.errors import LocalizedError
    from dxfield.store import activity_entry

    let_go = threading.Event()

    def refused(*_args: Any, waiting: Any = None, **_kwargs: Any) -> Any:
        waiting()  # it waits, as for another writer, and says so
        let_go.wait(10)
        raise LocalizedError("store.busy", path="dxfield.sqlite3")

    monkeypatch.setattr(activity_entry, "save_activity", refused)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_log(app, pilot)
        form = await new_form(app, pilot)
        await pilot.press(*"断られる記録")
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        await pilot.press("ctrl+q")
        await pilot.pause(0.8)
        assert app.is_running and app.quitting
        let_go.set()
        await pilot.pause(0.5)
        await settle(app, pilot)
        assert app.is_running and not app.quitting
        assert app.screen is form
        assert form.query_one("#title", Input).value == "断られる記録"
        assert any("busy in another dxfield" in m for m in _said(app)), _said(app)
        await pilot.press("ctrl+q")
        await _quit_once(pilot, app)
    assert _draft_titles(demo) == ["断られる記録"]


@pytest.mark.usefixtures("frozen_today")
async def test_quitting_twice_while_another_dxfield_writes_quits_without_it(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ctrl+q again while the quit waits: the app quits at once, with no traceback, and no
    draft lands after it is gone (what the store held before stays)."""
    import time

    async with _typing_during_an_import(demo, monkeypatch) as (app, pilot, _other):
        await pilot.press("ctrl+q")
        await pilot.pause(0.8)
        assert app.is_running
        await pilot.press("ctrl+q")
        took = await _quit_once(pilot, app)
    assert app.return_code == 0
    assert took < 5
    time.sleep(0.7)  # a draft write that went on waiting would land now the import is done
    with Store.open(demo) as store:
        assert list_drafts(store) == []  # none was kept, and none landed after


@pytest.mark.usefixtures("frozen_today")
async def test_quitting_while_a_save_waits_quits_once_it_is_saved(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ctrl+s, then ctrl+q, during a long import: the save lands when the import is done,
    and the app quits then (it used to be torn down with the save still waiting)."""
    from tests.writers import another_writer

    _busy_at_once(monkeypatch)
    app = DxfieldApp(demo)
    with another_writer(demo) as other:
        async with app.run_test(size=SIZE) as pilot:
            await open_log(app, pilot)
            await new_form(app, pilot)
            await pilot.press(*"取込中の訪問")
            other.take()
            await pilot.press("ctrl+s")
            await pilot.pause(0.8)  # the save waits
            await pilot.press("ctrl+q")
            await pilot.pause(1.0)
            assert app.is_running
            assert any("quits once what you typed is saved" in m for m in _said(app))
            other.let_go()
            await _quit_once(pilot, app)
    assert "取込中の訪問" in stored_titles(demo)
    with Store.open(demo) as store:
        assert list_drafts(store) == []


@pytest.mark.usefixtures("frozen_today")
async def test_q_quits_but_not_while_typing(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("q")
        assert app.is_running
        assert app.screen.query_one("#title", Input).value == "q"
        await pilot.press("ctrl+q")
    assert app.return_code == 0


@pytest.mark.usefixtures("frozen_today")
async def test_the_status_bar_names_the_store_and_device(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("l")
        await settle(app, pilot)
        status = str(app.screen.query_one("StatusBar", Static).render())
        assert str(demo) in status and "changes not exported" in status


async def test_a_broken_store_is_a_notification_not_a_crash(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "dxfield.sqlite3").write_bytes(b"not a database" * 50)
    app = DxfieldApp(broken)
    async with app.run_test() as pilot:
        await settle(app, pilot)
        assert app.is_running
        assert any("cannot be read" in str(n.message) for n in app._notifications)
        await pilot.press("ctrl+q")


@pytest.mark.usefixtures("frozen_today")
async def test_every_key_of_the_screen_is_in_the_palette(demo: Path) -> None:
    from dxfield.tui.commands import DxfieldCommands

    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_log(app, pilot)
        provider = DxfieldCommands(app.screen)
        labels = {command.label for command in provider.commands()}
        assert {"Log an activity", "Dashboard", "Help", "Search", "Filters", "Open"} <= labels
        await pilot.press("enter")
        await settle(app, pilot)
        provider = DxfieldCommands(app.screen)
        run = {command.label: command.run for command in provider.commands()}
        assert {"Edit", "Delete"} <= set(run)
        await run["Edit"]()  # the palette awaits what a command returns
        await settle(app, pilot)
        assert isinstance(app.screen, ActivityFormScreen)


@pytest.mark.usefixtures("frozen_today")
async def test_the_key_bar_follows_the_focus_and_a_click_presses_a_key(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_log(app, pilot)
        bar = app.screen.query_one(KeyBar)
        line = bar.render().plain
        assert line.rstrip().endswith("^p palette")  # kept at the right at 80 columns
        assert "/ Search" in line
        assert "…" in line  # keys that did not fit are dropped whole, and it says so
        await pilot.press("slash")
        await settle(app, pilot)
        assert "f Filters" not in bar.render().plain  # typing letters while the field has focus
        await pilot.press("escape")
        await settle(app, pilot)
        start = bar.render().plain.index(" n ")
        await pilot.click(KeyBar, offset=(start + 1, 0))
        await settle(app, pilot)
        assert isinstance(app.screen, ActivityFormScreen)


@pytest.mark.usefixtures("frozen_today")
async def test_switching_screens_quickly_does_not_stop_the_app(demo: Path) -> None:
    # Textual's Header could stop the app here: a title watcher firing on a screen being replaced.
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for rounds in range(30):
            app.action_log()
            for _ in range(rounds % 4):
                await pilot.pause()
            app.action_dashboard()
            for _ in range(rounds % 3):
                await pilot.pause()
        app.action_log()
        await settle(app, pilot)
        assert isinstance(app.screen, LogScreen)
        assert app.return_code is None  # still running


@pytest.mark.usefixtures("frozen_today")
async def test_escape_empties_the_search_and_reads_the_log_once(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_log(app, pilot)
        await pilot.press("slash", *"配送")
        await settle(app, pilot)
        listing = app.screen.query_one(ActivityList)
        assert 0 < listing.total < 27
        before = listing.state.generation
        await pilot.press("escape")
        await pilot.pause(0.4)  # longer than the search's debounce
        await settle(app, pilot)
        assert listing.total == 27
        assert listing.state.generation == before + 1  # one reload, not two
        assert app.focused is listing
