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
