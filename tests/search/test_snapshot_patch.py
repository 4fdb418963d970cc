"""A snapshot patched with the changed entries holds exactly what reading the whole index again would."""

from __future__ import annotations

import numpy as np
import pytest

from registry.extensions import db
from registry.settings.taxonomy import Judgement, Lot, ProvisionType
from search import snapshot as snapshots
from search.entries import build_entries
from search.models import SearchIndexChange
from search.query import parse_query
from search.sql_engine import SqlEngine
from tests.search.conftest import make_organisation, make_setting, qualify


def assert_same(patched: snapshots.Snapshot, fresh: snapshots.Snapshot) -> None:
    """Every live entry has the same values, lookups, order and postings in both (a patched snapshot keeps removed
    entries' rows, dead, and appends new entries, so rows are compared through their ids)."""
    assert patched.version == fresh.version and patched.token == fresh.token
    assert patched.vocabulary_version == fresh.vocabulary_version
    assert dict(zip(patched.suggester.words, patched.suggester.counts.tolist(), strict=True)) == dict(
        zip(fresh.suggester.words, fresh.suggester.counts.tolist(), strict=True))
    assert fresh.alive.all() and fresh.live == fresh.size
    assert patched.live == int(patched.alive.sum())
    mine = np.flatnonzero(patched.alive)[np.argsort(patched.ids[patched.alive], kind='stable')]
    assert np.array_equal(patched.ids[mine], fresh.ids)
    assert np.array_equal(patched.row_of_id[fresh.ids], mine)
    for name in ('judgement_rank', 'age_min', 'age_max', 'has_vacancy', 'easting', 'northing', 'public_easting',
                 'public_northing', 'updated'):
        assert np.array_equal(getattr(patched, name)[mine], getattr(fresh, name)), name
    live_order = patched.order_updated[patched.alive[patched.order_updated]]
    assert np.array_equal(patched.ids[live_order], fresh.ids[fresh.order_updated])
    for facet, coded in fresh.coded.items():
        ours = patched.coded[facet]
        assert [ours.values[code] for code in ours.codes[mine]] == [coded.values[code] for code in coded.codes], facet
    assert {need: column[mine].tolist() for need, column in patched.needs.items() if column[mine].any()} == {
        need: column.tolist() for need, column in fresh.needs.items() if column.any()}
    live_rows = set(mine.tolist())
    assert {code: sorted(patched.ids[[row for row in rows.tolist() if row in live_rows]].tolist())
            for code, rows in patched.accepted.items() if live_rows & set(rows.tolist())} == {
        code: sorted(fresh.ids[rows].tolist()) for code, rows in fresh.accepted.items() if len(rows)}
    assert (patched.words is None) == (fresh.words is None)
    fields = [(patched.names.name, fresh.names.name), (patched.names.organisation, fresh.names.organisation)]
    if fresh.words is not None:  # the indexed words: FTS5 tokens or tsvector lexemes
        fields.append((patched.words, fresh.words))
    for field, (ours, theirs) in enumerate(fields):
        assert np.array_equal(ours.lengths[mine], theirs.lengths), field
        for stem in theirs.vocabulary:
            assert _postings(ours, stem, patched) == _postings(theirs, stem, fresh), (field, stem)


def _postings(field, stem: str, snapshot: snapshots.Snapshot) -> list[tuple[int, float]]:
    """(entry id, frequency) for each live row holding the stem."""
    ids = field.term_ids(stem, prefix=False)
    if not len(ids):
        return []
    start, end = field.term_starts[ids[0]], field.term_starts[ids[0] + 1]
    return sorted((int(snapshot.ids[row]), frequency) for row, frequency in
                  zip(field.rows[start:end].tolist(), field.frequencies[start:end].tolist(), strict=True)
                  if snapshot.alive[row])


def current(engine: SqlEngine) -> snapshots.Snapshot:
    db.session.rollback()
    return engine.snapshot()


def fresh_load() -> snapshots.Snapshot:
    version, token = snapshots.current_state(db.session)
    return snapshots.load(db.session, version, token)


@pytest.fixture
def engine(sql_engine):
    return sql_engine


