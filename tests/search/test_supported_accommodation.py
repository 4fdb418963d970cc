"""Supported accommodation for 16 and 17 year olds: imported from Ofsted's register, listed under its own lot,
found by type, and its addresses kept as confidential as children's homes' (Ofsted redacts them too)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from qualification.listing import is_listed
from qualification.models import Qualification
from registry.extensions import db
from registry.ofsted.demo import ADDRESS_WITHHELD, build_directory_from_register
from registry.ofsted.importer import map_provision_type
from registry.ofsted.models import OfstedRegisterEntry
from registry.ofsted.services import import_register
from registry.settings.models import Setting
from registry.settings.taxonomy import Lot, ProvisionType
from tests.factories import register_with_ofsted
from tests.registry.ofsted.conftest import AS_AT, register_row, write_register
from tests.search.conftest import make_organisation, make_setting, qualify
from tests.search.test_public_text_withheld import PUBLIC_PAGES

SUPPORTED = ProvisionType.SUPPORTED_ACCOMMODATION


def _reindex(app) -> None:
    result = app.test_cli_runner().invoke(args=['search', 'reindex'])
    assert result.exit_code == 0, result.output


def test_ofsteds_wording_maps_to_supported_accommodation_which_is_confidential_and_its_own_lot():
    assert map_provision_type('Supported Accommodation') == SUPPORTED
    assert map_provision_type(' supported  accommodation ') == SUPPORTED
    assert SUPPORTED.info.confidential_address and SUPPORTED.info.ofsted_registered
    assert SUPPORTED.lot == Lot.SUPPORTED_ACCOMMODATION
    assert Lot.SUPPORTED_ACCOMMODATION.label == 'Supported accommodation (16 and 17 year olds)'


def test_a_register_row_becomes_a_listed_setting_found_by_its_type_and_lot(app, app_ctx, client, tmp_path):
    import_register(write_register(tmp_path / 'register.csv', [
        register_row('2739460', provision_type='Supported Accommodation', authority='Leeds',
                     region='Yorkshire and The Humber', owner='Step Up Living Ltd', places='19', judgement=''),
        register_row('SC100001', authority='Leeds', region='Yorkshire and The Humber', owner='Acme Care Ltd'),
    ]), as_at=AS_AT)
    entry = db.session.get(OfstedRegisterEntry, '2739460')
    assert entry.provision_type == SUPPORTED and entry.is_redacted and entry.places == 19

    summary = build_directory_from_register()

    assert summary.settings_created == 2
    setting = db.session.scalars(select(Setting).where(Setting.urn == '2739460')).one()
    assert setting.provision_type == SUPPORTED and setting.authority_code == 'E08000035'
    assert setting.address_line_1 == ADDRESS_WITHHELD and (setting.age_min, setting.age_max) == (16, 17)
    assert db.session.scalars(select(Qualification.lot).where(
        Qualification.organisation_id == setting.organisation_id)).all() == [Lot.SUPPORTED_ACCOMMODATION]
    assert is_listed(setting)
    _reindex(app)

    by_type = client.get('/api/v1/settings', query_string={'provision_type': 'supported-accommodation'}).get_json()
    assert [result['id'] for result in by_type['results']] == [setting.id]
    result = by_type['results'][0]
    assert result['provision_type_label'] == 'Supported accommodation (16 and 17 year olds)'
    assert result['confidential_address'] and 'postcode' not in result and 'address' not in result
    by_lot = client.get('/api/v1/settings', query_string={'lot': 'supported-accommodation'}).get_json()
    assert [result['id'] for result in by_lot['results']] == [setting.id]
    everything = client.get('/api/v1/settings', query_string={'facets': 'provision_type'}).get_json()
    assert everything['facets']['provision_type'] == {'supported-accommodation': 1, 'childrens-home': 1}
    page = client.get('/directory', query_string={'provision_type': 'supported-accommodation'}).get_data(
        as_text=True)
    assert 'Supported accommodation (16 and 17 year olds)' in page and setting.name in page


#: A real Kirkstall postcode and a made-up street for the young people's flat.
SECRETS = re.compile(r'kirkstall|LS5\s*3BT|LS5 3\b|7 Hawksworth', re.I)


@pytest.fixture
def flats(app, app_ctx):
    organisation = make_organisation('Next Steps Housing Ltd')
    qualify(organisation, Lot.SUPPORTED_ACCOMMODATION)
    flat = make_setting(organisation, 'Hawksworth Flats', SUPPORTED, 'LS5 3BT', ages=(16, 17),
                        description='Single-occupancy flats with staff on site day and night.')
    flat.address_line_1 = '7 Hawksworth Road'
    register_with_ofsted(flat, urn='2739461')  # its URN verifies: Ofsted is the gate for listing
    db.session.commit()
    _reindex(app)
    return organisation, flat


def test_no_public_page_or_api_response_carries_a_supported_accommodation_address(client, flats):
    organisation, flat = flats
    seen = ''
    for template in PUBLIC_PAGES:
        url = template.format(organisation=organisation.id, leaky=flat.id, named=flat.id)
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        if 'postcode=LS5' in url:  # the page repeats the searcher's own postcode back to them
            body = body.replace('LS5 3BT', '').replace('LS5+3BT', '').replace('LS53BT', '')
        found = SECRETS.search(body)
        assert found is None, (url, body[max(0, found.start() - 200):found.end() + 200])
        seen += body
    # listed all the same, by its district and authority only
    assert 'Single-occupancy flats with staff on site' in seen
    radius = client.get('/api/v1/settings', query_string={'postcode': 'LS5 3BT', 'radius': 25}).get_json()
    [result] = radius['results']
    assert result['id'] == flat.id and result['distance_miles'] is None
