"""Public radius searches place a children's home at its authority's centroid, so it cannot be triangulated."""

from __future__ import annotations

import pytest

from registry.accounts.models import Role
from registry.extensions import db
from registry.settings.taxonomy import Lot, ProvisionType
from search.entries import build_entries
from search.sql_engine import SqlEngine
from tests.factories import make_user
from tests.search.conftest import make_organisation, make_setting, qualify

NORTHUMBERLAND = 'E06000057'


@pytest.fixture
def berwick(app_ctx):
    """A children's home in Berwick (about 42 miles from Northumberland's centroid) and a fostering agency nearby."""
    homes = make_organisation('Border Homes Ltd')
    agency = make_organisation('Border Families Ltd')
    qualify(homes, Lot.CHILDRENS_HOMES)
    qualify(agency, Lot.FOSTERING)
    home = make_setting(homes, 'Tweed House', ProvisionType.CHILDRENS_HOME, 'TD15 1AA')
    fostering = make_setting(agency, 'Berwick Fostering', ProvisionType.INDEPENDENT_FOSTERING_AGENCY, 'TD15 2AA')
    db.session.commit()
    SqlEngine().reindex(build_entries())
    return home, fostering


def result_names(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    return [result['name'] for result in response.get_json()['results']]


def test_public_cannot_find_a_childrens_home_through_the_api_by_a_radius_around_its_postcode(client, berwick):
    home, _ = berwick
    assert result_names(client, '/api/v1/settings?postcode=TD15+1AA&radius=5') == ['Berwick Fostering']
    assert result_names(client, f'/api/v1/settings?easting={home.easting}&northing={home.northing}&radius=1') == [
        'Berwick Fostering']


def test_public_can_find_a_childrens_home_through_the_api_near_its_authority_without_a_distance(client, berwick):
    response = client.get(f'/api/v1/settings?near_authority={NORTHUMBERLAND}&radius=5')
    results = response.get_json()['results']
    assert [result['name'] for result in results] == ['Tweed House']
    assert results[0]['distance_miles'] is None
    assert 'easting' not in results[0] and 'postcode' not in results[0]


def test_public_api_sorts_a_childrens_home_by_its_centroid_and_an_agency_by_its_address(client, berwick):
    response = client.get('/api/v1/settings?postcode=TD15+1AA&sort=distance&page_size=100')
    results = response.get_json()['results']
    assert results[0]['name'] == 'Berwick Fostering'
    assert results[0]['distance_miles'] is not None and results[0]['distance_miles'] < 1
    home = next(result for result in results if result['name'] == 'Tweed House')
    assert home['distance_miles'] is None


def test_public_cannot_find_a_childrens_home_on_the_directory_page_by_a_radius_around_its_postcode(client, berwick):
    html = client.get('/directory?postcode=TD15+1AA&radius=5').get_data(as_text=True)
    assert 'Berwick Fostering' in html
    assert 'Tweed House' not in html


def test_commissioner_can_find_a_childrens_home_by_a_radius_around_its_postcode(client, berwick, login_as):
    login_as(make_user(Role.COMMISSIONER, authority_code=NORTHUMBERLAND))
    response = client.get('/directory/commissioner?postcode=TD15+1AA&radius=5&sort=distance')
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'Tweed House' in html and 'Berwick Fostering' in html
    assert html.index('Tweed House') < html.index('Berwick Fostering')
