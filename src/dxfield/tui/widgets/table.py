"""Textual's DataTable fitted to its width: cells cut with `…`, and the focused row whole below.

DataTable widens an auto-width column to its cells on its next idle, after `add_row`; but it
caches each rendered line under a counter that `add_row` bumps and that widening does not. A
paint that falls between the two (the screen's refresh timer firing before the table is idle,
as when a worker's rows arrive while a freshly switched screen paints) caches the rows cut at the
headers' widths ("Insi" for "Insight"), and every later paint reuses them until a resize or a
cursor move happens to bump the counter. A person sees a clipped table, its text missing; the
tests saw it about one run in five. Textual 8.2.8 has no public hook for this, so the class
bumps the counter itself once the widths are known.

On a narrow terminal (80 columns) the columns' natural widths add up to more than the table
has: the widest columns are then cut to a common width, so that every column stays in view
(rather than the last ones scrolled off to the right), each cut cell ending in `…`; and a
`RowDetail` under the table shows what the cursor's row holds, whole and wrapped. The detail
is mounted beside the table by the table itself, so a screen need not know of it, and shown
only while a column is cut.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widget import Widget
from textual.widgets import DataTable, Static
from textual.widgets._data_table import RowRenderables
from textual.widgets.data_table import ColumnKey, RowKey

from dxfield.tui.text import plain

MIN_CUT_WIDTH = 6
"""A cut column keeps at least this many cells (or its whole width when that is less)."""


def fitted_widths(natural: list[int], available: int) -> list[int]:
    """Column widths that add up to at most `available`.

    The widest column (a table's free text: an action, a title) gives up its width first, down
    to a third of `available`; if that is not enough, the others are cut to one common width, as
    wide as fits (never below `MIN_CUT_WIDTH`); whatever is left over goes back to the widest.
    """
    if sum(natural) <= available or not natural:
        return list(natural)
    widest = max(range(len(natural)), key=lambda i: natural[i])
    others = sum(natural) - natural[widest]
    floor = min(natural[widest], max(MIN_CUT_WIDTH, available // 3))
    if others + floor <= available:
        widths = list(natural)
        widths[widest] = available - others
        return widths
    rest = [w for i, w in enumerate(natural) if i != widest]
    room = available - floor
    low, high = 0, max(rest)  # the largest cap whose widths still fit in `room`
    while low < high:
        cap = (low + high + 1) // 2
        if sum(min(w, cap) for w in rest) <= room:
            low = cap
        else:
            high = cap - 1
    cap = max(low, MIN_CUT_WIDTH)
    widths = [min(w, cap) for w in natural]
    widths[widest] = max(floor, min(natural[widest], available - (sum(widths) - widths[widest])))
    return widths


class RowDetail(Static):
    """The whole text of the focused row of the table (or list) above it."""

    DEFAULT_CSS = """
    RowDetail {
        width: 100%;
        height: auto;
        min-height: 1;
        max-height: 5;
        padding: 0 1;
        background: $boost;
        color: $text;
    }
    """

    def show_text(self, text: str) -> None:
        """Show `text` (plain: its markup characters are kept as they are)."""
        self.update(plain(text, multiline=True))


class FittedTable(DataTable[Any]):
    """A DataTable that repaints its rows whole once its columns have grown to fit them, cuts
    its widest columns with `…` when they do not fit its width, and shows the cursor's row whole
    in a `RowDetail` under it while any column is cut."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._natural: dict[ColumnKey, int] = {}
        self._cut: set[ColumnKey] = set()
        self.detail: RowDetail | None = None

    def on_mount(self) -> None:
        if isinstance(self.parent, Widget) and self.detail is None:
            self.detail = RowDetail(classes="row-detail")
            self.detail.display = False
            self.parent.mount(self.detail, after=self)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        super()._update_dimensions(new_rows)
        for column in self.ordered_columns:
            # `content_width` only grows (to a new row's cell); a cut column's grows from its
            # cut width, never past the natural width it had before.
            natural = max(self._natural.get(column.key, 0), column.content_width)
            self._natural[column.key] = natural
        self._fit()

    def clear(self, columns: bool = False) -> Self:
        # Like DataTable's, a column keeps its width across a clear of the rows (no jump on a
        # reload); its natural width goes with it.
        if columns:
            self._natural.clear()
        return super().clear(columns)

    def on_resize(self, _event: events.Resize) -> None:
        self._fit()

    def _fit(self) -> None:
        """Cut the widest columns to the table's width, and repaint (see the module's
        docstring: the widths may have changed, so no line cached before may be reused)."""
        columns = [c for c in self.ordered_columns if c.auto_width]
        width = self.scrollable_content_region.width
        if columns and width > 0:
            fixed = sum(c.get_render_width(self) for c in self.ordered_columns if not c.auto_width)
            padding = 2 * self.cell_padding * len(columns)
            natural = [max(self._natural.get(c.key, 0), c.label.cell_len) for c in columns]
            widths = fitted_widths(natural, width - fixed - padding - self._row_label_column_width)
            self._cut = set()
            for column, wanted, fitted in zip(columns, natural, widths, strict=True):
                column.content_width = fitted
                if fitted < wanted:
                    self._cut.add(column.key)
            self._virtual_width_changed()
        self._update_count += 1
        self.refresh()
        self._show_detail()

    def _virtual_width_changed(self) -> None:
        total = sum(c.get_render_width(self) for c in self.ordered_columns)
        self.virtual_size = self.virtual_size.with_width(total + self._row_label_column_width)

    def _compute_row_renderables(self, row_index: int) -> RowRenderables:
        found = super()._compute_row_renderables(row_index)
        cells: list[Any] = []
        for cell in found.cells:
            if isinstance(cell, Text) and cell.overflow != "ellipsis":
                cell = cell.copy()
                cell.overflow = "ellipsis"
                cell.no_wrap = True
            cells.append(cell)
        return RowRenderables(found.label, cells)

    def watch_cursor_coordinate(self, old: Any, new: Any) -> None:
        super().watch_cursor_coordinate(old, new)
        self._show_detail()

    def _show_detail(self) -> None:
        """Show the cursor's row whole while a column is cut; hide the detail otherwise."""
        detail = self.detail
        if detail is None:
            return
        row = self.cursor_row
        if not self._cut or not self.row_count or row < 0 or row >= self.row_count:
            detail.display = False
            return
        values = self.get_row_at(row)
        parts = []
        for column, value in zip(self.ordered_columns, values, strict=False):
            text = value.plain if isinstance(value, Text) else str(value)
            if column.key in self._cut and cell_len(text) > column.content_width:
                parts.append(f"{column.label.plain}: {text}")
        detail.show_text("  ·  ".join(parts))
        detail.display = True
