"""The Elasticsearch engine: an explicit mapping, bulk writes that survive a busy cluster, and an alias that moves
only when a rebuilt index is complete.

Supported servers are Elasticsearch 8.x and 9.x, through the 8.x Python client (``requirements.in``): it sends
``compatible-with=8``, which 8.x expects and 9.x accepts, whereas the 9.x client's ``compatible-with=9`` is refused
by every 8.x server. OpenSearch is not supported: the official client refuses to talk to it.

Nothing here creates an index except :meth:`ElasticsearchEngine.create_index`, which only ``flask search reindex``
calls: a search against a missing index is an error, never a reason to make one.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from registry.geography.distance import to_wgs84

from .entries import DirectoryEntry, entry_hash
from .es_query import build_query, by_id_body, count_body, suggestions_from, write_action
from .query import (
    MAX_RESULT_WINDOW,
    Hit,
    IndexWriteError,
    Query,
    Results,
    SearchUnavailableError,
    check_page,
    render_highlight,
)

logger = logging.getLogger(__name__)

MAPPING_PATH = Path(__file__).parent / 'mappings' / 'settings.json'
#: Index names are the alias, a dash and the UTC time the index was created, to the microsecond.
_STAMP = '%Y%m%d%H%M%S%f'
#: Documents per bulk request.
BULK_CHUNK = 500
#: Sort values read per request when walking the index in id order.
WALK_SIZE = 5000


@cache
def mapping() -> dict:
    """The index settings and mapping: the single record of what is searched, filtered and counted."""
    return json.loads(MAPPING_PATH.read_text(encoding='utf-8'))


def to_document(entry: DirectoryEntry) -> dict:
    """The indexed document: the entry, its search text and vacancy flag, its public grid reference, and WGS84
    points for maps (distances never use them)."""
    doc = entry.to_dict()
    public_easting, public_northing = entry.public_point
    lat, lon = to_wgs84(entry.easting, entry.northing)
    public_lat, public_lon = to_wgs84(public_easting, public_northing)
    doc.update(body=entry.search_text(), has_vacancy=entry.has_vacancy, standing_rank=0 if entry.is_qualified else 1,
               public_easting=public_easting, public_northing=public_northing,
               location={'lat': round(lat, 6), 'lon': round(lon, 6)},
               public_location={'lat': round(public_lat, 6), 'lon': round(public_lon, 6)})
    return doc


def client_from_config(config) -> object:
    """An ``Elasticsearch`` client for the registry's settings: nodes or a Cloud ID, an API key or a user name and
    password, a CA certificate, and short timeouts (429 is retried by the engine, with backoff, not here)."""
    from elasticsearch import Elasticsearch

    kwargs: dict = {
        'request_timeout': float(config.get('ELASTICSEARCH_TIMEOUT', 5.0)),
        'max_retries': int(config.get('ELASTICSEARCH_MAX_RETRIES', 1)),
        'retry_on_timeout': False,
        'retry_on_status': (502, 503, 504),
    }
    if config.get('ELASTICSEARCH_CLOUD_ID'):
        kwargs['cloud_id'] = config['ELASTICSEARCH_CLOUD_ID']
    else:
        kwargs['hosts'] = [url.strip() for url in config['ELASTICSEARCH_URL'].split(',') if url.strip()]
    if api_key := config.get('ELASTICSEARCH_API_KEY'):
        # "id:api_key", or the base64 "encoded" form Kibana shows (which has no colon).
        kwargs['api_key'] = tuple(api_key.split(':', 1)) if ':' in api_key else api_key
    elif config.get('ELASTICSEARCH_USERNAME'):
        kwargs['basic_auth'] = (config['ELASTICSEARCH_USERNAME'], config.get('ELASTICSEARCH_PASSWORD', ''))
    if config.get('ELASTICSEARCH_CA_CERTS'):
        kwargs['ca_certs'] = config['ELASTICSEARCH_CA_CERTS']
    if not config.get('ELASTICSEARCH_VERIFY_CERTS', True):
        kwargs['verify_certs'] = False
    return Elasticsearch(**kwargs)


def describe_failure(exc: Exception) -> str:
    """A one-line reason for the log and the outbox: the status, Elasticsearch's error type and reason."""
    from elasticsearch import ApiError, ConnectionError, ConnectionTimeout, UnsupportedProductError

    if isinstance(exc, UnsupportedProductError):
        return 'the server is not Elasticsearch (OpenSearch and other look-alikes are not supported)'
    if isinstance(exc, ConnectionTimeout):
        return f'no answer in time ({exc.message})'
    if isinstance(exc, ConnectionError):
        return f'cannot connect ({exc.message})'
    if isinstance(exc, ApiError):
        return f'{exc.meta.status} {_error_text(exc.body)}'
    return f'{type(exc).__name__}: {exc}'


