"""Logging fast (issue 18): every pick list of the activity form filters as you type, by name,
reading and romaji; 取組 follows 市町村 and 市町村 a chosen 取組; what was last used with a
municipality comes back when it is chosen; the 多可町 hearing is logged in at most 20 keys
besides the typed text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Label, TextArea

from dxfield.domain.errors import LocalizedError
from dxfield.i18n import set_language
from dxfield.store import activities
from dxfield.store.engine import Store
from dxfield.store.followups import list_initiatives
from dxfield.store.note_templates import note_template
from dxfield.store.organizations import list_organizations, set_reading
from dxfield.tui.app import DxfieldApp
from dxfield.tui.screens.activity_form import ActivityFormScreen
from dxfield.tui.screens.log import LogScreen
from dxfield.tui.screens.reading import ReadingScreen
from dxfield.tui.widgets.pick_list import PickList
from tests.tui.test_app import SIZE, new_form, settle


@pytest.fixture(autouse=True)
def japanese() -> Iterator[None]:
    set_language("ja")
    yield
    set_language(None)


class Keys:
    """Presses keys, counting those that are not a typed character of the content."""

    def __init__(self, pilot: Pilot[None]) -> None:
        self.pilot = pilot
        self.counted: list[str] = []

    async def type(self, text: str) -> None:
        """Typed text: not counted."""
        await self.pilot.press(*text)

    async def press(self, *keys: str) -> None:
        """Navigation, enter, tab, arrows, shortcuts, confirmations: counted."""
        self.counted.extend(keys)
        await self.pilot.press(*keys)


def ids(folder: Path) -> dict[str, str]:
    """Organization ids by name, and the 多可町 initiative's id under "taka"."""
    with Store.open(folder) as store:
        found = {o.name: o.id for o in list_organizations(store)}
        (taka,) = [s.initiative.id for s in list_initiatives(store) if s.municipality == "多可町"]
        toyooka = [s.initiative.id for s in list_initiatives(store) if s.municipality == "豊岡市"]
    return found | {"taka": taka, "toyooka": toyooka[0]}


def saved(folder: Path, title: str) -> activities.ActivityRead:
    with Store.open(folder) as store:
        (found,) = [a for a in activities.list_activities(store, limit=1000) if a.title == title]
        return activities.get_activity(store, found.id)


def shown(pick: PickList) -> list[str]:
    """The labels a pick list offers now (after its filter)."""
    return [c.label for c in pick._shown]


@pytest.mark.usefixtures("frozen_today")
@pytest.mark.parametrize("size", [SIZE, (80, 24)], ids=["120x40", "80x24"])
async def test_the_taka_hearing_takes_at_most_20_keys(demo: Path, size: tuple[int, int]) -> None:
    known = ids(demo)
    title = "多可町 保健福祉DXヒアリング"
    note = "ケアマネ業務の現状を聞き取り 次回は仕様案を持参"  # (Pilot cannot press 。)
    app = DxfieldApp(demo)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        keys = Keys(pilot)
        await keys.press("n")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, ActivityFormScreen)
        await keys.type(title)
        await keys.press("tab")  # 市町村
        await keys.type("多可")
        await keys.press("enter")  # 多可町; on to 取組, narrowed to 多可町's
        assert app.focused is form.query_one("#initiative", PickList).field
        await keys.type("hoken")
        await keys.press("enter")  # on to the date
        assert app.focused is form.query_one("#date", Input)
        await keys.type("2024年10月下旬")  # the field's text is selected: typing replaces it
        await keys.press("tab")  # 種別
        await keys.type("ひあ")
        await keys.press("enter")  # ヒアリング; on to 参加団体
        await keys.type("たかち")
        await keys.press("enter")  # 多可町 ticked
        await keys.type("kimotsuki")
        await keys.press("enter")  # 鹿児島県肝付町 ticked
        await keys.press("tab")  # 備考
        assert app.focused is form.query_one("#notes", TextArea)
        await keys.type(note)
        await keys.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, LogScreen), str(form.query("Label.error.shown"))
    assert len(keys.counted) <= 20, keys.counted
    record = saved(demo, title)
    assert record.title == title
    assert (record.date, record.date_precision.value) == (dt.date(2024, 10, 21), "late_month")
    assert record.municipality_id == known["多可町"]
    assert record.initiative_id == known["taka"]
    assert record.kind.value == "hearing"
    assert record.participants.organization_ids == [known["多可町"], known["鹿児島県肝付町"]]
    # A hearing's note starts as its 議事録 headings: what is typed goes under the first one.
    with Store.open(demo) as store:
        heading, rest = note_template(store, "hearing").split("\n", 1)
    assert record.notes == f"{heading}\n{note}{rest}".rstrip()  # stored without trailing space


