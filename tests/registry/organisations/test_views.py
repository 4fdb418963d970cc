"""Registering and editing an organisation through the pages."""

from __future__ import annotations

import pytest

from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.organisations.models import MemberRole, Membership, Organisation
from tests.factories import make_user
from tests.registry.organisations.helpers import make_organisation, organisation_form


def _count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_provider_can_create_organisation_and_becomes_owner(app_ctx, client, login_as):
    provider = login_as(make_user(Role.PROVIDER))

    response = client.post('/organisations/new', data=organisation_form(company_number='sc 123456'))

    organisation = db.session.scalars(db.select(Organisation)).one()
    assert response.status_code == 302
    assert response.headers['Location'].endswith(f'/organisations/{organisation.id}')
    assert organisation.legal_name == 'Bright Futures Care Ltd'
    assert organisation.company_number == 'SC123456'
    assert organisation.postcode == 'LS1 4DY'
    membership = db.session.scalars(db.select(Membership)).one()
    assert (membership.user_id, membership.role) == (provider.id, MemberRole.OWNER)
    event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == 'organisation.create')).one()
    assert event.actor_id == provider.id
    assert event.after['legal_form'] == 'company-limited-by-shares'

    overview = client.get(response.headers['Location'])
    assert overview.status_code == 200
    assert b'Bright Futures' in overview.data
    assert b'Add a setting' in overview.data


def test_provider_cannot_create_an_organisation_with_names_too_long_and_is_told_which(app_ctx, client, login_as):
    login_as(make_user(Role.PROVIDER))
    too_long = 'x' * 300

    response = client.post('/organisations/new', data=organisation_form(
        legal_name=too_long, trading_name=too_long, address_line_1=too_long, address_line_2=too_long, town=too_long,
        contact_name=too_long, website='https://' + too_long + '.example.org'))

    body = response.get_data(as_text=True)
    assert 'There is a problem' in body
    # each used to be "Field cannot be longer than 200 characters.", the same words twice and no field named
    summary = body.split('govuk-error-summary__list')[1].split('</ul>')[0]
    for message in ('Legal name must be 200 characters or fewer', 'Trading name must be 200 characters or fewer',
                    'Address line 1 must be 120 characters or fewer', 'Address line 2 must be 120 characters or fewer',
                    'Town or city must be 80 characters or fewer', 'Contact name must be 120 characters or fewer',
                    'Website must be 200 characters or fewer'):
        assert message in summary
    assert 'Field' not in body
    assert _count(Organisation) == 0


def test_provider_can_create_organisation_with_a_registered_address_outside_england(app_ctx, client, login_as):
    login_as(make_user(Role.PROVIDER))

    response = client.post('/organisations/new', data=organisation_form(postcode='cf101ep'))

    assert response.status_code == 302
    assert db.session.scalars(db.select(Organisation)).one().postcode == 'CF10 1EP'


def test_provider_can_create_a_charitable_company_with_a_scottish_charity_number(app_ctx, client, login_as):
    login_as(make_user(Role.PROVIDER))

    response = client.post('/organisations/new', data=organisation_form(
        legal_form='charitable-company', company_number='SC654321', charity_number='sc 012345', sector='voluntary'))

    assert response.status_code == 302
    assert db.session.scalars(db.select(Organisation)).one().charity_number == 'SC012345'


