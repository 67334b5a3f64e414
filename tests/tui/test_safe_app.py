"""Nothing lost by a stray key: the draft question, undo of one-key changes, findings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from textual.widgets import Input, Select, TextArea

from dxfield.domain.enums import ActionStatus
from dxfield.store import records
from dxfield.store.engine import Store
from dxfield.store.followups import list_actions, list_findings
from dxfield.store.local_state import save_draft
from dxfield.store.maintenance import record_history
from dxfield.tui.app import DxfieldApp
from dxfield.tui.screens.activity_form import ActivityFormScreen
from dxfield.tui.screens.activity_view import ActivityViewScreen
from dxfield.tui.screens.confirm import ConfirmScreen
from dxfield.tui.screens.dashboard import DashboardScreen
from dxfield.tui.screens.draft_question import DraftQuestionScreen
from dxfield.tui.screens.finding_view import FindingFormScreen, FindingViewScreen, finding_markdown
from dxfield.tui.screens.followups import ActionsScreen, FindingsScreen, FollowUpTable
from dxfield.tui.screens.log import LogScreen
from tests.tui.test_app import SIZE, _draft_titles, settle


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
        await pilot.press("shift+tab", "shift+tab")  # from Restore, past Later, to Discard
        assert app.focused is app.screen.query_one("#discard")
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")  # the second question's default keeps the draft
        await settle(app, pilot)
        assert isinstance(app.screen, DraftQuestionScreen)
        assert _draft_titles(demo) == ["捨てるかもしれない下書き"]
        await pilot.press("left", "left", "enter")
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


LONG = "多可町の窓口では、申請書の書き方を職員が一人ずつ説明していた。" * 6 + "\n最後の行まで読める"


async def test_a_finding_is_added_opened_edited_deleted_and_undone(
    demo: Path, frozen_today: dt.date
) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("i")
        await settle(app, pilot)
        findings = app.screen
        assert isinstance(findings, FindingsScreen)
        before = len(findings.items)
        await pilot.press("c")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, FindingFormScreen)
        form.query_one("#finding-text", TextArea).text = LONG
        form.query_one("#finding-kind", Select).value = "issue"
        form.query_one("#finding-area", Select).value = "talent"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is findings and len(findings.items) == before + 1
        added = next(f for f in findings.items if f.text == LONG)
        assert (added.kind.value, added.area and added.area.value) == ("issue", "talent")
        assert added.date == frozen_today  # dated today, among the newest
        assert findings.query_one(FollowUpTable).cursor_row == findings.items.index(added)

        await pilot.press("enter")  # opened in full
        await settle(app, pilot)
        view = app.screen
        assert isinstance(view, FindingViewScreen)
        shown = finding_markdown(view.page) if view.page else ""
        assert "最後の行まで読める" in shown and shown.count("多可町の窓口") == 6

        await pilot.press("e")
        await settle(app, pilot)
        edit = app.screen
        assert isinstance(edit, FindingFormScreen)
        assert edit.query_one("#finding-text", TextArea).text == LONG
        edit.query_one("#finding-text", TextArea).text = "書き直した知見"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is view and view.page is not None
        assert view.page.finding.text == "書き直した知見"
        # What the form did not change is kept.
        assert (view.page.finding.kind, view.page.finding.area) == (added.kind, added.area)
        assert view.page.finding.initiative_id == added.initiative_id
        assert [r["generation"] for r in view.page.history] == [1, 2]

        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert app.screen is findings
        assert added.id not in [f.id for f in findings.items]
        await pilot.press("u")
        for _ in range(50):  # the undo's write, then the list read again: workers in turn
            await settle(app, pilot)
            if added.id in [f.id for f in findings.items]:
                break
        assert added.id in [f.id for f in findings.items]
    with Store.open(demo) as store:
        restored = records.get(store, "finding", added.id)
        assert restored.text == "書き直した知見"
        _entity, history = record_history(store, added.id)
        assert [(r["deleted"], r["restored"]) for r in history] == [
            (False, False),
            (False, False),
            (True, False),
            (False, True),
        ]


@pytest.mark.usefixtures("frozen_today")
async def test_a_finding_from_an_activity_is_linked_to_it_and_its_initiative(demo: Path) -> None:
    from dxfield.demo.loader import demo_id

    visit_id = demo_id("activity", "toyooka-nishimera-visit")
    with Store.open(demo) as store:
        visit = records.get(store, "activity", visit_id)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.open_activity(visit_id)
        await settle(app, pilot)
        await pilot.press("f")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, FindingFormScreen)
        assert form.query_one("#finding-activity", Select).value == visit_id
        await pilot.press(*"ドローンの着陸場所が課題")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        view = app.screen
        assert isinstance(view, ActivityViewScreen) and view.page is not None
        assert "ドローンの着陸場所が課題" in [f.text for f in view.page.findings]
    with Store.open(demo) as store:
        found = [f for f in list_findings(store) if f.text == "ドローンの着陸場所が課題"]
        assert [(f.activity_id, f.initiative_id) for f in found] == [
            (visit_id, visit.initiative_id)
        ]


@pytest.mark.usefixtures("frozen_today")
async def test_a_deleted_activity_comes_back_with_u(demo: Path) -> None:
    from dxfield.demo.loader import demo_id

    visit_id = demo_id("activity", "toyooka-nishimera-visit")
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("l")
        await settle(app, pilot)
        app.open_activity(visit_id)
        await settle(app, pilot)
        await pilot.press("d", "y")
        await settle(app, pilot)
        assert isinstance(app.screen, LogScreen)
        with Store.open(demo) as store:
            assert records.get(store, "activity", visit_id, include_deleted=True).deleted
        await pilot.press("u")
        await settle(app, pilot)
    with Store.open(demo) as store:
        assert not records.get(store, "activity", visit_id, include_deleted=True).deleted


async def test_keeping_a_conflicts_other_version_is_undone_with_u(tmp_path: Path) -> None:
    from dxfield.store.activities import list_activities
    from dxfield.store.conflicts import list_conflicts
    from dxfield.sync.bundle import export_bundle, import_bundle
    from dxfield.tui.screens.sync import ConflictsScreen
    from tests.tui.test_sync_app import _stores

    a, b = _stores(tmp_path)
    with Store.open(a) as first, Store.open(b) as hub:
        export_bundle(first, tmp_path / "1.dxb", "兵庫県")
        import_bundle(hub, tmp_path / "1.dxb")
        (activity_id,) = [row.id for row in list_activities(first, limit=5)]
        records.edit(first, "activity", activity_id, {"title": "豊岡の題"})
        records.edit(hub, "activity", activity_id, {"title": "県の題"})
        export_bundle(hub, tmp_path / "2.dxb", "豊岡")
        import_bundle(first, tmp_path / "2.dxb")
    app = DxfieldApp(a)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_conflicts()
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ConflictsScreen)
        (conflict,) = screen.conflicts
        shown, other = (v.data["title"] for v in conflict.versions)
        await pilot.press("2")
        await settle(app, pilot)
        with Store.open(a) as first:
            assert records.get(first, "activity", activity_id).title == other
        await pilot.press("u")
        await settle(app, pilot)
    with Store.open(a) as first:
        assert records.get(first, "activity", activity_id).title == shown
        assert list_conflicts(first) == []


@pytest.mark.usefixtures("frozen_today")
async def test_a_restored_record_is_deleted_again_with_u(demo: Path) -> None:
    from dxfield.demo.loader import demo_id
    from dxfield.tui.screens.deleted import DeletedScreen

    visit_id = demo_id("activity", "toyooka-nishimera-visit")
    with Store.open(demo) as store:
        records.delete(store, "activity", visit_id)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_deleted()
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DeletedScreen)
        await pilot.press("r", "y")
        await settle(app, pilot)
        assert screen.items == []
        await pilot.press("u")
        await settle(app, pilot)
        assert [i.entity_id for i in screen.items] == [visit_id]


@pytest.mark.usefixtures("frozen_today")
async def test_editing_a_finding_keeps_what_the_form_does_not_change(demo: Path) -> None:
    with Store.open(demo) as store:
        finding = next(
            f for f in list_findings(store) if f.area and f.initiative_id and f.activity_id
        )
    app = DxfieldApp(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(FindingFormScreen(finding))
        await settle(app, pilot)
        await pilot.press(*"(追記)", "ctrl+s")  # the cursor starts at the end of the text
        await settle(app, pilot)
    with Store.open(demo) as store:
        edited = records.get(store, "finding", finding.id)
    assert edited.text == finding.text + "(追記)"
    keep = ("kind", "area", "initiative_id", "activity_id", "date", "not_applicable")
    assert [getattr(edited, k) for k in keep] == [getattr(finding, k) for k in keep]


def test_an_undo_notice_quotes_the_first_line_cut_with_an_ellipsis() -> None:
    from rich.cells import cell_len

    from dxfield.tui.undo import said

    assert said("短い題\n二行目") == "短い題"
    long = said("多可町" * 20)
    assert long.endswith("…") and cell_len(long) <= 40
    assert said("a\x1bb") == "a<ESC>b"


@pytest.mark.usefixtures("frozen_today")
async def test_a_deleted_activitys_history_opens_from_the_deleted_records_and_r_restores(
    demo: Path,
) -> None:
    from dxfield.demo.loader import demo_id
    from dxfield.tui.screens.deleted import DeletedScreen

    visit_id = demo_id("activity", "toyooka-nishimera-visit")
    with Store.open(demo) as store:
        records.delete(store, "activity", visit_id)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_deleted()
        await settle(app, pilot)
        assert isinstance(app.screen, DeletedScreen)
        await pilot.press("enter")
        await settle(app, pilot)
        view = app.screen
        assert isinstance(view, ActivityViewScreen) and view.page is not None
        assert view.page.activity.deleted
        assert [r["deleted"] for r in view.page.history][-1] is True
        await pilot.press("e", "d", "v")  # a deleted activity is only read
        await settle(app, pilot)
        assert app.screen is view
        await pilot.press("r")
        await settle(app, pilot)
        assert app.screen is view and not view.page.activity.deleted
        assert view.page.history[-1]["restored"]
        await pilot.press("r")  # a live activity is not restored again
        await settle(app, pilot)
        await pilot.press("u")  # deleted again
        await settle(app, pilot)
        assert view.page.activity.deleted


@pytest.mark.usefixtures("frozen_today")
async def test_a_deleted_finding_is_read_and_restored_from_the_deleted_records(
    demo: Path,
) -> None:
    from dxfield.tui.screens.deleted import DeletedScreen

    with Store.open(demo) as store:
        finding = list_findings(store)[0]
        records.delete(store, "finding", finding.id)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_deleted()
        await settle(app, pilot)
        assert isinstance(app.screen, DeletedScreen)
        await pilot.press("enter")
        await settle(app, pilot)
        view = app.screen
        assert isinstance(view, FindingViewScreen) and view.page is not None
        assert view.page.finding.deleted and finding.text in finding_markdown(view.page)
        await pilot.press("r")
        await settle(app, pilot)
        assert not view.page.finding.deleted
    with Store.open(demo) as store:
        assert finding.id in [f.id for f in list_findings(store)]


@pytest.mark.usefixtures("frozen_today")
async def test_an_action_opens_with_its_history_where_x_and_u_show_as_versions(demo: Path) -> None:
    from dxfield.tui.screens.action_view import ActionViewScreen, action_markdown
    from dxfield.tui.screens.followups import ActionFormScreen

    app = DxfieldApp(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        await settle(app, pilot)
        actions = app.screen
        assert isinstance(actions, ActionsScreen)
        first = next(i.action for i in actions.items if i.action.initiative_id and i.action.due)
        actions.query_one(FollowUpTable).move_cursor(
            row=[i.action.id for i in actions.items].index(first.id)
        )
        await pilot.press("enter")
        await settle(app, pilot)
        view = app.screen
        assert isinstance(view, ActionViewScreen) and view.page is not None
        assert first.text.splitlines()[0][:10] in action_markdown(view.page)
        await pilot.press("x")
        await settle(app, pilot)
        assert view.page.action.status is ActionStatus.done
        await pilot.press("x")  # done already: x is off
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        assert view.page.action.status is first.status
        assert [r["data"]["status"] for r in view.page.history[-3:]] == [
            first.status.value,
            "done",
            first.status.value,
        ]
        page = action_markdown(view.page)
        done_at = page.index("changed: status (Done)")  # newest first: the undo above
        assert page.index(f"changed: status ({first.status.label('en')})") < done_at

        await pilot.press("e")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, ActionFormScreen)
        form.query_one("#action-owner", Input).value = "多可町 健康福祉課"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is view
        edited = view.page.action
        assert edited.owner == "多可町 健康福祉課"
        keep = ("text", "initiative_id", "due", "status", "as_of")
        assert [getattr(edited, k) for k in keep] == [getattr(first, k) for k in keep]

        await pilot.press("d", "y")
        await settle(app, pilot)
        assert app.screen is actions and first.id not in [i.action.id for i in actions.items]
        await pilot.press("u")
        await settle(app, pilot)
        assert first.id in [i.action.id for i in actions.items]
