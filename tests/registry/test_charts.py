"""The shared SVG charts: the legend stays clear of everything else, a missing value draws no bar, and a range bar
carries its median mark; checked on the geometry and on the SVG the one macro draws from it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from flask import render_template_string

from registry.charts import bar_chart, range_chart
from tests.chart_svg import CHAR_WIDTH_PER_PX, SVG, group, overlap, rect_box, svgs, text_box

LONG_SERIES = ('Registered places (Ofsted register, active registrations only)',
               'Listed places (directory, qualified providers)', 'Vacancies (directory, as providers report them)')


def three_series_chart():
    """Three long series names over three regions; the second series has no figure for the last region."""
    return bar_chart('Places by region', ['North East', 'London', 'South West'],
                     [(LONG_SERIES[0], [120, 340, 90]), (LONG_SERIES[1], [100, 300, None]),
                      (LONG_SERIES[2], [5, 12, 0])])


def price_range_chart():
    """Quartiles for three provision types; the second is suppressed and the third is one price."""
    return range_chart('Weekly price by provision type', ["Children's home", 'Fostering', 'Supported accommodation'],
                       [(4_000, 6_000, 7_000), None, (1_500, 1_500, 1_500)], lambda value: f'£{value:,.0f}')


CHARTS = pytest.mark.parametrize('make_chart', [three_series_chart, price_range_chart], ids=['bars', 'ranges'])


def draw(chart) -> ET.Element:
    """The chart as the shared macro draws it, parsed."""
    html = render_template_string('{% from "_chart.html" import chart as draw %}{{ draw(c, "c", "t") }}', c=chart)
    return svgs(html)[0]


@CHARTS
def test_the_legend_has_a_line_each_above_the_tick_labels_and_the_bars(make_chart):
    chart = make_chart()
    char_width, line_height = 12 * CHAR_WIDTH_PER_PX, 12
    boxes = [(chart.label_width, y - line_height, chart.label_width + 16 + len(label) * char_width, y)
             for label, _fill, y in chart.legend]
    for index, box in enumerate(boxes):
        for other in boxes[index + 1:]:
            assert not overlap(box, other), 'legend entries overlap'
        assert box[2] <= chart.width
    tick_label_top = chart.top - 8 - 11
    assert all(box[3] <= tick_label_top for box in boxes), 'the legend runs into the tick labels'
    assert all(box[3] < min(bar.y for bar in chart.bars) for box in boxes)


@CHARTS
def test_the_drawn_legend_runs_into_nothing(app_ctx, make_chart):
    svg = draw(make_chart())
    legend = group(svg, 'legend')
    swatches, labels = legend.findall(f'{SVG}rect'), legend.findall(f'{SVG}text')
    assert len(labels) == len(make_chart().legend) and len(swatches) == len(labels)
    entries = [(rect_box(swatch)[0], min(rect_box(swatch)[1], text_box(label)[1]), text_box(label)[2],
                max(rect_box(swatch)[3], text_box(label)[3])) for swatch, label in zip(swatches, labels, strict=True)]
    everything_else = ([text_box(text) for name in ('ticks', 'groups', 'bars')
                        for text in group(svg, name).findall(f'{SVG}text')]
                       + [rect_box(rect) for rect in group(svg, 'bars').findall(f'{SVG}rect')])
    for index, entry in enumerate(entries):
        assert entry[2] <= float(svg.get('width')), 'a legend entry runs off the chart'
        assert not any(overlap(entry, other) for other in entries[index + 1:]), 'legend entries overlap'
        assert not any(overlap(entry, other) for other in everything_else), 'the legend runs into the chart'


def test_a_missing_value_draws_no_bar_but_a_zero_does(app_ctx):
    chart = three_series_chart()

    listed = [bar for bar in chart.bars if bar.series == LONG_SERIES[1]]
    assert [bar.text for bar in listed] == ['100', '300']
    vacancies = [bar for bar in chart.bars if bar.series == LONG_SERIES[2]]
    assert [(bar.text, bar.width) for bar in vacancies][-1] == ('0', 0)
    south_west = chart.groups[2][1]
    assert {bar.series for bar in chart.bars if abs(bar.y - south_west) < 15} == {LONG_SERIES[0], LONG_SERIES[2]}
    titles = [title.text for title in draw(chart).iter(f'{SVG}title')][1:]
    assert len(titles) == 8 and f'{LONG_SERIES[1]}: 300' in titles and f'{LONG_SERIES[2]}: 0' in titles


def test_a_range_bar_carries_its_median_mark_inside_it(app_ctx):
    chart = price_range_chart()

    homes, one_price = chart.bars   # the suppressed row draws nothing
    assert homes.x < homes.mark_x < homes.x + homes.width
    # the median is two thirds of the way from the lower to the upper quartile
    assert homes.mark_x - homes.x == pytest.approx(homes.width * 2 / 3)
    assert homes.text == '£6,000 (£4,000 to £7,000)'
    assert one_price.width >= 1 and one_price.x <= one_price.mark_x <= one_price.x + one_price.width
    bars = group(draw(chart), 'bars')
    rects, marks = bars.findall(f'{SVG}rect'), bars.findall(f'{SVG}line')
    assert len(rects) == len(marks) == 2
    for rect, mark in zip(rects, marks, strict=True):
        left, top, right, bottom = rect_box(rect)
        assert mark.get('x1') == mark.get('x2') and left <= float(mark.get('x1')) <= right
        assert float(mark.get('y1')) <= top and float(mark.get('y2')) >= bottom
