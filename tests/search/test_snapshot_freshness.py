"""Each worker's in-memory snapshot of the index reloads whenever another process (or a rollback) changes the index."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest

from registry.app import create_app
from registry.extensions import db
from registry.settings.taxonomy import Lot, ProvisionType
from search.entries import build_entries
from search.query import parse_query
from search.sql_engine import SqlEngine
from tests.search.conftest import make_organisation, make_setting, qualify


def found(**args) -> set[str]:
    """Names the SQL engine finds in the current app context."""
    db.session.rollback()  # a request starts with a fresh transaction; so does each look here
    return {hit.entry.name for hit in SqlEngine().query(parse_query({'page_size': '100', **args})).hits}


@contextmanager
def refreshing_worker(app_config, interval: float):
    """Another worker on the same database with its background snapshot thread polling every ``interval`` seconds,
    once its first snapshot is in: yields (the worker's app, its snapshot cache, the database's key)."""
    from search.sql_engine import snapshot_cache, start_refresher

    worker = create_app({**app_config, 'SEARCH_SNAPSHOT_REFRESH_SECONDS': interval})
    cache = snapshot_cache(worker)
    try:
        start_refresher(worker)
        key = str(db.engine.url)
        deadline = time.monotonic() + 5
        while cache.current(key) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        yield worker, cache, key
    finally:
        cache.stop()
        with worker.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def other_worker(app_config, directory):
    """A second application on the same database, as another gunicorn worker or process would be."""
    SqlEngine().reindex(build_entries())
    other = create_app(app_config)
    with other.app_context():
        assert 'Oak House' in found()  # its snapshot is loaded before the change
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_searcher_can_find_a_setting_indexed_by_another_process(app_ctx, other_worker):
    assert 'Hawthorn Fostering' not in found(q='hawthorn')
    assert found(lot='fostering') == {'Leeds Fostering Service', 'Capital Fostering Westminster'}
    with other_worker.app_context():
        organisation = make_organisation('Hawthorn Families Ltd')
        qualify(organisation, Lot.FOSTERING)
        setting = make_setting(organisation, 'Hawthorn Fostering', ProvisionType.INDEPENDENT_FOSTERING_AGENCY,
                               'LS1 4DY', vacancies=1)
        db.session.commit()
        SqlEngine().index(build_entries([setting.id]))
        db.session.commit()
    assert found(q='hawthorn') == {'Hawthorn Fostering'}
    assert found(lot='fostering') == {'Leeds Fostering Service', 'Capital Fostering Westminster', 'Hawthorn Fostering'}
    facets = SqlEngine().query(parse_query({'lot': 'fostering'})).facets
    assert facets['provision_type']['independent-fostering-agency'] == 3


def test_searcher_cannot_find_a_setting_removed_by_another_process(app_ctx, directory, other_worker):
    assert 'Oak House' in found(provision_type='childrens-home')
    with other_worker.app_context():
        SqlEngine().remove([directory.oak_house.id])
        db.session.commit()
    assert found(provision_type='childrens-home') == {'Willow Lodge', 'Riverside Home'}
    assert 'Oak House' not in found(q='oak')
    with other_worker.app_context():
        assert 'Oak House' not in found()


def test_searcher_can_find_every_setting_again_after_a_removal_is_rolled_back(app_ctx, directory):
    SqlEngine().reindex(build_entries())
    assert 'Oak House' in found()
    SqlEngine().remove([directory.oak_house.id])
    # The same transaction sees its own removal...
    assert 'Oak House' not in {hit.entry.name for hit in SqlEngine().query(parse_query({'page_size': '100'})).hits}
    db.session.rollback()
    # ...and after the rollback the snapshot made from it is not reused.
    assert 'Oak House' in found()


def test_snapshot_is_reused_until_the_index_changes(app_ctx, directory):
    engine = SqlEngine()
    engine.reindex(build_entries())
    first = engine.snapshot()
    assert engine.snapshot() is first
    engine.remove([directory.oak_house.id])
    db.session.commit()
    assert engine.snapshot() is not first
    snapshot = engine.snapshot()
    assert directory.oak_house.id not in snapshot.ids[snapshot.alive].tolist()


def test_a_background_thread_brings_a_worker_up_to_date_within_a_second_without_a_search(app_config, directory):
    """Each worker's thread patches in another process's write by itself, so no request has to."""
    from search.snapshot import current_state

    SqlEngine().reindex(build_entries())
    with refreshing_worker(app_config, 0.05) as (worker, cache, key):
        before = cache.current(key)
        assert before is not None and directory.oak_house.id in before.ids.tolist()
        SqlEngine().remove([directory.oak_house.id])
        db.session.commit()
        _, token = current_state(db.session)
        written = time.monotonic()
        while cache.current(key).token != token and time.monotonic() < written + 1:
            time.sleep(0.01)
        after = cache.current(key)
        assert after.token == token, 'not brought up to date within a second'
        assert not after.alive[after.row_of_id[directory.oak_house.id]]
        with worker.app_context():
            assert SqlEngine().snapshot() is after  # its next search uses it as it is


def test_a_large_index_read_afresh_in_the_background_while_requests_answer_from_the_last_snapshot(
        app_config, directory, monkeypatch):
    """After a reindex (everything read again), a request does not wait for the read: it answers from the snapshot
    it has, and the worker's thread swaps the new one in."""
    from search import snapshot as snapshots
    from search.snapshot import current_state

    SqlEngine().reindex(build_entries())
    monkeypatch.setattr(snapshots, 'INLINE_RELOAD_LIMIT', 0)
    with refreshing_worker(app_config, 30) as (worker, cache, key):   # polls rarely: woken by requests
        before = cache.current(key)
        SqlEngine().reindex(build_entries())  # a clear: no patch can follow it
        _, token = current_state(db.session)
        with worker.app_context():
            assert SqlEngine().snapshot() is before  # answered at once, from the last snapshot
        deadline = time.monotonic() + 5
        while cache.current(key).token != token and time.monotonic() < deadline:
            time.sleep(0.01)
        assert cache.current(key).token == token
        with worker.app_context():
            assert SqlEngine().snapshot().token == token


