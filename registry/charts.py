"""Server-drawn SVG charts: the geometry is worked out here and drawn by the one macro in ``_chart.html``.

No JavaScript and nothing fetched from the internet: a chart is plain inline SVG, and the data table beside each
chart is its accessible version. Two kinds: a horizontal grouped bar chart (one bar per series for each label) and a
range chart (lower to upper quartile, the median marked). Callers format the numbers (pounds, percentages); a
missing value (None, e.g. a suppressed cell) draws no bar.

The legend has a line per entry above the tick labels, so a long series name never runs into another entry, the tick
labels or the bars; the plot starts below it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: GOV.UK palette, one colour per series in order.
COLOURS = ('#1d70b8', '#28a197', '#f47738', '#912b88', '#85994b')
#: The group labels' column, and the plot beside it.
LABEL_WIDTH, PLOT_WIDTH = 230, 420
#: Legend lines: the first baseline, the line spacing, and the space under the last line for the tick labels.
LEGEND_FIRST, LEGEND_LINE, LEGEND_GAP = 16, 18, 16
#: A generous average width of a 12 px Arial character and the legend swatch with its gap, for sizing the chart.
LEGEND_CHAR_WIDTH, LEGEND_SWATCH = 7, 16
RANGE_SERIES = 'Median and interquartile range'


@dataclass
class Bar:
    """One bar; for a range bar, ``mark_x`` is where its median mark goes."""

    x: float
    y: float
    width: float
    height: float
    fill: str
    text: str
    series: str
    mark_x: float | None = None


@dataclass
class Chart:
    """Geometry for a horizontal bar (or range) chart."""

    title: str
    width: int
    height: int
    label_width: int
    groups: list[tuple[str, float]]
    bars: list[Bar]
    ticks: list[tuple[float, str]]
    #: (label, fill, baseline y): one line each, above the tick labels.
    legend: list[tuple[str, str, int]]
    #: Where the plot starts: below the last legend line and the tick labels.
    top: int


def nice_max(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at least ``value`` (the axis end)."""
    if value <= 5:
        return 5
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def _legend(entries: Sequence[tuple[str, str]]) -> tuple[list[tuple[str, str, int]], int]:
    """The legend's lines with their baselines, and the plot's top below them."""
    legend = [(label, fill, LEGEND_FIRST + index * LEGEND_LINE) for index, (label, fill) in enumerate(entries)]
    return legend, LEGEND_FIRST + len(entries) * LEGEND_LINE + LEGEND_GAP


def _width(plot_end: int, legend: list[tuple[str, str, int]]) -> int:
    """Wide enough for the bars' value labels and the longest legend line."""
    longest = max((len(label) for label, _fill, _y in legend), default=0)
    return max(plot_end, LABEL_WIDTH + LEGEND_SWATCH + longest * LEGEND_CHAR_WIDTH + 10)


def _ticks(scale: float, fmt: Callable[[float], str]) -> list[tuple[float, str]]:
    return [(LABEL_WIDTH + PLOT_WIDTH * step / 5, fmt(scale * step / 5)) for step in range(6)]


def bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
              fmt: Callable[[float], str] = lambda value: f'{value:,.0f}') -> Chart:
    """One bar per series for each label, scaled to the largest value with five gridline ticks."""
    bar_height, gap = 12 if len(series) == 1 else 9, 10
    legend, top = _legend([(name, COLOURS[index % len(COLOURS)]) for index, (name, _values) in enumerate(series)])
    group_height = bar_height * len(series) + gap
    largest = max([value for _name, values in series for value in values if value is not None] + [0])
    scale = nice_max(largest)
    bars, groups = [], []
    for index, label in enumerate(labels):
        y0 = top + index * group_height
        groups.append((label, y0 + bar_height * len(series) / 2))
        for position, (name, values) in enumerate(series):
            value = values[index]
            if value is None:
                continue
            bars.append(Bar(LABEL_WIDTH, y0 + position * bar_height, PLOT_WIDTH * value / scale, bar_height - 1,
                            COLOURS[position % len(COLOURS)], fmt(value), name))
    return Chart(title, _width(LABEL_WIDTH + PLOT_WIDTH + 90, legend), top + len(labels) * group_height + 10,
                 LABEL_WIDTH, groups, bars, _ticks(scale, fmt), legend, top)


def range_chart(title: str, labels: Sequence[str], ranges: Sequence[tuple[float, float, float] | None],
                fmt: Callable[[float], str]) -> Chart:
    """A bar from the lower to the upper quartile for each label, with the median marked; None draws nothing.

    :param ranges: (lower quartile, median, upper quartile) for each label, or None.
    """
    bar_height, gap = 12, 10
    legend, top = _legend([('Interquartile range, median marked', COLOURS[0])])
    largest = max([item[2] for item in ranges if item] + [0])
    scale = nice_max(largest)
    bars, groups = [], []
    for index, label in enumerate(labels):
        y0 = top + index * (bar_height + gap)
        groups.append((label, y0 + bar_height / 2))
        item = ranges[index]
        if item is None:
            continue
        low, middle, high = item
        # at least a pixel wide, so a range of one price still shows (its median mark at its left edge)
        bars.append(Bar(LABEL_WIDTH + PLOT_WIDTH * low / scale, y0, max(1.0, PLOT_WIDTH * (high - low) / scale),
                        bar_height - 1, COLOURS[0], f'{fmt(middle)} ({fmt(low)} to {fmt(high)})', RANGE_SERIES,
                        mark_x=LABEL_WIDTH + PLOT_WIDTH * middle / scale))
    return Chart(title, _width(LABEL_WIDTH + PLOT_WIDTH + 170, legend), top + len(labels) * (bar_height + gap) + 10,
                 LABEL_WIDTH, groups, bars, _ticks(scale, fmt), legend, top)
