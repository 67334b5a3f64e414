"""The Tracks board: for a stage model, a column per stage and a card per community.

`[` and `]` move the focused card a stage back or forward (the move form asks for the date, a
note and the evidence); Enter opens the track's timeline; left and right go across columns.

Where the stages do not fit side by side (80 columns: four stages of at least `COLUMN_WIDTH`
each do not), the board stacks them instead, each stage's heading over its cards, one line a
card cut with `…`, so that every stage shows at once and no card is half out of view; the
focused card is then shown whole on a line under the board. Up and down go through every card
in order, left and right to the previous or next stage with cards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, HorizontalScroll, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Label, Select, Static

from dxfield.domain.dates import format_date
from dxfield.domain.visible import visible
from dxfield.i18n import N_, _, current_language, ngettext
from dxfield.tui.screens.base import DxScreen
from dxfield.tui.text import plain, plain_options
from dxfield.tui.widgets.table import RowDetail

if TYPE_CHECKING:
    from dxfield.domain.records import Stage, StageModelRead
    from dxfield.store.tracks import TrackSummary

COLUMN_WIDTH = 26
"""The narrowest a stage's column may be side by side; narrower, the board stacks its stages."""


def stage_label(stage: Stage) -> str:
    """A stage's label in the UI's language."""
    return stage.label if current_language() == "ja" or not stage.label_en else stage.label_en


def model_name(model: StageModelRead) -> str:
    """A model's name in the UI's language."""
    return model.name if current_language() == "ja" or not model.name_en else model.name_en


def days_text(days: int | None) -> str:
    """How long a track has stood at its stage."""
    if days is None:
        return _("not started")
    return _("day {days}").format(days=days)


class TrackCard(Static, can_focus=True):
    """One community on the board."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", N_("Timeline"), id="open-track"),
    ]

    class Opened(Message):
        """The card's timeline was asked for."""

        def __init__(self, card: TrackCard) -> None:
            super().__init__()
            self.card = card

        @property
        def control(self) -> TrackCard:
            """The card."""
            return self.card

    compact: reactive[bool] = reactive(False, layout=True)
    """One line, cut with `…` (the stacked board), rather than a card of four lines."""

    def __init__(self, summary: TrackSummary, *, compact: bool = False) -> None:
        super().__init__(classes="track-card")
        self.summary = summary
        self.set_reactive(TrackCard.compact, compact)

    def lines(self) -> list[str]:
        """The card's text, a line each: community, municipality, days, last activity."""
        summary = self.summary
        lines = [visible(summary.community)]
        if summary.municipality:
            lines.append(visible(summary.municipality))
        lines.append(days_text(summary.days_in_stage))
        last = summary.last_activity
        if last is not None:
            when = format_date(last.date, last.date_precision, current_language())
            lines.append(f"{when} {visible(last.title)}")
        else:
            lines.append(_("no activities"))
        return lines

    def render(self) -> Text:
        if self.compact:
            return Text("  ·  ".join(self.lines()), no_wrap=True, overflow="ellipsis")
        return Text("\n".join(self.lines()))

    def action_open(self) -> None:
        """Open the timeline."""
        self.post_message(self.Opened(self))

    def on_click(self, _event: events.Click) -> None:
        self.focus()


