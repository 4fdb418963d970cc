"""The directory pages: public fields only for the public, more for commissioners, and clear messages for bad input."""

from __future__ import annotations

import re

import pytest

from registry.accounts.models import Role
from search.entries import build_entries
from search.sql_engine import SqlEngine
from tests.factories import make_user
from tests.search.conftest import BRADFORD, LEEDS, WESTMINSTER


@pytest.fixture
def indexed(directory):
    """The known directory, indexed."""
    SqlEngine().reindex(build_entries())
    return directory


def test_public_can_search_the_directory_with_facets_and_highlights(client, indexed):
    response = client.get('/directory?q=fostering+')
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '3 results' in html
    assert '<mark>Fostering</mark>' in html
    # facet counts are shown next to filters
    assert re.search(r'Independent fostering agency\s*\(2\)', html)
    assert 'homes are shown by district and local authority only' in html


def test_public_cannot_see_a_childrens_home_address_postcode_or_distance(client, indexed):
    response = client.get('/directory?postcode=BD1+1HY&radius=10')
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'Oak House' in html
    listing = html[html.index('id="result-list"'):]
    assert 'BD1 1HY' not in listing and 'BD1 1HY' not in html[html.index('registry-map'):]
    assert 'miles (' not in html  # no distance to a confidential home
    oak = html[html.index(f'data-setting-id="{indexed.oak_house.id}"'):]
    oak = oak[:oak.index('</li>')]
    assert 'Distance' not in oak and '2 Example Road' not in oak
    assert 'Bradford' in oak


def test_public_can_see_a_fostering_agency_address_and_distance(client, indexed):
    html = client.get('/directory?postcode=LS1+4DY&radius=10').get_data(as_text=True)
    leeds = html[html.index(f'data-setting-id="{indexed.leeds_fostering.id}"'):]
    leeds = leeds[:leeds.index('</li>')]
    assert '2 Example Road' in leeds and 'LS1 4DY' in leeds
    assert '0.0 miles' in leeds


def test_public_can_page_through_results(client, indexed):
    html = client.get('/directory?page_size=2').get_data(as_text=True)
    assert 'govuk-pagination' in html
    assert 'page=3' in html
    assert client.get('/directory?page_size=2&page=3').status_code == 200


def test_public_sees_did_you_mean_for_a_typo(client, indexed):
    html = client.get('/directory?q=fostring+').get_data(as_text=True)
    assert 'Did you mean' in html and 'fostering' in html


@pytest.mark.parametrize(('query', 'message'), [
    ('postcode=ZZ99+9ZZ', 'postcode'),
    ('postcode=LS1+4DY&radius=0', 'between 1 and 300 miles'),
    ('postcode=LS1+4DY&radius=1000', 'between 1 and 300 miles'),
    ('postcode=LS1+4DY&radius=2.5', 'whole number of miles'),
    ('sort=distance', 'Enter a postcode to sort by distance'),
    ('provision_type=bogus', 'Unknown provision type: bogus'),
    ('age=abc', "Enter the child&#39;s age"),
    ('page=abc', 'Page must be a whole number'),
])
def test_public_gets_a_clear_error_for_bad_input(client, indexed, query, message):
    response = client.get(f'/directory?{query}')
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'There is a problem' in html
    assert message.lower() in html.lower()
    assert '<title>Error:' in html


def test_public_gets_a_link_to_the_last_page_past_the_end(client, indexed):
    response = client.get('/directory?page=999&page_size=2')
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'Page 999 is past the end of the results' in html
    assert 'Go to the last page (page 3)' in html
    assert 'page=3' in html


def test_public_asking_for_a_huge_page_is_told_how_many_pages_there_are(client, indexed):
    response = client.get('/directory?page=1000000000000&page_size=2')
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'whole number, 1 or more' not in html
    assert 'Page 1000000000000 is past the end of the results: there are only 3 pages' in html
    assert 'Go to the last page (page 3)' in html


def test_anonymous_user_cannot_open_the_commissioner_search(client, app):
    response = client.get('/directory/commissioner')
    assert response.status_code == 302
    assert '/sign-in' in response.headers['Location'] or 'sign' in response.headers['Location']


def test_provider_cannot_open_the_commissioner_search(client, app_ctx, login_as):
    login_as(make_user(Role.PROVIDER))
    assert client.get('/directory/commissioner').status_code == 403


def test_commissioner_can_see_a_childrens_home_address_distance_and_vacancies(client, indexed, login_as):
    login_as(make_user(Role.COMMISSIONER, authority_code=LEEDS))
    response = client.get('/directory/commissioner?postcode=LS1+4DY&radius=20')
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    oak = html[html.index(f'data-setting-id="{indexed.oak_house.id}"'):]
    oak = oak[:oak.index('</li>')]
    assert '2 Example Road' in oak and 'BD1 1HY' in oak
    assert 'miles (' in oak and 'km)' in oak
    assert '1 of 4' in oak and 'confirmed' in oak
    assert 'Stale' not in oak
    assert 'Provider profile and evidence' in oak


def test_commissioner_can_filter_by_their_authoritys_local_list(client, indexed, login_as):
    login_as(make_user(Role.COMMISSIONER, authority_code=WESTMINSTER))
    html = client.get(f'/directory/commissioner?accepted_by={WESTMINSTER}').get_data(as_text=True)
    assert '1 result' in html
    assert 'Capital Fostering Westminster' in html
    assert 'Accepted by my authority' in html


def test_commissioner_sees_stale_vacancies(client, indexed, login_as, app_ctx):
    from datetime import timedelta

    from registry.db import utcnow
    from registry.extensions import db
    from registry.settings.models import Setting

    setting = db.session.get(Setting, indexed.riverside.id)
    setting.vacancies_confirmed_at = utcnow() - timedelta(days=8)
    db.session.commit()
    SqlEngine().reindex(build_entries())
    login_as(make_user(Role.COMMISSIONER, authority_code=BRADFORD))
    html = client.get('/directory/commissioner?q=riverside').get_data(as_text=True)
    assert 'Stale' in html


def test_public_can_view_a_provider_profile_without_home_addresses(client, indexed):
    response = client.get(f'/directory/providers/{indexed.oak_house.organisation_id}')
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'Northern Lights Homes Ltd' in html
    assert 'Oak House' in html and 'Willow Lodge' in html
    assert '2 Example Road' not in html and 'BD1 1HY' not in html and 'M1 1AE' not in html
    assert 'Suspended Fostering House' not in html


def test_commissioner_can_view_a_provider_profile_with_home_addresses(client, indexed, login_as):
    login_as(make_user(Role.COMMISSIONER, authority_code=LEEDS))
    html = client.get(f'/directory/providers/{indexed.oak_house.organisation_id}').get_data(as_text=True)
    assert '2 Example Road' in html and 'BD1 1HY' in html
    assert 'id="evidence"' in html


def test_public_gets_404_for_a_provider_with_no_listed_settings(client, indexed):
    assert client.get(f'/directory/providers/{indexed.pennine_assessment.organisation_id}').status_code == 404
    assert client.get('/directory/providers/999999').status_code == 404


def test_provider_profile_lists_local_lists(client, indexed):
    html = client.get(f'/directory/providers/{indexed.capital_fostering.organisation_id}').get_data(as_text=True)
    assert 'Westminster' in html[html.index('id="accepted-by"'):]
