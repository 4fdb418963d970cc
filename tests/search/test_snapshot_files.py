"""Whole snapshots saved as files: a starting worker maps them and patches forward instead of reading the index."""

from __future__ import annotations

import numpy as np
import pytest

from registry.extensions import db
from search import snapshot as snapshots
from search import snapshot_files
from search.entries import build_entries
from search.query import parse_query
from tests.search.test_snapshot_patch import assert_same, fresh_load


@pytest.fixture
def engine(sql_engine):
    return sql_engine


def key() -> str:
    return str(db.session.get_bind().url)


def mapped(array: np.ndarray) -> bool:
    """Whether the array's memory is a view of a memory-mapped file."""
    while array is not None:
        if isinstance(array, np.memmap):
            return True
        array = array.base if isinstance(array.base, np.ndarray) else None
    return False


def test_a_saved_snapshot_maps_back_to_the_same_arrays(engine, tmp_path):
    loaded = fresh_load()
    path = snapshot_files.save(loaded, tmp_path, key())
    reopened = snapshot_files.open_saved(path)
    assert_same(reopened, loaded)
    assert mapped(reopened.ids) and mapped(reopened.names.name.rows)
    assert reopened.suggester.suggest('fosterign') == 'fostering'
    assert snapshot_files.save(loaded, tmp_path, key()) == path  # a version is written once


def test_a_starting_worker_patches_forward_from_the_saved_snapshot_without_reading_the_index(
        engine, directory, tmp_path, monkeypatch):
    first = snapshots.SnapshotCache(str(tmp_path)).get(db.session)  # reads the index, saves it
    assert len(snapshot_files.saved(tmp_path, key())) == 1
    directory.oak_house.vacancies = 0
    db.session.commit()
    engine.index(build_entries([directory.oak_house.id]))
    engine.remove([directory.riverside.id])
    db.session.commit()
    monkeypatch.setattr(snapshots, 'load', lambda *args: pytest.fail('read the whole index'))
    started = snapshots.SnapshotCache(str(tmp_path)).get(db.session)
    monkeypatch.undo()
    assert started.version > first.version
    assert mapped(started.judgement_rank)  # unchanged columns stay mapped, shared
    assert not mapped(started.has_vacancy)  # changed ones are this process's own
    assert_same(started, fresh_load())


def test_a_broken_saved_snapshot_is_read_afresh_from_the_index(engine, tmp_path):
    path = snapshot_files.save(fresh_load(), tmp_path, key())
    (path / 'ids.npy').write_bytes(b'not an array')
    snapshot = snapshots.SnapshotCache(str(tmp_path)).get(db.session)
    assert_same(snapshot, fresh_load())
    names = {hit.entry.name for hit in engine.query(parse_query({'q': 'fostering'})).hits}
    assert 'Leeds Fostering Service' in names
