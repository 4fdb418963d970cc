"""The whole market in year one: register settings not on the national list and in-house services, marked and ranked
after qualified ones for commissioners, and never shown to the public (pages, API, HSDS)."""

from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import select

import search
from consortia import services as consortia_services
from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.errors import PermissionDenied
from registry.extensions import db
from registry.ofsted.models import OfstedRegisterEntry
from registry.settings.taxonomy import Judgement, Lot, ProvisionType, RegistrationStatus
from tests.factories import make_user
from tests.workspace.conftest import _criteria as criteria
from tests.workspace.conftest import _finder_args, make_organisation, make_setting, qualify
from unlisted import services
from unlisted.models import UnlistedKind, UnlistedSetting
from workspace import services as workspace_services

LEEDS, BRADFORD, MANCHESTER = 'E08000035', 'E08000032', 'E08000003'
IN_HOUSE = {'name': 'Leeds Council Home', 'provision_type': 'childrens-home', 'postcode': 'LS6 2QB', 'places': 4,
            'vacancies': 1, 'age_min': 10, 'age_max': 17, 'sex': 'any', 'needs': ['autism'], 'description': ''}


def _register(urn, provision_type, name, postcode, authority_code, *, status=RegistrationStatus.ACTIVE,
              judgement=None, town='Leeds'):
    row = OfstedRegisterEntry(urn=urn, provision_type_text=provision_type.label, provision_type=provision_type,
                              registration_status=status, name=name, town=town, postcode=postcode,
                              local_authority_name='Leeds', authority_code=authority_code, owner_name='Unlisted Ltd',
                              overall_judgement=judgement, row_hash=urn * 8)
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def market(app_ctx):
    """A qualified home in Leeds; from the register a Leeds children's home (address redacted) and a fostering
    agency whose providers have not joined; Leeds's own in-house home."""
    organisation = make_organisation('Aire Valley Care Ltd')
    qualify(organisation, Lot.CHILDRENS_HOMES)
    qualified = make_setting(organisation, 'Aire House', 'LS1 4DY', judgement=Judgement.REQUIRES_IMPROVEMENT,
                             needs=['autism'])
    db.session.delete(db.session.get(OfstedRegisterEntry, qualified.urn))  # the factory's made-up registration
    qualified.urn = 'SC100001'
    db.session.commit()
    _register('SC100001', ProvisionType.CHILDRENS_HOME, 'REDACTED', '', LEEDS)  # Aire House's own registration
    _register('SC200002', ProvisionType.CHILDRENS_HOME, 'REDACTED', 'LS1 4DY', LEEDS, judgement=Judgement.OUTSTANDING,
              town='Headingley')
    _register('SC300003', ProvisionType.INDEPENDENT_FOSTERING_AGENCY, 'Unlisted Fostering', 'LS2 8BH', LEEDS)
    _register('SC400004', ProvisionType.CHILDRENS_HOME, 'REDACTED', '', LEEDS, status=RegistrationStatus.CANCELLED)
    counts = services.refresh_from_register()
    commissioner = make_user(Role.COMMISSIONER, authority_code=LEEDS)
    in_house = services.record_in_house(LEEDS, dict(IN_HOUSE), actor=commissioner)
    search.engine().reindex(search.build_entries())
    return {'qualified': qualified, 'commissioner': commissioner, 'in_house': in_house, 'counts': counts}


def _entries(kind):
    return list(db.session.scalars(select(UnlistedSetting).where(UnlistedSetting.kind == kind)
                                   .order_by(UnlistedSetting.urn)))


