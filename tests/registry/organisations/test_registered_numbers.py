"""One organisation per Companies House number and per charity number: the form says so, the database makes sure."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.organisations import services
from registry.organisations.models import LegalForm, Membership, Organisation, Sector
from tests.factories import make_user
from tests.live import ThreadedServer, run_together, signed_in
from tests.registry.organisations.helpers import make_organisation, organisation_form

TAKEN_COMPANY = ('An organisation with this Companies House number is already registered. Check the number, or ask '
                 'someone at that organisation to invite you to join it')
TAKEN_CHARITY = ('An organisation with this charity number is already registered. Check the number, or ask someone '
                 'at that organisation to invite you to join it')
#: A charitable incorporated organisation: a charity number, no Companies House number.
CIO = {'legal_form': 'charitable-incorporated-organisation', 'company_number': '', 'sector': 'voluntary'}


def _count(model, *where) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


def _holder(**overrides) -> Organisation:
    """An organisation registered by someone else, with a name a stranger must not be shown."""
    return make_organisation(make_user(Role.PROVIDER), legal_name='Hidden Holdings Ltd', trading_name='Hidden Homes',
                             **overrides)


def _refused_on(response, field: str, message: str) -> str:
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'govuk-error-summary' in body
    assert f'id="{field}-error"' in body, 'the error is shown next to the field'
    assert body.count(message) >= 2, 'the message appears in the summary and next to the field'
    return body


@pytest.mark.parametrize('typed', ['SC123456', 'sc123456', 'sc 123 456', ' SC 12 34 56 '])
def test_provider_cannot_register_a_company_number_another_organisation_holds(app_ctx, client, login_as, typed):
    _holder(company_number='SC123456')
    provider = login_as(make_user(Role.PROVIDER))

    response = client.post('/organisations/new', data=organisation_form(company_number=typed))

    body = _refused_on(response, 'company_number', TAKEN_COMPANY)
    assert 'Hidden' not in body, 'a stranger is not told which organisation holds the number'
    assert _count(Organisation) == 1
    assert _count(Membership, Membership.user_id == provider.id) == 0
    assert _count(AuditEvent, AuditEvent.action == 'organisation.create', AuditEvent.actor_id == provider.id) == 0


@pytest.mark.parametrize('typed', ['1234567', ' 123 4567 ', 'sc012345'])
def test_provider_cannot_register_a_charity_number_another_organisation_holds(app_ctx, client, login_as, typed):
    held = '1234567' if typed.strip().startswith('1') else 'SC012345'
    _holder(**{**CIO, 'charity_number': held})
    login_as(make_user(Role.PROVIDER))

    response = client.post('/organisations/new', data=organisation_form(**CIO, charity_number=typed))

    body = _refused_on(response, 'charity_number', TAKEN_CHARITY)
    assert 'Hidden' not in body
    assert _count(Organisation) == 1


def test_both_taken_numbers_are_refused_at_once(app_ctx, client, login_as):
    _holder(legal_form='charitable-company', company_number='07654321', charity_number='1234567')
    login_as(make_user(Role.PROVIDER))

    response = client.post('/organisations/new', data=organisation_form(
        legal_form='charitable-company', company_number='07654321', charity_number='1234567', sector='voluntary'))

    _refused_on(response, 'company_number', TAKEN_COMPANY)
    _refused_on(response, 'charity_number', TAKEN_CHARITY)


def test_a_member_who_registers_their_organisation_again_is_told_which_it_is(app_ctx, client, login_as):
    provider = login_as(make_user(Role.PROVIDER))
    make_organisation(provider, company_number='01234567')

    response = client.post('/organisations/new', data=organisation_form(company_number='01234567'))

    _refused_on(response, 'company_number', 'You are already a member of Bright Futures, which has this Companies '
                                            'House number. Find it in Your organisations instead of registering it')
    assert _count(Organisation) == 1


@pytest.mark.parametrize(('field', 'form', 'message'), [
    ('company_number', {}, TAKEN_COMPANY),
    ('charity_number', CIO, TAKEN_CHARITY),
])
def test_provider_can_keep_their_own_number_but_cannot_take_another_organisations(app_ctx, client, login_as, field,
                                                                                  form, message):
    _holder(**{**form, field: '08765432'})
    provider = login_as(make_user(Role.PROVIDER))
    organisation = make_organisation(provider, **{**form, field: '01234567'})
    url = f'/organisations/{organisation.id}/edit'

    kept = client.post(url, data=organisation_form(**form, **{field: '0123 4567'}, trading_name='Renamed'))
    assert kept.status_code == 302
    assert db.session.get(Organisation, organisation.id).trading_name == 'Renamed'

    response = client.post(url, data=organisation_form(**form, **{field: '08765432'}, trading_name='Renamed again'))

    body = _refused_on(response, field, message)
    assert 'Hidden' not in body
    db.session.expire_all()
    saved = db.session.get(Organisation, organisation.id)
    assert (getattr(saved, field), saved.trading_name) == ('01234567', 'Renamed')


def _row(**numbers) -> Organisation:
    return Organisation(legal_name='Row Ltd', legal_form=LegalForm.SOLE_TRADER, sector=Sector.PRIVATE,
                        address_line_1='1 Park Row', town='Leeds', postcode='LS1 4DY', contact_name='Ada',
                        contact_email='ada@example.org', contact_phone='0113 496 0000', **numbers)


@pytest.mark.parametrize('column', ['company_number', 'charity_number'])
def test_the_database_refuses_a_second_organisation_with_a_number_and_allows_many_without(app_ctx, column):
    db.session.add_all([_row(), _row(), _row(**{column: ''}), _row(**{column: '01234567'})])
    db.session.commit()

    db.session.add(_row(**{column: '01234567'}))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert _count(Organisation) == 4


def test_the_loser_of_a_double_click_gets_the_409_page_and_nothing_is_half_saved(app, monkeypatch):
    """Both requests pass the service's check when they arrive together; the unique index refuses the second."""
    with app.app_context():
        provider_id = make_user(Role.PROVIDER).id
        db.session.remove()
    monkeypatch.setattr(services, '_refuse_numbers_held_elsewhere', lambda values, **kwargs: None)
    with ThreadedServer(app) as server:
        http = signed_in(app, server.url, provider_id)
        first = http.post(f'{server.url}/organisations/new', data=organisation_form(), allow_redirects=False,
                          timeout=60)
        second = http.post(f'{server.url}/organisations/new', data=organisation_form(), allow_redirects=False,
                           timeout=60)
    assert first.status_code == 302
    assert second.status_code == 409, second.text[:300]
    assert 'Your change was not saved' in second.text and 'Sign out' in second.text
    with app.app_context():
        assert _count(Organisation) == 1
        assert _count(Membership) == 1
        assert _count(AuditEvent, AuditEvent.action == 'organisation.create') == 1
        db.session.remove()


@pytest.mark.parametrize('trial', range(2))
def test_two_registrations_sent_at_once_make_one_organisation_and_no_error_page(app, trial):
    with app.app_context():
        provider_id = make_user(Role.PROVIDER).id
        db.session.remove()
    with ThreadedServer(app) as server:
        sessions = [signed_in(app, server.url, provider_id) for _ in range(2)]
        responses = run_together([
            lambda http=http: http.post(f'{server.url}/organisations/new', data=organisation_form(),
                                        allow_redirects=False, timeout=60)
            for http in sessions])
    statuses = sorted(getattr(response, 'status_code', response) for response in responses)
    # the loser is refused by the index (409) or, arriving just after, by the form (200, naming its organisation)
    assert statuses in ([302, 409], [200, 302]), statuses
    with app.app_context():
        assert _count(Organisation) == 1
        assert _count(Membership) == 1
        db.session.remove()