def test_writes_arriving_faster_than_the_thread_polls_are_patched_in_together_off_the_requests_path(
        app_config, directory, monkeypatch):
    """With a thread polling every 0.2 s, a search in between answers from the snapshot it has (seen current a
    moment ago) instead of patching each write in itself; the thread patches the writes in together, and the last
    is in every search within a second of its commit (``BEHIND_AT_MOST`` and a poll)."""
    from search import snapshot as snapshots
    from search.snapshot import current_state

    SqlEngine().reindex(build_entries())
    patches = []
    real_patch = snapshots.patch
    monkeypatch.setattr(snapshots, 'patch', lambda *args: patches.append(1) or real_patch(*args))
    with refreshing_worker(app_config, 0.2) as (worker, cache, key):
        writes = 10
        for number in range(writes):
            directory.oak_house.vacancies = number % 3
            db.session.commit()
            SqlEngine().index(build_entries([directory.oak_house.id]))
            db.session.commit()
            with worker.app_context():
                SqlEngine().snapshot()   # a search between writes
                db.session.remove()
        _, token = current_state(db.session)
        written = time.monotonic()
        while cache.current(key).token != token and time.monotonic() < written + 1:
            time.sleep(0.01)
        assert cache.current(key).token == token, 'not brought up to date within a second'
        assert 1 <= len(patches) < writes / 2
        with worker.app_context():
            snapshot = SqlEngine().snapshot()
            assert snapshot.token == token
            assert snapshot.has_vacancy[snapshot.row_of_id[directory.oak_house.id]] == bool((writes - 1) % 3)


def test_a_search_asks_nothing_of_the_index_state_while_the_thread_has_just_seen_the_snapshot_current(
        app_config, directory, monkeypatch):
    """The thread confirms the snapshot every poll, so a request within ``BEHIND_AT_MOST`` of that answers without
    the state query it would answer the same way after (a round trip saved on every search); with a thread not
    polling that often, requests ask."""
    from search import snapshot as snapshots

    SqlEngine().reindex(build_entries())
    asked = []   # the threads that asked for the state
    real_state = snapshots.current_state
    with refreshing_worker(app_config, 0.05) as (worker, cache, key):
        monkeypatch.setattr(snapshots, 'current_state',
                            lambda session: asked.append(threading.current_thread().name) or real_state(session))
        with worker.app_context():
            for _ in range(20):
                assert SqlEngine().snapshot() is cache.current(key)
                time.sleep(0.01)
        assert 'search-snapshot' in asked   # the thread polls meanwhile
        assert asked.count(threading.current_thread().name) <= 2   # a stalled poll at most: 20 before
    asked.clear()
    with refreshing_worker(app_config, 30) as (worker, cache, key):   # polls too rarely to vouch for a snapshot
        with worker.app_context():
            for _ in range(5):
                SqlEngine().snapshot()
    assert asked.count(threading.current_thread().name) == 5   # so each request asks
