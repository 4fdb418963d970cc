"""Elasticsearch request bodies, built by pure functions (no client, no app) so tests can pin them as dicts.

They follow the SQL engine's rules, so both engines find, count, measure and order the same:

- every word must occur in some field, not all in one: ``name``, ``organisation_name`` and ``body`` are copied into
  ``all_text``, which the words must all match (the unfinished last word as a prefix, each quoted phrase within one
  field); the two names are matched again only for ranking;
- relevance is ``1 + 10 × name score + 4 × organisation score`` (the weights of :mod:`search.names`), so a match in a
  name always outranks a match in the description only; then the description's own words (BM25 over ``body`` at a
  hundredth of the weight, in practice well under what any name match adds, so it orders entries within
  a tier, as the SQL engine's second key does); ties go by distance when there is an origin, then by the SQL
  engine's shuffle seeded by the query (:attr:`search.query.Query.seed`), never by name, then id;
- distances are British National Grid metres, as everywhere else in the service: a radius is a box on the easting
  and northing and then the exact circle (a script), and the distance order is the same squared distance; the
  WGS84 points in the document are there for maps, never for filtering;
- paging is checked against the total before a page past ``index.max_result_window`` is asked for, and exports
  page by id with ``search_after``.
"""

from __future__ import annotations

from .query import MARK_END, MARK_START, Query, Words, closest_term

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
#: The combined field every word must match (``copy_to`` from the name, organisation name and body).
TEXT_FIELD = 'all_text'
#: The fields matched again for ranking, with the SQL engine's weights.
NAME_BOOSTS = (('name', 10.0), ('organisation_name', 4.0))
#: The description's words: a second key folded into the score (see the module's note), so a description that
#: mentions autism three times outranks one that mentions it once among entries whose names do not match.
DESCRIPTION_BOOST = 0.01
SCORED_FIELDS = (*NAME_BOOSTS, ('body', DESCRIPTION_BOOST))
FACET_SIZE = 200
#: Candidates asked for per misspelt word; the SQL engine's rule (:func:`search.query.closest_term`) picks one.
SUGGESTION_CANDIDATES = 5
#: The SQL engine's tie-break (``search.sql_engine._shuffled``, splitmix64 over the id and the query's seed) in
#: Painless's wrapping long arithmetic; the top 53 bits, so the double a script sort compares keeps the order.
SHUFFLE_SCRIPT = ("long v = doc['id'].value ^ params.seed; v += params.a; v *= params.b; "
                  'v ^= v >>> 30; v *= params.c; v ^= v >>> 31; return (double) (v >>> 11);')
#: splitmix64's constants as the signed longs a script's parameters can carry.
SHUFFLE_CONSTANTS = {'a': -7046029254386353131, 'b': -4658895280553007687, 'c': -7723592293110705685}

#: Squared British National Grid distance from the origin, for the distance order.
DISTANCE_SCRIPT = ('double dx = doc[params.easting].value - params.x; '
                   'double dy = doc[params.northing].value - params.y; '
                   'return dx * dx + dy * dy;')
#: The exact circle, checked only on the documents inside the box (the same arithmetic as the SQL engine's).
WITHIN_SCRIPT = ('double dx = doc[params.easting].value - params.x; '
                 'double dy = doc[params.northing].value - params.y; '
                 'return dx * dx + dy * dy <= params.r2;')


def point_fields(query: Query) -> tuple[str, str]:
    """The grid reference a query measures to: exact points only for commissioner and board searches."""
    return ('easting', 'northing') if query.exact_locations else ('public_easting', 'public_northing')


