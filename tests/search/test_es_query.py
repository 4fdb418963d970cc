"""The Elasticsearch mapping and request bodies, pinned as plain dicts (no cluster needed)."""

from __future__ import annotations

import pytest

from search.es_engine import mapping
from search.es_query import build_query
from search.query import MARK_END, MARK_START, Query

ORIGIN = (429960.0, 433298.0)  # LS1 4DY


def test_mapping_uses_english_text_keyword_facets_and_a_geo_point():
    properties = mapping()['mappings']['properties']
    assert mapping()['mappings']['dynamic'] == 'strict'
    for field in ('name', 'organisation_name', 'body', 'description'):
        assert properties[field]['type'] == 'text'
        assert properties[field]['analyzer'] == 'english'
    for field in ('provision_type', 'lot', 'judgement', 'region_code', 'authority_code', 'needs', 'accepted_by',
                  'sex'):
        assert properties[field] == {'type': 'keyword'}
    assert properties['has_vacancy'] == {'type': 'boolean'}
    assert properties['location'] == {'type': 'geo_point'}
    assert properties['public_location'] == {'type': 'geo_point'}
    assert properties['judgement_rank'] == {'type': 'integer'}
    assert properties['updated_at'] == {'type': 'date'}
    assert properties['vocabulary']['analyzer'] == 'vocabulary'


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
    assert document['location']['lon'] == pytest.approx(-1.75, abs=0.01)
    # A children's home is placed publicly at Bradford's centroid, not at its address.
    assert document['public_location'] != document['location']
    assert document['public_location']['lat'] == pytest.approx(53.81, abs=0.05)


def test_a_fostering_agency_public_location_is_its_exact_location(app_ctx):
    from dataclasses import replace

    from search.es_engine import to_document

    document = to_document(replace(_oak_house(), provision_type='independent-fostering-agency',
                                   confidential_address=False))
    assert document['public_location'] == document['location']


def test_words_go_in_must_with_the_last_word_as_a_prefix():
    body = build_query(Query(words='fostering lee'), page_size=20)
    assert body['query'] == {'bool': {'must': [
        {'multi_match': {'query': 'fostering lee', 'type': 'bool_prefix',
                         'fields': ['name^3', 'organisation_name^2', 'body'], 'operator': 'and'}},
    ]}}
    assert body['from'] == 0 and body['size'] == 20
    assert body['sort'] == ['_score', {'name.sort': 'asc'}, {'id': 'asc'}]
    assert body['highlight']['pre_tags'] == [MARK_START] and body['highlight']['post_tags'] == [MARK_END]
    assert body['suggest']['words']['term']['field'] == 'vocabulary'


def test_api_queries_ask_for_no_highlights_but_still_for_suggestions():
    body = build_query(Query(words='fostering', highlight=False), page_size=20)
    assert 'highlight' not in body
    assert body['suggest']['words']['term']['field'] == 'vocabulary'


def test_phrases_become_phrase_matches_and_finished_words_are_not_prefixes():
    body = build_query(Query(words='"family care" home '), page_size=10)
    assert body['query']['bool']['must'] == [
        {'multi_match': {'query': 'home', 'type': 'best_fields', 'fields': ['name^3', 'organisation_name^2', 'body'],
                         'operator': 'and'}},
        {'multi_match': {'query': 'family care', 'type': 'phrase', 'fields': ['name^3', 'organisation_name^2',
                                                                              'body']}},
    ]


def test_no_words_matches_all_and_sorts_by_name():
    body = build_query(Query(), page_size=20)
    assert body['query'] == {'bool': {'must': [{'match_all': {}}]}}
    assert body['sort'] == [{'name.sort': 'asc'}, {'id': 'asc'}]
    assert 'highlight' not in body and 'post_filter' not in body


def test_plain_filters_go_in_bool_filter():
    body = build_query(Query(age=9, sex='male', accepted_by='E09000033'), page_size=20)
    assert body['query']['bool']['filter'] == [
        {'range': {'age_min': {'lte': 9}}}, {'range': {'age_max': {'gte': 9}}},
        {'terms': {'sex': ['male', 'any']}},
        {'term': {'accepted_by': 'E09000033'}},
    ]


def test_public_distance_filter_and_sort_use_public_locations_and_the_origin_as_wgs84():
    body = build_query(Query(origin=ORIGIN, radius_miles=10, sort='distance'), page_size=20)
    geo = body['query']['bool']['filter'][0]['geo_distance']
    assert set(geo) == {'distance', 'public_location'}
    assert geo['distance'] == '16093m'
    assert geo['public_location']['lat'] == pytest.approx(53.7947, abs=0.001)
    assert geo['public_location']['lon'] == pytest.approx(-1.5467, abs=0.001)
    assert body['sort'][0]['_geo_distance']['public_location'] == geo['public_location']
    assert 'location' not in body['sort'][0]['_geo_distance']
    assert body['sort'][0]['_geo_distance']['order'] == 'asc'


def test_exact_distance_filter_and_sort_use_exact_locations():
    body = build_query(Query(origin=ORIGIN, radius_miles=10, sort='distance', exact_locations=True), page_size=20)
    geo = body['query']['bool']['filter'][0]['geo_distance']
    assert set(geo) == {'distance', 'location'}
    assert geo['location']['lat'] == pytest.approx(53.7947, abs=0.001)
    assert body['sort'][0]['_geo_distance']['location'] == geo['location']
    assert 'public_location' not in body['sort'][0]['_geo_distance']


def test_facet_filters_are_post_filters_and_each_aggregation_drops_its_own():
    body = build_query(Query(provision_types=('childrens-home',), min_judgement='good',
                             facets=('provision_type', 'judgement', 'lot')), page_size=20)
    type_filter = {'terms': {'provision_type': ['childrens-home']}}
    judgement_filter = {'range': {'judgement_rank': {'gte': 3}}}
    assert body['post_filter'] == {'bool': {'filter': [type_filter, judgement_filter]}}
    assert 'filter' not in body['query']['bool']
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
    assert build_query(Query(sort='judgement'), page_size=20)['sort'][0] == {'judgement_rank': 'desc'}
    assert build_query(Query(sort='updated'), page_size=20)['sort'][0] == {'updated_at': 'desc'}
