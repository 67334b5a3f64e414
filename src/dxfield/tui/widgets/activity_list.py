"""The Log's list of activities: a virtual list that fetches only the rows it shows.

A Line API widget (like toolong's log view): `render_line` draws one row from a cache of blocks
of rows. A missing block is drawn as a placeholder and fetched in a thread worker, by keyset from
a neighbouring block when there is one (the common case: scrolling), by offset after a jump. The
event loop never waits for the database, and 100,000 activities cost no more to show than 1,000.

A row is cut to the list's width, each cut text ending in `…`; a `RowDetail` under the list (mounted
by the list itself) shows the cursor's row whole, wrapped.

A row's texts are made visible (`dxfield.domain.visible`: controls shown escaped) once, in the
worker that fetched its block, not on every repaint: the cached rows are display rows.

The unfiltered Log reads through the app's light store (store/light.py: sqlite3 alone) while it
has one: at start the Log is there before SQLAlchemy and the `Store` have loaded. Anything
else, and any light read that gives None, asks the `Store` (a worker waits for it to open).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from dxfield.domain.dates import format_date
from dxfield.domain.visible import visible
from dxfield.i18n import N_, current_language
from dxfield.store.light import ActivityFilter, ActivityRow
from dxfield.store.search_terms import normalize
from dxfield.tui.text import notify_failure
from dxfield.tui.widgets.table import RowDetail

if TYPE_CHECKING:
    from dxfield.store.engine import Store
    from dxfield.store.light import LightStore

BLOCK = 100
DATE_WIDTH = 15
PLACE_WIDTH = 10
KIND_WIDTH = 14


@dataclass
class ListState:
    """What the list shows: its filters, how many rows match, and the blocks fetched so far."""

    filters: ActivityFilter
    terms: list[str]
    generation: int = 0
    total: int = 0
    blocks: dict[int, list[ActivityRow]] = field(default_factory=dict)
    loading: set[int] = field(default_factory=set)
    failed: set[int] = field(default_factory=set)


def shown_rows(rows: list[ActivityRow]) -> list[ActivityRow]:
    """`rows` as they may be shown: title and place with their controls escaped (a row with
    nothing to escape is kept as it is). The id, which fetches and opens, is left alone."""
    result = []
    for row in rows:
        title, place = visible(row.title), visible(row.municipality)
        if title is not row.title or place is not row.municipality:
            row = replace(row, title=title, municipality=place)
        result.append(row)
    return result


def highlight(text: str, terms: list[str], style: Style | str) -> Text:
    """`text` with every occurrence of the (normalized) search terms styled."""
    result = Text(text)
    folded = normalize(text)
    if len(folded) != len(text):  # NFKC changed lengths (e.g. ㈱): fall back to case folding
        folded = text.lower()
    for term in terms:
        start = folded.find(term)
        while start >= 0 and term:
            result.stylize(style, start, start + len(term))
            start = folded.find(term, start + len(term))
    return result


class ActivityList(ScrollView, can_focus=True):
    """Activities newest first; Enter opens one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("home", "first", show=False),
        Binding("end", "last", show=False),
        Binding("enter", "open", N_("Open"), id="open-activity"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "activity-list--cursor",
        "activity-list--match",
        "activity-list--muted",
    }

    DEFAULT_CSS = """
    ActivityList {
        height: 1fr;
        background: $surface;
    }
    ActivityList > .activity-list--cursor {
        background: $accent 40%;
        text-style: bold;
    }
    ActivityList:focus > .activity-list--cursor {
        background: $accent;
        color: $text;
    }
    ActivityList > .activity-list--match {
        background: $warning 60%;
        color: $text;
        text-style: bold;
    }
    ActivityList > .activity-list--muted {
        color: $text-muted;
    }
    """

    cursor: reactive[int] = reactive(0, always_update=True)
    """Index of the highlighted row."""

    class Selected(Message):
        """An activity was chosen with Enter."""

        def __init__(self, activity_list: ActivityList, activity_id: str) -> None:
            super().__init__()
            self.activity_list = activity_list
            self.activity_id = activity_id

        @property
        def control(self) -> ActivityList:
            """The list the activity was chosen in."""
            return self.activity_list

    class Loaded(Message):
        """The list was (re)loaded; `total` rows match its filters."""

        def __init__(self, activity_list: ActivityList, total: int) -> None:
            super().__init__()
            self.activity_list = activity_list
            self.total = total

        @property
        def control(self) -> ActivityList:
            """The list that loaded."""
            return self.activity_list

    def __init__(
        self,
        store: Callable[[], Store],
        light: Callable[[], LightStore | None] = lambda: None,
        *,
        id: str | None = None,
    ) -> None:
        """`store` gives the open `Store` (in a worker, waiting for it to open); `light` the
        app's light store, or None."""
        super().__init__(id=id)
        self._store = store
        self._light = light
        self.state = ListState(ActivityFilter(), [])
        self._generation = 0
        self.lang = current_language()
        self.detail: RowDetail | None = None

    def on_mount(self) -> None:
        if isinstance(self.parent, Widget) and self.detail is None:
            self.detail = RowDetail(classes="row-detail")
            self.parent.mount(self.detail, after=self)

    @property
    def store(self) -> Store:
        """The open store (called in workers)."""
        return self._store()

    def _light_for(self, filters: ActivityFilter) -> LightStore | None:
        """The light store when it can read `filters` (the whole Log), else None."""
        return self._light() if filters == ActivityFilter() else None

    # -- loading ---------------------------------------------------------------------------------

    def show(self, filters: ActivityFilter, terms: list[str] | None = None) -> None:
        """Show the activities matching `filters` from the newest, highlighting `terms`."""
        self._begin(filters, terms or [], keep_cursor=False)

    def reload(self) -> None:
        """Fetch again with the same filters (after a change), keeping the cursor where it was."""
        self._begin(self.state.filters, self.state.terms, keep_cursor=True)

    def _begin(self, filters: ActivityFilter, terms: list[str], *, keep_cursor: bool) -> None:
        # The rows on screen stay until the new ones arrive: no blank flash while typing.
        self._generation += 1
        self._load_first(self._generation, filters, terms, keep_cursor)

    @work(thread=True, exclusive=True, group="activity-list-first", exit_on_error=False)
    def _load_first(
        self, generation: int, filters: ActivityFilter, terms: list[str], keep_cursor: bool
    ) -> None:
        light = self._light_for(filters)
        total = light.count_activities() if light is not None else None
        page = light.log_page(limit=BLOCK) if light is not None else None
        if total is None or page is None:
            from dxfield.store.activities import count_activities, list_activities

            total = count_activities(self.store, filters)
            page = list_activities(self.store, filters, limit=BLOCK)
        state = ListState(filters, terms, generation, total, {0: shown_rows(page)})
        self.app.call_from_thread(self._apply_first, state, keep_cursor)

    def _apply_first(self, state: ListState, keep_cursor: bool) -> None:
        if state.generation != self._generation:
            return  # a newer search or filter has replaced this one
        self.state = state
        self.virtual_size = Size(0, state.total)
        self.cursor = min(self.cursor, max(state.total - 1, 0)) if keep_cursor else 0
        if not keep_cursor:
            self.scroll_to(y=0, animate=False, immediate=True)
        self._keep_cursor_visible()
        self.refresh()
        self._show_detail()
        self.post_message(self.Loaded(self, state.total))

    def _request(self, block: int) -> None:
        state = self.state
        if block in state.blocks or block in state.loading or block in state.failed:
            return
        state.loading.add(block)
        self._fetch_block(state.generation, block, state.filters, self._anchor(block), state.total)

    def _anchor(self, block: int) -> tuple[str, tuple[dt.date, str] | None]:
        """How to fetch `block`: by keyset from a neighbour when one is loaded, else by offset.

        An offset is counted from the nearer end: End (and any jump into the back half) reads the
        oldest rows directly instead of skipping almost every row of a long list.
        """
        blocks = self.state.blocks
        if blocks.get(block - 1):
            last = blocks[block - 1][-1]
            return "before", (last.date, last.id)
        if blocks.get(block + 1):
            first = blocks[block + 1][0]
            return "after", (first.date, first.id)
        if block * BLOCK >= self.state.total // 2:
            return "from-end", None
        return "offset", None

    @work(thread=True, group="activity-list-blocks", exit_on_error=False)
    def _fetch_block(
        self,
        generation: int,
        block: int,
        filters: ActivityFilter,
        anchor: tuple[str, tuple[dt.date, str] | None],
        total: int,
    ) -> None:
        try:
            rows = self._light_block(filters, block, anchor, total)
            if rows is None:
                rows = self._store_block(filters, block, anchor, total)
        except Exception as exc:  # shown once, and not fetched again on every repaint
            self.app.call_from_thread(self._block_failed, generation, block, exc)
            return
        self.app.call_from_thread(self._apply_block, generation, block, shown_rows(rows))

    def _store_block(
        self,
        filters: ActivityFilter,
        block: int,
        anchor: tuple[str, tuple[dt.date, str] | None],
        total: int,
    ) -> list[ActivityRow]:
        """`block` read through the `Store`."""
        from dxfield.store.activities import list_activities, oldest_activities

        how, key = anchor
        if how == "before":
            return list_activities(self.store, filters, limit=BLOCK, before=key)
        if how == "after":
            return list_activities(self.store, filters, limit=BLOCK, after=key)
        if how == "from-end":
            end = min((block + 1) * BLOCK, total)  # the block's rows are [block * BLOCK, end)
            return oldest_activities(
                self.store, filters, limit=end - block * BLOCK, offset=total - end
            )
        return list_activities(self.store, filters, limit=BLOCK, offset=block * BLOCK)

    def _light_block(
        self,
        filters: ActivityFilter,
        block: int,
        anchor: tuple[str, tuple[dt.date, str] | None],
        total: int,
    ) -> list[ActivityRow] | None:
        """`block` read through the light store, or None (the `Store` reads it)."""
        light = self._light_for(filters)
        if light is None:
            return None
        how, key = anchor
        if how == "before":
            return light.log_page(limit=BLOCK, before=key)
        if how == "after":
            return light.log_page(limit=BLOCK, after=key)
        if how == "from-end":
            end = min((block + 1) * BLOCK, total)
            return light.log_page(limit=end - block * BLOCK, offset=total - end, oldest=True)
        return light.log_page(limit=BLOCK, offset=block * BLOCK)

    def _apply_block(self, generation: int, block: int, rows: list[ActivityRow]) -> None:
        if generation != self.state.generation:
            return
        self.state.loading.discard(block)
        if not rows:  # the log shrank since it was counted (a delete elsewhere): count again
            self.reload()
            return
        self.state.blocks[block] = rows
        self.refresh()
        self._show_detail()

    def _block_failed(self, generation: int, block: int, error: Exception) -> None:
        if generation != self.state.generation:
            return
        self.state.loading.discard(block)
        self.state.failed.add(block)
        notify_failure(self, error)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            notify_failure(self, event.worker.error)

    # -- rows ------------------------------------------------------------------------------------

    def row_at(self, index: int) -> ActivityRow | None:
        """The row at `index` if its block is loaded."""
        rows = self.state.blocks.get(index // BLOCK)
        if rows is None or index % BLOCK >= len(rows):
            return None
        return rows[index % BLOCK]

    @property
    def total(self) -> int:
        """How many activities match."""
        return self.state.total

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width  # the scrollbar's columns aside
        index = int(self.scroll_offset.y) + y
        base = self.rich_style
        if index >= self.state.total:
            return Strip.blank(width, base)
        row = self.row_at(index)
        if row is None:
            self._request(index // BLOCK)
            muted = self.get_component_rich_style("activity-list--muted")
            return Strip([Segment("  …", muted)]).crop_extend(0, width, base)
        line = self._format(row, width)
        style = base
        if index == self.cursor:
            style = base + self.get_component_rich_style("activity-list--cursor")
        segments = list(line.render(self.app.console))
        return Strip(segments).crop_extend(0, width, style).apply_style(style)

    def _format(self, row: ActivityRow, width: int) -> Text:
        lang = self.lang
        date = Text(format_date(row.date, row.date_precision, lang))
        date.truncate(DATE_WIDTH, pad=True)
        place = Text(row.municipality)
        place.truncate(PLACE_WIDTH, overflow="ellipsis", pad=True)
        kind = Text(row.kind.label(lang))
        kind.truncate(KIND_WIDTH, overflow="ellipsis", pad=True)
        title_width = max(width - DATE_WIDTH - PLACE_WIDTH - KIND_WIDTH - 5, 4)
        match = self.get_component_rich_style("activity-list--match")
        title = highlight(row.title, self.state.terms, match)
        title.truncate(title_width, overflow="ellipsis")
        return Text(" ").join([Text(""), date, place, kind, title])

    def _show_detail(self) -> None:
        """Show the cursor's row whole under the list (empty while it is not loaded)."""
        if self.detail is None:
            return
        row = self.row_at(self.cursor) if self.state.total else None
        if row is None:
            self.detail.show_text("")
            return
        date = format_date(row.date, row.date_precision, self.lang)
        place = f"{row.municipality}  " if row.municipality else ""
        self.detail.show_text(f"{date}  {place}{row.kind.label(self.lang)}\n{row.title}")

    def watch_cursor(self) -> None:
        self._show_detail()

    # -- cursor ----------------------------------------------------------------------------------

    def _keep_cursor_visible(self) -> None:
        height = max(self.scrollable_content_region.height, 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def _move_to(self, index: int) -> None:
        if self.state.total == 0:
            return
        self.cursor = max(0, min(index, self.state.total - 1))
        self._keep_cursor_visible()
        self.refresh()

    def action_cursor(self, step: int) -> None:
        """Move the cursor one row."""
        self._move_to(self.cursor + step)

    def action_page(self, pages: int) -> None:
        """Move the cursor a screenful."""
        self._move_to(self.cursor + pages * max(self.scrollable_content_region.height, 1))

    def action_first(self) -> None:
        """To the newest activity."""
        self._move_to(0)

    def action_last(self) -> None:
        """To the oldest activity."""
        self._move_to(self.state.total - 1)

    def action_open(self) -> None:
        """Open the activity under the cursor."""
        row = self.row_at(self.cursor)
        if row is not None:
            self.post_message(self.Selected(self, row.id))

    def on_click(self, event: object) -> None:
        offset = getattr(event, "y", None)
        if isinstance(offset, int):
            self._move_to(int(self.scroll_offset.y) + offset)
