"""Elasticsearch request bodies, built by pure functions (no client, no app) so tests can pin them as dicts."""

from __future__ import annotations

from registry.geography.distance import to_wgs84

from .query import MARK_END, MARK_START, Query, Words

#: Facet name to the keyword field it counts.
FACET_FIELDS = {
    'provision_type': 'provision_type',
    'lot': 'lot',
    'judgement': 'judgement',
    'region': 'region_code',
    'authority': 'authority_code',
    'needs': 'needs',
    'has_vacancy': 'has_vacancy',
}
#: Name matches count most, then the organisation, then everything else.
TEXT_FIELDS = ['name^3', 'organisation_name^2', 'body']
FACET_SIZE = 200


def words_query(words: Words) -> list[dict]:
    """One clause for the plain words (the last one also as a prefix) and one per quoted phrase."""
    clauses = []
    if words.terms:
        text = ' '.join(words.terms)
        if words.prefix:
            clauses.append({'multi_match': {'query': text, 'type': 'bool_prefix', 'fields': TEXT_FIELDS,
                                            'operator': 'and'}})
        else:
            clauses.append({'multi_match': {'query': text, 'type': 'best_fields', 'fields': TEXT_FIELDS,
                                            'operator': 'and'}})
    for phrase in words.phrases:
        clauses.append({'multi_match': {'query': ' '.join(phrase), 'type': 'phrase', 'fields': TEXT_FIELDS}})
    return clauses


def location_field(query: Query) -> str:
    """The geo_point a query filters and sorts on: exact points only for commissioner and board searches."""
    return 'location' if query.exact_locations else 'public_location'


def plain_filters(query: Query) -> list[dict]:
    """Filters that are not facets: age, sex, local list, distance. They go in ``query.bool.filter``."""
    filters = []
    if query.age is not None:
        filters += [{'range': {'age_min': {'lte': query.age}}}, {'range': {'age_max': {'gte': query.age}}}]
    if query.sex:
        filters.append({'terms': {'sex': [query.sex, 'any']}})
    if query.accepted_by:
        filters.append({'term': {'accepted_by': query.accepted_by}})
    if query.origin is not None and query.radius_m is not None:
        lat, lon = to_wgs84(*query.origin)
        filters.append({'geo_distance': {'distance': f'{query.radius_m:.0f}m',
                                         location_field(query): {'lat': round(lat, 6), 'lon': round(lon, 6)}}})
    return filters


def facet_filters(query: Query) -> dict[str, list[dict]]:
    """Filters that are also facets, keyed by facet: applied as ``post_filter`` so each facet can drop its own."""
    filters: dict[str, list[dict]] = {}
    if query.provision_types:
        filters['provision_type'] = [{'terms': {'provision_type': list(query.provision_types)}}]
    if query.lots:
        filters['lot'] = [{'terms': {'lot': list(query.lots)}}]
    if query.min_judgement:
        filters['judgement'] = [{'range': {'judgement_rank': {'gte': query.judgement_rank}}}]
    if query.region_codes:
        filters['region'] = [{'terms': {'region_code': list(query.region_codes)}}]
    if query.authority_codes:
        filters['authority'] = [{'terms': {'authority_code': list(query.authority_codes)}}]
    if query.needs:
        filters['needs'] = [{'term': {'needs': need}} for need in query.needs]
    if query.has_vacancy is not None:
        filters['has_vacancy'] = [{'term': {'has_vacancy': query.has_vacancy}}]
    return filters


def sort_clause(query: Query, has_words: bool) -> list:
    """The ``sort`` list for the query's sort order; ties always fall back to name then id."""
    tail = [{'name.sort': 'asc'}, {'id': 'asc'}]
    relevance = ['_score'] if has_words else []
    if query.sort == 'distance' and query.origin is not None:
        lat, lon = to_wgs84(*query.origin)
        return [{'_geo_distance': {location_field(query): {'lat': round(lat, 6), 'lon': round(lon, 6)},
                                   'order': 'asc', 'unit': 'm', 'distance_type': 'arc'}}, {'id': 'asc'}]
    if query.sort == 'judgement':
        return [{'judgement_rank': 'desc'}, *relevance, *tail]
    if query.sort == 'updated':
        return [{'updated_at': 'desc'}, {'id': 'asc'}]
    return [*relevance, *tail]


def build_query(query: Query, page_size: int | None = None) -> dict:
    """The search body for a Query: words and plain filters in ``query``, facet filters in ``post_filter``.

    Each facet's aggregation is wrapped in a filter holding every facet filter except its own, so counts show
    what choosing another value would give.
    """
    page_size = page_size or query.page_size
    words = query.parsed_words
    bool_query: dict = {}
    must = words_query(words)
    if must:
        bool_query['must'] = must
    else:
        bool_query['must'] = [{'match_all': {}}]
    filters = plain_filters(query)
    if filters:
        bool_query['filter'] = filters
    by_facet = facet_filters(query)

    body: dict = {
        'query': {'bool': bool_query},
        'from': (query.page - 1) * page_size,
        'size': page_size,
        'sort': sort_clause(query, bool(must) and not words.empty),
        'track_total_hits': True,
    }
    post_filter = [clause for clauses in by_facet.values() for clause in clauses]
    if post_filter:
        body['post_filter'] = {'bool': {'filter': post_filter}}
    aggs = {}
    for name in query.facets:
        others = [clause for key, clauses in by_facet.items() if key != name for clause in clauses]
        aggs[name] = {'filter': {'bool': {'filter': others}} if others else {'match_all': {}},
                      'aggs': {'values': {'terms': {'field': FACET_FIELDS[name], 'size': FACET_SIZE}}}}
    if aggs:
        body['aggs'] = aggs
    if not words.empty and query.highlight:
        body['highlight'] = {
            'pre_tags': [MARK_START], 'post_tags': [MARK_END],
            'fields': {'name': {'number_of_fragments': 0}, 'organisation_name': {'number_of_fragments': 0},
                       'body': {'fragment_size': 200, 'number_of_fragments': 1}},
        }
    if not words.empty:
        body['suggest'] = {
            'text': ' '.join(words.all_terms()),
            'words': {'term': {'field': 'vocabulary', 'suggest_mode': 'missing', 'min_word_length': 3}},
        }
    return body
