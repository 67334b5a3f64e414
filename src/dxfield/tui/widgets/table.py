"""Textual's DataTable, its rows painted at the widths its columns grew to.

DataTable widens an auto-width column to its cells on its next idle, after `add_row`; but it
caches each rendered line under a counter that `add_row` bumps and that widening does not. A
paint that falls between the two (the screen's refresh timer firing before the table is idle,
as when a worker's rows arrive while a freshly switched screen paints) caches the rows cut at the
headers' widths ("Insi" for "Insight"), and every later paint reuses them until a resize or a
cursor move happens to bump the counter. A person sees a clipped table, its text missing; the
tests saw it about one run in five. Textual 8.2.8 has no public hook for this, so the class
bumps the counter itself once the widths are known.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


class FittedTable(DataTable[Any]):
    """A DataTable that repaints its rows whole once its columns have grown to fit them."""

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        super()._update_dimensions(new_rows)
        # Column widths may have changed: lines cached before this (at the old widths) must not
        # be reused. The counter is part of every render cache key of DataTable.
        self._update_count += 1
        self.refresh()
