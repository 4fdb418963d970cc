"""The Elasticsearch engine: explicit mapping, bulk indexing and an alias swapped on reindex for zero downtime."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from registry.geography.distance import to_wgs84

from .entries import DirectoryEntry
from .es_query import build_query
from .query import Hit, PageOutOfRangeError, Query, Results, render_highlight

MAPPING_PATH = Path(__file__).parent / 'mappings' / 'settings.json'


@cache
def mapping() -> dict:
    """The index settings and mapping: the single record of what is searched, filtered and counted."""
    return json.loads(MAPPING_PATH.read_text(encoding='utf-8'))


def to_document(entry: DirectoryEntry) -> dict:
    """The indexed document: the entry plus the search text, vacancy flag, and exact and public WGS84 points."""
    doc = entry.to_dict()
    lat, lon = to_wgs84(entry.easting, entry.northing)
    public_lat, public_lon = to_wgs84(*entry.public_point)
    doc.update(body=entry.search_text(), has_vacancy=entry.has_vacancy,
               location={'lat': round(lat, 6), 'lon': round(lon, 6)},
               public_location={'lat': round(public_lat, 6), 'lon': round(public_lon, 6)})
    return doc


class ElasticsearchEngine:
    """Search through an Elasticsearch index reached by an alias."""

    name = 'elasticsearch'

    def __init__(self, client, alias: str, refresh: bool | str = False):
        self.client = client
        self.alias = alias
        #: Tests pass ``'wait_for'`` so a write is searchable as soon as it returns.
        self.refresh = refresh

    @classmethod
    def from_url(cls, url: str, alias: str, **kwargs) -> ElasticsearchEngine:
        from elasticsearch import Elasticsearch

        return cls(Elasticsearch(url, request_timeout=30), alias, **kwargs)

    # -- index management ----------------------------------------------------------------------------------

    def new_index_name(self) -> str:
        return f'{self.alias}-{datetime.now(UTC):%Y%m%d%H%M%S%f}'

    def ensure_index(self) -> None:
        """Create a first index behind the alias if there is none yet."""
        if not self.client.indices.exists_alias(name=self.alias):
            name = self.new_index_name()
            self.client.indices.create(index=name, **mapping())
            self.client.indices.put_alias(index=name, name=self.alias)

    def _actions(self, entries: Iterable[DirectoryEntry], index: str,
                 progress: Callable[[int], None] | None = None) -> Iterator[dict]:
        for entry in entries:
            if progress:
                progress(1)
            yield {'_op_type': 'index', '_index': index, '_id': str(entry.id), '_source': to_document(entry)}

    def index(self, entries: Iterable[DirectoryEntry]) -> int:
        """Add or replace entries with one bulk request stream."""
        from elasticsearch.helpers import bulk

        self.ensure_index()
        written, _errors = bulk(self.client, self._actions(entries, self.alias), refresh=self.refresh)
        return written

    def remove(self, ids: Iterable[int]) -> None:
        """Delete entries by id; ids already gone are fine."""
        from elasticsearch.helpers import bulk

        actions = [{'_op_type': 'delete', '_index': self.alias, '_id': str(entry_id)} for entry_id in ids]
        if not actions or not self.client.indices.exists_alias(name=self.alias):
            return
        _ok, errors = bulk(self.client, actions, refresh=self.refresh, raise_on_error=False)
        real = [error for error in errors if error.get('delete', {}).get('status') != 404]
        if real:
            raise RuntimeError(f'Elasticsearch could not delete {len(real)} entries: {real[:3]}')

    def clear(self) -> None:
        """Empty the index (keeps the alias and mapping)."""
        if self.client.indices.exists_alias(name=self.alias):
            self.client.delete_by_query(index=self.alias, query={'match_all': {}}, refresh=True, conflicts='proceed')

    def reindex(self, entries: Iterable[DirectoryEntry], progress: Callable[[int], None] | None = None) -> int:
        """Load a new dated index, then swap the alias to it in one atomic call and delete the old ones."""
        from elasticsearch.helpers import bulk

        name = self.new_index_name()
        self.client.indices.create(index=name, **mapping())
        written, _errors = bulk(self.client, self._actions(entries, name, progress), refresh=True)
        old = []
        if self.client.indices.exists_alias(name=self.alias):
            old = list(self.client.indices.get_alias(name=self.alias).keys())
        actions = [{'remove': {'index': index, 'alias': self.alias}} for index in old]
        actions.append({'add': {'index': name, 'alias': self.alias}})
        self.client.indices.update_aliases(actions=actions)
        for index in old:
            self.client.indices.delete(index=index)
        return written

    # -- reading -------------------------------------------------------------------------------------------

    def count(self) -> int:
        if not self.client.indices.exists_alias(name=self.alias):
            return 0
        return int(self.client.count(index=self.alias)['count'])

    def ids(self) -> set[int]:
        """Every indexed id (scrolls through the index; used by ``flask search check``)."""
        from elasticsearch.helpers import scan

        if not self.client.indices.exists_alias(name=self.alias):
            return set()
        return {int(hit['_id']) for hit in scan(self.client, index=self.alias, query={'query': {'match_all': {}}},
                                               _source=False)}

    def get(self, entry_id: int) -> DirectoryEntry | None:
        from elasticsearch import NotFoundError

        try:
            source = self.client.get(index=self.alias, id=str(entry_id))['_source']
        except NotFoundError:
            return None
        return DirectoryEntry.from_dict(source)

    def query(self, query: Query) -> Results:
        """Send :func:`search.es_query.build_query`'s body and turn the response into Results."""
        self.ensure_index()
        body = build_query(query)
        response = self.client.search(index=self.alias, body=body)
        total = int(response['hits']['total']['value'])
        pages = max(1, math.ceil(total / query.page_size))
        if query.page > pages:
            raise PageOutOfRangeError(query.page, pages)
        hits = []
        for raw in response['hits']['hits']:
            entry = DirectoryEntry.from_dict(raw['_source'])
            distance_m = query.distance_to(entry)
            highlights = {('description' if field == 'body' else field): str(render_highlight(' '.join(fragments)))
                          for field, fragments in (raw.get('highlight') or {}).items()}
            hits.append(Hit(entry=entry, score=float(raw.get('_score') or 0.0), distance_m=distance_m,
                            highlights=highlights))
        facets = {}
        for name, agg in (response.get('aggregations') or {}).items():
            counts = {}
            for bucket in agg['values']['buckets']:
                key = bucket.get('key_as_string', bucket['key'])
                counts[str(key).lower() if name == 'has_vacancy' else str(key)] = bucket['doc_count']
            facets[name] = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        suggestions = {}
        if total == 0:
            for item in (response.get('suggest') or {}).get('words', []):
                if item.get('options'):
                    suggestions[item['text']] = item['options'][0]['text']
        return Results(hits=hits, total=total, page=query.page, page_size=query.page_size, facets=facets,
                       suggestions=suggestions)
