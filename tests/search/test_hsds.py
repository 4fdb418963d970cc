"""The Open Referral UK export: the right shape, and no children's home address, postcode or position."""

from __future__ import annotations

import json

import pytest

from search.entries import build_entries
from search.sql_engine import SqlEngine
from tests.search.test_api import validate


@pytest.fixture
def indexed(directory):
    SqlEngine().reindex(build_entries())
    return directory


def test_public_can_export_every_listed_setting_as_hsds_services(client, indexed):
    response = client.get('/api/v1/hsds/services?per_page=2')
    body = response.get_json()
    assert response.status_code == 200
    validate(body, 'HsdsPage')
    assert body['total_items'] == 5 and body['total_pages'] == 3 and body['first_page'] and not body['last_page']
    services = []
    for page in (1, 2, 3):
        services += client.get(f'/api/v1/hsds/services?per_page=2&page={page}').get_json()['contents']
    assert {service['id'] for service in services} == {f'setting-{id}' for id in indexed.listed_ids}
    leeds = next(service for service in services if service['name'] == 'Leeds Fostering Service')
    assert leeds['organization']['name'] == 'Brightwater Care Ltd'
    location = leeds['service_at_locations'][0]['location']
    assert location['physical_addresses'][0]['postal_code'] == 'LS1 4DY'
    assert 53.7 < location['latitude'] < 53.9 and -1.6 < location['longitude'] < -1.5


def test_hsds_export_never_leaks_a_childrens_home_address(client, indexed):
    body = client.get('/api/v1/hsds/services?per_page=100').get_json()
    homes = [service for service in body['contents']
             if service['service_taxonomys'][0]['taxonomy']['id'] == 'childrens-home']
    assert {service['name'] for service in homes} == {'Oak House', 'Willow Lodge', 'Riverside Home'}
    for service in homes:
        assert service['service_at_locations'] == []
        assert service['service_areas'][0]['extent']
        text = json.dumps(service)
        assert 'Example Road' not in text and 'latitude' not in text and 'postal_code' not in text
    raw = json.dumps(body)
    for setting in (indexed.oak_house, indexed.willow_lodge, indexed.riverside):
        assert setting.postcode not in raw


@pytest.mark.parametrize('query', ['page=0', 'per_page=1000', 'page=abc', 'page=99'])
def test_hsds_export_rejects_bad_paging_with_json_errors(client, indexed, query):
    response = client.get(f'/api/v1/hsds/services?{query}')
    assert response.status_code == 400
    validate(response.get_json(), 'Errors')
