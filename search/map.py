"""An offline map of England: an inline SVG drawn from British National Grid metres, with no tiles or internet.

England's shape is suggested honestly by the 153 authority centroids drawn as faint dots; results are drawn
over them as markers. Public maps put a confidential setting (a children's home) at its authority's centroid,
never at its exact point; the commissioner map may use exact points.

The map zooms to the markers' extent (never closer than :data:`MIN_VIEW_METRES` across), and each marker is a link
to its result on the page, so a keyboard user can Tab through the dots and a click lands on the result. The result
list is the text alternative; the SVG carries a title and description for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from markupsafe import Markup, escape

from .query import authority_centroids

#: The part of the grid England occupies (metres), with a margin.
MIN_EASTING, MAX_EASTING = 80_000, 660_000
MIN_NORTHING, MAX_NORTHING = 0, 670_000
#: SVG units per metre: England becomes about 348 by 402 units.
SCALE = 0.0006
#: The closest the map zooms: a view at least this many metres across (about 12 miles), so one result still shows
#: its surroundings.
MIN_VIEW_METRES = 20_000
#: Space kept around the outermost markers, as a share of the view.
MARGIN = 0.12


@dataclass(frozen=True)
class Marker:
    """One result drawn on the map."""

    id: int
    label: str
    easting: float
    northing: float
    #: True when the point is the authority centroid standing in for a confidential address.
    approximate: bool = False


def project(easting: float, northing: float) -> tuple[float, float]:
    """Grid metres to SVG user units (y grows downwards), rounded to 0.1 unit (about 170 metres)."""
    x = (min(max(easting, MIN_EASTING), MAX_EASTING) - MIN_EASTING) * SCALE
    y = (MAX_NORTHING - min(max(northing, MIN_NORTHING), MAX_NORTHING)) * SCALE
    return round(x, 1), round(y, 1)


def marker_for(entry, *, exact: bool) -> Marker | None:
    """Where a directory entry is drawn: its exact point only when ``exact`` or its address is not confidential."""
    if exact or not entry.confidential_address:
        easting, northing = getattr(entry, 'easting', None), getattr(entry, 'northing', None)
        if easting is not None and northing is not None:
            return Marker(entry.id, entry.name, easting, northing)
    centre = authority_centroids().get(entry.authority_code)
    if centre is None:
        return None
    return Marker(entry.id, f'{entry.name} (somewhere in {entry.authority_name})', *centre, approximate=True)


def view_box(markers: list[Marker]) -> tuple[float, float, float, float]:
    """(x, y, width, height) in SVG units: all of England without markers, else the markers' extent with a margin,
    at least :data:`MIN_VIEW_METRES` across and never beyond England's frame."""
    full_width = round((MAX_EASTING - MIN_EASTING) * SCALE, 1)
    full_height = round((MAX_NORTHING - MIN_NORTHING) * SCALE, 1)
    if not markers:
        return 0.0, 0.0, full_width, full_height
    points = [project(marker.easting, marker.northing) for marker in markers]
    xs, ys = [x for x, _y in points], [y for _x, y in points]
    smallest = MIN_VIEW_METRES * SCALE
    width = min(full_width, max(smallest, (max(xs) - min(xs)) * (1 + 2 * MARGIN)))
    height = min(full_height, max(smallest, (max(ys) - min(ys)) * (1 + 2 * MARGIN)))
    centre_x, centre_y = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    x = min(max(0.0, centre_x - width / 2), full_width - width)
    y = min(max(0.0, centre_y - height / 2), full_height - height)
    return round(x, 1), round(y, 1), round(width, 1), round(height, 1)


def render(markers: list[Marker], *, title: str, description: str, link=None) -> Markup:
    """The SVG, as safe markup to place inline in a page. ``link(marker)`` gives each marker's link (the result
    it stands for); without it markers are not links."""
    full_width = round((MAX_EASTING - MIN_EASTING) * SCALE, 1)
    x0, y0, width, height = view_box(markers)
    zoom = width / full_width   # marker and outline sizes shrink with the view, so they look the same size
    parts = [f'<svg class="registry-map" xmlns="http://www.w3.org/2000/svg" viewBox="{x0} {y0} {width} {height}" '
             f'role="group" aria-labelledby="map-title" aria-describedby="map-desc">',
             f'<title id="map-title">{escape(title)}</title>',
             f'<desc id="map-desc">{escape(description)}</desc>',
             f'<rect x="{x0}" y="{y0}" width="{width}" height="{height}" fill="#f3f2f1"/>',
             _outline(round(zoom, 3)), '<g class="registry-map__markers">']
    radius, stroke = round(4.5 * zoom, 3), round(1 * zoom, 3)
    for marker in markers:
        x, y = project(marker.easting, marker.northing)
        colour = '#f47738' if marker.approximate else '#1d70b8'
        circle = (f'<circle class="registry-map__marker" data-id="{marker.id}" '
                  f'data-approximate="{"true" if marker.approximate else "false"}" cx="{x}" cy="{y}" r="{radius}" '
                  f'fill="{colour}" stroke="#ffffff" stroke-width="{stroke}"><title>{escape(marker.label)}</title>'
                  '</circle>')
        if link is not None:
            circle = (f'<a class="registry-map__link" href="{escape(link(marker))}" '
                      f'aria-label="{escape(marker.label)}">{circle}</a>')
        parts.append(circle)
    parts.append('</g></svg>')
    return Markup(''.join(parts))


@cache
def _outline(zoom: float = 1.0) -> str:
    """England's shape as faint dots at the 153 authority centroids, sized for the view (drawn once per size)."""
    radius = round(2.5 * zoom, 3)
    dots = ''.join(f'<circle cx="{x}" cy="{y}" r="{radius}"/>'
                   for x, y in (project(easting, northing) for easting, northing in authority_centroids().values()))
    return f'<g class="registry-map__outline" fill="#b1b4b6" aria-hidden="true">{dots}</g>'


def results_map(hits, *, exact: bool, title: str) -> Markup:
    """The map for a page of search hits, each dot a link to its result (``#result-<id>`` in the list)."""
    markers = [marker for hit in hits if (marker := marker_for(hit.entry, exact=exact)) is not None]
    approximate = sum(marker.approximate for marker in markers)
    description = (f'Map of England showing {len(markers)} results as dots. ' +
                   (f'{approximate} children\'s homes are shown at the centre of their local authority, '
                    'not at their address. ' if approximate else '') +
                   'Each dot is a link to its result in the list, which gives the same information.')
    return render(markers, title=title, description=description, link=lambda marker: f'#result-{marker.id}')
