"""Adding and changing settings, vacancies and history through the pages."""

from __future__ import annotations

import pytest

from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.indexing import ReindexRequest
from registry.settings.models import Setting, VacancyChange
from registry.settings.taxonomy import ProvisionType, RegistrationStatus
from tests.factories import make_user
from tests.registry.organisations.helpers import make_organisation, make_setting, setting_form


@pytest.fixture
def owner(app_ctx):
    return make_user(Role.PROVIDER)


@pytest.fixture
def organisation(owner):
    return make_organisation(owner)


def _count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


@pytest.mark.parametrize(('postcode', 'authority', 'district'), [
    ('ls1 4dy', 'E08000035', 'Leeds'),
    ('SW1A2AA', 'E09000033', 'Westminster'),
])
def test_member_can_add_a_setting_located_from_its_postcode(client, login_as, owner, organisation, postcode,
                                                           authority, district):
    login_as(owner)

    response = client.post(f'/organisations/{organisation.id}/settings/new', data=setting_form(postcode=postcode))

    setting = db.session.scalars(db.select(Setting)).one()
    assert response.status_code == 302
    assert response.headers['Location'].endswith(f'/settings/{setting.id}')
    assert setting.authority_code == authority
    assert setting.district_name == district
    assert setting.easting > 0 and setting.northing > 0
    assert setting.registration_status == RegistrationStatus.ACTIVE
    assert setting.urn == 'SC123456'
    assert setting.needs == ['autism', 'emotional-behavioural']
    assert (setting.places, setting.age_min, setting.age_max, setting.vacancies) == (4, 8, 17, 0)
    assert db.session.scalars(db.select(AuditEvent.action).where(AuditEvent.object_type == 'settings')).all() \
        == ['setting.create']
    assert db.session.scalars(db.select(ReindexRequest.setting_id)).all() == [setting.id]

    detail = client.get(response.headers['Location']).get_data(as_text=True)
    assert '2 Oak Lane' in detail
    assert 'never shown publicly' in detail


def test_leeds_coordinates_are_stored(client, login_as, owner, organisation):
    setting = make_setting(organisation, owner)

    assert (setting.easting, setting.northing, setting.district_code) == (429960.0, 433298.0, 'E08000035')


@pytest.mark.parametrize(('postcode', 'message'), [
    ('ZZ9 9ZZ', 'We could not find ZZ9 9ZZ'),
    ('CF10 1EP', 'CF10 1EP is not in England'),
    ('LS1', 'Enter a real postcode'),
])
def test_member_cannot_add_a_setting_with_an_unusable_postcode(client, login_as, owner, organisation, postcode,
                                                               message):
    login_as(owner)
    events_before = _count(AuditEvent)

    response = client.post(f'/organisations/{organisation.id}/settings/new', data=setting_form(postcode=postcode))

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'There is a problem' in body
    assert 'href="#postcode"' in body
    assert message in body
    assert _count(Setting) == 0
    assert _count(ReindexRequest) == 0
    assert _count(AuditEvent) == events_before


@pytest.mark.parametrize(('overrides', 'field', 'message'), [
    ({'urn': ''}, 'urn', 'Enter the Ofsted URN'),
    ({'urn': 'SC12345'}, 'urn', 'Enter the URN as SC and 6 digits'),
    ({'urn': 'AB123456'}, 'urn', 'Enter the URN as SC and 6 digits'),
    ({'provision_type': 'assessment-service', 'urn': 'SC123456'}, 'urn', 'Leave the URN blank'),
    ({'age_min': '12', 'age_max': '8'}, 'age_max', 'The oldest age must be the same as or more than'),
    ({'age_max': '26'}, 'age_max', 'Oldest age must be between 0 and 25'),
    ({'places': '0'}, 'places', 'Registered places must be between 1 and 200'),
    ({'places': '201'}, 'places', 'Registered places must be between 1 and 200'),
    ({'places': 'four'}, 'places', 'Registered places must be a whole number'),
    ({'places': ''}, 'places', 'Enter the number of registered places'),
    ({'name': ''}, 'name', 'Enter the name of the setting'),
    ({'provision_type': ''}, 'provision_type', 'Select the type of setting'),
    ({'needs': ['flying']}, 'needs', 'Select needs from the list'),
    ({'description': 'x' * 2001}, 'description', 'Description must be 2,000 characters or fewer'),
    ({'name': 'x' * 201}, 'name', 'Name of the setting must be 200 characters or fewer'),
])
def test_member_cannot_add_an_invalid_setting(client, login_as, owner, organisation, overrides, field, message):
    login_as(owner)

    response = client.post(f'/organisations/{organisation.id}/settings/new', data=setting_form(**overrides))

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'There is a problem' in body
    assert f'href="#{field}"' in body
    assert message in body
    assert _count(Setting) == 0


