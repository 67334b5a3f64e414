"""The geometry of the HTML report's charts, drawn as inline SVG by the template.

Two charts: activities per month for each municipality (small multiples, one row each, on one
scale) and the engagement funnel of each stage model (how many communities reached each stage).
Sizes are in SVG user units; the template scales the whole chart to the page's width.
"""

from __future__ import annotations

from dataclasses import dataclass

from dxfield.report.content import FunnelLine, MonthTable

LABEL_WIDTH = 96
COLUMN_WIDTH = 38
ROW_HEIGHT = 46
BAR_MAX = 30
AXIS_HEIGHT = 22


@dataclass(frozen=True)
class Bar:
    """One bar: where it stands, how big, and the number it shows."""

    x: float
    y: float
    width: float
    height: float
    value: int


@dataclass(frozen=True)
class ChartRow:
    """One municipality's row of the monthly chart."""

    label: str
    label_y: float
    baseline: float
    bars: list[Bar]
    total: int


@dataclass(frozen=True)
class MonthChart:
    """Activities per month, a row per municipality."""

    width: float
    height: float
    columns: list[tuple[str, float]]
    """Each column's label and the x of its centre."""
    rows: list[ChartRow]
    axis_y: float
    plot_x: float = LABEL_WIDTH
    plot_width: float = 0
    band: float = BAR_MAX + 1


def month_chart(table: MonthTable) -> MonthChart:
    """Small multiples of `table`: one row per line of the table, bars on a common scale."""
    peak = max(table.peak, 1)
    columns = [
        (label, LABEL_WIDTH + COLUMN_WIDTH * n + COLUMN_WIDTH / 2)
        for n, label in enumerate(table.columns)
    ]
    rows = []
    for index, (label, counts) in enumerate(table.rows):
        top = index * ROW_HEIGHT
        baseline = top + ROW_HEIGHT - 8
        bars = []
        for n, value in enumerate(counts):
            height = BAR_MAX * value / peak
            bars.append(
                Bar(
                    x=LABEL_WIDTH + COLUMN_WIDTH * n + 7,
                    y=baseline - height,
                    width=COLUMN_WIDTH - 14,
                    height=height,
                    value=value,
                )
            )
        rows.append(ChartRow(label, baseline - 4, baseline, bars, sum(counts)))
    axis_y = len(table.rows) * ROW_HEIGHT
    width = LABEL_WIDTH + COLUMN_WIDTH * len(table.columns) + 48
    plot_width = COLUMN_WIDTH * len(table.columns)
    return MonthChart(width, axis_y + AXIS_HEIGHT, columns, rows, axis_y, plot_width=plot_width)


FUNNEL_LABEL_WIDTH = 300
FUNNEL_BAR_WIDTH = 300
FUNNEL_ROW = 30


@dataclass(frozen=True)
class FunnelBar:
    """One stage of a funnel: a centred bar as wide as the communities that reached it."""

    label: str
    y: float
    x: float
    width: float
    reached: int
    now: int


@dataclass(frozen=True)
class FunnelChart:
    """A stage model's funnel."""

    model: str
    width: float
    height: float
    bars: list[FunnelBar]
    total: int
    not_started: int
    centre: float


def funnel_chart(funnel: FunnelLine) -> FunnelChart:
    """The funnel of one model: a bar per stage, centred, its width the share that reached it."""
    total = max(funnel.total, 1)
    centre = FUNNEL_LABEL_WIDTH + FUNNEL_BAR_WIDTH / 2
    bars = []
    for n, (label, now, reached) in enumerate(funnel.rows):
        width = max(FUNNEL_BAR_WIDTH * reached / total, 2.0)
        bars.append(FunnelBar(label, n * FUNNEL_ROW, centre - width / 2, width, reached, now))
    return FunnelChart(
        model=funnel.model,
        width=FUNNEL_LABEL_WIDTH + FUNNEL_BAR_WIDTH + 80,
        height=len(bars) * FUNNEL_ROW + 4,
        bars=bars,
        total=funnel.total,
        not_started=funnel.not_started,
        centre=centre,
    )
