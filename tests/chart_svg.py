"""Reading the server-drawn charts (``_chart.html``) back from a page, to check what they would show."""

from __future__ import annotations

import xml.etree.ElementTree as ET

SVG = '{http://www.w3.org/2000/svg}'
#: 12 px Arial averages well under 7 px a character; other sizes in proportion.
CHAR_WIDTH_PER_PX = 7 / 12


def svgs(html: str) -> list[ET.Element]:
    """Every chart on a page, parsed (not the page's other SVGs, such as the crown)."""
    start = '<svg xmlns="http://www.w3.org/2000/svg" class="registry-chart"'
    return [ET.fromstring(start + part.split('</svg>')[0] + '</svg>') for part in html.split(start)[1:]]


def text_box(element: ET.Element) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of an SVG text, wide enough for its characters."""
    size, x, y = float(element.get('font-size')), float(element.get('x')), float(element.get('y'))
    width = len(element.text.strip()) * size * CHAR_WIDTH_PER_PX
    left = {'middle': x - width / 2, 'end': x - width}.get(element.get('text-anchor'), x)
    return left, y - size, left + width, y


def rect_box(element: ET.Element) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of an SVG rectangle."""
    x, y = float(element.get('x')), float(element.get('y'))
    return x, y, x + float(element.get('width')), y + float(element.get('height'))


def overlap(a, b) -> bool:
    """Whether two (left, top, right, bottom) boxes share any area."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def group(svg: ET.Element, name: str) -> ET.Element:
    """One of a chart's parts: legend, ticks, groups or bars."""
    return svg.find(f"{SVG}g[@class='registry-chart__{name}']")
