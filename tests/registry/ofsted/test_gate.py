"""Ofsted as the gate: a type Ofsted registers is listed only while its URN is verified against the latest register;
an inadequate judgement or a stopped registration puts the setting in the board's review queue."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import search
from qualification.listing import is_listed
from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.notifications.models import OutboxEmail
from registry.ofsted.models import OfstedReviewItem, ReviewOutcome, ReviewReason
from registry.ofsted.services import (
    ReviewError,
    import_register,
    open_review_items,
    resolve_review_item,
    verify_setting,
)
from registry.organisations.models import MemberRole, Membership
from registry.settings.taxonomy import Lot, ProvisionType
from search.entries import build_entry, listed_setting_ids
from tests.factories import make_user
from tests.registry.ofsted.conftest import AS_AT, make_organisation, make_setting, qualify, register_row


def _owner_of(organisation):
    provider = make_user(Role.PROVIDER)
    db.session.add(Membership(user_id=provider.id, organisation_id=organisation.id, role=MemberRole.OWNER))
    db.session.commit()
    return provider


def test_an_invented_urn_is_never_listed(app_ctx, client, login_as, register_file):
    organisation = make_organisation('Invented Homes Ltd')
    qualify(organisation)
    invented = make_setting(organisation, urn='SC999991', name='Invented House')
    provider = _owner_of(organisation)

    # no register imported yet: Ofsted is still the gate, and the provider is told why
    assert not is_listed(invented) and build_entry(invented) is None
    login_as(provider)
    page = client.get(f'/settings/{invented.id}').get_data(as_text=True)
    assert 'Not listed in the directory' in page
    assert 'Ofsted&#39;s register has not been imported yet, so URN SC999991 cannot be checked' in page

    import_register(register_file([register_row('SC100001')]), as_at=AS_AT)

    assert not is_listed(invented) and invented.id not in listed_setting_ids()
    page = client.get(f'/settings/{invented.id}').get_data(as_text=True)
    assert 'URN SC999991 is not in Ofsted&#39;s register' in page
    assert 'Check the URN, type and postcode' in page and 'as at 31 March 2025' in page


@pytest.mark.parametrize('row, problem', [
    (register_row('SC100001', provision_type='Supported Accommodation'), 'as "Supported Accommodation"'),
    (register_row('SC100001', status='Suspended'), 'registration as suspended'),
    (register_row('SC100001', status='Cancelled'), 'registration as cancelled'),
    (register_row('SC100001', authority='Leeds'), "Ofsted records URN SC100001 in Leeds"),
    (register_row('SC100001', authority='Powys'), '"Powys", which is not an English children'),
], ids=['type', 'suspended', 'cancelled', 'authority', 'outside-england'])
def test_a_setting_is_listed_only_when_every_fact_matches(app_ctx, register_file, row, problem):
    organisation = make_organisation()
    qualify(organisation)
    setting = make_setting(organisation, urn='SC100001')
    import_register(register_file([row, register_row('SC100002')]), as_at=AS_AT)
    db.session.refresh(setting)

    assert not is_listed(setting) and build_entry(setting) is None
    assert any(problem in text for text in verify_setting(setting).problems), verify_setting(setting).problems


def test_a_setting_matching_the_register_is_listed_with_the_release_date(app_ctx, client, login_as, register_file):
    organisation = make_organisation('Matching Homes Ltd')
    qualify(organisation)
    setting = make_setting(organisation, urn='SC100001', name='Matching House')
    import_register(register_file([register_row('SC100001')]), as_at=AS_AT)

    assert is_listed(setting) and build_entry(setting).ofsted_report_url == (
        'https://reports.ofsted.gov.uk/provider/25/SC100001')
    login_as(_owner_of(organisation))
    page = client.get(f'/settings/{setting.id}').get_data(as_text=True)
    assert "Matches Ofsted's register" in page
    assert "Registration checked against Ofsted's register of 31 March 2025" in page
    assert 'href="https://reports.ofsted.gov.uk/provider/25/SC100001"' in page


def test_types_ofsted_does_not_register_need_no_register(app_ctx):
    organisation = make_organisation()
    qualify(organisation, Lot.ASSESSMENT)
    setting = make_setting(organisation, urn=None, provision_type=ProvisionType.ASSESSMENT_SERVICE)

    assert is_listed(setting)


def test_the_directory_and_profile_say_which_register_the_registration_was_checked_against(
        app, app_ctx, client, register_file):
    organisation = make_organisation('Checked Homes Ltd')
    qualify(organisation)
    make_setting(organisation, urn='SC100001', name='Checked House')
    import_register(register_file([register_row('SC100001')]), as_at=AS_AT)
    search.engine().reindex(search.build_entries())

    for url in ('/directory?q=checked', f'/directory/providers/{organisation.id}'):
        page = client.get(url).get_data(as_text=True)
        assert 'Checked House' in page, url
        assert "Registration checked against Ofsted's register of 31 March 2025" in page, url
        assert 'href="https://reports.ofsted.gov.uk/provider/25/SC100001"' in page, url


# --- judgements and registrations that stop: the board's review queue -------------------------------------------


@pytest.fixture
def falls_to_inadequate(app_ctx, register_file):
    """A listed home whose judgement the next import lowers from good to inadequate, and one that stays good."""
    board_member = make_user(Role.BOARD_MEMBER)
    organisation = make_organisation('Falling Homes Ltd')
    qualify(organisation)
    falling = make_setting(organisation, urn='SC100001', name='Falling House')
    steady = make_setting(organisation, urn='SC100002', name='Steady House')
    import_register(register_file([register_row('SC100001'), register_row('SC100002')], name='a.csv'), as_at=AS_AT)
    assert is_listed(falling)
    import_register(register_file([register_row('SC100001', judgement='Inadequate', inspected='10/03/2025'),
                                   register_row('SC100002')], name='b.csv'), as_at=AS_AT)
    db.session.refresh(falling)
    return board_member, falling, steady


def test_a_judgement_lowered_to_inadequate_delists_and_queues_the_setting(falls_to_inadequate):
    board_member, falling, steady = falls_to_inadequate

    assert falling.is_suspended and not is_listed(falling) and is_listed(steady)
    assert 'Ofsted judged it inadequate (inspection 10/03/2025)' in falling.suspension_reason
    [item] = open_review_items()
    assert (item.setting_id, item.reason, item.suspended_setting) == (falling.id, ReviewReason.JUDGEMENT_INADEQUATE,
                                                                     True)
    assert item.detail == 'Overall judgement good -> inadequate (inspection 10/03/2025)'
    email = db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == board_member.email)).one()
    assert 'Falling House (URN SC100001), Falling Homes Ltd: overall judgement good -> inadequate' in email.body
    assert '/capacity/reviews' in email.body


def test_the_inadequate_rule_can_be_turned_off(app, app_ctx, register_file):
    organisation = make_organisation()
    qualify(organisation)
    setting = make_setting(organisation, urn='SC100001')
    import_register(register_file([register_row('SC100001')], name='a.csv'), as_at=AS_AT)
    app.config['OFSTED_SUSPEND_ON_INADEQUATE'] = False
    try:
        import_register(register_file([register_row('SC100001', judgement='Inadequate')], name='b.csv'), as_at=AS_AT)
    finally:
        app.config['OFSTED_SUSPEND_ON_INADEQUATE'] = True
    db.session.refresh(setting)

    assert is_listed(setting) and not setting.is_suspended
    [item] = open_review_items()
    assert item.reason == ReviewReason.JUDGEMENT_INADEQUATE and not item.suspended_setting


def test_a_board_member_lifts_the_suspension_with_reasons_and_it_is_audited(falls_to_inadequate):
    board_member, falling, _steady = falls_to_inadequate
    [item] = open_review_items()

    resolve_review_item(item, ReviewOutcome.LIFTED, actor=board_member,
                        reason='Monitoring visit on 20/03/2025 found the concerns addressed')

    db.session.refresh(falling)
    assert not falling.is_suspended and is_listed(falling)
    assert open_review_items() == [] and item.outcome == ReviewOutcome.LIFTED
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == board_member.id)
                                 .order_by(AuditEvent.id)).all()
    assert actions == ['setting.unsuspend', 'ofsted.review_resolve']
    with pytest.raises(ReviewError, match='already been resolved'):
        resolve_review_item(item, ReviewOutcome.UPHELD, actor=board_member, reason='Again')


def test_a_registration_stopped_by_ofsted_cannot_be_lifted_by_the_board(app_ctx, register_file):
    board_member = make_user(Role.BOARD_MEMBER)
    organisation = make_organisation()
    qualify(organisation)
    setting = make_setting(organisation, urn='SC100001')
    import_register(register_file([register_row('SC100001')], name='a.csv'), as_at=AS_AT)
    import_register(register_file([register_row('SC100001', status='Cancelled')], name='b.csv'), as_at=AS_AT)
    [item] = open_review_items()
    assert item.reason == ReviewReason.REGISTRATION_CANCELLED and item.detail == 'Registration active -> cancelled'

    with pytest.raises(ReviewError, match='no suspension to lift'):
        resolve_review_item(item, ReviewOutcome.LIFTED, actor=board_member, reason='Ofsted was wrong')
    with pytest.raises(ReviewError, match='Give the reasons'):
        resolve_review_item(item, ReviewOutcome.UPHELD, actor=board_member, reason='  ')
    assert item.is_open

    resolve_review_item(item, ReviewOutcome.UPHELD, actor=board_member, reason='Cancelled by Ofsted')
    assert not item.is_open and not is_listed(setting)


def test_board_member_resolves_an_item_through_the_queue_pages(falls_to_inadequate, client, login_as):
    board_member, falling, _steady = falls_to_inadequate
    [item] = open_review_items()
    login_as(board_member)

    queue = client.get('/capacity/reviews')
    assert queue.status_code == 200
    page = queue.get_data(as_text=True)
    assert 'Falling House' in page and 'Judged inadequate' in page and 'Steady House' not in page

    empty = client.post(f'/capacity/reviews/{item.id}', data={'outcome': 'lifted', 'reason': ''})
    assert empty.status_code == 400
    assert 'There is a problem' in empty.get_data(as_text=True)
    assert 'Give the reasons for the outcome' in empty.get_data(as_text=True)
    assert item.is_open and falling.is_suspended

    done = client.post(f'/capacity/reviews/{item.id}', data={'outcome': 'upheld', 'reason': 'Wait for re-inspection'})
    assert done.status_code == 302
    db.session.refresh(item)
    assert item.outcome == ReviewOutcome.UPHELD and item.resolved_by_id == board_member.id
    assert 'Delisting upheld' in client.get('/capacity/reviews').get_data(as_text=True)


@pytest.mark.parametrize('role, status', [(Role.ASSESSOR, 403), (Role.ADMIN, 403), (Role.PROVIDER, 403),
                                          (Role.COMMISSIONER, 403)])
def test_only_board_members_record_outcomes(falls_to_inadequate, client, login_as, role, status):
    [item] = open_review_items()
    login_as(make_user(role))

    response = client.post(f'/capacity/reviews/{item.id}', data={'outcome': 'upheld', 'reason': 'Because'})

    assert response.status_code == status
    db.session.refresh(item)
    assert item.is_open


def test_providers_and_commissioners_cannot_see_the_queue(app_ctx, client, login_as):
    for role in (Role.PROVIDER, Role.COMMISSIONER):
        login_as(make_user(role))
        assert client.get('/capacity/reviews').status_code == 403
    login_as(make_user(Role.ASSESSOR))
    assert client.get('/capacity/reviews').status_code == 200


def test_a_setting_missing_from_the_release_is_queued_with_its_release(app_ctx, register_file):
    organisation = make_organisation()
    qualify(organisation)
    gone = make_setting(organisation, urn='SC100001', name='Gone House')
    rows = [register_row(f'SC1000{n:02d}') for n in range(1, 21)]
    import_register(register_file(rows, name='a.csv'), as_at=AS_AT)

    import_register(register_file(rows[1:], name='b.csv'), as_at=AS_AT)

    [item] = db.session.scalars(select(OfstedReviewItem)).all()
    assert item.setting_id == gone.id and item.reason == ReviewReason.REMOVED_FROM_REGISTER
    assert item.detail == ("URN SC100001 is missing from Ofsted's release as at 31/03/2025: the provider is no "
                           'longer registered')
    assert not is_listed(gone)
