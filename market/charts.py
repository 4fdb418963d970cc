"""Server-drawn SVG charts (no JavaScript, no internet): geometry here, drawing in ``market/_chart.html``.

The layout follows the capacity page's horizontal bar chart (:mod:`registry.ofsted.capacity`), with bar labels
formatted by the caller (pounds, percentages), and a range chart for quartiles (lower quartile to upper quartile,
with the median marked).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

#: GOV.UK palette.
COLOURS = ('#1d70b8', '#28a197', '#f47738', '#912b88', '#85994b')
LABEL_WIDTH, PLOT_WIDTH, TOP = 230, 420, 40


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    fill: str
    text: str
    series: str
    #: For range bars: where the median mark goes.
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
    legend: list[tuple[str, str]] = field(default_factory=list)
    top: int = TOP


def nice_max(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at least ``value`` (the axis end)."""
    if value <= 5:
        return 5
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
              fmt: Callable[[float], str] = lambda value: f'{value:,.0f}') -> Chart:
    """One bar per series for each label; a missing value (None, e.g. suppressed) draws no bar."""
    bar_height, gap = 12 if len(series) == 1 else 9, 10
    group_height = bar_height * len(series) + gap
    largest = max([value for _name, values in series for value in values if value is not None] + [0])
    scale = nice_max(largest)
    bars, groups = [], []
    for index, label in enumerate(labels):
        y0 = TOP + index * group_height
        groups.append((label, y0 + bar_height * len(series) / 2))
        for position, (name, values) in enumerate(series):
            value = values[index]
            if value is None:
                continue
            bars.append(Bar(LABEL_WIDTH, y0 + position * bar_height, PLOT_WIDTH * value / scale, bar_height - 1,
                            COLOURS[position % len(COLOURS)], fmt(value), name))
    ticks = [(LABEL_WIDTH + PLOT_WIDTH * step / 5, fmt(scale * step / 5)) for step in range(6)]
    return Chart(title, LABEL_WIDTH + PLOT_WIDTH + 90, TOP + len(labels) * group_height + 10, LABEL_WIDTH, groups,
                 bars, ticks, [(name, COLOURS[i % len(COLOURS)]) for i, (name, _v) in enumerate(series)])


def range_chart(title: str, labels: Sequence[str], ranges: Sequence[tuple[float, float, float] | None],
                fmt: Callable[[float], str]) -> Chart:
    """A bar from the lower to the upper quartile for each label, with the median marked; None draws nothing."""
    bar_height, gap = 12, 10
    largest = max([high for item in ranges if item for high in (item[2],)] + [0])
    scale = nice_max(largest)
    bars, groups = [], []
    for index, label in enumerate(labels):
        y0 = TOP + index * (bar_height + gap)
        groups.append((label, y0 + bar_height / 2))
        item = ranges[index]
        if item is None:
            continue
        low, middle, high = item
        x = LABEL_WIDTH + PLOT_WIDTH * low / scale
        bars.append(Bar(x, y0, max(1.0, PLOT_WIDTH * (high - low) / scale), bar_height - 1, COLOURS[0],
                        f'{fmt(middle)} ({fmt(low)} to {fmt(high)})', 'Median and interquartile range',
                        mark_x=LABEL_WIDTH + PLOT_WIDTH * middle / scale))
    ticks = [(LABEL_WIDTH + PLOT_WIDTH * step / 5, fmt(scale * step / 5)) for step in range(6)]
    return Chart(title, LABEL_WIDTH + PLOT_WIDTH + 170, TOP + len(labels) * (bar_height + gap) + 10, LABEL_WIDTH,
                 groups, bars, ticks, [('Interquartile range, median marked', COLOURS[0])])