@pytest.mark.usefixtures("frozen_today")
@pytest.mark.parametrize("typed", ["たか", "タカ", "taka", "多可", "takacho"])
async def test_an_organization_is_found_by_name_reading_or_romaji(demo: Path, typed: str) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        form = await new_form(app, pilot)
        participants = form.query_one("#participants", PickList)
        participants.focus()
        await pilot.press(*typed)
        assert "多可町" in shown(participants)
        assert "豊岡市" not in shown(participants)
        municipality = form.query_one("#municipality", PickList)
        municipality.focus()
        await pilot.press(*typed)
        assert "多可町" in shown(municipality)


@pytest.mark.usefixtures("frozen_today")
async def test_the_initiative_follows_the_municipality_and_the_other_way(demo: Path) -> None:
    known = ids(demo)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        form = await new_form(app, pilot)
        municipality = form.query_one("#municipality", PickList)
        initiative = form.query_one("#initiative", PickList)
        municipality.focus()
        await pilot.press(*"豊岡", "enter")
        assert municipality.value == known["豊岡市"]
        assert app.focused is initiative.field
        offered = [c.value for c in initiative.choices]
        assert offered and known["taka"] not in offered
        initiative.focus()
        await pilot.press(*"多可")
        assert shown(initiative) == []  # another municipality's initiative is not offered
        # Choosing a municipality clears an initiative of another.
        initiative.focus()
        await pilot.press("ctrl+u", *"配送", "enter")
        assert initiative.value in {c.value for c in initiative.choices}
        municipality.focus()
        await pilot.press(*"多可", "enter")
        assert municipality.value == known["多可町"]
        assert initiative.value is None
        # With no municipality chosen, every initiative is offered, and one sets its own.
        municipality.set_value(None)
        form._narrow_initiatives()
        initiative.focus()
        await pilot.press(*"toyooka", "enter")
        assert initiative.value == known["toyooka"]
        assert municipality.value == known["豊岡市"]
        assert form.values()["municipality_id"] == known["豊岡市"]


@pytest.mark.usefixtures("frozen_today")
async def test_a_restored_draft_with_a_mismatch_takes_the_initiatives_municipality(
    demo: Path,
) -> None:
    from dxfield.store.local_state import list_drafts, save_draft

    known = ids(demo)
    with Store.open(demo) as store:
        save_draft(
            store,
            "activity-new-mismatch",
            {
                "title": "食い違い",
                "date": "2024-10-01",
                "municipality_id": known["豊岡市"],
                "initiative_id": known["taka"],
                "kind": "meeting",
            },
        )
        (draft,) = [d for d in list_drafts(store) if d.name == "activity-new-mismatch"]
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(ActivityFormScreen(draft=draft))
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, ActivityFormScreen)
        assert form.values()["municipality_id"] == known["多可町"]
        assert form.values()["initiative_id"] == known["taka"]
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    record = saved(demo, "食い違い")
    assert (record.municipality_id, record.initiative_id) == (known["多可町"], known["taka"])


