"""Nothing lost by a stray key: the draft question, undo of one-key changes, findings."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from dxfield.domain.enums import ActionStatus
from dxfield.store import records
from dxfield.store.engine import Store
from dxfield.store.followups import list_actions
from dxfield.store.local_state import list_drafts, save_draft
from dxfield.store.maintenance import record_history
from dxfield.tui.app import DxfieldApp
from dxfield.tui.screens.activity_form import ActivityFormScreen
from dxfield.tui.screens.confirm import ConfirmScreen
from dxfield.tui.screens.dashboard import DashboardScreen
from dxfield.tui.screens.draft_question import DraftQuestionScreen
from dxfield.tui.screens.followups import ActionsScreen
from tests.tui.test_app import SIZE, settle


@pytest.mark.usefixtures("frozen_today")
async def test_x_marks_an_action_done_and_u_opens_it_again(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ActionsScreen)
        first = screen.items[0].action
        assert first.status is not ActionStatus.done
        await pilot.press("x")
        await settle(app, pilot)
        with Store.open(demo) as store:
            assert records.get(store, "action", first.id).status is ActionStatus.done
        assert first.id not in [i.action.id for i in screen.items]  # open ones only
        assert any("u: undo" in n.message for n in app._notifications)
        await pilot.press("u")
        await settle(app, pilot)
        assert first.id in [i.action.id for i in screen.items]
        assert not any("u: undo" in n.message for n in app._notifications)
        await pilot.press("u")  # nothing more to undo: nothing happens
        await settle(app, pilot)
    with Store.open(demo) as store:
        assert records.get(store, "action", first.id).status is first.status
        _entity, history = record_history(store, first.id)
        assert [r["data"]["status"] for r in history[-2:]] == ["done", first.status.value]
        assert history[-2]["rev_id"] != history[-1]["rev_id"]
        assert [i.action.id for i in list_actions(store, open_only=True)].count(first.id) == 1


def _leave_a_draft(folder: Path, title: str, name: str = "activity-new-0123456789ab") -> None:
    with Store.open(folder) as store:
        save_draft(store, name, {"activity_id": None, "title": title, "notes": "多可町で聞いた話"})


def _draft_titles(folder: Path) -> list[str]:
    with Store.open(folder) as store:
        return [d.data["title"] for d in list_drafts(store)]


STRAY_KEYS = ("n", "x", "d", "h", "l", "a", "i", "t", "s", "p", "u", "question_mark", "q", "space")


@pytest.mark.usefixtures("frozen_today")
async def test_the_draft_question_comes_first_and_no_stray_key_discards(demo: Path) -> None:
    _leave_a_draft(demo, "多可町ヒアリング")
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        question = app.screen
        assert isinstance(question, DraftQuestionScreen)  # before anything else
        assert not any(isinstance(s, DashboardScreen) for s in app.screen_stack)
        for key in STRAY_KEYS:
            await pilot.press(key)
            await settle(app, pilot)
            assert app.screen is question, key
        assert _draft_titles(demo) == ["多可町ヒアリング"]
        await pilot.press("enter")  # the default restores
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, ActivityFormScreen)
        assert form.query_one("#title", Input).value == "多可町ヒアリング"
        assert isinstance(app.screen_stack[-2], DashboardScreen)
    assert _draft_titles(demo) == ["多可町ヒアリング"]


@pytest.mark.usefixtures("frozen_today")
async def test_discarding_a_draft_asks_twice(demo: Path) -> None:
    _leave_a_draft(demo, "捨てるかもしれない下書き")
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, DraftQuestionScreen)
        app.screen.query_one("#discard").focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")  # the second question's default keeps the draft
        await settle(app, pilot)
        assert isinstance(app.screen, DraftQuestionScreen)
        assert _draft_titles(demo) == ["捨てるかもしれない下書き"]
        app.screen.query_one("#discard").focus()
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen)
    assert _draft_titles(demo) == []


@pytest.mark.usefixtures("frozen_today")
async def test_escape_keeps_every_draft_for_the_next_start(demo: Path) -> None:
    _leave_a_draft(demo, "一つ目", "activity-new-aaaaaaaaaaaa")
    _leave_a_draft(demo, "二つ目", "activity-new-bbbbbbbbbbbb")
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for _ in range(2):
            assert isinstance(app.screen, DraftQuestionScreen)
            await pilot.press("escape")
            await settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("n")  # the app's keys work again once answered
        await settle(app, pilot)
        assert isinstance(app.screen, ActivityFormScreen)
    assert sorted(_draft_titles(demo)) == ["一つ目", "二つ目"]
