"""Settings checked against Ofsted's register, and the register's judgements and statuses flowing into settings."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from qualification.listing import is_listed
from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.indexing import ReindexRequest
from registry.notifications.models import OutboxEmail
from registry.ofsted.services import import_register, settings_with_problems, verify_setting
from registry.settings.taxonomy import Judgement, ProvisionType, RegistrationStatus
from tests.factories import make_user
from tests.registry.ofsted.conftest import AS_AT, make_organisation, make_setting, qualify, register_row


def test_provider_setting_matching_the_register_has_no_problems(app_ctx, register_file):
    import_register(register_file([register_row('SC100001')]), as_at=AS_AT)
    setting = make_setting(make_organisation(), urn='SC100001')

    result = verify_setting(setting)

    assert result.ok and result.entry.urn == 'SC100001'


def test_provider_setting_of_the_wrong_type_is_shown_a_problem(app_ctx, register_file):
    import_register(register_file([register_row('SC100001', provision_type='Supported Accommodation')]), as_at=AS_AT)
    setting = make_setting(make_organisation(), urn='SC100001')

    result = verify_setting(setting)

    assert result.problems == ['Ofsted registers URN SC100001 as "Supported Accommodation", '
                               'but this setting is listed as "Children\'s home"']


def test_provider_setting_with_an_unknown_urn_is_shown_a_problem(app_ctx, register_file):
    import_register(register_file([register_row('SC100001')]), as_at=AS_AT)
    setting = make_setting(make_organisation(), urn='SC999999')

    assert verify_setting(setting).problems == ["URN SC999999 is not in Ofsted's register"]


def test_provider_setting_whose_registration_is_suspended_is_shown_a_problem(app_ctx, register_file):
    setting = make_setting(make_organisation(), urn='SC100001')
    import_register(register_file([register_row('SC100001', status='Suspended', authority='Leeds')]), as_at=AS_AT)
    db.session.refresh(setting)

    assert verify_setting(setting).problems == [
        "Ofsted's register shows the registration as suspended",
        "Ofsted records URN SC100001 in Leeds, but this setting's postcode is in Westminster",
    ]


def test_board_is_told_and_setting_delisted_when_the_register_suspends_it(app_ctx, register_file):
    assessor = make_user(Role.ASSESSOR)
    board_member = make_user(Role.BOARD_MEMBER)
    provider = make_user(Role.PROVIDER)
    organisation = make_organisation('Acme Care Ltd')
    setting = make_setting(organisation, urn='SC100001', name='Hill House')
    other = make_setting(organisation, urn='SC100002')
    qualify(organisation)
    import_register(register_file([register_row('SC100001'), register_row('SC100002')], name='march.csv'), as_at=AS_AT)
    assert is_listed(setting) and is_listed(other)
    db.session.execute(ReindexRequest.__table__.delete())
    db.session.commit()

    summary = import_register(register_file([register_row('SC100001', status='Suspended'),
                                             register_row('SC100002')], name='april.csv'), as_at=AS_AT)

    assert (summary.changed, summary.unchanged, summary.settings_updated, summary.registrations_stopped) == (
        1, 1, 1, 1)
    db.session.refresh(setting)
    assert setting.registration_status == RegistrationStatus.SUSPENDED
    assert not is_listed(setting) and is_listed(other)
    assert db.session.scalars(select(ReindexRequest.setting_id)).all() == [setting.id]
    emails = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.to_address)).all()
    assert sorted(email.to_address for email in emails) == sorted([assessor.email, board_member.email])
    assert provider.email not in {email.to_address for email in emails}
    assert all(email.template == 'ofsted_registration_stopped' for email in emails)
    assert 'Hill House (URN SC100001), Acme Care Ltd: registration active -> suspended' in emails[0].body
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == 'setting.ofsted_sync',
                                                        AuditEvent.object_id == str(setting.id))
                               .order_by(AuditEvent.id.desc())).first()
    assert event.before == {'registration_status': 'active'} and event.after == {'registration_status': 'suspended'}
    assert [result.setting.id for result in settings_with_problems()] == [setting.id]


def test_judgement_changes_in_the_register_flow_into_the_setting(app_ctx, register_file):
    setting = make_setting(make_organisation(), urn='SC100001')
    import_register(register_file([register_row('SC100001', judgement='Good', inspected='05/11/2024')], name='a.csv'),
                    as_at=AS_AT)
    db.session.refresh(setting)
    assert (setting.judgement, setting.judgement_date) == (Judgement.GOOD, date(2024, 11, 5))
    db.session.execute(ReindexRequest.__table__.delete())
    db.session.commit()

    summary = import_register(register_file([register_row('SC100001', judgement='Outstanding',
                                                          inspected='02/03/2025')], name='b.csv'), as_at=AS_AT)

    assert summary.settings_updated == 1 and summary.registrations_stopped == 0
    db.session.refresh(setting)
    assert (setting.judgement, setting.judgement_date) == (Judgement.OUTSTANDING, date(2025, 3, 2))
    assert db.session.scalars(select(ReindexRequest.setting_id)).all() == [setting.id]
    assert db.session.scalars(select(OutboxEmail)).all() == []


def test_register_does_not_touch_settings_it_does_not_cover(app_ctx, register_file):
    setting = make_setting(make_organisation(), urn=None, provision_type=ProvisionType.ASSESSMENT_SERVICE)
    import_register(register_file([register_row('SC100001')]), as_at=AS_AT)

    result = verify_setting(setting)

    assert result.ok and not result.checked
    db.session.refresh(setting)
    assert setting.judgement is None


def test_board_member_can_see_settings_that_do_not_match_the_register(app_ctx, client, login_as, register_file):
    board_member = make_user(Role.BOARD_MEMBER)
    import_register(register_file([register_row('SC100001', provision_type='Boarding School')]), as_at=AS_AT)
    make_setting(make_organisation('Mismatch Homes Ltd'), urn='SC100001', name='Wrong Type House')
    make_setting(make_organisation('Fine Homes Ltd'), urn='SC999999', name='Unknown Urn House')
    login_as(board_member)

    response = client.get('/capacity/verification')

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'Wrong Type House' in page and 'Mismatch Homes Ltd' in page
    assert 'Ofsted registers URN SC100001 as &#34;Boarding School&#34;' in page
    assert 'Unknown Urn House' in page and 'URN SC999999 is not in Ofsted&#39;s register' in page


def test_provider_cannot_see_the_board_verification_list(app_ctx, client, login_as):
    provider = make_user(Role.PROVIDER)
    commissioner = make_user(Role.COMMISSIONER)
    login_as(provider)
    assert client.get('/capacity/verification').status_code == 403
    login_as(commissioner)
    assert client.get('/capacity/verification').status_code == 403


def test_verification_partial_lists_problems_for_the_settings_pages(app_ctx, register_file):
    from flask import render_template_string

    import_register(register_file([register_row('SC100001', status='Suspended')]), as_at=AS_AT)
    setting = make_setting(make_organisation(), urn='SC100001')

    html = render_template_string('{% include "ofsted/_verification.html" %}', verification=verify_setting(setting))

    assert "does not match Ofsted's register" in html
    assert 'registration as suspended' in html


def test_provider_sees_a_register_mismatch_on_their_setting_page(app_ctx, client, login_as, register_file):
    from registry.organisations.models import MemberRole, Membership

    import_register(register_file([register_row('SC100001', provision_type='Supported Accommodation')]), as_at=AS_AT)
    organisation = make_organisation()
    setting = make_setting(organisation, urn='SC100001')
    provider = make_user(Role.PROVIDER)
    db.session.add(Membership(user_id=provider.id, organisation_id=organisation.id, role=MemberRole.OWNER))
    db.session.commit()
    login_as(provider)

    page = client.get(f'/settings/{setting.id}').get_data(as_text=True)

    assert 'does not match Ofsted' in page
    assert 'Supported Accommodation' in page