@pytest.mark.usefixtures("frozen_today")
async def test_the_mismatch_refusal_reads_whole_at_80_columns(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await new_form(app, pilot)
        # Where it can still occur: the initiative moved to another municipality meanwhile.
        form._show_error(
            LocalizedError(
                "activity.wrong_municipality",
                field="municipality",
                expected="多可町",
                given="豊岡市",
            )
        )
        await pilot.pause()
        error = form.query_one("#error-municipality", Label)
        expected = "市町村: 取組は多可町のものです(豊岡市ではありません)"
        assert str(error.render()) == expected
        field = error.parent
        assert field is not None and error.region.width <= field.region.width
        lines = error.render_lines(error.region.reset_offset)
        text = "".join(s.text for line in lines for s in line).replace(" ", "")
        assert text == expected.replace(" ", "")


@pytest.mark.usefixtures("frozen_today")
async def test_a_municipality_brings_back_what_was_last_used_there(demo: Path) -> None:
    known = ids(demo)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        form = await new_form(app, pilot)
        await pilot.press(*"一回目", "tab", *"多可", "enter", *"hoken", "enter")
        await pilot.press("tab", *"ひあ", "enter", *"kimotsuki", "enter", "ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, LogScreen)
        # The next form starts there, with what was used there.
        form = await new_form(app, pilot)
        values = form.values()
        assert values["municipality_id"] == known["多可町"]
        assert values["initiative_id"] == known["taka"]
        assert (values["kind"], values["participants"]) == ("hearing", [known["鹿児島県肝付町"]])
        assert not form.dirty
        await pilot.press("escape")  # nothing typed: it closes without asking
        await settle(app, pilot)
        assert isinstance(app.screen, LogScreen)
        # Another place in between: the next form starts at 豊岡市.
        form = await new_form(app, pilot)
        await pilot.press(*"二回目", "tab", *"豊岡", "enter", "enter", "tab", *"kaigi", "enter")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, LogScreen)
        form = await new_form(app, pilot)
        assert form.values()["municipality_id"] == known["豊岡市"]
        assert form.values()["kind"] == "meeting"
        await pilot.press(*"三回目", "tab", *"多可", "enter")
        values = form.values()
        assert values["initiative_id"] == known["taka"]
        assert values["kind"] == "hearing"
        assert values["participants"] == [known["鹿児島県肝付町"]]
        # What a person chose in this form is left as it is.
        form.query_one("#kind", PickList).focus()
        await pilot.press(*"kaigi", "enter")
        form.query_one("#municipality", PickList).focus()
        await pilot.press(*"豊岡", "enter")
        assert form.values()["kind"] == "meeting"


@pytest.mark.usefixtures("frozen_today")
async def test_a_wrong_reading_is_set_in_the_app(demo: Path) -> None:
    known = ids(demo)
    with Store.open(demo) as store:
        set_reading(store, "多可町", "")  # back to the guess: たかまち
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        form = await new_form(app, pilot)
        participants = form.query_one("#participants", PickList)
        participants.focus()
        await pilot.press(*"takacho")
        assert "多可町" not in shown(participants)
        await pilot.press("ctrl+u", *"多可", "ctrl+r")
        await settle(app, pilot)
        assert isinstance(app.screen, ReadingScreen)
        assert app.screen.query_one("#reading-kana", Input).value == "たかまち"
        await pilot.press("ctrl+u", *"たかちょう", "enter")
        await settle(app, pilot)
        assert app.screen is form
        assert app.focused is participants.field
        await pilot.press("ctrl+u", *"takacho")
        assert shown(participants) == ["多可町"]
    with Store.open(demo) as store:
        (taka,) = [o for o in list_organizations(store) if o.id == known["多可町"]]
        assert taka.kana == "たかちょう"


@pytest.mark.usefixtures("frozen_today")
@pytest.mark.parametrize("typed", ["9999-12-31", "令和99年1月1日", "1999-12-31"])
async def test_an_out_of_range_due_date_or_move_date_is_refused_saying_why(
    demo: Path, typed: str
) -> None:
    from dxfield.store.followups import list_actions
    from dxfield.tui.screens.followups import ActionFormScreen
    from dxfield.tui.screens.track_move import MoveScreen

    why = f"'{typed}' は受け付けられる日付の範囲外です(2000-01-01 から 2026-11-26 まで)"
    app = DxfieldApp(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        await settle(app, pilot)
        await pilot.press("c")
        await settle(app, pilot)
        assert isinstance(app.screen, ActionFormScreen)
        await pilot.press(*"遠い約束")
        app.screen.query_one("#action-due", Input).value = typed
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ActionFormScreen)
        assert str(app.screen.query_one("#form-error", Label).render()) == f"期限: {why}"
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert isinstance(app.screen, MoveScreen)
        app.screen.query_one("#move-date", Input).value = typed
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, MoveScreen)
        assert str(app.screen.query_one("#form-error", Label).render()) == f"日付: {why}"
    with Store.open(demo) as store:
        assert all(i.action.text != "遠い約束" for i in list_actions(store))


