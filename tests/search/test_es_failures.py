"""What people and the outbox see when Elasticsearch fails: timeouts, 429, 400 and refused connections, through the
real client over real HTTP to a stand-in on loopback (tests/search/es_standin.py).

Before: a 30 s timeout, the outbox drained one by one inside the web request (90 s for 2 settings against a
cluster that never answered), a 429 never retried, reasons lost, and search errors shown as a 500.
"""

from __future__ import annotations

import logging
import socket
import time

import pytest
from sqlalchemy import select

import search
from registry.db import unit_of_work
from registry.extensions import db
from registry.indexing import ReindexRequest, enqueue_settings
from search.es_engine import ElasticsearchEngine
from search.sync import run_worker
from tests.search.es_standin import BUSY, UNPARSABLE, StandIn, error_body
from tests.search.test_api import validate

ALIAS = 'registry-test-settings'
BULK = '/_bulk'
SEARCH = rf'/{ALIAS}/_search'


@pytest.fixture
def standin():
    with StandIn() as server:
        yield server


def _use(app, engine):
    """Make ``engine`` the app's engine (None: let the app choose again); returns the one it replaced."""
    state = app.extensions.setdefault('search', {})
    previous = state.pop('engine', None)
    if engine is not None:
        state['engine'] = engine
    return previous


@pytest.fixture
def es(app, standin, directory):
    """The app searching and indexing through the stand-in (an index behind the alias), with short timeouts and a
    recorded wait instead of sleeping."""
    engine = ElasticsearchEngine.from_config({
        'ELASTICSEARCH_URL': standin.url, 'SEARCH_INDEX_ALIAS': ALIAS, 'ELASTICSEARCH_TIMEOUT': 0.5,
        'ELASTICSEARCH_MAX_RETRIES': 0, 'ELASTICSEARCH_BULK_TIMEOUT': 0.5}, refresh='wait_for')
    engine.waits = []
    engine._sleep = engine.waits.append
    engine.point_alias(engine.create_index())
    standin.clear()
    previous = _use(app, engine)
    yield engine
    _use(app, previous)


