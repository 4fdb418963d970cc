"""Rebuilding the Elasticsearch index without losing anything, keeping the previous index for rollback, cleaning up
after a failed run, and checking the index by content: real database, real client, a stand-in on loopback.

Before: changes committed during ``flask search reindex`` went to the old index, deleted straight after the alias
moved; a failed run left an orphan index; ``flask search check`` compared ids only.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from registry.db import unit_of_work
from registry.extensions import db
from registry.indexing import ReindexRequest, enqueue_settings
from registry.settings.models import Setting
from search.es_engine import ElasticsearchEngine
from search.sync import rebuild
from tests.search.es_standin import StandIn, error_body

ALIAS = 'registry-test-settings'


@pytest.fixture
def standin():
    with StandIn() as server:
        yield server


@pytest.fixture
def es(app, standin, directory):
    """The app's engine is Elasticsearch on the stand-in; the directory's five listed settings are indexed."""
    engine = ElasticsearchEngine.from_url(standin.url, ALIAS, refresh='wait_for')
    state = app.extensions.setdefault('search', {})
    previous = state.pop('engine', None)
    state['engine'] = engine
    rebuild()
    yield engine
    state.pop('engine', None)
    if previous is not None:
        state['engine'] = previous


def run(app, *args):
    return app.test_cli_runner().invoke(args=['search', *args])


def names(standin: StandIn, index: str) -> set[str]:
    return {source['name'] for _version, source in standin.indices[index].values()}


def in_another_worker(app, work) -> None:
    """Run ``work`` as another process would: its own app context, session and transaction, to completion."""
    errors = []

    def target():
        try:
            with app.app_context():
                work()
                db.session.remove()
        except Exception as exc:  # surfaced in the test's own thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(30)
    assert not errors, errors


def rename(app, setting_id: int, name: str, *, drained: bool = True):
    def work():
        app.config['SEARCH_AFTER_COMMIT_SECONDS'] = 2.0 if drained else 0
        try:
            with unit_of_work():
                db.session.get(Setting, setting_id).name = name
                enqueue_settings([setting_id], 'renamed')
        finally:
            app.config['SEARCH_AFTER_COMMIT_SECONDS'] = 2.0
    in_another_worker(app, work)


def test_changes_committed_during_a_rebuild_reach_the_new_index(app, es, standin, directory):
    [old] = es.live_indices()
    oak, willow = directory.oak_house.id, directory.willow_lodge.id

    def meanwhile(_count):
        # Another worker changes two settings while the new index is being loaded: one is drained straight
        # into the live (old) index, the other is still queued when the rebuild finishes loading.
        rename(app, oak, 'Oak Court')
        rename(app, willow, 'Willow Court', drained=False)

    result = rebuild(progress=meanwhile)
    [new] = es.live_indices()
    assert new == result.index != old
    assert 'Oak Court' in names(standin, old)  # the drain wrote it to the index that was live at the time
    assert {'Oak Court', 'Willow Court'} <= names(standin, new)
    assert 'Oak House' not in names(standin, new) and 'Willow Lodge' not in names(standin, new)
    assert result.replayed == 2
    db.session.expire_all()
    assert db.session.scalars(select(ReindexRequest).where(ReindexRequest.processed_at.is_(None))).all() == []
    # The replaced index is kept for rollback.
    assert result.previous == [old] and old in standin.indices
    assert run(app, 'check').exit_code == 0


def test_a_failed_rebuild_deletes_its_index_and_leaves_searchers_on_the_old_one(app, es, standin, directory):
    [old] = es.live_indices()
    standin.fail('PUT', '/_bulk', 500, error_body(500, 'illegal_state_exception', 'node is shutting down'))
    result = run(app, 'reindex')
    assert result.exit_code == 1
    assert ('Reindex failed, nothing changed for searchers: Elasticsearch bulk write: 500 illegal_state_exception: '
            'node is shutting down') in result.output
    assert set(standin.indices) == {old}
    assert es.live_indices() == [old]


def test_reindex_reports_what_it_did(app, es, standin, directory):
    [old] = es.live_indices()
    result = run(app, 'reindex')
    assert result.exit_code == 0, result.output
    [new] = es.live_indices()
    assert 'Indexing 5 listed settings (elasticsearch)' in result.output
    assert 'Indexed 5 settings.' in result.output
    assert f'Replayed 0 settings changed during the rebuild into {new}, now live.' in result.output
    assert f'Kept {old} for "flask search rollback".' in result.output


def test_previous_indices_are_kept_for_a_set_age_then_pruned(app, es, standin, directory):
    [first] = es.live_indices()
    second = rebuild().index
    third = rebuild().index
    created = es.managed_indices()
    orphan = es.new_index_name(created[third] + timedelta(hours=2))  # a later build that died before going live
    standin.indices[orphan] = {}
    # Each replaced index is kept for 72 hours after the next one was made; nothing goes before that.
    assert es.prune(now=created[third] + timedelta(hours=71)) == []
    assert es.prune(now=created[third] + timedelta(hours=73)) == [first, second]
    # A build that never went live goes 72 hours after it began; the live index never goes.
    assert es.prune(now=created[third] + timedelta(hours=75)) == [orphan]
    assert set(standin.indices) == {third}
    assert es.prune(now=created[third] + timedelta(days=365)) == []


def test_operator_can_roll_back_to_the_previous_index_and_it_is_brought_up_to_date(app, es, standin, directory):
    [first] = es.live_indices()
    second = rebuild().index
    rename(app, directory.riverside.id, 'Riverside Court')  # drained into the second index only
    assert 'Riverside Court' not in names(standin, first)
    result = run(app, 'rollback')
    assert result.exit_code == 0, result.output
    assert f'now points at {first} (was {second}); brought up to date: 1 written, 0 removed' in result.output
    assert es.live_indices() == [first]
    assert 'Riverside Court' in names(standin, first)
    assert run(app, 'check').exit_code == 0


def test_check_compares_content_and_repair_rewrites_what_differs(app, es, standin, directory):
    [live] = es.live_indices()
    docs = standin.indices[live]
    oak, riverside = str(directory.oak_house.id), str(directory.riverside.id)
    version, source = docs[oak]
    docs[oak] = (version, {**source, 'vacancies': source['vacancies'] + 2})  # same ids, stale content
    del docs[riverside]
    result = run(app, 'check')
    assert result.exit_code == 1
    assert f'In the index with different content: 1: {oak}' in result.output
    assert f'Missing from the index (listed): 1: {riverside}' in result.output
    result = run(app, 'check', '--repair')
    assert result.exit_code == 0, result.output
    assert 'Repaired: 2 written, 0 removed.' in result.output
    assert docs[oak][1]['vacancies'] == source['vacancies']
    assert run(app, 'check').output.startswith('The index matches the database (5 entries compared by content).')


def test_a_late_retry_of_an_older_write_cannot_overwrite_a_newer_one(app, es, standin, directory, app_ctx):
    from search.entries import build_entries

    [live] = es.live_indices()
    oak = directory.oak_house
    [entry] = build_entries([oak.id])
    newest_version = standin.indices[live][str(oak.id)][0]
    from dataclasses import replace

    es.index([replace(entry, vacancies=99)], version=newest_version - 1)  # accepted as done: a newer one won
    assert standin.indices[live][str(oak.id)][1]['vacancies'] == entry.vacancies


def test_rebuild_marks_only_requests_it_covered(app, es, standin, directory):
    """A request committed after the rebuild read the database stays pending for the next drain."""
    late = []

    def meanwhile(_count):
        if not late:
            late.append(True)
            rename(app, directory.capital_fostering.id, 'Capital Court', drained=False)

    rebuild(progress=meanwhile)
    db.session.expire_all()
    pending = db.session.scalars(select(ReindexRequest).where(ReindexRequest.processed_at.is_(None))).all()
    # Replayed under the lock before the alias moved, so it is done.
    assert pending == []
    [live] = es.live_indices()
    assert 'Capital Court' in names(standin, live)


def test_status_shows_the_server_index_and_failing_requests(app, es, standin, directory):
    result = run(app, 'status')
    assert result.exit_code == 0, result.output
    assert 'Engine: elasticsearch' in result.output
    assert 'Server: Elasticsearch 8.15.3' in result.output
    assert f'Live index: {es.live_indices()[0]}' in result.output
    assert 'Pending requests: 0' in result.output


def test_index_names_sort_by_creation_time():
    engine = ElasticsearchEngine(None, ALIAS)
    earlier = engine.new_index_name(datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC))
    assert earlier == f'{ALIAS}-20250102030405000006'
    assert earlier < engine.new_index_name(datetime(2025, 1, 2, 3, 4, 5, 7, tzinfo=UTC))


def test_hsds_export_reaches_pages_past_the_result_window(client, es, standin, directory):
    """The export used the search's from/size, so it could not page past the first 10,000 entries."""
    es.max_result_window = 2  # as if the directory held more than 10,000 settings
    seen = []
    for page in (1, 2, 3):
        body = client.get(f'/api/v1/hsds/services?per_page=2&page={page}').get_json()
        assert body['total_items'] == 5 and body['total_pages'] == 3
        seen += [service['id'] for service in body['contents']]
    assert seen == [f'setting-{setting_id}' for setting_id in sorted(directory.listed_ids)]
    searches = [request.body for request in standin.calls('POST', rf'/{ALIAS}/_search')]
    assert all('search_after' in body or body.get('from', 0) + body['size'] <= 2 for body in searches)
    assert client.get('/api/v1/hsds/services?per_page=2&page=4').status_code == 400