@pytest.mark.usefixtures("frozen_today")
async def test_tab_after_typing_takes_the_match_and_a_modal_takes_nothing(demo: Path) -> None:
    known = ids(demo)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        form = await new_form(app, pilot)
        municipality = form.query_one("#municipality", PickList)
        municipality.focus()
        await pilot.press(*"多可", "tab")
        assert municipality.value == known["多可町"]
        assert app.focused is form.query_one("#initiative", PickList).field
        municipality.focus()
        await pilot.press(*"存在しない", "tab")  # nothing matches: the choice stays
        assert municipality.value == known["多可町"]
        assert municipality.field.value == "多可町"
        # ctrl+r opens a modal over the form: the filter typed is not taken as a choice.
        municipality.focus()
        await pilot.press(*"しそう", "ctrl+r")
        await settle(app, pilot)
        assert isinstance(app.screen, ReadingScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is form
        assert municipality.value == known["多可町"]


async def test_what_is_typed_before_the_choices_come_is_kept() -> None:
    """The form's choices come from a worker (the first guesses of readings take a moment):
    a filter typed before they arrive stays, and applies to them."""
    from textual.app import App, ComposeResult
    from textual.widgets import Input as TextInput

    from dxfield.domain.readings import pickable

    class Two(App[None]):
        def compose(self) -> ComposeResult:
            yield PickList(id="pick")
            yield TextInput(id="after")

    app = Two()
    async with app.run_test() as pilot:
        pick = app.query_one("#pick", PickList)
        pick.focus()
        await pilot.press(*"taka")
        pick.set_choices(
            [pickable("豊岡市", "toyooka", "とよおかし"), pickable("多可町", "taka", "たかちょう")]
        )
        pick.set_value("toyooka")  # the default, as the form sets it once loaded
        await pilot.pause()
        assert pick.field.value == "taka"
        assert shown(pick) == ["多可町"]
        await pilot.press("tab")
        assert pick.value == "taka"
        assert pick.field.value == "多可町"
        assert app.focused is app.query_one("#after", TextInput)


async def test_a_filter_left_before_the_romaji_came_is_taken_when_it_comes() -> None:
    """The form offers its choices first by name and given reading, then by guessed readings
    and romaji: `taka` and tab meanwhile is not dropped, it takes 多可町 when romaji comes."""
    from textual.app import App, ComposeResult
    from textual.widgets import Input as TextInput

    from dxfield.domain.readings import pickable

    class Two(App[None]):
        def compose(self) -> ComposeResult:
            yield PickList(id="pick")
            yield TextInput(id="after")

    places = [("豊岡市", "toyooka", "とよおかし"), ("多可町", "taka", "たかちょう")]
    app = Two()
    async with app.run_test() as pilot:
        pick = app.query_one("#pick", PickList)
        pick.set_choices([pickable(*p, guess=False) for p in places], complete=False)
        pick.set_value("toyooka")
        pick.focus()
        await pilot.press(*"taka")
        assert shown(pick) == []  # no romaji yet
        await pilot.press("tab")
        assert pick.value == "toyooka" and pick.field.value == "taka"  # waiting, as typed
        pick.set_choices([pickable(*p) for p in places])
        await pilot.pause()
        assert pick.value == "taka" and pick.field.value == "多可町"
        # Nothing matching once complete: the choice stays.
        pick.focus()
        await pilot.press(*"zzz", "tab")
        assert pick.value == "taka" and pick.field.value == "多可町"