@pytest.fixture
def unreachable(app, directory):
    """The app pointed at a loopback port nobody listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    engine = ElasticsearchEngine.from_url(f'http://127.0.0.1:{port}', ALIAS)
    previous = _use(app, engine)
    yield engine
    _use(app, previous)


def requests_for(setting_id: int) -> list[ReindexRequest]:
    db.session.expire_all()
    return db.session.scalars(select(ReindexRequest).where(ReindexRequest.setting_id == setting_id)).all()


def change(*settings) -> float:
    """Commit a change to ``settings`` through the outbox, as a service would; returns the seconds it took."""
    started = time.monotonic()
    with unit_of_work():
        for setting in settings:
            setting.vacancies += 1
        enqueue_settings([setting.id for setting in settings], 'vacancies changed')
    return time.monotonic() - started


def sync(app):
    return app.test_cli_runner().invoke(args=['search', 'sync'])


# -- searching --------------------------------------------------------------------------------------------------


def test_searcher_sees_a_503_page_when_elasticsearch_does_not_answer_in_time(client, es, standin, caplog):
    standin.fail('POST', SEARCH, delay=2.0)
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger='search'):
        response = client.get('/directory?q=oak')
    assert time.monotonic() - started < 1.8
    assert response.status_code == 503
    assert response.headers['Retry-After'] == '30'
    page = response.get_data(as_text=True)
    assert '<title>Sorry, search is temporarily unavailable' in page
    assert 'Search is temporarily unavailable. Try again in a few minutes.' in page
    assert 'no answer in time' in caplog.text  # the reason is logged, not shown
    assert 'timed out' not in page.lower()


def test_api_answers_503_json_when_elasticsearch_refuses_the_search(client, es, standin, caplog):
    standin.fail('POST', SEARCH, 400, error_body(400, 'search_phase_execution_exception', 'all shards failed'))
    with caplog.at_level(logging.ERROR, logger='search'):
        response = client.get('/api/v1/settings?q=oak')
    assert response.status_code == 503
    assert response.headers['Retry-After'] == '30'
    assert response.get_json() == {'errors': {'search': 'Search is temporarily unavailable. Try again in a few '
                                                        'minutes.'}}
    validate(response.get_json(), 'Errors')
    assert '400 search_phase_execution_exception: all shards failed' in caplog.text


def test_searcher_sees_a_503_page_when_the_connection_is_refused(client, unreachable):
    started = time.monotonic()
    response = client.get('/directory?q=oak')
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert client.get('/api/v1/settings').status_code == 503
    assert client.get('/api/v1/hsds/services').status_code == 503


def test_a_search_never_creates_an_index(client, app, standin, directory):
    """Two workers serving the first searches used to race to create the alias; now a missing index is an error
    until "flask search reindex" creates it."""
    engine = ElasticsearchEngine.from_url(standin.url, ALIAS)
    previous = _use(app, engine)
    try:
        assert client.get('/directory?q=oak').status_code == 503
        assert client.get('/api/v1/settings/1').status_code == 503
    finally:
        _use(app, previous)
    assert standin.calls('PUT') == [] and standin.indices == {}
    assert {request.path for request in standin.requests} == {f'/{ALIAS}/_search', f'/{ALIAS}/_doc/1'}


# -- writing ----------------------------------------------------------------------------------------------------


def test_after_commit_drain_gives_up_within_its_budget_when_elasticsearch_never_answers(app, es, standin, directory):
    """Draining 2 settings against a cluster that never answers took 90 s inside the request; now the commit's
    drain stops within SEARCH_AFTER_COMMIT_SECONDS and leaves the work, with its reason, for the worker."""
    app.config['SEARCH_AFTER_COMMIT_SECONDS'] = 0.5
    standin.fail('PUT', BULK, delay=3.0, times=5)
    try:
        elapsed = change(directory.oak_house, directory.willow_lodge)
    finally:
        app.config['SEARCH_AFTER_COMMIT_SECONDS'] = 2.0
    assert elapsed < 1.5
    assert len(standin.calls('PUT', BULK)) == 1  # one request, not one per setting
    for setting in (directory.oak_house, directory.willow_lodge):
        [request] = requests_for(setting.id)
        assert request.processed_at is None
        assert request.last_error.startswith('Elasticsearch bulk write: no answer in time')


def test_a_refused_connection_is_recorded_and_the_drain_stops_at_once(app, unreachable, directory):
    elapsed = change(directory.oak_house, directory.willow_lodge)
    assert elapsed < 1.5
    [request] = requests_for(directory.oak_house.id)
    assert request.processed_at is None and request.attempts == 1
    assert request.last_error.startswith('Elasticsearch bulk write: cannot connect')
    result = sync(app)
    assert result.exit_code == 1
    assert 'The index is unavailable (Elasticsearch bulk write: cannot connect' in result.output
    assert '2 requests are still pending' in result.output


def test_a_busy_cluster_429_is_retried_with_a_doubling_wait(app, es, standin, directory):
    app.config['SEARCH_AFTER_COMMIT_SECONDS'] = 0  # left for "flask search sync", which has no deadline
    try:
        change(directory.oak_house)
    finally:
        app.config['SEARCH_AFTER_COMMIT_SECONDS'] = 2.0
    standin.fail('PUT', BULK, 429, error_body(429, *BUSY[1].values()), times=2)
    result = sync(app)
    assert result.exit_code == 0, result.output
    assert 'Processed 1 requests: 1 indexed' in result.output
    assert es.waits == [0.5, 1.0]
    assert len(standin.calls('PUT', BULK)) == 3
    assert standin.docs(ALIAS)[str(directory.oak_house.id)][1]['vacancies'] == directory.oak_house.vacancies
    [request] = requests_for(directory.oak_house.id)
    assert request.processed_at is not None and request.last_error == ''


def test_only_the_items_refused_with_429_are_sent_again(app, es, standin, directory):
    standin.fail('PUT', BULK, item_errors={0: BUSY})
    change(directory.oak_house, directory.willow_lodge)
    first, second = standin.calls('PUT', BULK)
    assert [line['index']['_id'] for line in first.operations if 'index' in line] == [
        str(directory.oak_house.id), str(directory.willow_lodge.id)]
    assert [line['index']['_id'] for line in second.operations if 'index' in line] == [str(directory.oak_house.id)]
    assert es.waits == [0.5]
    assert set(standin.docs(ALIAS)) == {str(directory.oak_house.id), str(directory.willow_lodge.id)}


def test_a_429_that_persists_is_recorded_with_its_reason_and_left_pending(app, es, standin, directory):
    app.config['SEARCH_AFTER_COMMIT_SECONDS'] = 0
    try:
        change(directory.oak_house)
    finally:
        app.config['SEARCH_AFTER_COMMIT_SECONDS'] = 2.0
    standin.fail('PUT', BULK, item_errors={0: BUSY}, times=10)
    result = sync(app)
    assert result.exit_code == 1
    assert es.waits == [0.5, 1.0, 2.0]
    [request] = requests_for(directory.oak_house.id)
    assert request.processed_at is None
    assert request.last_error == ('429 es_rejected_execution_exception: rejected execution of coordinating operation '
                                  '[shard_indexing_pressure] (still refused after 4 tries; left for retry)')


def test_a_document_elasticsearch_refuses_is_recorded_and_the_others_are_indexed(app, es, standin, directory):
    standin.fail('PUT', BULK, item_errors={1: UNPARSABLE})
    change(directory.oak_house, directory.willow_lodge)
    [oak] = requests_for(directory.oak_house.id)
    [willow] = requests_for(directory.willow_lodge.id)
    assert oak.processed_at is not None
    assert willow.processed_at is None
    assert willow.last_error == ('400 document_parsing_exception: [1:120] failed to parse field [age_min] of type '
                                 '[integer] (number_format_exception: For input string: "eight")')
    assert set(standin.docs(ALIAS)) == {str(directory.oak_house.id)}
    assert len(standin.calls('PUT', BULK)) == 1  # no one-by-one retries


def test_a_request_elasticsearch_refuses_whole_is_recorded_with_its_reason(app, es, standin, directory):
    standin.fail('PUT', BULK, 400, error_body(400, 'media_type_header_exception',
                                              'Invalid media-type value on headers [Accept, Content-Type]'))
    change(directory.oak_house)
    [request] = requests_for(directory.oak_house.id)
    assert request.last_error == ('Elasticsearch bulk write: 400 media_type_header_exception: Invalid media-type '
                                  'value on headers [Accept, Content-Type]')


def test_a_missing_alias_is_never_created_by_a_write(app, standin, directory):
    engine = ElasticsearchEngine.from_url(standin.url, ALIAS)
    previous = _use(app, engine)
    try:
        change(directory.oak_house)
    finally:
        _use(app, previous)
    assert standin.indices == {}
    [request] = requests_for(directory.oak_house.id)
    assert request.last_error.startswith('404 index_not_found_exception: no such index [registry-test-settings] '
                                         'and [require_alias] request flag is [true]')


def test_worker_backs_off_while_elasticsearch_is_unreachable(app, unreachable, directory):
    app.config['SEARCH_AFTER_COMMIT_SECONDS'] = 0
    try:
        change(directory.oak_house)
    finally:
        app.config['SEARCH_AFTER_COMMIT_SECONDS'] = 2.0
    oak_id = directory.oak_house.id
    report = run_worker(interval=0.1, stop_after=1.4)
    # 0.1 + 0.2 + 0.4 + 0.8 s of waiting: about 4 drains in 1.4 s, not 14.
    assert 3 <= report.drains <= 6
    [request] = requests_for(oak_id)
    assert request.attempts == report.drains and request.processed_at is None


def test_worker_drains_what_is_queued_and_stops_when_asked(app, es, standin, directory):
    app.config['SEARCH_AFTER_COMMIT_SECONDS'] = 0
    try:
        change(directory.oak_house, directory.riverside)
    finally:
        app.config['SEARCH_AFTER_COMMIT_SECONDS'] = 2.0
    assert standin.docs(ALIAS) == {}
    ids = {str(directory.oak_house.id), str(directory.riverside.id)}
    result = app.test_cli_runner().invoke(args=['search', 'worker', '--interval', '0.1', '--stop-after', '0.5'])
    assert result.exit_code == 0, result.output
    assert '2 requests processed, 0 failed' in result.output
    assert set(standin.docs(ALIAS)) == ids
    assert search.pending_count() == 0
