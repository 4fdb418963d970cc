"""The Elasticsearch mapping and request bodies, pinned as plain dicts (no cluster needed).

What the bodies must do is the SQL engine's behaviour (tests/search/test_engine_contract.py): every word in some
field, names weighted for ranking, British National Grid distances, the same tie-breaks. The request-level tests
(headers, parameters, paths) are in test_es_requests.py.
"""

from __future__ import annotations

import pytest

from search.es_engine import mapping
from search.es_query import (
    DISTANCE_SCRIPT,
    SHUFFLE_CONSTANTS,
    WITHIN_SCRIPT,
    build_query,
    by_id_body,
    count_body,
    shuffle_sort,
    suggestions_from,
    write_action,
)
from search.query import MARK_END, MARK_START, MAX_RESULT_WINDOW, Query

ORIGIN = (429960.0, 433298.0)  # LS1 4DY
#: Every search but a commissioner's market search keeps to entries on the national list.
QUALIFIED_ONLY = {'term': {'standing': 'qualified'}}


def ties(query: Query) -> list:
    """Equal matches: the SQL engine's seeded shuffle (never the name), then the id."""
    return [shuffle_sort(query), {'id': 'asc'}]


def test_mapping_uses_english_text_keyword_facets_and_grid_references():
    body = mapping()
    properties = body['mappings']['properties']
    assert body['mappings']['dynamic'] == 'strict'
    for field in ('name', 'organisation_name', 'body', 'description', 'all_text'):
        assert properties[field]['type'] == 'text'
        assert properties[field]['analyzer'] == 'english'
    for field in ('provision_type', 'lot', 'judgement', 'region_code', 'authority_code', 'needs', 'accepted_by',
                  'sex'):
        assert properties[field] == {'type': 'keyword'}
    assert properties['has_vacancy'] == {'type': 'boolean'}
    for field in ('easting', 'northing', 'public_easting', 'public_northing'):
        assert properties[field] == {'type': 'double'}
    assert properties['location'] == {'type': 'geo_point'}
    assert properties['judgement_rank'] == {'type': 'integer'}
    assert properties['updated_at'] == {'type': 'date'}
    assert properties['standing'] == {'type': 'keyword'} and properties['standing_rank'] == {'type': 'byte'}
    assert properties['vocabulary']['analyzer'] == 'vocabulary'


def test_the_words_are_matched_in_one_combined_field_and_the_names_kept_for_ranking_and_order():
    properties = mapping()['mappings']['properties']
    for field in ('name', 'organisation_name', 'body'):
        assert properties[field]['copy_to'] == ['all_text', 'vocabulary']
    assert properties['all_text']['index_prefixes'] == {'min_chars': 3, 'max_chars': 10}
    # Case-insensitive order first, the exact name second, as the SQL engine sorts.
    assert properties['name']['fields'] == {'sort': {'type': 'keyword', 'normalizer': 'lowercase'},
                                            'raw': {'type': 'keyword'}}


def test_result_window_is_set_deliberately_to_the_paging_rule():
    settings = mapping()['settings']
    assert settings['max_result_window'] == MAX_RESULT_WINDOW == 10_000
    assert settings['number_of_shards'] == 1
    assert settings['auto_expand_replicas'] == '0-1'


def _oak_house():
    from datetime import UTC, datetime

    from search.entries import DirectoryEntry

    return DirectoryEntry(
        id=1, organisation_id=2, name='Oak House', organisation_name='Northern Lights', provision_type='childrens-home',
        provision_type_label="Children's home", lot='childrens-homes', description='A home.', needs=('autism',),
        age_min=8, age_max=17, sex='female', places=4, vacancies=1, vacancies_confirmed_at=None, judgement='good',
        judgement_rank=3, judgement_date=None, urn='SC123456', authority_code='E08000032', authority_name='Bradford',
        region_code='E12000003', region_name='Yorkshire and The Humber', district_name='Bradford',
        confidential_address=True, easting=416350.0, northing=432917.0, address='', postcode='',
        accepted_by=('E08000032',), updated_at=datetime(2025, 1, 1, tzinfo=UTC))


