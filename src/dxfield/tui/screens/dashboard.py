"""The Dashboard (home): a card per municipality and initiative over a 年度, named at the top
(the store chooses it: `store.dashboard`). Enter opens a card's log.

At start it is read through the light store (store/light.py: the driver alone) while the `Store`
opens behind it, so its cards come without waiting for SQLAlchemy; once the `Store` is open, it
reads them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.widgets import Label, Sparkline, Static

from dxfield.domain.dates import fiscal_year_label, long_date, month_label
from dxfield.domain.enums import ProviderRole
from dxfield.domain.visible import visible
from dxfield.i18n import N_, _, current_language, ngettext
from dxfield.tui.screens.base import DxScreen
from dxfield.tui.text import plain
from dxfield.tui.widgets.funnel import FunnelView

if TYPE_CHECKING:
    from dxfield.store.board import Dashboard, Funnel, InitiativeCard


def window_text(board: Dashboard, today: dt.date) -> str:
    """The dashboard's window: 令和6年度、2025年3月31日時点."""
    lang = current_language()
    return _("{fiscal_year}, as of {date}").format(
        fiscal_year=fiscal_year_label(board.fiscal_year, lang), date=long_date(board.as_of, lang)
    )


def card_text(card: InitiativeCard, board: Dashboard, today: dt.date) -> tuple[str, str]:
    """(heading, body) of a card, as plain text (shown with `plain`: controls escaped)."""
    lang = current_language()
    heading = f"{card.municipality}  {card.theme}".strip()
    providers = "、".join(
        f"{name}({ProviderRole(role).label(lang)})" for name, role in card.providers
    )
    lines = [visible(card.title)] if card.title else [_("(activities outside any initiative)")]
    if providers:
        lines.append(visible(providers))
    counts = {
        "month_count": card.activities_this_month,
        "year_count": card.activities_this_year,
        "fiscal_year": fiscal_year_label(board.fiscal_year, lang),
        "total": card.activities_total,
    }
    if board.month == today.replace(day=1):
        line = _(
            "Activities: {month_count} this month, {year_count} in {fiscal_year}, {total} in all"
        )
    else:  # a past 年度: its last month with activities, named
        line = _(
            "Activities: {month_count} in {month}, {year_count} in {fiscal_year}, {total} in all"
        )
        counts["month"] = month_label(board.month, lang)
    lines.append(line.format(**counts))
    overdue = (
        ngettext(
            " ({overdue_actions} overdue)", " ({overdue_actions} overdue)", card.overdue_actions
        ).format(overdue_actions=card.overdue_actions)
        if card.overdue_actions
        else ""
    )
    lines.append(_("Open actions: {open_actions}").format(open_actions=card.open_actions) + overdue)
    for track in card.tracks:
        label = track.stage_label if lang == "ja" else (track.stage_label_en or track.stage_label)
        days = (
            ngettext(
                " ({days_in_stage} day)", " ({days_in_stage} days)", track.days_in_stage
            ).format(days_in_stage=track.days_in_stage)
            if track.days_in_stage is not None
            else ""
        )
        lines.append(visible(f"▸ {track.community}: {label or '—'}{days}"))
    return heading, "\n".join(lines)


class InitiativeCardView(Vertical, can_focus=True):
    """One card; Enter (or a click) opens the log of its initiative or municipality."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", N_("Open log"), id="open-card"),
    ]

    class Opened(Message):
        """A card was opened."""

        def __init__(self, card_view: InitiativeCardView) -> None:
            super().__init__()
            self.card_view = card_view

        @property
        def control(self) -> InitiativeCardView:
            """The card that was opened."""
            return self.card_view

    def __init__(self, card: InitiativeCard, board: Dashboard, today: dt.date) -> None:
        super().__init__(classes="card")
        self.card = card
        self.board = board
        self.today = today

    def compose(self) -> ComposeResult:
        heading, body = card_text(self.card, self.board, self.today)
        yield Label(plain(heading), classes="card-heading")
        yield Static(plain(body, multiline=True), classes="card-body")
        yield Sparkline([float(n) for _, n in self.card.per_month], classes="card-spark")
        first, last = self.card.per_month[0][0], self.card.per_month[-1][0]
        yield Label(f"{first} … {last}", classes="card-axis")

    def action_open(self) -> None:
        """Open this card's log."""
        self.post_message(self.Opened(self))

    def on_click(self, _event: events.Click) -> None:
        self.focus()
        self.action_open()