def test_urn_is_normalised_and_blank_for_services_ofsted_does_not_register(client, login_as, owner, organisation):
    login_as(owner)

    client.post(f'/organisations/{organisation.id}/settings/new', data=setting_form(urn='sc 654321'))
    client.post(f'/organisations/{organisation.id}/settings/new',
                data=setting_form(name='Parenting assessments', provision_type='assessment-service', urn=''))

    home, assessment = db.session.scalars(db.select(Setting).order_by(Setting.id)).all()
    assert home.urn == 'SC654321'
    assert assessment.urn is None
    assert assessment.registration_status == RegistrationStatus.NOT_REQUIRED


def test_member_cannot_use_a_urn_registered_to_another_organisation(client, login_as, owner, organisation):
    other_owner = make_user(Role.PROVIDER)
    other = make_organisation(other_owner, legal_name='Secret Competitor Ltd', trading_name='Secret Competitor')
    make_setting(other, other_owner, name='Hidden Home', urn='SC999999')
    login_as(owner)

    response = client.post(f'/organisations/{organisation.id}/settings/new', data=setting_form(urn='SC999999'))

    body = response.get_data(as_text=True)
    assert 'URN SC999999 is already registered to a setting of another organisation' in body
    assert 'Secret Competitor' not in body
    assert 'Hidden Home' not in body
    assert _count(Setting) == 1


def test_member_is_told_which_of_their_settings_already_uses_a_urn(client, login_as, owner, organisation):
    make_setting(organisation, owner, name='Oak House', urn='SC111111')
    login_as(owner)

    response = client.post(f'/organisations/{organisation.id}/settings/new',
                           data=setting_form(name='Elm House', urn='SC111111'))

    assert 'URN SC111111 is already used by your setting Oak House' in response.get_data(as_text=True)
    assert _count(Setting) == 1


def test_fostering_service_records_coverage_and_other_types_ignore_it(client, login_as, owner, organisation):
    login_as(owner)

    client.post(f'/organisations/{organisation.id}/settings/new',
                data=setting_form(name='North fostering', provision_type='independent-fostering-agency',
                                  urn='SC222222', coverage=['E08000035', 'E08000036']))
    client.post(f'/organisations/{organisation.id}/settings/new',
                data=setting_form(name='Oak House', urn='SC333333', coverage=['E08000035']))

    fostering = db.session.scalar(db.select(Setting).where(Setting.name == 'North fostering'))
    home = db.session.scalar(db.select(Setting).where(Setting.name == 'Oak House'))
    assert fostering.coverage == ['E08000035', 'E08000036']
    assert home.coverage == []


def test_member_can_edit_a_setting_and_history_shows_before_and_after(client, login_as, owner, organisation):
    setting = make_setting(organisation, owner)
    login_as(owner)

    assert client.get(f'/settings/{setting.id}/edit').status_code == 200
    response = client.post(f'/settings/{setting.id}/edit',
                           data=setting_form(name='Oak House North', postcode='SW1A 2AA', places='6'))

    assert response.status_code == 302
    db.session.refresh(setting)
    assert (setting.name, setting.authority_code, setting.places) == ('Oak House North', 'E09000033', 6)
    event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == 'setting.update')).one()
    assert event.before['name'] == 'Oak House' and event.after['name'] == 'Oak House North'
    assert event.before['authority_code'] == 'E08000035' and event.after['authority_code'] == 'E09000033'
    assert 'age_min' not in event.after
    assert _count(ReindexRequest) == 2

    history = client.get(f'/settings/{setting.id}/history').get_data(as_text=True)
    assert history.index('Details changed') < history.index('Setting added'), 'newest first, in words'


