"""Directory search: one interface, two engines (SQL by default, Elasticsearch for scale), kept in step by an outbox.

Public API (nothing outside this package imports it except the app factory):

- :func:`engine` returns the configured engine: ``index(entries)``, ``remove(ids)``, ``query(Query) -> Results``,
  ``count()``, ``ids()``, ``get(id)``, ``clear()``, ``reindex(entries, progress)``.
- :func:`search` parses nothing; it runs a :class:`Query` on the configured engine.
- :func:`parse_query` turns request arguments into a :class:`Query` or raises :class:`QueryError`.
- :func:`drain` pushes pending ``ReindexRequest`` rows to the index.
- :func:`init_app` registers the after-commit drainer and the ``flask search`` commands.
- :func:`warm` starts the SQL engine's background snapshot thread in this process, and :func:`preload` reads the
  snapshot in a process about to fork (``gunicorn.conf.py`` calls them: each worker has its snapshot before its
  first request).

What every engine's ``query`` promises about order (``tests/search/test_engine_contract.py`` and
``tests/search/test_relevance.py``):

- ``relevance`` with words: a match in the name before one in the organisation name before one in the description
  only; among equal name scores, the description's own words (BM25: how often, how rare, how short); then distance
  when there is an origin; then a shuffle seeded by :attr:`Query.seed` (the same for the same question on every
  page and worker; never the name, which put names starting with a digit or "A" first).
- ``relevance`` without words: distance when there is an origin, then the seeded shuffle.
- ``judgement``: judgement first, then as ``relevance``; ``distance``: distance, then the seeded shuffle;
  ``updated``: newest first, then id.
- ``suggestions``: for words that found nothing, the nearest indexed word (edit distance 1 for words of up to 5
  letters, else 2), commonest first; never a stop word (PostgreSQL's english list, :data:`search.suggest.STOP_WORDS`),
  with bounded work per request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import select, update

from registry.db import utcnow
from registry.extensions import db
from registry.indexing import ReindexRequest, set_drainer

from .entries import DirectoryEntry, build_entries, build_entry, listed_setting_ids
from .query import FACETS, SORTS, Hit, PageOutOfRangeError, Query, QueryError, Results, parse_query

logger = logging.getLogger(__name__)

__all__ = ['FACETS', 'SORTS', 'DirectoryEntry', 'DrainReport', 'Hit', 'PageOutOfRangeError', 'Query', 'QueryError',
           'Results', 'build_entries', 'build_entry', 'drain', 'engine', 'init_app', 'parse_query', 'preload', 'search',
           'warm']


def engine():
    """The configured engine: Elasticsearch when ``SEARCH_ENGINE='elasticsearch'`` and a URL is set, else SQL."""
    app = current_app._get_current_object()
    state = app.extensions.setdefault('search', {})
    if 'engine' not in state:
        state['engine'] = _make_engine(app.config)
    return state['engine']


def _make_engine(config):
    from .sql_engine import SqlEngine

    if config.get('SEARCH_ENGINE') == 'elasticsearch':
        if config.get('ELASTICSEARCH_URL'):
            from .es_engine import ElasticsearchEngine

            return ElasticsearchEngine.from_url(config['ELASTICSEARCH_URL'], config['SEARCH_INDEX_ALIAS'])
        logger.warning('SEARCH_ENGINE is elasticsearch but ELASTICSEARCH_URL is not set: using the SQL engine')
    return SqlEngine()


def warm(app: Flask) -> None:
    """Start reading the SQL engine's snapshot in the background now (a no-op for Elasticsearch, or when
    ``SEARCH_SNAPSHOT_REFRESH_SECONDS`` is 0)."""
    with app.app_context():
        from .sql_engine import SqlEngine, start_refresher

        if isinstance(engine(), SqlEngine):
            start_refresher(app)


def preload(app: Flask) -> None:
    """Read the SQL engine's snapshot now, in this process, and close its database connections: for a gunicorn
    master with ``--preload``, whose forked workers then share the snapshot's arrays. Objects made so far are
    moved out of the garbage collector's reach (``gc.freeze``), so collections in the workers do not copy them."""
    import gc

    from .sql_engine import SqlEngine, snapshot_cache

    with app.app_context():
        if isinstance(engine(), SqlEngine):
            snapshot_cache(app).refresh(db.session)
            db.session.remove()
            db.engine.dispose()
    gc.freeze()


def search(query: Query) -> Results:
    """Run a query on the configured engine (raises :class:`QueryError` for a page past the end)."""
    return engine().query(query)


@dataclass
class DrainReport:
    """What one drain did."""

    indexed: int = 0
    removed: int = 0
    failed: int = 0
    requests: int = 0


