"""Places a person can type where the search asks "where": a postcode, an outcode ("LS1"), a town or district
("Bradford") or a local authority ("Bristol, City of" or just "Bristol").

Points come from the ONS postcode directory the registry already holds: ``data/outcode_centroids.csv`` and
``data/district_centroids.csv`` are the mean grid reference of each outcode's and district's English postcodes
(made by ``flask search centroids``), beside the authorities' own ``data/authority_centroids.csv``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from registry.geography import postcodes
from registry.geography.authorities import authority_rows

DATA = Path(__file__).parent / 'data'
OUTCODE_PATTERN = re.compile(r'^[A-Z]{1,2}[0-9][A-Z0-9]?$')
#: A full postcode anywhere in free text ("homes near ls1 4dy"), spaced or not.
POSTCODE_IN_TEXT = re.compile(r'\b([A-Za-z]{1,2}[0-9][A-Za-z0-9]?) ?([0-9][A-Za-z]{2})\b')


class PlaceError(ValueError):
    """A place that cannot be used, with the message to show."""


@dataclass(frozen=True)
class Place:
    """Where distances are measured from, and how to show it back."""

    easting: float
    northing: float
    label: str

    @property
    def point(self) -> tuple[float, float]:
        return (self.easting, self.northing)


def _key(name: str) -> str:
    """Names compared without case, punctuation, "City of" or "&" ("Bristol, City of" == "bristol")."""
    name = name.lower().replace('&', ' and ')
    name = re.sub(r'\b(city|county) of\b', ' ', name)
    return ' '.join(re.findall(r'[a-z0-9]+', name))


@cache
def _outcodes() -> dict[str, Place]:
    with open(DATA / 'outcode_centroids.csv', encoding='utf-8', newline='') as handle:
        return {row['outcode']: Place(float(row['easting']), float(row['northing']), row['outcode'])
                for row in csv.DictReader(handle)}


@cache
def _named_places() -> dict[str, Place]:
    """Authority and district names (authorities win where a district shares the name)."""
    from .query import authority_centroids

    places: dict[str, Place] = {}
    with open(DATA / 'district_centroids.csv', encoding='utf-8', newline='') as handle:
        for row in csv.DictReader(handle):
            places[_key(row['district_name'])] = Place(float(row['easting']), float(row['northing']),
                                                       row['district_name'])
    centres = authority_centroids()
    for row in authority_rows():
        centre = centres.get(row['new_la_code'])
        if centre:
            label = re.sub(r', (City|County) of$', '', row['la_name'])   # "Bristol", not "Bristol, City of"
            places[_key(row['la_name'])] = Place(*centre, label)
    return places


def place_names() -> list[str]:
    """Every town, district and authority name a search accepts, for hints and tests."""
    return sorted({place.label for place in _named_places().values()})


def find_place(raw: str) -> Place:
    """The point for what was typed, or :class:`PlaceError` (``postcodes.PostcodeError`` for a postcode that
    looks right but is not in England's directory)."""
    text = (raw or '').strip()
    compact = re.sub(r'[\s-]+', '', text).upper()
    if postcodes.POSTCODE_PATTERN.match(compact):
        location = postcodes.lookup(compact)
        return Place(location.easting, location.northing, location.postcode)
    if OUTCODE_PATTERN.match(compact):
        if compact in _outcodes():
            return _outcodes()[compact]
        raise PlaceError(f'We could not find the postcode area {compact}. Enter a full postcode, like LS1 4DY')
    if text and (place := _named_places().get(_key(text))):
        return place
    raise PlaceError('Enter a real postcode, like SW1A 2AA, or a town or local authority in England, like Leeds')


def write_centroid_files(folder: Path = DATA) -> tuple[int, int]:
    """Write ``outcode_centroids.csv`` and ``district_centroids.csv`` from the postcode directory: the mean grid
    reference of each English outcode's and district's postcodes, and each outcode's main authority. Returns the
    number of outcodes and districts written. Run again when the postcode package is updated."""
    import string
    from collections import defaultdict

    import numpy as np

    from registry.geography.authorities import district_to_authority

    districts = district_to_authority()
    directory = postcodes.directory()
    by_district: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    by_outcode: dict[str, list] = defaultdict(lambda: [0.0, 0.0, 0, defaultdict(int)])
    for letter in string.ascii_uppercase:
        table = directory._letter(letter)
        if table is None:
            continue
        east, north = np.asarray(table.eastings), np.asarray(table.northings)
        index = np.asarray(table.district_index)
        english = np.isin(index, [n for n, code in enumerate(table.districts) if code in districts])
        english &= (east > 0) & (north > 0)
        outcodes = np.char.strip(np.char.decode(np.asarray(table.keys).astype('S4'), 'ascii'))
        for district in np.unique(index[english]):
            mask = english & (index == district)
            total = by_district[table.districts[int(district)]]
            total[0] += float(east[mask].sum())
            total[1] += float(north[mask].sum())
            total[2] += int(mask.sum())
        for outcode in np.unique(outcodes[english]):
            mask = english & (outcodes == outcode)
            total = by_outcode[str(outcode)]
            total[0] += float(east[mask].sum())
            total[1] += float(north[mask].sum())
            total[2] += int(mask.sum())
            for district, count in zip(*np.unique(index[mask], return_counts=True), strict=True):
                total[3][table.districts[int(district)]] += int(count)
    with open(folder / 'district_centroids.csv', 'w', encoding='utf-8', newline='') as handle:
        writer = csv.writer(handle, lineterminator='\n')
        writer.writerow(['district_code', 'district_name', 'authority_code', 'easting', 'northing', 'postcodes'])
        for code in sorted(by_district):
            east_sum, north_sum, count = by_district[code]
            writer.writerow([code, districts[code].district_name, districts[code].code, round(east_sum / count),
                             round(north_sum / count), count])
    with open(folder / 'outcode_centroids.csv', 'w', encoding='utf-8', newline='') as handle:
        writer = csv.writer(handle, lineterminator='\n')
        writer.writerow(['outcode', 'easting', 'northing', 'authority_code', 'postcodes'])
        for outcode in sorted(by_outcode):
            east_sum, north_sum, count, counts = by_outcode[outcode]
            main = max(counts, key=counts.get)
            writer.writerow([outcode, round(east_sum / count), round(north_sum / count), districts[main].code, count])
    return len(by_outcode), len(by_district)
