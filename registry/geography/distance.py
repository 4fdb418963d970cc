"""Distances on the British National Grid: metres on a plane, so Pythagoras is exact enough for England."""

from __future__ import annotations

import math

METRES_PER_MILE = 1609.344


def metres_between(e1: float, n1: float, e2: float, n2: float) -> float:
    """Straight-line distance in metres between two grid references."""
    return math.hypot(e2 - e1, n2 - n1)


def miles(metres: float) -> float:
    return metres / METRES_PER_MILE


def km(metres: float) -> float:
    return metres / 1000


def box(easting: float, northing: float, radius_m: float) -> tuple[float, float, float, float]:
    """The square around a point that contains its radius: a cheap prefilter before the exact check."""
    return easting - radius_m, easting + radius_m, northing - radius_m, northing + radius_m


def describe(metres: float) -> str:
    """"3.2 miles (5.1 km)" for people; under a mile is shown to one decimal too."""
    return f'{miles(metres):.1f} miles ({km(metres):.1f} km)'


def to_wgs84(easting: float, northing: float) -> tuple[float, float]:
    """Convert a grid reference to (latitude, longitude) for maps and Elasticsearch ``geo_point``."""
    return _transformer().transform(easting, northing)


_TRANSFORMER = None


def _transformer():
    global _TRANSFORMER
    if _TRANSFORMER is None:
        from pyproj import Transformer
        _TRANSFORMER = Transformer.from_crs('EPSG:27700', 'EPSG:4326')
    return _TRANSFORMER