def _error_text(body) -> str:
    """``type: reason`` from an Elasticsearch error body (with the innermost ``caused_by`` reason, if any)."""
    error = body.get('error') if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return str(error or body)[:300]
    text = f"{error.get('type', 'error')}: {error.get('reason', '')}"
    cause = error.get('caused_by')
    while isinstance(cause, dict) and cause.get('caused_by'):
        cause = cause['caused_by']
    if isinstance(cause, dict) and cause.get('reason'):
        text += f" ({cause.get('type', '')}: {cause['reason']})"
    return text[:500]


class ElasticsearchEngine:
    """Search through an Elasticsearch index reached by an alias."""

    name = 'elasticsearch'
    #: Rebuilds load a new index beside the live one (see ``search.sync.rebuild``).
    builds_beside = True

    def __init__(self, client, alias: str, *, refresh: bool | str = False, max_result_window: int = MAX_RESULT_WINDOW,
                 bulk_timeout: float = 30.0, bulk_retries: int = 3, retry_backoff: float = 0.5,
                 keep_previous_hours: float = 72.0, sleep: Callable[[float], None] = time.sleep):
        self.client = client
        self.alias = alias
        #: Tests pass ``'wait_for'`` so a write is searchable as soon as it returns.
        self.refresh = refresh
        #: Must not exceed the index's ``max_result_window`` (``mappings/settings.json``).
        self.max_result_window = max_result_window
        self.bulk_timeout = bulk_timeout
        #: Tries after a 429 (the cluster is busy), waiting retry_backoff, then twice as long each time.
        self.bulk_retries = bulk_retries
        self.retry_backoff = retry_backoff
        #: Previous indices are kept this long after they were replaced, for ``flask search rollback``.
        self.keep_previous = timedelta(hours=keep_previous_hours)
        #: Documents read per request when walking the whole index (``ids()``, ``hashes()``).
        self.walk_size = WALK_SIZE
        self._sleep = sleep

    @classmethod
    def from_config(cls, config, **kwargs) -> ElasticsearchEngine:
        """The engine for the app's configuration (see the README's Elasticsearch section)."""
        return cls(client_from_config(config), config['SEARCH_INDEX_ALIAS'],
                   bulk_timeout=float(config.get('ELASTICSEARCH_BULK_TIMEOUT', 30.0)),
                   bulk_retries=int(config.get('ELASTICSEARCH_BULK_RETRIES', 3)),
                   keep_previous_hours=float(config.get('ELASTICSEARCH_KEEP_PREVIOUS_HOURS', 72.0)), **kwargs)

    @classmethod
    def from_url(cls, url: str, alias: str, **kwargs) -> ElasticsearchEngine:
        return cls.from_config({'ELASTICSEARCH_URL': url, 'SEARCH_INDEX_ALIAS': alias}, **kwargs)

    def _call(self, what: str, call: Callable[[], object]):
        """Run one client call, turning every failure to get an answer into :class:`SearchUnavailableError`."""
        from elasticsearch import ApiError, TransportError

        try:
            return call()
        except (ApiError, TransportError) as exc:
            raise SearchUnavailableError(f'Elasticsearch {what}: {describe_failure(exc)}') from exc

    def _client(self, timeout: float | None = None, retries: int | None = None):
        options = {}
        if timeout is not None:
            options['request_timeout'] = timeout
        if retries is not None:
            options['max_retries'] = retries
        return self.client.options(**options) if options else self.client

    # -- index management (only ``flask search reindex | rollback | prune`` call these) -------------------------

    def new_index_name(self, now: datetime | None = None) -> str:
        return f'{self.alias}-{(now or datetime.now(UTC)):{_STAMP}}'

    def create_index(self) -> str:
        """Create a new, empty index with the mapping (not yet behind the alias) and return its name."""
        name = self.new_index_name()
        body = mapping()
        self._call('create index', lambda: self.client.indices.create(
            index=name, settings=body['settings'], mappings=body['mappings']))
        return name

    def live_indices(self) -> list[str]:
        """The indices behind the alias (one, unless something outside the registry moved it)."""
        from elasticsearch import NotFoundError

        try:
            response = self._call('read alias', lambda: self.client.indices.get_alias(name=self.alias))
        except SearchUnavailableError as exc:
            if isinstance(exc.__cause__, NotFoundError):
                return []
            raise
        return sorted(response.body)

    def managed_indices(self) -> dict[str, datetime]:
        """Every index this alias's rebuilds made, with when it was created (from its name)."""
        pattern = re.compile(re.escape(self.alias) + r'-(\d{20})$')
        response = self._call('list indices', lambda: self.client.indices.get_alias(
            index=f'{self.alias}-*', ignore_unavailable=True, allow_no_indices=True))
        found = {}
        for name in response.body:
            if match := pattern.match(name):
                found[name] = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)
        return dict(sorted(found.items(), key=lambda item: item[1]))

    def point_alias(self, index: str) -> list[str]:
        """Move the alias to ``index`` in one atomic call; returns the indices it left."""
        previous = [name for name in self.live_indices() if name != index]
        actions = [{'remove': {'index': name, 'alias': self.alias}} for name in previous]
        actions.append({'add': {'index': index, 'alias': self.alias}})
        self._call('move alias', lambda: self.client.indices.update_aliases(actions=actions))
        return previous

    def drop_index(self, index: str) -> None:
        """Delete one index by its exact name (never the live one)."""
        if index in self.live_indices():
            raise ValueError(f'{index} is behind the alias {self.alias}; move the alias first')
        self._call('delete index', lambda: self.client.indices.delete(index=index))

    def refresh_index(self, index: str | None = None) -> None:
        self._call('refresh', lambda: self.client.indices.refresh(index=index or self.alias))

    def previous_index(self) -> str | None:
        """The newest index older than the live one: where ``flask search rollback`` moves the alias."""
        live = self.live_indices()
        managed = self.managed_indices()
        if not live or live[-1] not in managed:
            return None
        older = [name for name, created in managed.items() if created < managed[live[-1]]]
        return older[-1] if older else None

    def prune(self, now: datetime | None = None) -> list[str]:
        """Delete indices this alias no longer needs: each is kept for ``keep_previous`` after the next index was
        created (so it can be rolled back to), and a build that never went live for that long after it began."""
        now = now or datetime.now(UTC)
        live = set(self.live_indices())
        managed = list(self.managed_indices().items())
        dropped = []
        for position, (name, created) in enumerate(managed):
            if name in live:
                continue
            replaced_at = managed[position + 1][1] if position + 1 < len(managed) else created
            if now - replaced_at >= self.keep_previous:
                self._call('delete index', lambda name=name: self.client.indices.delete(index=name))
                dropped.append(name)
        return dropped

    # -- writing ---------------------------------------------------------------------------------------------

    def index(self, entries: Iterable[DirectoryEntry], *, version: int | None = None,
              deadline: float | None = None, target: str | None = None) -> int:
        """Add or replace entries through the alias (or in ``target``, an index being built).

        :param version: the write version from the index lock; Elasticsearch keeps the highest it has seen.
        :param deadline: a ``time.monotonic()`` time after which no request is started (after-commit drains).
        :raises IndexWriteError: naming the entries Elasticsearch refused, with its reasons.
        :raises SearchUnavailableError: when the cluster did not take the request at all.
        """
        destination = target or self.alias
        actions = [(write_action('index', entry.id, destination, version), to_document(entry)) for entry in entries]
        failures = self._bulk(actions, deadline, require_alias=target is None)
        if failures:
            raise IndexWriteError(failures)
        return len(actions)

    def remove(self, ids: Iterable[int], *, version: int | None = None, deadline: float | None = None,
               target: str | None = None) -> None:
        """Delete entries by id; ids already gone are fine. Same parameters and errors as :meth:`index`."""
        destination = target or self.alias
        actions = [(write_action('delete', entry_id, destination, version), None) for entry_id in sorted(set(ids))]
        failures = self._bulk(actions, deadline, require_alias=target is None)
        if failures:
            raise IndexWriteError(failures)

    def _bulk(self, actions: list[tuple[dict, dict | None]], deadline: float | None, *,
              require_alias: bool) -> dict[int, str]:
        """Send actions in chunks, retrying those refused with 429 after a growing wait; returns the failures."""
        failures: dict[int, str] = {}
        for start in range(0, len(actions), BULK_CHUNK):
            failures.update(self._bulk_chunk(actions[start:start + BULK_CHUNK], deadline, require_alias))
        return failures

    def _bulk_chunk(self, pending: list[tuple[dict, dict | None]], deadline: float | None,
                    require_alias: bool) -> dict[int, str]:
        from elasticsearch import ApiError, TransportError

        failures: dict[int, str] = {}
        params = {'refresh': self.refresh} if self.refresh else {}
        if require_alias:
            # Never let a write create an index named like the alias (which would block the alias for good).
            params['require_alias'] = True
        attempt = 0
        while pending:
            timeout = self._time_left(deadline)
            operations = [line for action, source in pending for line in ((action,) if source is None
                                                                        else (action, source))]
            busy = None
            try:
                response = self._client(timeout, retries=0 if deadline else None).bulk(
                    operations=operations, **params)
            except (ApiError, TransportError) as exc:
                if not isinstance(exc, ApiError) or exc.meta.status != 429:
                    raise SearchUnavailableError(f'Elasticsearch bulk write: {describe_failure(exc)}') from exc
                busy, retry = describe_failure(exc), pending
            else:
                retry = []
                for (action, source), item in zip(pending, response['items'], strict=True):
                    op, result = next(iter(item.items()))
                    status = int(result.get('status', 500))
                    # 404: deleting what is already gone; 409: a newer version is already there.
                    if status < 300 or status == 409 or (status == 404 and op == 'delete'):
                        continue
                    reason = f"{status} {_error_text({'error': result.get('error')})}"
                    if status == 429:
                        retry.append((action, source))
                        busy = reason
                    else:
                        failures[int(result['_id'])] = reason
            if not retry:
                break
            attempt += 1
            wait = min(self.retry_backoff * 2 ** (attempt - 1), 30.0)
            if attempt > self.bulk_retries or (deadline is not None and time.monotonic() + wait >= deadline):
                for action, _source in retry:
                    meta = next(iter(action.values()))
                    failures[int(meta['_id'])] = f'{busy} (still refused after {attempt} tries; left for retry)'
                break
            logger.info('Elasticsearch is busy (429); retrying %d actions in %.1f s', len(retry), wait)
            self._sleep(wait)
            pending = retry
        return failures

    def _time_left(self, deadline: float | None) -> float:
        if deadline is None:
            return self.bulk_timeout
        left = deadline - time.monotonic()
        if left <= 0.05:
            raise SearchUnavailableError('Elasticsearch bulk write: no time left for it; left for the worker')
        return min(self.bulk_timeout, left)

    def load(self, target: str, entries: Iterable[DirectoryEntry], *, version: int | None,
             progress: Callable[[int], None] | None = None) -> int:
        """Write every entry into ``target`` (an index being built), in chunks; every refusal is an error."""
        written, batch = 0, []
        for entry in entries:
            batch.append(entry)
            if len(batch) >= BULK_CHUNK:
                written += self.index(batch, version=version, target=target)
                if progress:
                    progress(len(batch))
                batch = []
        if batch:
            written += self.index(batch, version=version, target=target)
            if progress:
                progress(len(batch))
        return written

    # -- reading ---------------------------------------------------------------------------------------------

    def count(self, *, qualified_only: bool = False) -> int:
        """How many entries the index holds (only those on the national list, for public counts)."""
        body = {'query': {'term': {'standing': 'qualified'}}} if qualified_only else None
        return int(self._call('count', lambda: self.client.count(index=self.alias, body=body))['count'])

    def _walk(self, source: bool | dict) -> Iterator[dict]:
        """Every document in id order, :attr:`walk_size` at a time (``search_after`` on ``id``)."""
        size, after = self.walk_size, 0
        while True:
            hits = self._search(by_id_body(size, after_id=after, source=source), 'read')['hits']['hits']
            yield from hits
            if len(hits) < size:
                return
            after = int(hits[-1]['sort'][0])

    def ids(self) -> set[int]:
        """Every indexed id."""
        return {int(hit['_id']) for hit in self._walk(False)}

    def hashes(self) -> dict[int, str]:
        """Every indexed id with the hash of the entry stored for it, for ``flask search check``."""
        return {int(hit['_id']): entry_hash(DirectoryEntry.from_dict(hit['_source']))
                for hit in self._walk({'excludes': ['body']})}

    def get(self, entry_id: int) -> DirectoryEntry | None:
        from elasticsearch import NotFoundError

        try:
            response = self._call('get', lambda: self.client.get(index=self.alias, id=str(entry_id)))
        except SearchUnavailableError as exc:
            body = getattr(exc.__cause__, 'body', None)
            if isinstance(exc.__cause__, NotFoundError) and isinstance(body, dict) and 'found' in body:
                return None  # the index is there; the document is not
            raise
        return DirectoryEntry.from_dict(response['_source'])

    def export(self, *, after_id: int = 0, offset: int = 0, size: int = 100) -> list[DirectoryEntry]:
        """Entries in id order after ``after_id``, skipping ``offset`` of them: reaches every entry, past the result
        window too (deep offsets walk the ids with ``search_after`` first, reading sort values only)."""
        if after_id == 0 and offset + size <= self.max_result_window:
            body = by_id_body(size, offset=offset)
        else:
            while offset:
                step = min(offset, self.max_result_window)
                hits = self._search(by_id_body(step, after_id=after_id, source=False), 'export')['hits']['hits']
                if len(hits) < step:
                    return []
                after_id, offset = int(hits[-1]['sort'][0]), offset - step
            body = by_id_body(size, after_id=after_id)
        hits = self._search(body, 'export')['hits']['hits']
        return [DirectoryEntry.from_dict(hit['_source']) for hit in hits]

    def _search(self, body: dict, what: str = 'search') -> dict:
        kwargs = {('from_' if key == 'from' else 'source' if key == '_source' else key): value
                  for key, value in body.items()}
        return self._call(what, lambda: self.client.search(index=self.alias, **kwargs)).body

    def query(self, query: Query) -> Results:
        """Send :func:`search.es_query.build_query`'s body and turn the response into Results.

        A page reaching past the result window is checked against the total first (a ``_count``), so it is
        answered with the same messages as on the SQL engine, never sent to fail.
        """
        body = build_query(query)
        if body['from'] + body['size'] > self.max_result_window:
            total = int(self._call('count', lambda: self.client.count(index=self.alias,
                                                                       **count_body(query)))['count'])
            check_page(query, total, self.max_result_window)
        response = self._search(body)
        total = int(response['hits']['total']['value'])
        check_page(query, total, self.max_result_window)
        hits = []
        for raw in response['hits']['hits']:
            entry = DirectoryEntry.from_dict(raw['_source'])
            highlights = {('description' if field == 'body' else field): str(render_highlight(' '.join(fragments)))
                          for field, fragments in (raw.get('highlight') or {}).items()}
            hits.append(Hit(entry=entry, score=float(raw.get('_score') or 0.0), distance_m=query.distance_to(entry),
                            highlights=highlights))
        facets = {}
        for name, agg in (response.get('aggregations') or {}).items():
            counts = {}
            for bucket in agg['values']['buckets']:
                key = bucket.get('key_as_string', bucket['key'])
                counts[str(key).lower() if name == 'has_vacancy' else str(key)] = bucket['doc_count']
            facets[name] = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        suggestions = suggestions_from(response) if total == 0 else {}
        return Results(hits=hits, total=total, page=query.page, page_size=query.page_size, facets=facets,
                       suggestions=suggestions)
