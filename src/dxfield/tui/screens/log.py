"""The Log: every activity, newest first, with filters and an incremental search (`/`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Input, Label, Select

from dxfield.domain.dates import parse_date
from dxfield.domain.enums import ActivityKind, SupportArea
from dxfield.i18n import N_, LocalizedError, _, current_language, ngettext
from dxfield.store.light import ActivityFilter
from dxfield.store.search_terms import query_terms
from dxfield.tui.screens.base import DxScreen
from dxfield.tui.text import plain, plain_options
from dxfield.tui.widgets.activity_list import ActivityList

SEARCH_DELAY = 0.15


@dataclass(frozen=True)
class LogScope:
    """Where the Log opens: everything, or one initiative or municipality (from the dashboard)."""

    initiative_id: str | None = None
    municipality_id: str | None = None
    label: str = ""


class LogScreen(DxScreen):
    """Every activity, newest first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", N_("Search"), id="search"),
        Binding("escape", "clear_search", N_("Clear search"), show=False),
        Binding("f", "focus_filters", N_("Filters"), id="filters"),
        Binding("r", "reload", N_("Reload"), id="reload"),
        Binding("D", "app.deleted", N_("Deleted records"), id="log-deleted"),
        # In the help, not the key bar: at 80 columns it would push n (New) out of it.
        Binding("c", "duplicate", N_("Duplicate"), id="log-duplicate", show=False),
        Binding("M", "minutes", N_("Minutes"), id="log-minutes", show=False),
    ]

    def __init__(self, scope: LogScope | None = None) -> None:
        super().__init__()
        self.scope = scope or LogScope()
        self._search_timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        lang = current_language()
        yield Input(
            placeholder=_("Search (/): all space-separated terms must match"),
            id="search",
        )
        with Horizontal(id="filters"):
            yield Select[str]([], prompt=_("Municipality"), id="municipality", compact=True)
            yield Select[str](
                [(k.label(lang), k.value) for k in ActivityKind],
                prompt=_("Kind"),
                id="kind",
                compact=True,
            )
            yield Select[str](
                [(a.label(lang), a.value) for a in SupportArea],
                prompt=_("Support area"),
                id="area",
                compact=True,
            )
            yield Input(placeholder=_("From"), id="date-from", compact=True)
            yield Input(placeholder=_("To"), id="date-to", compact=True)
            yield Input(placeholder=_("Tag"), id="tag", compact=True)
        yield Label("", id="filter-error")
        yield Label("", id="summary")
        yield ActivityList(lambda: self.store, self.dx.log_light, id="activities")

    def on_mount(self) -> None:
        self.sub_title = _("Activity log") + (f" · {self.scope.label}" if self.scope.label else "")
        self._load_municipalities()
        self.query_one(ActivityList).focus()

    @work(thread=True, exclusive=True, group="log-options", exit_on_error=False)
    def _load_municipalities(self) -> None:
        store = self.store  # waits for the `Store` (at start it opens behind the first screen)
        from dxfield.store.organizations import LOCAL_GOVERNMENT, list_organizations

        orgs = list_organizations(store, kinds=LOCAL_GOVERNMENT)
        options = [(o.name, o.id) for o in orgs]
        self.app.call_from_thread(self._set_municipalities, options)

    def _set_municipalities(self, options: list[tuple[str, str]]) -> None:
        self.query_one("#municipality", Select).set_options(plain_options(options))

    # -- filters ---------------------------------------------------------------------------------

    def _date(self, widget_id: str) -> dt.date | None:
        text = self.query_one(f"#{widget_id}", Input).value.strip()
        return parse_date(text, today=self.dx.today) if text else None

    def apply_filters(self) -> None:
        """Read the filter widgets and show what matches."""

        def chosen(widget_id: str) -> str | None:
            value = self.query_one(f"#{widget_id}", Select).value
            return value if isinstance(value, str) else None

        error = self.query_one("#filter-error", Label)
        try:
            date_from, date_to = self._date("date-from"), self._date("date-to")
        except LocalizedError as exc:
            error.update(plain(exc.message()))
            return
        error.update("")
        kind, area = chosen("kind"), chosen("area")
        query = self.query_one("#search", Input).value
        filters = ActivityFilter(
            municipality_id=chosen("municipality") or self.scope.municipality_id,
            initiative_id=self.scope.initiative_id,
            kind=ActivityKind(kind) if kind else None,
            area=SupportArea(area) if area else None,
            tag=self.query_one("#tag", Input).value.strip() or None,
            date_from=date_from,
            date_to=date_to,
            query=query if query.strip() else None,
        )
        self.query_one(ActivityList).show(filters, query_terms(query))

    @on(Select.Changed)
    def _select_changed(self) -> None:
        self.apply_filters()

    @on(Input.Submitted, "#filters Input")
    def _filter_submitted(self) -> None:
        self.apply_filters()

    @on(Input.Changed, "#filters Input")
    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        # Incremental, but not on every keystroke of a fast typist or an IME burst.
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY, self.apply_filters)

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.apply_filters()
        self.query_one(ActivityList).focus()

    @on(ActivityList.Loaded)
    def _loaded(self, event: ActivityList.Loaded) -> None:
        self.query_one("#summary", Label).update(
            ngettext("{total:,} activity", "{total:,} activities", event.total).format(
                total=event.total
            )
        )

    @on(ActivityList.Selected)
    def _selected(self, event: ActivityList.Selected) -> None:
        self.dx.open_activity(event.activity_id)

    # -- actions ---------------------------------------------------------------------------------

    def action_search(self) -> None:
        """Focus the search field."""
        self.query_one("#search", Input).focus()

    def action_clear_search(self) -> None:
        """Empty the search and go back to the list."""
        search = self.query_one("#search", Input)
        if search.value:
            with self.prevent(Input.Changed):  # its debounced reload would read it all again
                search.value = ""
            if self._search_timer is not None:
                self._search_timer.stop()
            self.apply_filters()
        self.query_one(ActivityList).focus()

    def action_focus_filters(self) -> None:
        """Move to the filters."""
        self.query_one("#municipality", Select).focus()

    def action_duplicate(self) -> None:
        """A new activity in the form, starting from the one under the cursor (not its date)."""
        listing = self.query_one(ActivityList)
        row = listing.row_at(listing.cursor)
        if row is not None:
            self.dx.duplicate_activity(row.id)

    def action_minutes(self) -> None:
        """Write the minutes (議事録) of the activity under the cursor into the documents folder."""
        from dxfield.tui.minutes import write_minutes_of

        listing = self.query_one(ActivityList)
        row = listing.row_at(listing.cursor)
        if row is not None:
            write_minutes_of(self, row.id)

    def action_reload(self) -> None:
        """Read the log again."""
        self.query_one(ActivityList).reload()

    def on_screen_resume(self) -> None:
        # The first showing loads the list; coming back (from a view or the form) refreshes it
        # and keeps the cursor where it was.
        super().on_screen_resume()
        listing = self.query_one(ActivityList)
        if listing.state.generation == 0:
            self.apply_filters()
        else:
            listing.reload()

    def show_newest(self) -> None:
        """Put the cursor on the newest activity (after one was created)."""
        self.query_one(ActivityList).cursor = 0