def _pending(limit: int, skip: set[int]):
    statement = (select(ReindexRequest).where(ReindexRequest.processed_at.is_(None))
                 .order_by(ReindexRequest.id).limit(limit))
    if skip:
        statement = statement.where(ReindexRequest.id.not_in(sorted(skip)))
    if db.session.get_bind().dialect.name == 'postgresql':
        # Several workers can drain at once without handling the same rows.
        statement = statement.with_for_update(skip_locked=True)
    return db.session.scalars(statement).all()


def _apply(target, setting_ids: set[int]) -> tuple[int, int]:
    entries = list(build_entries(setting_ids))
    target.index(entries)
    gone = setting_ids - {entry.id for entry in entries}
    target.remove(gone)
    return len(entries), len(gone)


def drain(limit: int = 500, target=None) -> DrainReport:
    """Index (or remove) the settings of pending reindex requests, mark them processed, and record failures.

    :param limit: requests per batch; drains batches until none are pending (failures are left for next time).
    :param target: the engine to write to (defaults to :func:`engine`).
    """
    target = target or engine()
    report = DrainReport()
    failed: set[int] = set()
    while True:
        requests = _pending(limit, failed)
        if not requests:
            return report
        request_ids = [request.id for request in requests]
        by_setting: dict[int, list[int]] = {}
        for request in requests:
            by_setting.setdefault(request.setting_id, []).append(request.id)
        try:
            indexed, removed = _apply(target, set(by_setting))
            _mark_processed(request_ids)
            db.session.commit()
            report.indexed += indexed
            report.removed += removed
            report.requests += len(request_ids)
        except Exception:
            db.session.rollback()
            logger.exception('Batch reindex failed; retrying settings one at a time')
            failed |= _drain_one_by_one(target, by_setting, report)


def _mark_processed(request_ids: list[int]) -> None:
    db.session.execute(update(ReindexRequest).where(ReindexRequest.id.in_(request_ids))
                       .values(processed_at=utcnow(), attempts=ReindexRequest.attempts + 1, last_error=''))


def _drain_one_by_one(target, by_setting: dict[int, list[int]], report: DrainReport) -> set[int]:
    """Process each setting alone so one bad row does not hold up the rest. Returns the failed request ids."""
    failures: set[int] = set()
    for setting_id, request_ids in by_setting.items():
        try:
            indexed, removed = _apply(target, {setting_id})
            _mark_processed(request_ids)
            db.session.commit()
            report.indexed += indexed
            report.removed += removed
            report.requests += len(request_ids)
        except Exception as exc:
            db.session.rollback()
            failures.update(request_ids)
            report.failed += len(request_ids)
            logger.warning('Could not reindex setting %s: %s', setting_id, exc)
            db.session.execute(update(ReindexRequest).where(ReindexRequest.id.in_(request_ids))
                               .values(attempts=ReindexRequest.attempts + 1,
                                       last_error=f'{type(exc).__name__}: {exc}'[:2000]))
            db.session.commit()
    return failures


def _drain_after_commit() -> None:
    """Best effort after each commit: a failure is logged and left for ``flask search sync`` to retry."""
    try:
        drain()
    except Exception:
        db.session.rollback()
        logger.exception('Draining the reindex outbox failed; run "flask search sync" to retry')


def init_app(app: Flask) -> None:
    """Register the after-commit drainer and the ``flask search`` command group."""
    from . import models  # noqa: F401  (the index tables belong to the metadata)
    from .cli import search_cli

    app.extensions.setdefault('search', {})
    if app.config.get('SEARCH_ENGINE') == 'elasticsearch' and not app.config.get('ELASTICSEARCH_URL'):
        logger.warning('SEARCH_ENGINE is elasticsearch but ELASTICSEARCH_URL is not set: using the SQL engine')
    set_drainer(_drain_after_commit)
    app.cli.add_command(search_cli)


def pending_count() -> int:
    """How many reindex requests are waiting."""
    from sqlalchemy import func

    return db.session.scalar(select(func.count()).select_from(ReindexRequest)
                             .where(ReindexRequest.processed_at.is_(None)))


def check() -> tuple[set[int], set[int]]:
    """Compare the index with the database: (listed but missing from the index, indexed but not listed)."""
    listed = listed_setting_ids()
    indexed = engine().ids()
    return listed - indexed, indexed - listed


def _blueprints():
    """The directory pages and the read-only JSON API (imported last: the views import this package)."""
    from flask import Blueprint

    pages = Blueprint('search', __name__, template_folder='templates')
    json_api = Blueprint('api', __name__, url_prefix='/api/v1')
    return pages, json_api


#: Directory pages (``/directory``) and the JSON API (``/api/v1``), registered by the app factory.
bp, api_bp = _blueprints()

from . import api, views  # noqa: E402,F401