def test_mapping_covers_every_field_of_an_indexed_document(app_ctx):
    from search.es_engine import to_document

    entry = _oak_house()
    document = to_document(entry)
    assert set(document) <= set(mapping()['mappings']['properties'])
    assert document['has_vacancy'] is True
    assert document['location']['lat'] == pytest.approx(53.79, abs=0.01)
    # A children's home is placed publicly at Bradford's centroid, not at its address.
    assert (document['public_easting'], document['public_northing']) == entry.public_point
    assert (document['public_easting'], document['public_northing']) != (entry.easting, entry.northing)
    assert document['public_location'] != document['location']


def test_a_fostering_agency_public_point_is_its_exact_point(app_ctx):
    from dataclasses import replace

    from search.es_engine import to_document

    document = to_document(replace(_oak_house(), provision_type='independent-fostering-agency',
                                   confidential_address=False))
    assert (document['public_easting'], document['public_northing']) == (416350.0, 432917.0)
    assert document['public_location'] == document['location']


def test_every_word_must_be_in_some_field_with_the_unfinished_last_word_as_a_prefix():
    """"oak house bradf": the name holds two words, the district (in the body) the third; it must match."""
    body = build_query(Query(words='oak house bradf', facets=()), page_size=20)
    assert body == {
        'query': {'bool': {
            'must': [{'constant_score': {'filter': {'bool': {'filter': [
                {'match_bool_prefix': {'all_text': {'query': 'oak house bradf', 'operator': 'and'}}},
            ]}}, 'boost': 1.0}}],
            'should': [
                {'match_bool_prefix': {'name': {'query': 'oak house bradf', 'boost': 10.0}}},
                {'match_bool_prefix': {'organisation_name': {'query': 'oak house bradf', 'boost': 4.0}}},
                {'match_bool_prefix': {'body': {'query': 'oak house bradf', 'boost': 0.01}}},
            ],
            'filter': [QUALIFIED_ONLY],
        }},
        'from': 0, 'size': 20,
        'sort': ['_score', *ties(Query(words='oak house bradf', facets=()))],
        'track_total_hits': True,
        'highlight': {
            'pre_tags': [MARK_START], 'post_tags': [MARK_END], 'require_field_match': False,
            'highlight_query': {'bool': {'should': [
                {'match_bool_prefix': {'all_text': {'query': 'oak house bradf', 'operator': 'and'}}}]}},
            'fields': {'name': {'number_of_fragments': 0}, 'organisation_name': {'number_of_fragments': 0},
                       'body': {'fragment_size': 200, 'number_of_fragments': 1}},
        },
        'suggest': {'text': 'oak house bradf', 'words': {'term': {
            'field': 'vocabulary', 'suggest_mode': 'missing', 'min_word_length': 3, 'prefix_length': 0,
            'max_edits': 2, 'string_distance': 'levenshtein', 'size': 5}}},
    }


def test_finished_words_are_plain_matches_and_stop_words_never_reach_the_engine():
    body = build_query(Query(words='homes for the girls ', highlight=False, facets=()), page_size=20)
    assert body['query']['bool']['must'][0]['constant_score']['filter']['bool']['filter'] == [
        {'match': {'all_text': {'query': 'homes girls', 'operator': 'and'}}}]
    assert body['query']['bool']['should'][0] == {'match': {'name': {'query': 'homes girls', 'boost': 10.0}}}
    assert body['suggest']['text'] == 'homes girls'
    assert 'highlight' not in body


def test_a_search_of_only_stop_words_matches_nothing():
    body = build_query(Query(words='the and '), page_size=20)
    assert body['query'] == {'bool': {'must': [{'match_none': {}}], 'filter': [QUALIFIED_ONLY]}}