def words_clauses(words: Words) -> tuple[list[dict], list[dict]]:
    """(what every hit must match, what only adds to the score) for the words of a search."""
    required, scoring = [], []
    if words.terms:
        text = ' '.join(words.terms)
        kind = 'match_bool_prefix' if words.prefix else 'match'
        required.append({kind: {TEXT_FIELD: {'query': text, 'operator': 'and'}}})
        scoring += [{kind: {field: {'query': text, 'boost': boost}}} for field, boost in SCORED_FIELDS]
    for phrase in words.phrases:
        text = ' '.join(phrase)
        required.append({'match_phrase': {TEXT_FIELD: {'query': text}}})
        scoring += [{'match_phrase': {field: {'query': text, 'boost': boost}}} for field, boost in SCORED_FIELDS]
    return required, scoring


def standing_filter(query: Query) -> dict:
    """Qualified entries only; for a market search also not-qualified ones and the in-house services the viewer may
    see (the SQL engine's rule: their authority among the entry's ``accepted_by``, or every one for the board)."""
    if not query.market:
        return {'term': {'standing': 'qualified'}}
    allowed = [{'terms': {'standing': ['qualified', 'not_qualified']}}]
    if query.in_house_for == '*':
        allowed.append({'term': {'standing': 'in_house'}})
    elif query.in_house_for:
        allowed.append({'bool': {'filter': [{'term': {'standing': 'in_house'}},
                                            {'term': {'accepted_by': query.in_house_for}}]}})
    return {'bool': {'should': allowed, 'minimum_should_match': 1}}


def plain_filters(query: Query) -> list[dict]:
    """Filters that are not facets: standing, age, sex, local list, distance. They go in ``query.bool.filter``."""
    filters = [standing_filter(query)]
    if query.age is not None:
        filters += [{'range': {'age_min': {'lte': query.age}}}, {'range': {'age_max': {'gte': query.age}}}]
    if query.sex:
        filters.append({'terms': {'sex': [query.sex, 'any']}})
    if query.accepted_by:
        filters.append({'term': {'accepted_by': query.accepted_by}})
    if query.origin is not None and query.radius_m is not None:
        (x, y), radius = query.origin, query.radius_m
        easting, northing = point_fields(query)
        filters += [
            {'range': {easting: {'gte': x - radius, 'lte': x + radius}}},
            {'range': {northing: {'gte': y - radius, 'lte': y + radius}}},
            {'script': {'script': {'source': WITHIN_SCRIPT, 'params': {
                'easting': easting, 'northing': northing, 'x': x, 'y': y, 'r2': radius * radius}}}},
        ]
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
    """The ``sort`` list for the query's sort order, with the SQL engine's tie-breaks (see the module's note); a
    market search puts qualified entries first (``standing_rank`` 0), then the rest, each in that order."""
    order = _sort_clause(query, has_words)
    return [{'standing_rank': 'asc'}, *order] if query.market else order


def _sort_clause(query: Query, has_words: bool) -> list:
    relevance = ['_score'] if has_words else []
    if query.sort == 'distance' and query.origin is not None:
        return [distance_sort(query), shuffle_sort(query), {'id': 'asc'}]
    if query.sort == 'updated':
        return [{'updated_at': 'desc'}, {'id': 'asc'}]
    ties = [distance_sort(query)] if query.origin is not None else []
    ties += [shuffle_sort(query), {'id': 'asc'}]
    if query.sort == 'judgement':
        return [{'judgement_rank': 'desc'}, *relevance, *ties]
    return [*relevance, *ties]


def distance_sort(query: Query) -> dict:
    """Nearest first, by the squared grid distance from the query's origin."""
    easting, northing = point_fields(query)
    return {'_script': {'type': 'number', 'order': 'asc', 'script': {'source': DISTANCE_SCRIPT, 'params': {
        'easting': easting, 'northing': northing, 'x': query.origin[0], 'y': query.origin[1]}}}}


def shuffle_sort(query: Query) -> dict:
    """Equal matches in an order seeded by what was asked: the same on every page, favouring no name."""
    seed = query.seed - (1 << 64) if query.seed >= 1 << 63 else query.seed
    return {'_script': {'type': 'number', 'order': 'asc', 'script': {
        'source': SHUFFLE_SCRIPT, 'params': {'seed': seed, **SHUFFLE_CONSTANTS}}}}


