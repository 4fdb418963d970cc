"""Out-of-area notices, the identifier check at the door, deadline reminders and retention."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import url_for

from placements import services
from placements.models import Offer, Placement, Referral, ReferralResponse
from placements.retention import delete_child_details
from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.notifications.models import OutboxEmail
from tests.placements.conftest import offer, send


def _emails(template: str) -> list[OutboxEmail]:
    return list(db.session.scalars(db.select(OutboxEmail).where(OutboxEmail.template == template)))


def _place(world, setting, user):
    referral = send(world, setting)
    made = offer(world, referral, setting, user, available_from=date.today())
    return services.accept_offer(made, start_date=date.today(), planned_end_date=None, actor=world.leeds_officer)


def test_placing_in_another_authority_notifies_its_commissioners_without_child_details(world, client, login_as):
    placement = _place(world, world.bradford_home, world.pennine_user)

    assert placement.out_of_area and placement.host_authority_code == 'E08000032'
    notices = _emails('placement-out-of-area')
    assert [email.to_address for email in notices] == [world.bradford_officer.email]
    body = notices[0].body
    assert 'Leeds' in body and 'Bradford Moor House' in body and placement.reference in body
    for detail in ('missing', 'EHC', 'education', 'aged 12', '12-year', 'LS1 ', 'female', 'girl', 'autism'):
        assert detail not in body.replace(placement.reference, ''), detail
    event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == 'placement.out_of_area_notice')).one()
    assert event.after['notified'] == [world.bradford_officer.email]

    # the host authority sees the placement in its area, but never the referral behind it
    login_as(world.bradford_officer)
    listing = client.get(url_for('placements.list_placements', view='host')).get_data(as_text=True)
    assert placement.reference in listing and 'Leeds' in listing
    page = client.get(url_for('placements.view_placement', placement_id=placement.id)).get_data(as_text=True)
    assert 'Bradford Moor House' in page and placement.referral.reference not in page
    view = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == 'placement.view')).one()
    assert (view.actor_id, view.after) == (world.bradford_officer.id, {'as': 'host'})
    assert client.get(url_for('placements.view_referral', referral_id=placement.referral_id)).status_code == 403
    assert client.get(url_for('placements.end_placement', placement_id=placement.id)).status_code == 403
    # other authorities see nothing
    login_as(world.westminster_officer)
    assert client.get(url_for('placements.view_placement', placement_id=placement.id)).status_code == 403


def test_placing_within_the_home_authority_sends_no_notice(world, app_ctx):
    placement = _place(world, world.zephyr, world.aire_user)

    assert not placement.out_of_area
    assert _emails('placement-out-of-area') == []


@pytest.mark.parametrize('field, text, message', [
    ('risk_notes', 'DOB 03/04/2014, known to police', 'Risk notes must not include a date of birth (“03/04/2014”)'),
    ('education_notes', 'NHS no. 943 476 5919', 'Education notes must not include an NHS number'),
    ('other_notes', 'Grandmother lives at LS6 2QB', 'Other information must not include a full postcode (“LS6 2QB”)'),
    ('location_notes', 'Born 14 February 2013 in Leeds',
     'Location and distance notes must not include a date of birth'),
])
def test_free_text_with_an_identifier_is_refused_with_a_govuk_error(world, client, login_as, field, text, message):
    from tests.placements.test_loop import _referral_form
    from tests.workspace.conftest import _finder_args

    login_as(world.leeds_officer)
    url = url_for('placements.new_referral', **_finder_args(min_judgement=''), setting=[world.zephyr.id])

    response = client.post(url, data=_referral_form(world, settings=[world.zephyr.id], **{field: text}))

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'govuk-error-summary' in page and message in page
    assert f'href="#{field}"' in page  # the summary links to the field
    assert db.session.scalar(db.select(db.func.count()).select_from(Referral)) == 0
    # the service refuses it too, whoever calls it
    with pytest.raises(services.PlacementError) as refused:
        send(world, **{field: text})
    assert refused.value.field == field


def test_a_district_in_free_text_is_fine(world, app_ctx):
    referral = send(world, location_notes='Must stay out of LS11 and BD3.')
    assert referral.location_notes == 'Must stay out of LS11 and BD3.'


def test_providers_are_reminded_once_when_the_deadline_is_near(world, app_ctx, app):
    referral = send(world, response_deadline=date.today() + timedelta(days=1))
    offer(world, referral, world.zephyr, world.aire_user)  # Aire has answered: no reminder for it
    later = send(world, world.abbey, response_deadline=date.today() + timedelta(days=5))
    runner = app.test_cli_runner()

    first = runner.invoke(args=['placements', 'send-reminders'])
    second = runner.invoke(args=['placements', 'send-reminders'])

    assert 'Sent 1 deadline reminder(s)' in first.output and 'Sent 0 deadline reminder(s)' in second.output
    reminders = _emails('referral-deadline')
    assert [email.to_address for email in reminders] == [world.pennine_user.email]
    assert referral.reference in reminders[0].subject
    assert f'/placements/referrals/{referral.id}' in reminders[0].body
    db.session.expire_all()
    assert db.session.get(ReferralResponse, later.responses[0].id).reminded_at is None


def _closed(world, months_ago: int, now: datetime):
    placement = _place(world, world.zephyr, world.aire_user)
    referral = placement.referral
    response = referral.responses[0]
    response.decline_notes = ''
    db.session.get(Offer, placement.offer_id).conditions = 'Matching visit first.'
    referral.closed_at = now - timedelta(days=31 * months_ago)
    db.session.commit()
    return referral


def test_child_details_are_deleted_after_the_retention_period_leaving_anonymised_facts(world, app, app_ctx):
    now = datetime.now(UTC)
    old = _closed(world, 13, now)
    # a recent one and an open one keep their details
    world.zephyr.vacancies = 1
    db.session.commit()
    recent = _closed(world, 11, now)
    still_open = send(world, world.abbey)
    declined = services.decline(still_open.responses[0], reason='other', notes='Full until spring.',
                                actor=world.aire_user)
    assert declined.decline_notes

    result = app.test_cli_runner().invoke(args=['placements', 'delete-child-details'])

    assert 'Deleted child details from 1 referral(s) closed 12 or more months ago' in result.output
    db.session.expire_all()
    gone = db.session.get(Referral, old.id)
    assert gone.details_deleted_at is not None
    assert (gone.age, gone.origin_label, gone.origin_easting, gone.origin_northing) == (None, '', None, None)
    assert (gone.location_notes, gone.education_notes, gone.risk_notes, gone.other_notes) == ('', '', '', '')
    assert db.session.get(Offer, gone.placement.offer_id).conditions == ''
    # the anonymised facts stay for statistics
    assert (gone.authority_code, gone.age_band, gone.sex, gone.needs, gone.provision_type.value) == (
        'E08000035', '10-15', 'female', ['autism', 'emotional-behavioural'], 'childrens-home')
    assert gone.start_date and gone.response_deadline and gone.indicative_budget_pence == 520000
    assert gone.responses[0].distance_miles is not None
    placement = db.session.get(Placement, gone.placement.id)
    assert placement.weekly_price_pence == 540000 and placement.distance_miles is not None
    for kept in (db.session.get(Referral, recent.id), db.session.get(Referral, still_open.id)):
        assert kept.details_deleted_at is None and kept.age == 12 and kept.risk_notes
    assert db.session.get(ReferralResponse, still_open.responses[0].id).decline_notes == 'Full until spring.'
    event = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == 'referral.delete_child_details')).one()
    assert event.object_type == 'referrals' and event.object_id == str(old.id)


def test_retention_period_is_configurable(world, app, app_ctx):
    now = datetime.now(UTC)
    referral = _closed(world, 4, now)
    app.config['REFERRAL_RETENTION_MONTHS'] = 3
    try:
        result = app.test_cli_runner().invoke(args=['placements', 'delete-child-details'])
    finally:
        app.config['REFERRAL_RETENTION_MONTHS'] = 12
    assert 'from 1 referral(s) closed 3 or more months ago' in result.output
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).details_deleted_at is not None


def test_deleting_child_details_twice_changes_nothing_more(world, app_ctx):
    now = datetime.now(UTC)
    _closed(world, 13, now)
    assert delete_child_details(now, months=12) == 1
    assert delete_child_details(now, months=12) == 0