def test_phrases_must_match_within_one_field():
    body = build_query(Query(words='"family care" home ', facets=()), page_size=10)
    assert body['query']['bool']['must'][0]['constant_score']['filter']['bool']['filter'] == [
        {'match': {'all_text': {'query': 'home', 'operator': 'and'}}},
        {'match_phrase': {'all_text': {'query': 'family care'}}},
    ]
    assert {'match_phrase': {'name': {'query': 'family care', 'boost': 10.0}}} in body['query']['bool']['should']


def _painless_shuffle(document_id: int, params: dict) -> float:
    """SHUFFLE_SCRIPT step by step in Java's wrapping 64-bit longs (``>>>`` is the unsigned shift)."""
    mask = (1 << 64) - 1
    value = (document_id ^ params['seed']) & mask
    value = (value + params['a']) & mask
    value = (value * params['b']) & mask
    value ^= value >> 30
    value = (value * params['c']) & mask
    value ^= value >> 31
    return float(value >> 11)


def test_ties_on_elasticsearch_fall_in_the_sql_engines_seeded_order():
    """Issue 20's fairness on both engines: the script is the SQL engine's splitmix64, so equal matches come in
    the same order whichever engine answers, and the order depends on the question, not the name."""
    import numpy as np

    from search.sql_engine import _shuffled

    for query in (Query(), Query(words='autism ', sort='judgement')):
        params = shuffle_sort(query)['_script']['script']['params']
        assert {key: params[key] for key in SHUFFLE_CONSTANTS} == SHUFFLE_CONSTANTS
        assert all(-(1 << 63) <= value < 1 << 63 for value in params.values())  # a Java long each
        ids = np.arange(1, 3001)
        sql_order = np.argsort(_shuffled(ids, query.seed), kind='stable')
        script_order = np.argsort([_painless_shuffle(int(i), params) for i in ids], kind='stable')
        assert (sql_order == script_order).all()
    assert shuffle_sort(Query(words='autism ')) != shuffle_sort(Query(words='sibling '))


def test_relevance_ties_go_nearest_first_when_a_place_is_given():
    query = Query(words='care ', origin=(430000.0, 433000.0), origin_label='LS1 4DY')
    sort = build_query(query, page_size=20)['sort']
    assert sort[0] == '_score'
    assert sort[1]['_script']['script']['source'] == DISTANCE_SCRIPT
    assert sort[2:] == ties(query)


def test_no_words_matches_all_in_the_seeded_order():
    body = build_query(Query(), page_size=20)
    assert body['query'] == {'bool': {'must': [{'match_all': {}}], 'filter': [QUALIFIED_ONLY]}}
    assert body['sort'] == ties(Query())
    assert 'highlight' not in body and 'post_filter' not in body and 'suggest' not in body


def test_plain_filters_go_in_bool_filter():
    body = build_query(Query(age=9, sex='male', accepted_by='E09000033'), page_size=20)
    assert body['query']['bool']['filter'] == [
        QUALIFIED_ONLY, {'range': {'age_min': {'lte': 9}}}, {'range': {'age_max': {'gte': 9}}},
        {'terms': {'sex': ['male', 'any']}},
        {'term': {'accepted_by': 'E09000033'}},
    ]


def test_public_radius_is_a_grid_box_then_the_exact_circle_on_public_points():
    body = build_query(Query(origin=ORIGIN, radius_miles=10, sort='distance'), page_size=20)
    radius = 10 * 1609.344
    assert body['query']['bool']['filter'] == [
        QUALIFIED_ONLY,
        {'range': {'public_easting': {'gte': ORIGIN[0] - radius, 'lte': ORIGIN[0] + radius}}},
        {'range': {'public_northing': {'gte': ORIGIN[1] - radius, 'lte': ORIGIN[1] + radius}}},
        {'script': {'script': {'source': WITHIN_SCRIPT, 'params': {
            'easting': 'public_easting', 'northing': 'public_northing', 'x': ORIGIN[0], 'y': ORIGIN[1],
            'r2': radius * radius}}}},
    ]
    assert body['sort'] == [
        {'_script': {'type': 'number', 'order': 'asc', 'script': {'source': DISTANCE_SCRIPT, 'params': {
            'easting': 'public_easting', 'northing': 'public_northing', 'x': ORIGIN[0], 'y': ORIGIN[1]}}}},
        *ties(Query(origin=ORIGIN, radius_miles=10, sort='distance'))]