def _bool_query(query: Query, words: Words, *, with_facet_filters: bool) -> dict:
    required, scoring = words_clauses(words)
    if required:
        must = [{'constant_score': {'filter': {'bool': {'filter': required}}, 'boost': 1.0}}]
    else:
        must = [{'match_none': {}} if words.only_stop_words else {'match_all': {}}]
    bool_query: dict = {'must': must}
    if scoring and not with_facet_filters:
        bool_query['should'] = scoring
    filters = plain_filters(query)
    if with_facet_filters:
        filters += [clause for clauses in facet_filters(query).values() for clause in clauses]
    if filters:
        bool_query['filter'] = filters
    return bool_query


def build_query(query: Query, page_size: int | None = None) -> dict:
    """The search body for a Query: words and plain filters in ``query``, facet filters in ``post_filter``.

    Each facet's aggregation is wrapped in a filter holding every facet filter except its own, so counts show
    what choosing another value would give.
    """
    page_size = page_size or query.page_size
    words = query.parsed_words
    by_facet = facet_filters(query)
    body: dict = {
        'query': {'bool': _bool_query(query, words, with_facet_filters=False)},
        'from': (query.page - 1) * page_size,
        'size': page_size,
        'sort': sort_clause(query, not words.empty),
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
        required, _scoring = words_clauses(words)
        body['highlight'] = {
            'pre_tags': [MARK_START], 'post_tags': [MARK_END],
            # The words are matched on all_text, so highlight them in whichever field holds them.
            'require_field_match': False,
            'highlight_query': {'bool': {'should': required}},
            'fields': {'name': {'number_of_fragments': 0}, 'organisation_name': {'number_of_fragments': 0},
                       'body': {'fragment_size': 200, 'number_of_fragments': 1}},
        }
    if not words.empty:
        body['suggest'] = {
            'text': ' '.join(words.all_terms()),
            'words': {'term': {'field': 'vocabulary', 'suggest_mode': 'missing', 'min_word_length': 3,
                               # 0, so a wrong first letter can be corrected too
                               'prefix_length': 0, 'max_edits': 2, 'string_distance': 'levenshtein',
                               'size': SUGGESTION_CANDIDATES}},
        }
    return body


def count_body(query: Query) -> dict:
    """The ``_count`` body for a Query: the same hits as :func:`build_query` (facet filters folded in)."""
    return {'query': {'bool': _bool_query(query, query.parsed_words, with_facet_filters=True)}}


def by_id_body(size: int, *, after_id: int = 0, offset: int = 0, source: bool | dict = True) -> dict:
    """Entries in id order after ``after_id`` (``search_after``), for exports, ``ids()`` and ``hashes()``."""
    body: dict = {'query': {'match_all': {}}, 'sort': [{'id': 'asc'}], 'size': size, 'track_total_hits': False,
                  '_source': source}
    if after_id:
        body['search_after'] = [after_id]
    if offset:
        body['from'] = offset
    return body


def suggestions_from(response: dict) -> dict[str, str]:
    """For each misspelt word, the candidate the SQL engine's rule picks (nearest, then commonest)."""
    suggestions = {}
    for item in (response.get('suggest') or {}).get('words', []):
        word = item['text']
        if len(word) < 3 or not word.isalpha():
            continue
        candidates = {option['text']: int(option.get('freq', 0)) for option in item.get('options') or ()}
        if (suggestion := closest_term(word, candidates)) is not None:
            suggestions[word] = suggestion
    return suggestions


def write_action(op: str, entry_id: int, index: str, version: int | None) -> dict:
    """One bulk action line: ``index`` or ``delete``, with the write version when there is one (external_gte, so a
    late retry of an older write loses to a newer one instead of overwriting it)."""
    meta: dict = {'_index': index, '_id': str(entry_id)}
    if version is not None:
        meta.update(version=version, version_type='external_gte')
    return {op: meta}
