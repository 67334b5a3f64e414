"""Tracks, timelines, actions and findings in the app, driven from the keyboard."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from textual.widgets import Input, Select, SelectionList

from dxfield.store.engine import Store
from dxfield.store.followups import add_action, list_actions
from dxfield.store.tracks import get_track, track_moves
from dxfield.tui.app import DxfieldApp
from dxfield.tui.screens.confirm import ConfirmScreen
from dxfield.tui.screens.dashboard import DashboardScreen
from dxfield.tui.screens.followups import ActionFormScreen, ActionsScreen, FindingsScreen
from dxfield.tui.screens.track_move import MoveScreen
from dxfield.tui.screens.track_timeline import TimelineScreen
from dxfield.tui.screens.tracks import TrackCard, TracksScreen
from dxfield.tui.widgets.funnel import FunnelView
from tests.conftest import TODAY
from tests.tui.test_app import SIZE, new_form, settle


def stored_moves(folder: Path, community: str) -> list[tuple[str | None, str, list[str]]]:
    with Store.open(folder) as store:
        track = get_track(store, community, today=TODAY)
        return [
            (m.from_stage, m.to_stage, m.evidence_ids) for m in track_moves(store, track.track.id)
        ]


@pytest.mark.usefixtures("frozen_today")
async def test_a_track_moves_forward_with_evidence_then_back(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        assert isinstance(app.screen, TracksScreen)
        card = app.focused
        assert isinstance(card, TrackCard) and card.summary.community == "奥矢根区"
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, MoveScreen) and form.to_stage == "collaborators"
        await pilot.press(*"協力者3名")
        await pilot.press("tab")  # to the community's activities
        assert isinstance(app.focused, SelectionList)
        await pilot.press("space", "ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, TracksScreen)
        moved = next(c for c in app.screen.query(TrackCard) if c.summary.community == "奥矢根区")
        assert moved.summary.stage is not None and moved.summary.stage.key == "collaborators"

        app.set_focus(moved)
        await pilot.press("left_square_bracket")  # back: no evidence needed
        await settle(app, pilot)
        assert isinstance(app.screen, MoveScreen) and app.screen.to_stage == "dialogue"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, TracksScreen)

        card = next(c for c in app.screen.query(TrackCard) if c.summary.community == "奥矢根区")
        app.set_focus(card)
        await pilot.press("enter")
        await settle(app, pilot)
        timeline = app.screen
        assert isinstance(timeline, TimelineScreen)
        moves = [e.move for e in timeline.entries if e.move is not None]
        assert [(m.from_stage, m.to_stage) for m in moves] == [
            ("collaborators", "dialogue"),
            ("dialogue", "collaborators"),
            (None, "dialogue"),
        ]
        assert moves[1].note == "協力者3名"
    stored = stored_moves(demo, "奥矢根区")
    assert [(a, b) for a, b, _ in stored] == [
        ("collaborators", "dialogue"),
        ("dialogue", "collaborators"),
        (None, "dialogue"),
    ]
    assert len(stored[1][2]) == 1 and stored[0][2] == []


@pytest.mark.usefixtures("frozen_today")
async def test_a_move_is_taken_back_with_u_while_its_notification_shows(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        board = app.screen
        assert isinstance(board, TracksScreen)
        await pilot.press("left_square_bracket")  # 奥矢根区 back to the first stage
        await settle(app, pilot)
        assert isinstance(app.screen, MoveScreen)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is board
        card = next(c for c in board.query(TrackCard) if c.summary.community == "奥矢根区")
        assert card.summary.stage is not None and card.summary.stage.key == "survey"
        said = [n.message for n in app._notifications]
        assert any("奥矢根区" in m and "u: undo" in m for m in said), said
        await pilot.press("u")
        await settle(app, pilot)
        card = next(c for c in board.query(TrackCard) if c.summary.community == "奥矢根区")
        assert card.summary.stage is not None and card.summary.stage.key == "dialogue"
        assert any("Undone: 奥矢根区" in n.message for n in app._notifications)
        await pilot.press("u")  # nothing more to undo: nothing happens
        await settle(app, pilot)
    # The move stays in history, deleted; the track is back where it was.
    assert [(a, b) for a, b, _ in stored_moves(demo, "奥矢根区")] == [(None, "dialogue")]


@pytest.mark.usefixtures("frozen_today")
async def test_a_move_forward_without_evidence_asks_first(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        app.screen.query_one("#evidence").focus()
        await pilot.pause()
        await pilot.press("h", "a", "n")  # a modal form is not dropped by the app's keys
        await settle(app, pilot)
        assert isinstance(app.screen, MoveScreen)
        date = app.screen.query_one("#move-date", Input)
        date.value = "2024-13-01"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, MoveScreen)  # a bad date keeps the form, and says why
        assert "date" in str(app.screen.query_one("#form-error").render())
        date.value = "11/20"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # no: back in the form, nothing saved
        await settle(app, pilot)
        assert isinstance(app.screen, MoveScreen)
        assert len(stored_moves(demo, "奥矢根区")) == 1
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        assert isinstance(app.screen, TracksScreen)
    moves = stored_moves(demo, "奥矢根区")
    assert moves[0] == ("dialogue", "collaborators", [])
    with Store.open(demo) as store:
        assert track_moves(store, get_track(store, "奥矢根区").track.id)[0].date == dt.date(
            2024, 11, 20
        )


@pytest.mark.usefixtures("frozen_today")
async def test_an_activity_logged_in_the_form_advances_a_track(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        form = await new_form(app, pilot)
        await pilot.press(*"資母地区 協力者の会")
        advances = form.query_one("#advances", Select)
        value = next(v for label, v in advances._options if "資母地区コミュニティ" in str(label))
        advances.value = value
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    moves = stored_moves(demo, "資母地区コミュニティ")
    assert moves[0][:2] == ("dialogue", "collaborators")
    with Store.open(demo) as store:
        from dxfield.store.activities import get_activity

        assert get_activity(store, moves[0][2][0]).title == "資母地区 協力者の会"


@pytest.mark.dated
@pytest.mark.usefixtures("frozen_today")
async def test_create_and_complete_an_action(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ActionsScreen)
        assert screen.items and screen.items[0].overdue is False
        await pilot.press("c")
        await settle(app, pilot)
        assert isinstance(app.screen, ActionFormScreen)
        await pilot.press(*"振り返り会の開催")
        app.screen.query_one("#action-due", Input).value = "12/5"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ActionsScreen)
        mine = next(i for i in screen.items if i.action.text == "振り返り会の開催")
        assert mine.action.due == dt.date(2024, 12, 5)
        summary = str(screen.query_one("#actions-summary").render())
        assert "0 overdue" in summary and "1 due within 14 days" in summary
        row = screen.items.index(mine)
        table = screen.query_one("#actions")
        table.move_cursor(row=row)  # type: ignore[attr-defined]
        await pilot.press("x")
        await settle(app, pilot)
        assert all(i.action.text != "振り返り会の開催" for i in screen.items)  # open only
    with Store.open(demo) as store:
        done = [
            i for i in list_actions(store, status="done") if i.action.text == "振り返り会の開催"
        ]
    assert len(done) == 1


@pytest.mark.usefixtures("frozen_today")
async def test_the_dashboard_funnel_and_the_findings_screen(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen)
        funnel = str(app.screen.query_one(FunnelView).render())
        assert "(2 communities)" in funnel
        lines = funnel.splitlines()
        assert lines[2].startswith("2. Trust through context") and lines[2].endswith("█ 2")
        assert lines[1].endswith("· 0")
        await pilot.press("i")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, FindingsScreen)
        assert len(screen.items) == 29
        screen.query_one("#kind", Select).value = "insight"
        await settle(app, pilot)
        assert screen.items and all(f.kind.value == "insight" for f in screen.items)


@pytest.mark.usefixtures("frozen_today")
async def test_a_stage_model_and_a_track_defined_in_the_app(demo: Path) -> None:
    from textual.widgets import TextArea

    from dxfield.store.organizations import add_organization
    from dxfield.tui.screens.stage_model_form import StageModelFormScreen
    from dxfield.tui.screens.track_form import TrackFormScreen

    with Store.open(demo) as store:
        add_organization(store, kind="agency", name="豊岡市市民課", parent="豊岡市")
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        await pilot.press("plus")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, StageModelFormScreen)
        await pilot.press(*"窓口DX導入")
        form.query_one("#model-key", Input).value = "madoguchi-dx"
        form.query_one("#model-stages", TextArea).text = "現状把握\n"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, StageModelFormScreen)  # the bad line is shown, kept
        assert "key: label" in str(form.query_one("#form-error").render())
        form.query_one(
            "#model-stages", TextArea
        ).text = "current: 現状把握 | 窓口の業務を調べる | 業務フローが図になっている\nrollout: 本格導入\n"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        board = app.screen
        assert isinstance(board, TracksScreen)
        board.query_one("#model", Select).value = "madoguchi-dx"
        await settle(app, pilot)
        await pilot.press("c")
        await settle(app, pilot)
        assert isinstance(app.screen, TrackFormScreen)
        app.screen.query_one("#track-community", Select).value = next(
            v for label, v in app.screen.query_one("#track-community", Select)._options
            if str(label) == "豊岡市市民課"
        )  # fmt: skip
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert [c.summary.community for c in board.query(TrackCard)] == ["豊岡市市民課"]
    with Store.open(demo) as store:
        from dxfield.store.tracks import get_stage_model

        model = get_stage_model(store, "madoguchi-dx")
        assert [s.key for s in model.stages] == ["current", "rollout"]
        assert model.stages[0].exit_criteria == "業務フローが図になっている"


@pytest.mark.dated
async def test_the_app_counts_from_japans_today(demo: Path, moved_clock: dt.date) -> None:
    """No frozen clock: the app's today, the form's date and what is overdue are Japan's, with
    the machine in another zone and the clock moved (see `moved_clock`)."""
    day = dt.timedelta(days=1)
    with Store.open(demo) as store:
        add_action(store, text="昨日が期限", due=(moved_clock - day).isoformat())
        add_action(store, text="今日が期限", due=moved_clock.isoformat())
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.today == moved_clock
        await pilot.press("a")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ActionsScreen)
        overdue = {i.action.text: i.overdue for i in screen.items}
        assert (overdue["昨日が期限"], overdue["今日が期限"]) == (True, False)
        form = await new_form(app, pilot)
        assert form.query_one("#date", Input).value == moved_clock.isoformat()


@pytest.mark.usefixtures("frozen_today")
async def test_at_80_columns_the_board_stacks_its_stages_and_keeps_every_card_in_view(
    demo: Path,
) -> None:
    """The four stages at once, one above the other, each card a line wholly on screen; down
    goes through the cards stage after stage, and the focused one shows whole below (issue 18).
    Wide enough, the stages stand side by side again."""
    from textual.widgets import Label

    from dxfield.tui.widgets.table import RowDetail

    app = DxfieldApp(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TracksScreen) and screen.stacked
        headings = list(screen.query(".board-heading").results(Label))
        assert len(headings) == 4
        for widget in [*headings, *screen.query(TrackCard)]:
            region = widget.region
            assert region.height >= 1 and region.right <= 80 and region.bottom <= 24, widget
        cards = list(screen.query(TrackCard))
        assert all(card.compact and card.region.height == 1 for card in cards)
        assert app.focused is cards[0]
        detail = screen.query_one("#card-detail", RowDetail)
        assert "奥矢根区" in str(detail.render()) and detail.region.height > 0
        await pilot.press("down")
        assert app.focused is cards[1]
        assert "資母地区コミュニティ" in str(detail.render())
        await pilot.press("right")  # no later stage has cards: it stays
        assert app.focused is cards[1]

        await pilot.resize_terminal(140, 40)
        await settle(app, pilot)
        assert not screen.stacked
        assert not any(card.compact for card in screen.query(TrackCard))
        assert not detail.display