class DashboardScreen(DxScreen):
    """Every municipality's initiatives at a glance."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", N_("Reload"), id="reload-dashboard"),
        Binding("down,j", "next_card", show=False),
        Binding("up,k", "previous_card", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="dashboard"):
            yield Label("", id="window")
            yield Label(_("Loading…"), id="empty")
            yield FunnelView(id="funnel")
            yield Grid(id="cards")

    def on_mount(self) -> None:
        self.sub_title = _("Dashboard")

    def on_resize(self, event: events.Resize) -> None:
        columns = 1 if event.size.width < 110 else 2 if event.size.width < 170 else 3
        for grid in self.query("#cards").results(Grid):  # none while the screen is torn down
            grid.styles.grid_size_columns = columns

    @work(thread=True, exclusive=True, group="dashboard", exit_on_error=False)
    def load(self) -> None:
        """Read the cards (in a thread) and show them: through the light store while the
        `Store` opens, else (or when the light read gives None) through the `Store`."""
        today = self.dx.today
        light = self.dx.log_light()
        board = light.dashboard(today) if light is not None else None
        funnels = light.funnel() if light is not None and board is not None else None
        if (board is None or funnels is None) and light is not None and not self.is_current:
            return  # left before its cards came (the read was stopped): read when shown again
        if board is None or funnels is None:
            store = self.store  # waits for the `Store` to open (at start it opens behind this)
            from dxfield.store.dashboard import dashboard
            from dxfield.store.tracks import funnel

            board = dashboard(store, today)
            funnels = funnel(store)
        self.app.call_from_thread(self._show, board, funnels, today)

    def _show(self, board: Dashboard, funnels: list[Funnel], today: dt.date) -> None:
        self.query_one("#window", Label).update(plain(window_text(board, today)))
        self.query_one(FunnelView).show(funnels)
        shown = [(view.board, view.today, view.card) for view in self.query(InitiativeCardView)]
        if shown == [(board, today, card) for card in board.cards] and board.cards:
            return  # nothing changed: no remount, no flicker, focus stays
        self.run_worker(
            self._mount_cards(board, today),
            group="dashboard-cards",
            exclusive=True,
            exit_on_error=False,
        )

    async def _mount_cards(self, board: Dashboard, today: dt.date) -> None:
        cards = board.cards
        if not self.is_attached or not self.is_current:
            return  # the user has moved on (to the Log) before the cards arrived
        grid = self.query_one("#cards", Grid)
        focused = (
            (self.focused.card.initiative_id, self.focused.card.municipality_id)
            if isinstance(self.focused, InitiativeCardView)
            else None
        )
        await grid.remove_children()
        await grid.mount_all(InitiativeCardView(card, board, today) for card in cards)
        empty = self.query_one("#empty", Label)
        empty.update(
            _("No initiatives or activities yet. Press n to log one.") if not cards else ""
        )
        empty.display = not cards
        views = list(self.query(InitiativeCardView))
        target = next(
            (v for v in views if (v.card.initiative_id, v.card.municipality_id) == focused), None
        )
        if views:
            card = target or views[0]
            # Scrolled to only once the new cards are laid out: Textual's own scroll on focus
            # runs before that layout, and on a busy laptop it took the first card, which fits
            # under the funnel, for one out of view and scrolled the funnel away.
            card.focus(scroll_visible=False)
            self.call_after_refresh(self._show_focused, card)
        self.dx.first_screen_filled()  # the `Store` opens behind the cards, not during them

    def _show_focused(self, card: InitiativeCardView) -> None:
        if self.focused is card and card.is_attached and not self.can_view_entire(card):
            self.scroll_to_center(card, animate=False, origin_visible=True)

    def action_next_card(self) -> None:
        """Go to the next card (down, j), scrolled to; the last one stays."""
        self._step(1)

    def action_previous_card(self) -> None:
        """Go to the card before (up, k), scrolled to; the first one stays."""
        self._step(-1)

    def _step(self, by: int) -> None:
        cards = list(self.query(InitiativeCardView))
        if not cards:
            return
        at = cards.index(self.focused) if self.focused in cards else -by
        cards[max(0, min(len(cards) - 1, at + by))].focus()

    def action_reload(self) -> None:
        """Read the dashboard again."""
        self.load()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.load()

    def on_screen_suspend(self) -> None:
        # Left (for the Log, at once, say) before the light read of its cards was done: that
        # scan of every activity stops, and the next screen has the processor to itself.
        light = self.dx.log_light()
        if light is not None:
            light.stop_dashboard()

    @on(InitiativeCardView.Opened)
    def _opened(self, event: InitiativeCardView.Opened) -> None:
        from dxfield.tui.screens.log import LogScope

        card = event.card_view.card
        label = f"{card.municipality} {card.theme}".strip()
        if card.initiative_id:
            self.dx.show_log(LogScope(initiative_id=card.initiative_id, label=label))
        else:
            self.dx.show_log(LogScope(municipality_id=card.municipality_id, label=label))