def test_member_can_confirm_vacancies_in_one_step(client, login_as, owner, organisation):
    setting = make_setting(organisation, owner)
    login_as(owner)

    page = client.get(f'/settings/{setting.id}/vacancies').get_data(as_text=True)
    assert 'Confirm 0 vacancies are still correct' in page
    response = client.post(f'/settings/{setting.id}/vacancies', data={'confirm-vacancies': '0'})

    assert response.status_code == 302
    db.session.refresh(setting)
    assert setting.vacancies == 0
    assert setting.vacancies_confirmed_at is not None
    change = db.session.scalars(db.select(VacancyChange)).one()
    assert (change.vacancies, change.changed_by_id) == (0, owner.id)
    assert db.session.scalars(db.select(ReindexRequest.reason).order_by(ReindexRequest.id)).all() \
        == ['setting created', 'vacancies confirmed']
    assert db.session.scalars(db.select(AuditEvent.action).where(
        AuditEvent.action.like('setting.vacancies%'))).all() == ['setting.vacancies_confirm']


def test_member_can_change_vacancies_with_a_note(client, login_as, owner, organisation):
    setting = make_setting(organisation, owner)
    login_as(owner)

    response = client.post(f'/settings/{setting.id}/vacancies',
                           data={'change-vacancies': '2', 'change-note': 'Two young people moved on'})

    assert response.status_code == 302
    db.session.refresh(setting)
    assert setting.vacancies == 2
    assert db.session.scalars(db.select(VacancyChange.note)).all() == ['Two young people moved on']
    page = client.get(f'/settings/{setting.id}/vacancies').get_data(as_text=True)
    assert 'Confirm 2 vacancies are still correct' in page
    assert 'Two young people moved on' in page


def test_member_cannot_set_more_vacancies_than_places(client, login_as, owner, organisation):
    setting = make_setting(organisation, owner)
    login_as(owner)

    response = client.post(f'/settings/{setting.id}/vacancies', data={'change-vacancies': '5'})

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'There is a problem' in body
    assert 'Vacancies cannot be more than the 4 registered places' in body
    db.session.refresh(setting)
    assert (setting.vacancies, setting.vacancies_confirmed_at) == (0, None)
    assert _count(VacancyChange) == 0
    assert _count(ReindexRequest) == 1


@pytest.mark.parametrize('vacancies', ['-1', '201'])
def test_member_cannot_set_vacancies_outside_what_any_setting_can_have(client, login_as, owner, organisation,
                                                                      vacancies):
    setting = make_setting(organisation, owner)
    login_as(owner)

    response = client.post(f'/settings/{setting.id}/vacancies',
                           data={'change-vacancies': vacancies, 'change-note': 'x' * 201})

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'There is a problem' in body
    # 201 used to say "Vacancies cannot be negative", and a long note "Field cannot be longer than 200 characters."
    assert 'Vacancies must be between 0 and 200' in body and 'cannot be negative' not in body
    assert 'Note must be 200 characters or fewer' in body and 'Field' not in body
    db.session.refresh(setting)
    assert (setting.vacancies, setting.vacancies_confirmed_at) == (0, None)
    assert _count(VacancyChange) == 0


def test_member_cannot_confirm_a_number_a_colleague_has_just_changed(client, login_as, owner, organisation):
    setting = make_setting(organisation, owner)
    login_as(owner)

    client.post(f'/settings/{setting.id}/vacancies', data={'confirm-vacancies': '3'}, follow_redirects=True)

    db.session.refresh(setting)
    assert setting.vacancies_confirmed_at is None
    assert _count(VacancyChange) == 0


def test_member_cannot_reduce_places_below_vacancies(client, login_as, owner, organisation):
    from registry.settings.services import update_vacancies

    setting = make_setting(organisation, owner)
    update_vacancies(setting, 3, actor=owner)
    login_as(owner)

    response = client.post(f'/settings/{setting.id}/edit', data=setting_form(places='2'))

    assert 'Places cannot be fewer than the 3 vacancies' in response.get_data(as_text=True)
    db.session.refresh(setting)
    assert setting.places == 4


def test_changing_type_to_one_ofsted_does_not_register_clears_registration(client, login_as, owner, organisation):
    setting = make_setting(organisation, owner, provision_type='independent-fostering-agency')
    login_as(owner)

    client.post(f'/settings/{setting.id}/edit', data=setting_form(provision_type='local-authority-fostering', urn=''))

    db.session.refresh(setting)
    assert setting.provision_type == ProvisionType.LOCAL_AUTHORITY_FOSTERING
    assert setting.urn is None
    assert setting.registration_status == RegistrationStatus.NOT_REQUIRED
