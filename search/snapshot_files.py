"""Snapshots kept as files that every worker memory-maps, so the index is read from the database once per version.

A process that reads the whole index (:func:`search.snapshot.load`) writes the snapshot here: each array as its own
``.npy`` file and the few Python values (vocabularies, facet values) in ``meta.pickle``, in a folder named after
the index version and token, renamed into place only when complete. A process starting up opens the newest folder
whose version is in the database's history (memory-mapped: the pages come from the operating system's file cache,
one copy however many workers map them) and patches in what changed since, instead of reading everything again.
Patches write only new arrays for the columns they change, so the mapped ones stay shared.

Files belong to one database: the folder sits under a hash of the database URL. Only this process's own files are
trusted (written by this code, in a folder the app owns); a missing or broken folder is read afresh from the
database, never an error.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import shutil
import tempfile
from dataclasses import fields
from pathlib import Path

import numpy as np

from .names import FieldPostings, NameIndex
from .snapshot import NUMERIC, Coded, Snapshot
from .suggest import Suggester

logger = logging.getLogger(__name__)
#: Folders kept per database (the newest): a worker starting from an older one patches forward.
KEPT = 2
FORMAT = 2


def folder_for(root: str | os.PathLike, database_url: str) -> Path:
    return Path(root) / hashlib.sha256(database_url.encode()).hexdigest()[:16]


def save(snapshot: Snapshot, root: str | os.PathLike, database_url: str) -> Path | None:
    """Write ``snapshot`` (one read in full from the database) unless its version is there already."""
    if snapshot.token is None or snapshot.version is None:
        return None
    base = folder_for(root, database_url)
    target = base / f'{snapshot.version:012d}-{snapshot.token}'
    if target.exists():
        return target
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix='.writing-', dir=base))
    try:
        arrays, meta = _parts(snapshot)
        for name, array in arrays.items():
            np.save(work / f'{name}.npy', np.ascontiguousarray(array), allow_pickle=False)
        with open(work / 'meta.pickle', 'wb') as handle:
            pickle.dump({'format': FORMAT, **meta}, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.rename(work, target)
    except OSError:
        if not target.exists():
            logger.exception('Could not save the search snapshot to %s', base)
        shutil.rmtree(work, ignore_errors=True)
        return None
    for old in sorted(path for path in base.iterdir() if not path.name.startswith('.'))[:-KEPT]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def saved(root: str | os.PathLike, database_url: str) -> list[Path]:
    """This database's saved snapshots, newest first."""
    base = folder_for(root, database_url)
    if not base.is_dir():
        return []
    return sorted((path for path in base.iterdir() if not path.name.startswith('.') and path.is_dir()),
                  reverse=True)


def open_saved(path: Path) -> Snapshot | None:
    """A saved snapshot, its arrays memory-mapped read-only; None when the folder cannot be read."""
    try:
        with open(path / 'meta.pickle', 'rb') as handle:
            meta = pickle.load(handle)  # noqa: S301 (written by save() above, in the app's own folder)
        if meta.get('format') != FORMAT:
            return None
        # Plain ndarray views of the maps: np.memmap's own indexing runs Python code on every access.
        arrays = {file.stem: np.load(file, mmap_mode='r', allow_pickle=False).view(np.ndarray)
                  for file in path.glob('*.npy')}
        return _assemble(arrays, meta)
    except (OSError, ValueError, KeyError, EOFError, pickle.UnpicklingError):
        logger.exception('Could not read the saved search snapshot %s; reading the index instead', path)
        return None


def _postings_parts(prefix: str, field: FieldPostings, arrays: dict, meta: dict) -> None:
    for name in ('sorted_ids', 'term_starts', 'rows', 'frequencies', 'lengths', 'digests'):
        arrays[f'{prefix}.{name}'] = getattr(field, name)
    meta[f'{prefix}.vocabulary'] = field.vocabulary


def _postings(prefix: str, arrays: dict, meta: dict) -> FieldPostings:
    vocabulary = meta[f'{prefix}.vocabulary']
    sorted_ids = arrays[f'{prefix}.sorted_ids']
    return FieldPostings(vocabulary, {term: index for index, term in enumerate(vocabulary)},
                         [vocabulary[index] for index in sorted_ids.tolist()], sorted_ids,
                         *(arrays[f'{prefix}.{name}'] for name in ('term_starts', 'rows', 'frequencies', 'lengths',
                                                                    'digests')))


def _parts(snapshot: Snapshot) -> tuple[dict[str, np.ndarray], dict]:
    arrays = {'ids': snapshot.ids, 'alive': snapshot.alive, 'row_of_id': snapshot.row_of_id,
              'order_updated': snapshot.order_updated,
              **{name: getattr(snapshot, name) for name in NUMERIC},
              **{f'coded.{facet}': coded.codes for facet, coded in snapshot.coded.items()},
              **{f'need.{need}': column for need, column in snapshot.needs.items()},
              **{f'accepted.{code}': rows for code, rows in snapshot.accepted.items()},
              'suggester.counts': snapshot.suggester.counts, 'suggester.starts': snapshot.suggester.starts,
              'suggester.letters': snapshot.suggester.letters}
    meta = {'token': snapshot.token, 'version': snapshot.version, 'live': snapshot.live,
            'vocabulary_version': snapshot.vocabulary_version,
            'coded': {facet: coded.values for facet, coded in snapshot.coded.items()},
            'suggester.words': snapshot.suggester.words, 'words': snapshot.words is not None}
    _postings_parts('name', snapshot.names.name, arrays, meta)
    _postings_parts('organisation', snapshot.names.organisation, arrays, meta)
    if snapshot.words is not None:
        _postings_parts('words', snapshot.words, arrays, meta)
    return arrays, meta


def _assemble(arrays: dict[str, np.ndarray], meta: dict) -> Snapshot:
    def prefixed(prefix: str) -> dict[str, np.ndarray]:
        return {name[len(prefix):]: array for name, array in arrays.items() if name.startswith(prefix)}

    coded = {facet: Coded(arrays[f'coded.{facet}'], list(values), {value: code for code, value in enumerate(values)})
             for facet, values in meta['coded'].items()}
    words = meta['suggester.words']
    values = {
        'token': meta['token'], 'version': meta['version'], 'ids': arrays['ids'], 'alive': arrays['alive'],
        'live': meta['live'], 'row_of_id': arrays['row_of_id'], 'coded': coded,
        **{name: arrays[name] for name in NUMERIC}, 'needs': prefixed('need.'), 'accepted': prefixed('accepted.'),
        'order_updated': arrays['order_updated'],
        'names': NameIndex(_postings('name', arrays, meta), _postings('organisation', arrays, meta)),
        'words': _postings('words', arrays, meta) if meta['words'] else None,
        'suggester': Suggester(words, arrays['suggester.counts'], arrays['suggester.starts'],
                               arrays['suggester.letters'], frozenset(words)),
        'vocabulary_version': meta['vocabulary_version'],
    }
    missing = {item.name for item in fields(Snapshot)} - values.keys()
    if missing:
        raise KeyError(f'saved snapshot lacks {sorted(missing)}')
    return Snapshot(**values)
