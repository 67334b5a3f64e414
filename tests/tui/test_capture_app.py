"""Quick capture, duplicating an activity, note templates; and the start: the first screen
comes before the Store, and keys pressed meanwhile are kept (issue 18)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, TextArea

from dxfield import clock
from dxfield.store import activities
from dxfield.store.draft_rows import Draft
from dxfield.store.engine import Store
from dxfield.store.ids import note_template_id
from dxfield.store.note_templates import (
    HEADINGS,
    built_in,
    note_template,
    saved_templates,
    set_note_template,
)
from dxfield.tui.app import DxfieldApp
from dxfield.tui.screens.activity_form import ActivityFormScreen
from dxfield.tui.screens.capture import CaptureScreen, Place, match_places
from dxfield.tui.screens.dashboard import DashboardScreen
from dxfield.tui.screens.log import LogScreen
from dxfield.tui.screens.note_templates import NoteTemplatesScreen
from dxfield.tui.widgets.activity_list import ActivityList
from dxfield.tui.widgets.pick_list import PickList
from tests.tui.test_app import SIZE, _quit_once, new_form, open_log, settle
from tests.tui.test_sync_app import _notified
from tests.writers import another_writer


class Counted:
    """Presses keys through the Pilot, counting those that are not typed content."""

    def __init__(self, pilot: Pilot[None]) -> None:
        self.pilot = pilot
        self.keys = 0

    async def key(self, *keys: str) -> None:
        """Keys that count: navigation, shortcuts, saving."""
        self.keys += len(keys)
        await self.pilot.press(*keys)

    async def type(self, text: str) -> None:
        """Typed content: not counted."""
        await self.pilot.press(*text)


def newest(folder: Path) -> activities.ActivityRead:
    with Store.open(folder) as store:
        row = activities.list_activities(store, limit=1)[0]
        return activities.get_activity(store, row.id)


def test_a_municipality_is_found_by_its_name_beginning_or_reading() -> None:
    places = [
        Place("多可町", "たかちょう", "1"),
        Place("高砂市", "たかさごし", "2"),
        Place("豊岡市", "とよおかし", "3"),
    ]
    assert [p.id for p in match_places(places, "多可")] == ["1"]
    assert [p.id for p in match_places(places, "とよおか")] == ["3"]
    assert [p.id for p in match_places(places, "たか")] == ["1", "2"]  # two: the capture asks
    assert [p.id for p in match_places(places, "岡")] == ["3"]
    assert match_places(places, " ") == []


@pytest.mark.usefixtures("frozen_today")
async def test_a_quick_capture_takes_at_most_six_keys(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_log(app, pilot)
        keys = Counted(pilot)
        await keys.key("N")
        await settle(app, pilot)
        assert isinstance(app.screen, CaptureScreen)
        await keys.type("多可町保健福祉DXの聞き取り")
        await keys.key("tab")  # the last municipality used, selected: typing replaces it
        await keys.type("多可")
        await keys.key("tab", "tab")  # past the kind (the last used) to the note
        assert app.focused is app.screen.query_one("#capture-notes", TextArea)
        await keys.type("窓口の負担を聞いた")
        await keys.key("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, LogScreen)
        assert keys.keys <= 6
        listing = app.screen.query_one(ActivityList)
        assert listing.row_at(0) is not None
        assert listing.row_at(0).title == "多可町保健福祉DXの聞き取り"  # type: ignore[union-attr]
    saved = newest(demo)
    assert saved.title == "多可町保健福祉DXの聞き取り"
    assert saved.date == clock.today()
    assert "窓口の負担を聞いた" in saved.notes
    with Store.open(demo) as store:
        names = activities.activity_names(store, saved)
    assert names.municipality == "多可町"


@pytest.mark.usefixtures("frozen_today")
async def test_a_capture_saved_during_a_long_import_waits_says_so_and_lands(demo: Path) -> None:
    """Every form's save waits for another writer, as the activity form's does (it used to
    fail as "busy" after ten seconds of an import writing)."""
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_log(app, pilot)
        await pilot.press("N")
        await settle(app, pilot)
        assert isinstance(app.screen, CaptureScreen)
        await pilot.press(*"取込中のメモ", "tab", *"多可", "tab", "tab", *"聞いたこと")
        with another_writer(demo) as other:
            other.take()
            await pilot.press("ctrl+s")
            said = await _notified(app, pilot, "Another dxfield is writing")
            assert any("Another dxfield is writing" in m for m in said), said
            assert isinstance(app.screen, CaptureScreen)  # still there, waiting
            await pilot.press("escape")  # closing now would have the note land unseen
            await pilot.pause(0.3)
            assert isinstance(app.screen, CaptureScreen)
            other.let_go()
        await settle(app, pilot)
        assert isinstance(app.screen, LogScreen)
    saved = newest(demo)
    assert saved.title == "取込中のメモ"
    assert "聞いたこと" in saved.notes


@pytest.mark.usefixtures("frozen_today")
async def test_a_capture_names_one_municipality_and_escape_asks_before_dropping_it(
    demo: Path,
) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("N")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, CaptureScreen)
        await pilot.press(*"聞き取り")
        screen.query_one("#capture-municipality", Input).value = "ほげ"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen  # not saved: no such municipality
        assert "ほげ" in str(screen.query_one("#form-error").render())
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is not screen  # the question
        await pilot.press("n")
        await settle(app, pilot)
        assert app.screen is screen
        assert screen.query_one("#capture-title", Input).value == "聞き取り"


@pytest.mark.usefixtures("frozen_today")
async def test_duplicate_opens_the_form_with_everything_but_the_date(demo: Path) -> None:
    before = newest(demo)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_log(app, pilot)
        await pilot.press("c")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, ActivityFormScreen)
        assert form.activity_id is None
        assert form.query_one("#title", Input).value == before.title
        assert form.query_one("#date", Input).value == clock.today().isoformat()
        assert form.query_one("#kind", PickList).value == before.kind.value
        assert form.query_one("#notes", TextArea).text == before.notes
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, LogScreen)
    copy = newest(demo)
    assert copy.id != before.id
    assert (copy.title, copy.kind, copy.municipality_id, copy.notes) == (
        before.title,
        before.kind,
        before.municipality_id,
        before.notes,
    )
    assert copy.date == clock.today()
    assert copy.participants == before.participants


@pytest.mark.usefixtures("frozen_today")
async def test_note_templates_start_a_new_note_and_are_edited_in_the_app(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_note_templates()
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, NoteTemplatesScreen)
        area = screen.query_one("#template-text", TextArea)
        assert [f"## {h}" for h in HEADINGS] == [
            line for line in area.text.splitlines() if line.startswith("## ")
        ]
        area.text = "## 日時\n\n## 決定事項\n"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert not isinstance(app.screen, NoteTemplatesScreen)
        form = await new_form(app, pilot)
        kind = form.query_one("#kind", PickList).value
    with Store.open(demo) as store:
        assert note_template(store, "meeting") == "## 日時\n\n## 決定事項\n"
        # Saved as the meeting's one synced record, by this device.
        assert saved_templates(store)["meeting"].id == note_template_id("meeting")
        assert saved_templates(store)["meeting"].device_id == store.device.id
        if kind == "meeting":
            assert form.query_one("#notes", TextArea).text == "## 日時\n\n## 決定事項\n"
        set_note_template(store, "meeting", "")
        assert note_template(store, "meeting") == ""


@pytest.mark.usefixtures("frozen_today")
async def test_built_in_in_the_app_deletes_the_saved_template(demo: Path) -> None:
    with Store.open(demo) as store:
        set_note_template(store, "meeting", "## 日時\n")
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_note_templates()
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, NoteTemplatesScreen)
        assert screen.query_one("#template-text", TextArea).text == "## 日時\n"
        screen.query_one("#built-in", Button).press()
        await settle(app, pilot)
        assert not isinstance(app.screen, NoteTemplatesScreen)
    with Store.open(demo) as store:
        assert "meeting" not in saved_templates(store)  # deleted: its history keeps it
        assert note_template(store, "meeting") == built_in("meeting")


@pytest.mark.usefixtures("frozen_today")
async def test_the_first_screen_comes_before_the_store_and_keeps_a_key_for_it(
    demo: Path,
) -> None:
    app = DxfieldApp(demo)
    store_at_first_screen: list[object] = []
    show_first_screen = app._show_first_screen

    def watched(draft: Draft | None = None) -> None:
        store_at_first_screen.append(app._store)
        show_first_screen(draft)

    app._show_first_screen = watched  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        # The first screen (the Dashboard: the light read found no drafts) comes before the
        # Store has opened, and the Log works already, through the light read.
        for _ in range(100):
            if isinstance(app.screen, DashboardScreen):
                break
            await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert store_at_first_screen == [None]
        await pilot.press("l")
        for _ in range(100):
            await pilot.pause()
            if isinstance(app.screen, LogScreen) and app.screen.query_one(ActivityList).total:
                break
        assert isinstance(app.screen, LogScreen)
        assert app.screen.query_one(ActivityList).total > 0
        if app._store is None:
            await pilot.press("n")  # needs the Store: kept, and opened once it is there
        await settle(app, pilot)
        assert app._store is not None
        if not isinstance(app.screen, ActivityFormScreen):
            await pilot.press("n")
            await settle(app, pilot)
        assert isinstance(app.screen, ActivityFormScreen)


async def test_a_store_that_cannot_open_is_said_once_on_the_screen(tmp_path: Path) -> None:
    """The first screen comes before the Store: when the open fails, it gives way to the reason
    (the workers that waited for the Store give up without a word of their own)."""
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "dxfield.sqlite3").write_bytes(b"not a database at all" * 100)
    app = DxfieldApp(folder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert len(app.screen_stack) == 1
        shown = str(app.screen.query_one("#opening").render())
        assert shown and "Opening" not in shown
        assert len(app._notifications) == 1


@pytest.mark.usefixtures("frozen_today")
@pytest.mark.parametrize("key", ["s", "p", "l", "n", "question_mark", "ctrl+p"])
async def test_no_key_opens_a_screen_before_the_first_one_is_shown(
    demo: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    """Without a light read (a first start, a store to migrate, a hub's), the first screen waits
    for the Store: a key pressed meanwhile must not open a screen under it (a switch on Textual's
    default screen crashed the app)."""
    import dxfield.store.light

    monkeypatch.setattr(dxfield.store.light, "open_light", lambda *args, **kwargs: None)
    pressed = threading.Event()
    store_open = Store.open

    def open_after_the_key(*args: Any, **kwargs: Any) -> Store:
        pressed.wait(10)
        return store_open(*args, **kwargs)

    monkeypatch.setattr(Store, "open", open_after_the_key)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        assert app._store is None and not isinstance(app.screen, DashboardScreen)
        await pilot.press(key)
        await pilot.pause()
        pressed.set()
        await settle(app, pilot)
        assert [type(s) for s in app.screen_stack[1:]] == [DashboardScreen]
        await pilot.press("l")  # and from then on the keys work
        await settle(app, pilot)
        assert isinstance(app.screen, LogScreen)


@pytest.mark.usefixtures("frozen_today")
async def test_a_new_notes_template_follows_the_kind_until_something_is_written(
    demo: Path,
) -> None:
    with Store.open(demo) as store:
        set_note_template(store, "training", "## 研修名\n\n## 受講者\n")
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        form = await new_form(app, pilot)
        kind = form.query_one("#kind", PickList)
        notes = form.query_one("#notes", TextArea)
        with Store.open(demo) as store:
            assert notes.text == note_template(store, str(kind.value))
        kind.set_value("site_visit", announce=True)  # no template of its own
        await pilot.pause()
        assert notes.text == ""
        kind.set_value("training", announce=True)
        await pilot.pause()
        assert notes.text == "## 研修名\n\n## 受講者\n"
        notes.text += "受講者は12名。"  # written in: the note is the person's now
        kind.set_value("meeting", announce=True)
        await pilot.pause()
        assert notes.text == "## 研修名\n\n## 受講者\n受講者は12名。"


@pytest.mark.usefixtures("frozen_today")
async def test_quitting_while_a_capture_waits_to_save_quits_once_it_is_saved(demo: Path) -> None:
    """ctrl+q while a quick capture's save waits for a long import: the app stays, says so,
    and quits once the note is saved (it used to be torn down with the save waiting)."""
    app = DxfieldApp(demo)
    with another_writer(demo) as other:
        async with app.run_test(size=SIZE) as pilot:
            await open_log(app, pilot)
            await pilot.press("N")
            await settle(app, pilot)
            await pilot.press(*"終了前のメモ", "tab", *"多可", "tab", "tab", *"聞いたこと")
            other.take()
            await pilot.press("ctrl+s")
            await _notified(app, pilot, "Another dxfield is writing")
            await pilot.press("ctrl+q")
            said = await _notified(app, pilot, "quits once what you typed is saved")
            assert any("quits once what you typed is saved" in m for m in said), said
            assert app.is_running
            other.let_go()
            await _quit_once(pilot, app)
    assert newest(demo).title == "終了前のメモ"
