"""The read-only JSON API: the OpenAPI document is valid and every response matches it."""

from __future__ import annotations

import json

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_spec

from search.api import openapi_document
from search.entries import build_entries
from search.sql_engine import SqlEngine
from tests.search.conftest import WESTMINSTER


def validate(body: dict, schema_name: str) -> None:
    """Check a response body against one of the OpenAPI document's component schemas."""
    document = openapi_document()
    schema = {'$ref': f'#/components/schemas/{schema_name}', 'components': document['components']}
    jsonschema.Draft202012Validator(schema).validate(body)


@pytest.fixture
def indexed(directory):
    SqlEngine().reindex(build_entries())
    return directory


def test_openapi_document_is_valid_and_served(client, app):
    validate_spec(openapi_document())
    response = client.get('/api/v1/openapi.json')
    assert response.status_code == 200
    assert response.get_json()['openapi'] == '3.1.0'


def test_public_can_search_settings_as_json(client, indexed):
    response = client.get('/api/v1/settings?q=fostering+&page_size=2')
    body = response.get_json()
    assert response.status_code == 200
    assert response.headers['Cache-Control'] == 'public, max-age=60'
    validate(body, 'SettingList')
    assert body['total'] == 3 and body['pages'] == 2
    assert body['links']['next'].endswith('page=2') or 'page=2' in body['links']['next']
    assert body['links']['prev'] is None
    assert body['facets']['provision_type'] == {'independent-fostering-agency': 2, 'childrens-home': 1}
    second = client.get('/api/v1/settings?q=fostering+&page_size=2&page=2').get_json()
    validate(second, 'SettingList')
    assert len(second['results']) == 1


def test_api_never_returns_a_childrens_home_location(client, indexed):
    body = client.get('/api/v1/settings?postcode=BD1+1HY&radius=300&page_size=100').get_json()
    validate(body, 'SettingList')
    homes = [result for result in body['results'] if result['confidential_address']]
    assert len(homes) == 3
    for home in homes:
        assert not {'address', 'postcode', 'easting', 'northing'} & set(home)
        assert home['distance_miles'] is None
    assert 'BD1 1HY' not in json.dumps(body['results'])
    fostering = next(result for result in body['results'] if result['name'] == 'Leeds Fostering Service')
    assert fostering['postcode'] == 'LS1 4DY' and fostering['distance_miles'] > 5


def test_public_can_get_one_setting_and_one_provider(client, indexed):
    oak = client.get(f'/api/v1/settings/{indexed.oak_house.id}').get_json()
    validate(oak, 'Setting')
    assert oak['name'] == 'Oak House' and 'postcode' not in oak
    provider = client.get(f'/api/v1/providers/{indexed.capital_fostering.organisation_id}').get_json()
    validate(provider, 'Provider')
    assert provider['accepted_by'] == [{'code': WESTMINSTER, 'name': 'Westminster'}]
    assert provider['qualifications'][0]['status'] == 'active'


def test_api_answers_404_as_json_for_unlisted_things(client, indexed):
    for url in (f'/api/v1/settings/{indexed.suspended_house.id}',
                f'/api/v1/providers/{indexed.pennine_assessment.organisation_id}', '/api/v1/providers/999999'):
        response = client.get(url)
        assert response.status_code == 404
        validate(response.get_json(), 'Errors')


def test_api_answers_a_huge_page_with_the_page_count_and_a_link_to_the_last_page(client, indexed):
    response = client.get('/api/v1/settings?page=1000000000000')
    body = response.get_json()
    assert response.status_code == 400
    validate(body, 'Errors')
    assert body['errors'] == {'page': 'Page 1000000000000 is past the end of the results: there is only 1 page'}
    assert 'page=1' in body['last_page']


@pytest.mark.parametrize(('query', 'param'), [
    ('postcode=ZZ99+9ZZ', 'postcode'),
    ('postcode=LS1+4DY&radius=0', 'radius'),
    ('postcode=LS1+4DY&radius=1000', 'radius'),
    ('sort=distance', 'sort'),
    ('provision_type=bogus', 'provision_type'),
    ('age=abc', 'age'),
    ('page=999', 'page'),
    ('page_size=0', 'page_size'),
])
def test_api_rejects_bad_parameters_with_json_errors(client, indexed, query, param):
    response = client.get(f'/api/v1/settings?{query}')
    body = response.get_json()
    assert response.status_code == 400
    validate(body, 'Errors')
    assert param in body['errors']
    if param == 'page':
        assert 'page=1' in body['last_page']
