"""``flask search reindex | sync | check``."""

from __future__ import annotations

import search
from registry.db import utcnow
from registry.extensions import db
from registry.indexing import ReindexRequest


def run(app, *args):
    return app.test_cli_runner().invoke(args=['search', *args])


def test_operator_can_rebuild_the_index_with_progress(app, directory):
    db.session.add(ReindexRequest(setting_id=directory.oak_house.id, reason='stale'))
    db.session.commit()
    result = run(app, 'reindex')
    assert result.exit_code == 0, result.output
    assert 'Indexing 5 listed settings (sql)' in result.output
    assert 'Indexed 5 settings.' in result.output
    assert search.engine().ids() == directory.listed_ids
    db.session.expire_all()
    assert db.session.query(ReindexRequest).filter(ReindexRequest.processed_at.is_(None)).count() == 0


def test_check_passes_when_index_matches_and_fails_listing_the_differences(app, directory):
    assert run(app, 'reindex').exit_code == 0
    result = run(app, 'check')
    assert result.exit_code == 0, result.output
    assert 'The index matches the database (5 entries compared by content).' in result.output

    # Change the database behind the outbox's back: the index is now stale both ways.
    directory.oak_house.suspended_at = utcnow()
    db.session.commit()
    search.engine().remove([directory.riverside.id])
    db.session.commit()
    result = run(app, 'check')
    assert result.exit_code == 1
    assert f'Missing from the index (listed): 1: {directory.riverside.id}' in result.output
    assert f'In the index but not listed: 1: {directory.oak_house.id}' in result.output


def test_sync_with_nothing_pending_says_so(app, directory):
    result = run(app, 'sync')
    assert result.exit_code == 0
    assert 'Processed 0 requests' in result.output


def test_check_sees_stale_content_with_the_same_ids_and_repair_fixes_it(app, directory):
    """Issue 19: the index showed 18 vacancies where the database held 16, and check (ids only) saw nothing."""
    assert run(app, 'reindex').exit_code == 0
    directory.oak_house.vacancies = 3  # changed behind the outbox's back
    db.session.commit()
    result = run(app, 'check')
    assert result.exit_code == 1
    assert f'In the index with different content: 1: {directory.oak_house.id}' in result.output
    assert 'Missing' not in result.output and 'not listed' not in result.output
    result = run(app, 'check', '--repair')
    assert result.exit_code == 0, result.output
    assert 'Repaired: 1 written, 0 removed.' in result.output
    assert search.engine().get(directory.oak_house.id).vacancies == 3
    assert run(app, 'check').exit_code == 0


def test_check_notes_differences_whose_changes_are_still_queued(app, directory):
    assert run(app, 'reindex').exit_code == 0
    directory.riverside.vacancies = 0
    db.session.add(ReindexRequest(setting_id=directory.riverside.id, reason='vacancies changed'))
    db.session.commit()
    result = run(app, 'check')
    assert result.exit_code == 1
    assert '1 of these have changes still queued; the next drain writes them.' in result.output


def test_reindex_leaves_a_request_committed_after_it_began_for_the_next_drain(app, directory, monkeypatch):
    """Requests used to be marked processed by id after the rebuild, including ones it had never read."""
    import threading

    from search import sync

    original, threads = sync.build_entries, []

    def queue_one():
        with app.app_context():
            db.session.add(ReindexRequest(setting_id=directory.willow_lodge.id, reason='during the rebuild'))
            db.session.commit()
            db.session.remove()

    def build_while_another_worker_queues(*args, **kwargs):
        threads.append(threading.Thread(target=queue_one))
        threads[-1].start()  # commits meanwhile (PostgreSQL) or as soon as the rebuild commits (SQLite)
        yield from original(*args, **kwargs)

    db.session.add(ReindexRequest(setting_id=directory.oak_house.id, reason='before the rebuild'))
    db.session.commit()
    monkeypatch.setattr(sync, 'build_entries', build_while_another_worker_queues)
    assert run(app, 'reindex').exit_code == 0
    threads[0].join(10)
    db.session.expire_all()
    pending = db.session.query(ReindexRequest).filter(ReindexRequest.processed_at.is_(None)).all()
    assert [request.reason for request in pending] == ['during the rebuild']


def test_status_lists_failing_requests_with_their_reasons(app, directory):
    db.session.add(ReindexRequest(setting_id=directory.oak_house.id, reason='x', attempts=2,
                                  last_error='429 es_rejected_execution_exception: busy'))
    db.session.commit()
    result = run(app, 'status')
    assert result.exit_code == 0, result.output
    assert 'Engine: sql' in result.output
    assert 'Pending requests: 1' in result.output
    assert f'(setting {directory.oak_house.id}, 2 attempts): 429 es_rejected_execution_exception: busy' in result.output


def test_loading_the_demo_leaves_the_whole_directory_indexed_even_without_after_commit_draining(app, app_ctx):
    """The after-commit drain has a time limit; ``load-demo`` must not leave a half-indexed directory behind."""
    from sqlalchemy import func, select

    from search.entries import listed_setting_ids, unlisted_entries

    saved = app.config['SEARCH_AFTER_COMMIT_SECONDS']
    app.config['SEARCH_AFTER_COMMIT_SECONDS'] = 0
    try:
        result = app.test_cli_runner().invoke(args=['registry', 'load-demo'])
    finally:
        app.config['SEARCH_AFTER_COMMIT_SECONDS'] = saved
    assert result.exit_code == 0, result.output
    pending = db.session.scalar(select(func.count()).select_from(ReindexRequest)
                                .where(ReindexRequest.processed_at.is_(None)))
    assert pending == 0
    # every listed setting, and every unlisted one commissioners may search (the demo's whole market)
    unlisted = {entry.id for entry in unlisted_entries()}
    assert search.engine().ids() == listed_setting_ids() | unlisted
    assert len(listed_setting_ids()) > 300 and unlisted
