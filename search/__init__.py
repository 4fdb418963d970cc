"""Directory search: one interface, two engines (SQL by default, Elasticsearch for scale), kept in step by an outbox.

Public API (nothing outside this package imports it except the app factory):

- :func:`engine` returns the configured engine: ``index(entries)``, ``remove(ids)``, ``query(Query) -> Results``,
  ``count()``, ``ids()``, ``hashes()``, ``get(id)``, ``export(after_id=, offset=, size=)``; the SQL engine also
  ``reindex(entries, progress)``, Elasticsearch the index management ``flask search`` uses.
- :func:`search` parses nothing; it runs a :class:`Query` on the configured engine.
- :func:`parse_query` turns request arguments into a :class:`Query` or raises :class:`QueryError`.
- :func:`drain` pushes pending ``ReindexRequest`` rows to the index (see :mod:`search.sync` for the lock that keeps
  it from drifting); :func:`rebuild`, :func:`compare` and :func:`repair` serve ``flask search``.
- :func:`init_app` registers the after-commit drainer, the "search unavailable" error page and the commands.
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
import time

from flask import Flask, current_app, jsonify, render_template, request

from registry.extensions import db
from registry.indexing import set_drainer

from .entries import DirectoryEntry, build_entries, build_entry, listed_setting_ids
from .query import (
    FACETS,
    SORTS,
    DeepPageError,
    Hit,
    PageOutOfRangeError,
    Query,
    QueryError,
    Results,
    SearchUnavailableError,
    parse_query,
)
from .sync import DrainReport, compare, drain, pending_count, rebuild, repair

logger = logging.getLogger(__name__)

__all__ = ['FACETS', 'SORTS', 'DeepPageError', 'DirectoryEntry', 'DrainReport', 'Hit', 'PageOutOfRangeError', 'Query',
           'QueryError', 'Results', 'SearchUnavailableError', 'build_entries', 'build_entry', 'compare', 'drain',
           'engine', 'index_alias', 'init_app', 'listed_setting_ids', 'parse_query', 'pending_count', 'rebuild',
           'repair', 'preload', 'search', 'warm']

#: What people are told when the engine cannot answer (the reason goes to the log only).
UNAVAILABLE_MESSAGE = 'Search is temporarily unavailable. Try again in a few minutes.'
#: Seconds a client should wait before trying again.
RETRY_AFTER = 30


def engine():
    """The configured engine: Elasticsearch when ``SEARCH_ENGINE='elasticsearch'`` and a URL or Cloud ID is set,
    else SQL."""
    app = current_app._get_current_object()
    state = app.extensions.setdefault('search', {})
    if 'engine' not in state:
        state['engine'] = _make_engine(app.config)
    return state['engine']


def index_alias(config) -> str:
    """The alias the directory reads: ``SEARCH_INDEX_ALIAS``, or one per environment (``registry-production-settings``)
    so that environments sharing a cluster never write to each other's index."""
    return (config.get('SEARCH_INDEX_ALIAS') or f"registry-{config.get('ENV_NAME') or 'development'}-settings").lower()


def _make_engine(config):
    from .sql_engine import SqlEngine

    if config.get('SEARCH_ENGINE') == 'elasticsearch':
        if config.get('ELASTICSEARCH_URL') or config.get('ELASTICSEARCH_CLOUD_ID'):
            from .es_engine import ElasticsearchEngine

            return ElasticsearchEngine.from_config({**config, 'SEARCH_INDEX_ALIAS': index_alias(config)})
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
    """Run a query on the configured engine.

    :raises PageOutOfRangeError: for a page past the end (:class:`DeepPageError` past the result window).
    :raises SearchUnavailableError: when the engine cannot answer (shown as a 503 page or JSON error).
    """
    return engine().query(query)


def _drain_after_commit() -> None:
    """Best effort after each commit, within ``SEARCH_AFTER_COMMIT_SECONDS``: what is left (or failed) waits for
    ``flask search worker`` or ``flask search sync``, and is never the request's problem."""
    seconds = float(current_app.config.get('SEARCH_AFTER_COMMIT_SECONDS', 2.0))
    if seconds <= 0:
        return
    try:
        drain(deadline=time.monotonic() + seconds)
    except Exception:
        db.session.rollback()
        logger.exception('Draining the reindex outbox failed; "flask search worker" or "flask search sync" retries')


def _unavailable(error: SearchUnavailableError):
    """503 with Retry-After: JSON on the API, a GOV.UK page elsewhere. The reason is logged, never shown."""
    logger.error('Search unavailable for %s: %s', request.path, error.reason)
    db.session.rollback()
    headers = {'Retry-After': str(RETRY_AFTER)}
    if request.path.startswith('/api/'):
        return jsonify({'errors': {'search': UNAVAILABLE_MESSAGE}}), 503, headers
    return render_template('search/unavailable.html', message=UNAVAILABLE_MESSAGE), 503, headers


def init_app(app: Flask) -> None:
    """Register the after-commit drainer, the "search unavailable" error page and the ``flask search`` commands."""
    from . import models  # noqa: F401  (the index tables belong to the metadata)
    from .cli import search_cli

    app.extensions.setdefault('search', {})
    if app.config.get('SEARCH_ENGINE') == 'elasticsearch' and not (app.config.get('ELASTICSEARCH_URL')
                                                                    or app.config.get('ELASTICSEARCH_CLOUD_ID')):
        logger.warning('SEARCH_ENGINE is elasticsearch but ELASTICSEARCH_URL is not set: using the SQL engine')
    set_drainer(_drain_after_commit, full_drainer=drain)
    app.register_error_handler(SearchUnavailableError, _unavailable)
    app.cli.add_command(search_cli)


def _blueprints():
    """The directory pages and the read-only JSON API (imported last: the views import this package)."""
    from flask import Blueprint

    pages = Blueprint('search', __name__, template_folder='templates')
    json_api = Blueprint('api', __name__, url_prefix='/api/v1')
    return pages, json_api


#: Directory pages (``/directory``) and the JSON API (``/api/v1``), registered by the app factory.
bp, api_bp = _blueprints()

from . import api, views  # noqa: E402,F401