def test_the_register_gives_not_qualified_entries_and_childrens_homes_only_at_authority_level(market):
    assert market['counts']['added'] == 3  # the cancelled registration is never added
    home, agency, _twin = None, None, None
    for entry in _entries(UnlistedKind.NOT_QUALIFIED):
        if entry.urn == 'SC200002':
            home = entry
        if entry.urn == 'SC300003':
            agency = entry
    assert (home.address, home.postcode, home.district_name, home.name) == ('', '', '', "Children's home")
    assert (home.easting, home.northing) == search.query.authority_centroids()[LEEDS]
    assert agency.postcode == 'LS2 8BH' and agency.name == 'Unlisted Fostering'
    built = {entry.urn: entry for entry in search.build_entries() if entry.urn}
    assert 'SC100001' in built and built['SC100001'].standing == 'qualified'  # the twin is left out
    assert built['SC200002'].standing == 'not_qualified' and built['SC200002'].postcode == ''


def test_a_registration_that_stops_leaves_search(market):
    row = db.session.get(OfstedRegisterEntry, 'SC300003')
    row.registration_status = RegistrationStatus.SUSPENDED
    db.session.commit()
    assert services.refresh_from_register()['closed'] == 1
    search.drain()
    assert 'Unlisted Fostering' not in [hit.entry.name for hit in search.search(
        search.Query(page_size=100, market=True, in_house_for='*')).hits]


def _page(client, **args):
    return client.get(url_for('search.commissioner_search', page_size='50', **args)).get_data(as_text=True)


def test_commissioners_see_the_whole_market_marked_and_ranked_after_qualified_ones(market, client, login_as):
    login_as(market['commissioner'])
    page = _page(client, sort='judgement')
    # Aire House (requires improvement) before the outstanding home that is not qualified
    assert page.index('Aire House') < page.index('data-standing="not_qualified"')
    assert 'Not qualified: registered with Ofsted (URN SC200002)' in page
    assert 'Leeds Council Home' in page and 'In-house service of Leeds' in page
    assert 'Headingley' not in page  # a register home's town is never kept
    near = _page(client, postcode='LS1 4DY', radius='5')
    assert 'to the centre of Leeds: Ofsted does not publish the address' in near
    listed_only = _page(client, market='listed')
    assert 'Aire House' in listed_only and 'data-standing' not in listed_only


def test_in_house_services_reach_their_authority_consortium_partners_and_the_board_only(market, client, login_as):
    admin = make_user(Role.ADMIN)
    login_as(make_user(Role.COMMISSIONER, authority_code=BRADFORD))
    assert 'Leeds Council Home' not in _page(client)
    west_yorkshire = consortia_services.create_consortium('West Yorkshire consortium', [LEEDS, BRADFORD],
                                                          actor=admin)
    search.drain()
    assert 'Leeds Council Home' in _page(client)
    consortia_services.update_consortium(west_yorkshire, west_yorkshire.name, [LEEDS, 'E08000034'], actor=admin)
    search.drain()
    assert 'Leeds Council Home' not in _page(client)  # Bradford left the consortium
    login_as(make_user(Role.COMMISSIONER, authority_code=MANCHESTER))
    page = _page(client)
    assert 'Leeds Council Home' not in page and 'Unlisted Fostering' in page
    login_as(make_user(Role.BOARD_MEMBER))
    assert 'Leeds Council Home' in _page(client)


def test_the_public_never_sees_the_market(market, client):
    page = client.get(url_for('search.directory', page_size='50')).get_data(as_text=True)
    assert 'Aire House' in page
    assert 'Unlisted Fostering' not in page and 'Leeds Council Home' not in page and 'data-standing' not in page
    api = client.get(url_for('api.list_settings', page_size='50')).get_json()
    assert [item['name'] for item in api['results']] == ['Aire House'] and api['total'] == 1
    for entry in search.build_entries():
        if not entry.is_qualified:
            assert client.get(url_for('api.get_setting', setting_id=entry.id)).status_code == 404
    hsds = client.get(url_for('api.hsds_services', per_page='50')).get_json()
    assert hsds['total_items'] == 1 and [item['name'] for item in hsds['contents']] == ['Aire House']