@pytest.mark.parametrize(('overrides', 'message'), [
    ({'legal_name': '  '}, 'Enter the legal name'),
    ({'legal_form': ''}, 'Select the legal form'),
    ({'legal_form': 'empire'}, 'Select the legal form'),
    ({'company_number': ''}, 'Enter the Companies House number'),
    ({'company_number': '1234567'}, 'Companies House number must be 8 characters'),
    ({'company_number': 'SC12345X'}, 'Companies House number must be 8 characters'),
    ({'legal_form': 'charitable-incorporated-organisation', 'company_number': '', 'charity_number': ''},
     'Enter the charity number'),
    ({'legal_form': 'charitable-incorporated-organisation', 'company_number': '', 'charity_number': '12345'},
     'Charity number must be 6 to 8 digits'),
    ({'legal_form': 'charitable-company', 'charity_number': 'SC12345'}, 'Charity number must be 6 to 8 digits'),
    ({'sector': ''}, 'Select the sector'),
    ({'address_line_1': ''}, 'Enter address line 1'),
    ({'town': ''}, 'Enter the town or city'),
    ({'postcode': ''}, 'Enter a postcode'),
    ({'postcode': 'LS1 4D'}, 'Enter a real postcode'),
    ({'contact_email': 'ada-at-example.org'}, 'Enter an email address in the correct format'),
    ({'contact_phone': '0113 496'}, 'Enter a telephone number'),
    ({'contact_phone': '0113 496 000X'}, 'Enter a telephone number'),
    ({'contact_phone': '+44 113 496 0000 00000'}, 'Enter a telephone number'),
    ({'website': 'http://bright.example.org'}, 'Enter a website address starting with https://'),
])
def test_provider_cannot_create_organisation_with_invalid_details(app_ctx, client, login_as, overrides, message):
    login_as(make_user(Role.PROVIDER))

    response = client.post('/organisations/new', data=organisation_form(**overrides))

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'There is a problem' in body
    assert 'govuk-error-summary' in body
    assert message in body
    assert body.count(message) >= 2, 'the message appears in the summary and next to the field'
    assert _count(Organisation) == 0
    assert _count(Membership) == 0
    assert _count(AuditEvent) == 0


def test_sole_trader_does_not_need_a_company_number(app_ctx, client, login_as):
    login_as(make_user(Role.PROVIDER))

    response = client.post('/organisations/new', data=organisation_form(legal_form='sole-trader', company_number=''))

    assert response.status_code == 302


def test_website_without_a_scheme_is_saved_as_https(app_ctx, client, login_as):
    login_as(make_user(Role.PROVIDER))

    client.post('/organisations/new', data=organisation_form(website='www.bright.example.org'))

    assert db.session.scalars(db.select(Organisation)).one().website == 'https://www.bright.example.org'


def test_commissioner_cannot_create_organisation(app_ctx, client, login_as):
    login_as(make_user(Role.COMMISSIONER))

    assert client.get('/organisations/new').status_code == 403
    assert client.post('/organisations/new', data=organisation_form()).status_code == 403
    assert _count(Organisation) == 0


def test_member_can_edit_organisation_and_the_audit_event_records_before_and_after(app_ctx, client, login_as):
    owner = make_user(Role.PROVIDER)
    organisation = make_organisation(owner, company_number='01234567')
    login_as(owner)

    form_page = client.get(f'/organisations/{organisation.id}/edit')
    assert form_page.status_code == 200
    assert 'value="Bright Futures Care Ltd"' in form_page.get_data(as_text=True)

    response = client.post(f'/organisations/{organisation.id}/edit',
                           data=organisation_form(trading_name='Brighter Futures', contact_phone='0113 496 0999'))

    assert response.status_code == 302
    db.session.refresh(organisation)
    assert organisation.trading_name == 'Brighter Futures'
    event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == 'organisation.update')).one()
    assert event.before == {'trading_name': 'Bright Futures', 'contact_phone': '0113 496 0000'}
    assert event.after == {'trading_name': 'Brighter Futures', 'contact_phone': '0113 496 0999'}
    assert event.actor_id == owner.id


def test_member_cannot_save_invalid_changes(app_ctx, client, login_as):
    owner = make_user(Role.PROVIDER)
    organisation = make_organisation(owner)
    login_as(owner)

    response = client.post(f'/organisations/{organisation.id}/edit',
                           data=organisation_form(trading_name='Changed', company_number='123'))

    assert response.status_code == 200
    assert 'There is a problem' in response.get_data(as_text=True)
    db.session.refresh(organisation)
    assert organisation.trading_name == 'Bright Futures'
    assert db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == 'organisation.update')).all() == []


def test_provider_sees_only_their_own_organisations_in_the_list(app_ctx, client, login_as):
    mine = make_organisation(make_user(Role.PROVIDER), legal_name='Mine Ltd', trading_name='')
    owner = db.session.scalars(db.select(Membership)).one().user
    make_organisation(make_user(Role.PROVIDER), legal_name='Theirs Ltd', trading_name='')
    login_as(owner)

    body = client.get('/organisations/').get_data(as_text=True)

    assert 'Mine Ltd' in body
    assert 'Theirs Ltd' not in body
    assert 'Add an organisation' in body
    assert f'/organisations/{mine.id}' in body
