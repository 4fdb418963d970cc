"""Distances to entries the service places only at their authority's centre read as approximate, never as exact
(``DirectoryEntry.location_is_approximate``): on the commissioner search, in the API and in the HSDS export."""

from __future__ import annotations

import pytest
from flask import url_for

import search
from registry.accounts.models import Role
from search import hsds
from search.api import setting_json
from tests.factories import make_user
from tests.register_market import LEEDS, add_leeds_register_market


@pytest.fixture
def register_market(app_ctx):
    """From Ofsted's register, none on the national list: a Leeds children's home (address redacted, so placed at
    Leeds' centre), a fostering agency whose postcode cannot be found (also at the centre) and one at LS2 8BH."""
    add_leeds_register_market()
    return {entry.name: entry for entry in search.build_entries() if entry.urn}


def _distance_row(page: str, entry_id: int) -> str:
    row = page.split(f'id="result-{entry_id}"')[1].split('</li>')[0]
    return row.split('Distance</dt>')[1].split('</dd>')[0].split('>')[-1]


def test_commissioner_sees_every_distance_to_an_authority_centre_as_approximate(register_market, client, login_as):
    login_as(make_user(Role.COMMISSIONER, authority_code=LEEDS))
    page = client.get(url_for('search.commissioner_search', postcode='LS6 1AA', page_size='50')).get_data(as_text=True)

    lost = register_market['Lost Fostering']
    assert lost.location_is_approximate
    assert _distance_row(page, lost.id) == 'About 1 mile (2 km) to the centre of Leeds: its postcode could not be found'
    assert _distance_row(page, register_market["Children's home"].id) == (
        'About 1 mile (2 km) to the centre of Leeds: Ofsted does not publish the address')
    # the service holds this one's location: its distance stays exact
    assert _distance_row(page, register_market['Found Fostering'].id) == '1.6 miles (2.6 km)'


def test_api_and_hsds_give_no_exact_distance_or_location_for_an_entry_placed_at_its_authority_centre(
        register_market):
    lost, found = register_market['Lost Fostering'], register_market['Found Fostering']
    assert setting_json(lost, 1_700.0)['distance_miles'] is None
    assert setting_json(found, 1_700.0)['distance_miles'] == 1.1
    assert hsds.service(lost)['service_at_locations'] == []
    assert hsds.service(lost)['service_areas'][0]['service_area'] == 'Leeds'
    assert hsds.service(found)['service_at_locations'][0]['location']['physical_addresses'][0]['postal_code'] == (
        'LS2 8BH')