def test_the_finder_ranks_qualified_first_and_says_why_others_are_there(market):
    child = workspace_services.child_from_criteria(criteria(min_judgement='', needs=[]))
    matches = workspace_services.find_placements(child, LEEDS)
    standings = [match.entry.standing for match in matches]
    assert standings[0] == 'qualified' and set(standings[1:]) == {'not_qualified', 'in_house'}
    reasons = {match.entry.name: {r.kind: r.text for r in match.reasons} for match in matches}
    assert reasons['Leeds Council Home']['standing'] == 'In-house service of Leeds: not on the national list'
    assert reasons['Unlisted Fostering']['standing'].startswith('Not qualified')
    listed_only = workspace_services.child_from_criteria(criteria(min_judgement='', needs=[], market='listed'))
    assert [m.entry.name for m in workspace_services.find_placements(listed_only, LEEDS)] == ['Aire House']
    manchester = workspace_services.find_placements(child, MANCHESTER)
    assert 'Leeds Council Home' not in [match.entry.name for match in manchester]


def test_the_finder_page_marks_the_market_and_offers_no_shortlist_box_for_it(market, client, login_as):
    login_as(market['commissioner'])
    page = client.get(url_for('workspace.finder', **_finder_args(min_judgement='', needs=[]))).get_data(as_text=True)
    assert 'data-standing="in_house"' in page and 'data-standing="not_qualified"' in page
    assert f'id="setting-{market["in_house"].id + services.UNLISTED_ID_OFFSET}"' not in page
    assert f'id="setting-{market["qualified"].id}"' in page


def test_an_authority_records_and_closes_its_in_house_services_through_the_page(market, client, login_as):
    login_as(market['commissioner'])
    response = client.post(url_for('unlisted.in_house'), data={**IN_HOUSE, 'name': 'Roundhay House',
                                                            'places': '3', 'vacancies': '0', 'age_min': '9',
                                                            'age_max': '16'})
    assert response.status_code == 302
    entry = db.session.scalar(select(UnlistedSetting).where(UnlistedSetting.name == 'Roundhay House'))
    assert (entry.owner_authority_code, entry.kind) == (LEEDS, UnlistedKind.IN_HOUSE)
    client.post(url_for('unlisted.close_in_house', unlisted_setting_id=entry.id))
    db.session.refresh(entry)
    assert entry.closed_at is not None
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == 'unlisted_settings')))
    assert {'unlisted.in_house.record', 'unlisted.in_house.close'} <= actions


@pytest.mark.parametrize('change, message', [
    ({'name': ''}, 'Enter the name of the home or service'),
    ({'postcode': 'ZZ9 9ZZ'}, 'We could not find ZZ9 9ZZ'),
    ({'age_min': '17', 'age_max': '10'}, 'Enter ages from 0 to 25, the youngest first'),
    ({'places': 'two'}, 'Places must be a whole number, like 4'),
])
def test_bad_in_house_input_is_refused_with_an_error_summary_and_nothing_saved(market, client, login_as, change,
                                                                                message):
    login_as(market['commissioner'])
    before = db.session.scalar(select(db.func.count()).select_from(UnlistedSetting))
    data = {**IN_HOUSE, 'places': '3', 'vacancies': '0', 'age_min': '9', 'age_max': '16', **change}
    response = client.post(url_for('unlisted.in_house'), data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'There is a problem' in page and message in page
    assert db.session.scalar(select(db.func.count()).select_from(UnlistedSetting)) == before


def test_only_the_owning_authority_records_or_closes_its_in_house_services(market, client, login_as):
    bradford = make_user(Role.COMMISSIONER, authority_code=BRADFORD)
    with pytest.raises(PermissionDenied):
        services.record_in_house(LEEDS, dict(IN_HOUSE), actor=bradford)
    login_as(bradford)
    response = client.post(url_for('unlisted.close_in_house', unlisted_setting_id=market['in_house'].id))
    assert response.status_code == 403
    login_as(make_user(Role.PROVIDER))
    assert client.get(url_for('unlisted.in_house')).status_code == 403