def test_changed_entries_are_patched_in_not_read_again(engine, directory, monkeypatch):
    before = current(engine)
    directory.oak_house.name = 'Oak House Annexe'
    directory.oak_house.judgement = Judgement.OUTSTANDING
    db.session.commit()
    engine.index(build_entries([directory.oak_house.id]))
    db.session.commit()
    loads = []
    monkeypatch.setattr(snapshots, 'load', lambda *args: loads.append(args) or pytest.fail('read everything'))
    after = current(engine)
    monkeypatch.undo()
    assert loads == [] and after is not before and after.version > before.version
    assert_same(after, fresh_load())


def test_removed_added_and_renamed_entries_patch_to_the_same_snapshot(engine, directory):
    current(engine)
    organisation = make_organisation('Zephyr Care Ltd')
    qualify(organisation, Lot.CHILDRENS_HOMES)
    added = make_setting(organisation, 'Aardvark House', ProvisionType.CHILDRENS_HOME, 'M1 1AE',
                         needs=['autism', 'mental-health'], judgement=Judgement.GOOD)
    directory.willow_lodge.organisation.trading_name = 'Evergreen Homes'
    db.session.commit()
    engine.remove([directory.riverside.id])
    engine.index(build_entries([added.id, directory.willow_lodge.id, directory.oak_house.id]))
    db.session.commit()
    assert_same(current(engine), fresh_load())
    names = {hit.entry.name for hit in engine.query(parse_query({'q': 'evergreen'})).hits}
    assert names == {'Oak House', 'Willow Lodge'}


def test_a_clear_reads_everything_again(engine, monkeypatch):
    current(engine)
    engine.reindex(build_entries())
    loads = []
    real_load = snapshots.load
    monkeypatch.setattr(snapshots, 'load', lambda *args: loads.append(1) or real_load(*args))
    current(engine)
    assert loads == [1]


def test_a_snapshot_older_than_the_change_log_reads_everything_again(engine, directory, monkeypatch):
    before = current(engine)
    monkeypatch.setattr(snapshots, 'KEPT_VERSIONS', 2)
    for _ in range(3):
        engine.index(build_entries([directory.oak_house.id]))
        db.session.commit()
    loads = []
    real_load = snapshots.load
    monkeypatch.setattr(snapshots, 'load', lambda *args: loads.append(1) or real_load(*args))
    after = current(engine)
    assert loads == [1] and after.version == before.version + 3


def test_a_snapshot_from_another_history_reads_everything_again(engine, directory, monkeypatch):
    """After a restore (or the tests' own reset) versions repeat: the same number with another token is no base."""
    before = current(engine)
    db.session.execute(snapshots.STATE.delete())
    db.session.execute(SearchIndexChange.__table__.delete())
    db.session.commit()
    for _ in range(before.version + 2):
        engine.index(build_entries([directory.oak_house.id]))
        db.session.commit()
    loads = []
    real_load = snapshots.load
    monkeypatch.setattr(snapshots, 'load', lambda *args: loads.append(1) or real_load(*args))
    assert_same(current(engine), fresh_load())
    assert loads == [1, 1]  # the engine's read, then fresh_load's own


def test_a_local_list_keeps_its_array_unless_its_rows_change():
    """A vacancy update leaves every authority's list as it was (the same array); an entry joining or leaving a
    list is put in or taken out in order."""
    import numpy as np

    from search.snapshot import _accepted

    before = np.array([2, 5, 9, 14], dtype=np.int64)
    assert _accepted(before, np.array([5], dtype=np.int64), np.array([5], dtype=np.int64)) is before
    assert _accepted(before, np.array([7], dtype=np.int64), np.zeros(0, dtype=np.int64)) is before
    assert _accepted(before, np.array([7], dtype=np.int64), np.array([7], dtype=np.int64)).tolist() == [2, 5, 7, 9, 14]
    assert _accepted(before, np.array([5, 20], dtype=np.int64), np.array([20], dtype=np.int64)).tolist() == [
        2, 9, 14, 20]
    assert _accepted(np.zeros(0, dtype=np.int64), np.array([3], dtype=np.int64),
                     np.array([3], dtype=np.int64)).tolist() == [3]


def test_several_queries_answer_each_with_its_own_rows_in_order(app_ctx):
    """A patch's reads go as one batch (one round trip on PostgreSQL): each statement's rows come back in its place,
    an empty answer included."""
    assert snapshots.fetch_all(db.session, ['SELECT 1, 2', 'SELECT 3 WHERE 1 = 0', "SELECT 'four' UNION ALL "
                                            "SELECT 'five'"]) == [[(1, 2)], [], [('four',), ('five',)]]
