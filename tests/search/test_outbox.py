"""The transactional outbox: committed changes reach the index, rolled-back ones leave nothing, failures are retried."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import search
from registry.db import unit_of_work, utcnow
from registry.extensions import db
from registry.indexing import ReindexRequest, enqueue_organisation, enqueue_settings
from search.entries import build_entries
from search.query import parse_query
from search.sql_engine import SqlEngine


@pytest.fixture
def indexed(directory):
    search.engine().reindex(build_entries())
    return directory


def found(**args) -> set[str]:
    return {hit.entry.name for hit in search.search(parse_query(args)).hits}


def pending() -> list[ReindexRequest]:
    return db.session.scalars(select(ReindexRequest).where(ReindexRequest.processed_at.is_(None))).all()


def test_committed_setting_change_is_drained_into_the_index(indexed):
    with unit_of_work():
        indexed.willow_lodge.name = 'Willow Court'
        enqueue_settings([indexed.willow_lodge.id], 'renamed')
    assert found(q='court') == {'Willow Court'}
    assert found(q='lodge') == set()
    assert pending() == []
    request = db.session.scalars(select(ReindexRequest)).one()
    assert request.processed_at is not None and request.attempts == 1


def test_suspending_a_setting_removes_it_from_the_index(indexed):
    with unit_of_work():
        indexed.oak_house.suspended_at = utcnow()
        enqueue_settings([indexed.oak_house.id], 'suspended')
    assert found(q='oak') == set()
    assert search.engine().count() == 4


def test_organisation_change_reindexes_all_its_settings(indexed):
    with unit_of_work():
        indexed.oak_house.organisation.trading_name = 'Evergreen Homes'
        enqueue_organisation(indexed.oak_house.organisation_id, 'renamed')
    assert found(q='evergreen') == {'Oak House', 'Willow Lodge', 'Riverside Home'}


def test_rolled_back_transaction_leaves_no_reindex_request(indexed):
    with pytest.raises(RuntimeError), unit_of_work():
        indexed.willow_lodge.name = 'Willow Court'
        enqueue_settings([indexed.willow_lodge.id], 'renamed')
        raise RuntimeError('the service failed')
    assert db.session.scalar(select(func.count()).select_from(ReindexRequest)) == 0
    assert found(q='willow') == {'Willow Lodge'}


def test_failed_index_write_is_recorded_and_retried_by_sync(indexed, monkeypatch, app):
    original = SqlEngine.index

    def broken(self, entries, **kwargs):
        raise ConnectionError('index unavailable')

    monkeypatch.setattr(SqlEngine, 'index', broken)
    with unit_of_work():
        indexed.willow_lodge.name = 'Willow Court'
        enqueue_settings([indexed.willow_lodge.id], 'renamed')
    [request] = pending()
    assert request.attempts == 1
    assert 'index unavailable' in request.last_error
    assert found(q='court') == set()

    monkeypatch.setattr(SqlEngine, 'index', original)
    result = app.test_cli_runner().invoke(args=['search', 'sync'])
    assert result.exit_code == 0, result.output
    assert 'Processed 1 requests: 1 indexed' in result.output
    db.session.expire_all()
    assert pending() == []
    assert found(q='court') == {'Willow Court'}


def test_deleted_setting_is_removed_from_the_index(indexed):
    setting_id = indexed.riverside.id
    with unit_of_work():
        db.session.delete(indexed.riverside)
        enqueue_settings([setting_id], 'deleted')
    assert setting_id not in search.engine().ids()
