"""An offline map of England: an inline SVG drawn from British National Grid metres, with no tiles or internet.

England's shape is suggested honestly by the 153 authority centroids drawn as faint dots; results are drawn
over them as markers. Public maps put a confidential setting (a children's home) at its authority's centroid,
never at its exact point; the commissioner map may use exact points. The result list is the accessible
equivalent; the SVG carries a title and description for screen readers.
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


def render(markers: list[Marker], *, title: str, description: str) -> Markup:
    """The SVG, as safe markup to place inline in a page."""
    width = round((MAX_EASTING - MIN_EASTING) * SCALE, 1)
    height = round((MAX_NORTHING - MIN_NORTHING) * SCALE, 1)
    parts = [f'<svg class="registry-map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'role="img" aria-labelledby="map-title map-desc" focusable="false">',
             f'<title id="map-title">{escape(title)}</title>',
             f'<desc id="map-desc">{escape(description)}</desc>',
             f'<rect width="{width}" height="{height}" fill="#f3f2f1"/>', _outline(),
             '<g class="registry-map__markers">']
    for marker in markers:
        x, y = project(marker.easting, marker.northing)
        colour = '#f47738' if marker.approximate else '#1d70b8'
        parts.append(f'<circle class="registry-map__marker" data-id="{marker.id}" '
                     f'data-approximate="{"true" if marker.approximate else "false"}" cx="{x}" cy="{y}" r="4.5" '
                     f'fill="{colour}" stroke="#ffffff" stroke-width="1"><title>{escape(marker.label)}</title>'
                     '</circle>')
    parts.append('</g></svg>')
    return Markup(''.join(parts))


@cache
def _outline() -> str:
    """England's shape as faint dots at the 153 authority centroids: the same on every map, so drawn once."""
    dots = ''.join('<circle cx="{}" cy="{}" r="2.5"/>'.format(*project(easting, northing))
                   for easting, northing in authority_centroids().values())
    return f'<g class="registry-map__outline" fill="#b1b4b6" aria-hidden="true">{dots}</g>'


def results_map(hits, *, exact: bool, title: str) -> Markup:
    """The map for a page of search hits."""
    markers = [marker for hit in hits if (marker := marker_for(hit.entry, exact=exact)) is not None]
    approximate = sum(marker.approximate for marker in markers)
    description = (f'Map of England showing {len(markers)} results as dots. ' +
                   (f'{approximate} children\'s homes are shown at the centre of their local authority, '
                    'not at their address. ' if approximate else '') +
                   'The list of results gives the same information.')
    return render(markers, title=title, description=description)