def test_commissioner_radius_and_distance_order_use_exact_points():
    body = build_query(Query(origin=ORIGIN, radius_miles=10, sort='distance', exact_locations=True), page_size=20)
    assert [next(iter(clause.get('range', {'script': 0}))) for clause in body['query']['bool']['filter'][1:]] == [
        'easting', 'northing', 'script']
    assert body['query']['bool']['filter'][3]['script']['script']['params']['easting'] == 'easting'
    assert body['sort'][0]['_script']['script']['params']['northing'] == 'northing'


def test_the_distance_scripts_compute_the_squared_grid_distance():
    """The same arithmetic as the SQL engine's: no spherical approximation anywhere."""
    assert DISTANCE_SCRIPT == ('double dx = doc[params.easting].value - params.x; '
                               'double dy = doc[params.northing].value - params.y; return dx * dx + dy * dy;')
    assert WITHIN_SCRIPT.endswith('return dx * dx + dy * dy <= params.r2;')


def test_facet_filters_are_post_filters_and_each_aggregation_drops_its_own():
    body = build_query(Query(provision_types=('childrens-home',), min_judgement='good',
                             facets=('provision_type', 'judgement', 'lot')), page_size=20)
    type_filter = {'terms': {'provision_type': ['childrens-home']}}
    judgement_filter = {'range': {'judgement_rank': {'gte': 3}}}
    assert body['post_filter'] == {'bool': {'filter': [type_filter, judgement_filter]}}
    assert body['query']['bool']['filter'] == [QUALIFIED_ONLY]  # facet filters stay out of the query
    assert body['aggs'] == {
        'provision_type': {'filter': {'bool': {'filter': [judgement_filter]}},
                           'aggs': {'values': {'terms': {'field': 'provision_type', 'size': 200}}}},
        'judgement': {'filter': {'bool': {'filter': [type_filter]}},
                      'aggs': {'values': {'terms': {'field': 'judgement', 'size': 200}}}},
        'lot': {'filter': {'bool': {'filter': [type_filter, judgement_filter]}},
                'aggs': {'values': {'terms': {'field': 'lot', 'size': 200}}}},
    }


def test_every_need_must_match_and_vacancy_is_a_boolean_term():
    body = build_query(Query(needs=('autism', 'mental-health'), has_vacancy=True, facets=()), page_size=20)
    assert body['post_filter'] == {'bool': {'filter': [
        {'term': {'needs': 'autism'}}, {'term': {'needs': 'mental-health'}}, {'term': {'has_vacancy': True}},
    ]}}
    assert 'aggs' not in body


def test_pages_and_other_sorts():
    assert build_query(Query(page=3), page_size=20)['from'] == 40
    assert build_query(Query(sort='judgement'), page_size=20)['sort'] == [
        {'judgement_rank': 'desc'}, *ties(Query(sort='judgement'))]
    assert build_query(Query(words='care', sort='judgement'), page_size=20)['sort'] == [
        {'judgement_rank': 'desc'}, '_score', *ties(Query(words='care', sort='judgement'))]
    assert build_query(Query(sort='updated'), page_size=20)['sort'] == [{'updated_at': 'desc'}, {'id': 'asc'}]