class TracksScreen(DxScreen):
    """Every community's stage in one stage model."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right_square_bracket", "move(1)", N_("Forward"), id="track-forward"),
        Binding("left_square_bracket", "move(-1)", N_("Back"), id="track-back"),
        Binding("m", "focus_model", N_("Model"), id="track-model"),
        Binding("c", "new_track", N_("New track"), id="track-new"),
        Binding("plus", "new_model", N_("New model"), id="track-new-model"),
        Binding("r", "reload", N_("Reload"), id="reload-tracks"),
        Binding("down,j", "card(0, 1)", show=False),
        Binding("up,k", "card(0, -1)", show=False),
        Binding("right", "card(1, 0)", show=False),
        Binding("left", "card(-1, 0)", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.model_key: str | None = None
        self.model_names: dict[str, str] = {}
        self.summaries: list[TrackSummary] = []
        self.column_count = 5  # stages (and "not started"): four in the built-in model

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="board-bar"):
            yield Select[str]([], prompt=_("Stage model"), id="model", compact=True)
            yield Label("", id="board-summary")
        yield HorizontalScroll(id="board")
        yield RowDetail(id="card-detail")

    @property
    def stacked(self) -> bool:
        """Whether the stages are stacked (they do not fit side by side)."""
        return self.has_class("stacked")

    def on_resize(self, event: events.Resize) -> None:
        self._lay_out(event.size.width)

    def _lay_out(self, width: int) -> None:
        stacked = width < COLUMN_WIDTH * self.column_count
        self.set_class(stacked, "stacked")
        for card in self.query(TrackCard):
            card.compact = stacked
        if isinstance(self.focused, TrackCard):
            self.call_after_refresh(self.focused.scroll_visible, animate=False)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, TrackCard):
            summary = event.widget.summary
            stage = stage_label(summary.stage) if summary.stage else _("Not started")
            *heading, last = event.widget.lines()
            text = "  ·  ".join([stage, *heading]) + "\n" + last
            self.query_one("#card-detail", RowDetail).show_text(text)

    def on_mount(self) -> None:
        self.sub_title = _("Tracks")

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.load()

    @work(thread=True, exclusive=True, group="tracks", exit_on_error=False)
    def load(self) -> None:
        """Read the models and this model's tracks."""
        from dxfield.store.tracks import DEFAULT_MODEL_KEY, list_stage_models, list_tracks

        models = list_stage_models(self.store)
        key = self.model_key or DEFAULT_MODEL_KEY
        if key not in {m.key for m in models} and models:
            key = models[0].key
        summaries = list_tracks(self.store, model=key, today=self.dx.today)
        self.app.call_from_thread(self._show, models, key, summaries)

    def _show(self, models: list[StageModelRead], key: str, summaries: list[TrackSummary]) -> None:
        self.model_key = key
        select = self.query_one("#model", Select)
        options = [(model_name(m), m.key) for m in models]
        self.model_names = {key: name for name, key in options}
        with self.prevent(Select.Changed):
            select.set_options(plain_options(options))
            select.value = key
        model = next((m for m in models if m.key == key), None)
        self.summaries = summaries
        self.run_worker(
            self._mount_board(model, summaries), group="board", exclusive=True, exit_on_error=False
        )

    async def _mount_board(
        self, model: StageModelRead | None, summaries: list[TrackSummary]
    ) -> None:
        if not self.is_attached:
            return
        focused = self.focused.summary.track.id if isinstance(self.focused, TrackCard) else None
        board = self.query_one("#board", HorizontalScroll)
        await board.remove_children()
        summary = self.query_one("#board-summary", Label)
        if model is None:
            summary.update(_("No stage models"))
            return
        summary.update(
            ngettext(
                "{count} community  ·  [ ] move a stage, Enter: timeline",
                "{count} communities  ·  [ ] move a stage, Enter: timeline",
                len(summaries),
            ).format(count=len(summaries))
        )
        columns: list[tuple[str, list[TrackSummary]]] = []
        not_started = [s for s in summaries if s.stage is None]
        if not_started:
            columns.append((_("Not started"), not_started))
        for index, stage in enumerate(model.stages):
            here = [s for s in summaries if s.stage_index == index]
            columns.append((f"{index + 1}. {stage_label(stage)}", here))
        self.column_count = len(columns)
        self._lay_out(self.size.width)
        for heading, items in columns:
            column = VerticalScroll(classes="board-column")
            await board.mount(column)
            heading_text = plain(f"{heading} ({len(items)})")
            await column.mount(Label(heading_text, classes="board-heading"))
            if items:
                await column.mount_all(TrackCard(s, compact=self.stacked) for s in items)
        cards = list(self.query(TrackCard))
        target = next((c for c in cards if c.summary.track.id == focused), None)
        if target or cards:
            (target or cards[0]).focus()
        elif not summaries:
            await board.mount(
                Label(
                    _("No tracks in this model yet. Press c to add one."),
                    classes="board-empty",
                )
            )

    @on(Select.Changed, "#model")
    def _model_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.model_key:
            self.model_key = event.value
            self.load()

    @on(TrackCard.Opened)
    def _opened(self, event: TrackCard.Opened) -> None:
        from dxfield.tui.screens.track_timeline import TimelineScreen

        self.app.push_screen(TimelineScreen(event.card.summary.track.id))

    # -- actions ---------------------------------------------------------------------------------

    def _columns(self) -> list[list[TrackCard]]:
        return [
            list(column.query(TrackCard))
            for column in self.query(".board-column")
            if list(column.query(TrackCard))
        ]

    def action_card(self, across: int, down: int) -> None:
        """Move the focus between cards: within a column, or to the next column with cards."""
        columns = self._columns()
        if not columns:
            return
        focused = self.focused
        place = next(
            (
                (c, r)
                for c, cards in enumerate(columns)
                for r, card in enumerate(cards)
                if card is focused
            ),
            None,
        )
        if place is None:
            columns[0][0].focus()
            return
        column, row = place
        if self.stacked and down:  # one list, stage after stage
            cards = [card for cards in columns for card in cards]
            index = max(0, min(cards.index(columns[column][row]) + down, len(cards) - 1))
            target = cards[index]
        else:
            column = max(0, min(column + across, len(columns) - 1))
            row = max(0, min(row + down, len(columns[column]) - 1))
            target = columns[column][row]
        target.focus()
        target.scroll_visible(animate=False)

    def action_move(self, step: int) -> None:
        """Move the focused card a stage forward or back (the move form asks the rest)."""
        if isinstance(self.focused, TrackCard):
            open_move_form(self, self.focused.summary, step, self.load)

    def action_new_track(self) -> None:
        """Follow another community through this board's model."""
        from dxfield.tui.screens.track_form import TrackFormScreen

        select = self.query_one("#model", Select)
        if not isinstance(select.value, str):
            return
        label = self.model_names.get(select.value, select.value)

        def done(saved: bool | None) -> None:
            if saved:
                self.load()

        self.app.push_screen(TrackFormScreen(select.value, label), done)

    def action_new_model(self) -> None:
        """Define a stage model of your own."""
        from dxfield.tui.screens.stage_model_form import StageModelFormScreen

        def done(saved: bool | None) -> None:
            if saved:
                self.load()

        self.app.push_screen(StageModelFormScreen(), done)

    def action_focus_model(self) -> None:
        """Choose another stage model."""
        self.query_one("#model", Select).focus()

    def action_reload(self) -> None:
        """Read the board again."""
        self.load()


def open_move_form(
    screen: DxScreen, summary: TrackSummary, step: int, after: object | None = None
) -> None:
    """Open the move form for the stage `step` away from `summary`'s (+1 forward, -1 back)."""
    from dxfield.tui.screens.track_move import MoveScreen

    target = summary.stage_index + step
    if target < 0 or target >= len(summary.model.stages):
        screen.notify(_("There is no stage that way"), severity="warning")
        return

    def done(moved: bool | None) -> None:
        if moved and callable(after):
            after()

    screen.app.push_screen(MoveScreen(summary, summary.model.stages[target].key), done)