def test_the_count_for_a_deep_page_has_the_same_hits_as_the_search():
    query = Query(words='care ', provision_types=('childrens-home',), age=9, page=600)
    assert count_body(query) == {'query': {'bool': {
        'must': [{'constant_score': {'filter': {'bool': {'filter': [
            {'match': {'all_text': {'query': 'care', 'operator': 'and'}}}]}}, 'boost': 1.0}}],
        'filter': [QUALIFIED_ONLY, {'range': {'age_min': {'lte': 9}}}, {'range': {'age_max': {'gte': 9}}},
                   {'terms': {'provision_type': ['childrens-home']}}],
    }}}


def test_exports_and_walks_page_by_id_with_search_after():
    assert by_id_body(100) == {'query': {'match_all': {}}, 'sort': [{'id': 'asc'}], 'size': 100,
                               'track_total_hits': False, '_source': True}
    assert by_id_body(100, after_id=41, source=False) == {
        'query': {'match_all': {}}, 'sort': [{'id': 'asc'}], 'size': 100, 'track_total_hits': False,
        '_source': False, 'search_after': [41]}
    assert by_id_body(50, offset=9950)['from'] == 9950


def test_writes_carry_the_lock_version_as_an_external_version():
    assert write_action('index', 7, 'registry-test-settings', 42) == {
        'index': {'_index': 'registry-test-settings', '_id': '7', 'version': 42, 'version_type': 'external_gte'}}
    assert write_action('delete', 7, 'x', None) == {'delete': {'_index': 'x', '_id': '7'}}


def test_suggestions_follow_the_sql_engines_rule_over_the_candidates():
    response = {'suggest': {'words': [
        {'text': 'dillow', 'offset': 0, 'length': 6, 'options': [
            {'text': 'willow', 'score': 0.83, 'freq': 1}, {'text': 'pillows', 'score': 0.7, 'freq': 9}]},
        # two edits is too many for a five-letter word
        {'text': 'hoise', 'offset': 7, 'length': 5, 'options': [{'text': 'horse', 'score': 0.8, 'freq': 2},
                                                                 {'text': 'noisy', 'score': 0.6, 'freq': 2}]},
        {'text': 'x1', 'offset': 13, 'length': 2, 'options': [{'text': 'x', 'score': 0.5, 'freq': 1}]},
    ]}}
    assert suggestions_from(response) == {'dillow': 'willow', 'hoise': 'horse'}


def test_a_market_search_adds_the_whole_market_and_ranks_qualified_entries_first():
    """Commissioners' market search: not-qualified entries, in-house ones of the viewer's authority (and its consortium
    partners, through ``accepted_by``), qualified first; the board sees every authority's in-house services."""
    body = build_query(Query(market=True, in_house_for='E08000035'), page_size=20)
    assert body['query']['bool']['filter'] == [{'bool': {'should': [
        {'terms': {'standing': ['qualified', 'not_qualified']}},
        {'bool': {'filter': [{'term': {'standing': 'in_house'}}, {'term': {'accepted_by': 'E08000035'}}]}},
    ], 'minimum_should_match': 1}}]
    assert body['sort'] == [{'standing_rank': 'asc'}, *ties(Query())]  # the same seed: market is not asked
    board = build_query(Query(market=True, in_house_for='*', sort='updated'), page_size=20)
    assert board['query']['bool']['filter'][0]['bool']['should'][1] == {'term': {'standing': 'in_house'}}
    assert board['sort'] == [{'standing_rank': 'asc'}, {'updated_at': 'desc'}, {'id': 'asc'}]
    nobody = build_query(Query(market=True), page_size=20)
    assert nobody['query']['bool']['filter'] == [{'bool': {'should': [
        {'terms': {'standing': ['qualified', 'not_qualified']}}], 'minimum_should_match': 1}}]


def test_a_market_entry_document_carries_its_standing_rank(app_ctx):
    from dataclasses import replace

    from search.es_engine import to_document

    assert to_document(_oak_house())['standing_rank'] == 0
    document = to_document(replace(_oak_house(), standing='not_qualified'))
    assert (document['standing'], document['standing_rank']) == ('not_qualified', 1)
