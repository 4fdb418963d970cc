"""Referral events reach people's in-service notifications as well as their email, as each prefers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import url_for
from sqlalchemy import select

from notifications import services as notification_services
from notifications.models import EmailFrequency, Notification
from placements import services
from registry.extensions import db
from registry.notifications.models import OutboxEmail
from tests.placements.conftest import offer, send


def _notes(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def _kinds(user) -> list[str]:
    return [note.kind for note in _notes(user)]


def _emails_to(user) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == user.email)
                                   .order_by(OutboxEmail.id)))


def test_providers_see_a_new_referral_in_their_notifications_and_are_emailed_once(world, client, login_as):
    # Referral events were emailed but never appeared at /notifications/.
    referral = send(world)

    for provider, setting in ((world.aire_user, world.zephyr), (world.pennine_user, world.bradford_home)):
        note, = _notes(provider)
        assert note.kind == 'referral.new' and note.subject_type == 'referrals' and note.subject_id == referral.id
        assert note.title == f'New referral {referral.reference} from Leeds'
        assert setting.name in note.body
        assert note.link == f'/placements/referrals/{referral.id}'
        assert note.emailed_at is not None
        assert [email.template for email in _emails_to(provider)] == ['referral-new']  # the rich email, once
    assert _notes(world.calder_user) == [] and _notes(world.leeds_officer) == []

    login_as(world.aire_user)
    page = client.get(url_for('notifications.list_notifications')).get_data(as_text=True)
    assert f'New referral {referral.reference} from Leeds' in page


def test_commissioner_is_told_of_each_offer_and_decline_in_the_service(world, app_ctx):
    referral = send(world)
    offer(world, referral, world.zephyr, world.aire_user, pence=5_450_50)
    declined = next(r for r in referral.responses if r.setting_id == world.bradford_home.id)
    services.decline(declined, reason='matching', actor=world.pennine_user)

    offered, refused = _notes(world.leeds_officer)
    assert offered.kind == 'referral.offer_received'
    assert offered.title == f'Offer for referral {referral.reference} from Aire Valley Homes Ltd'
    assert 'Zephyr House: £5,450.50 a week' in offered.body
    assert refused.kind == 'referral.declined' and 'matching with the children already living here' in refused.body
    assert _notes(world.leeds_colleague) == []  # the officer who referred, not every colleague
    assert [email.template for email in _emails_to(world.leeds_officer)] == ['referral-response'] * 2


def test_accepting_an_offer_tells_the_chosen_and_the_not_selected_providers_in_the_service(world, app_ctx):
    referral = send(world)
    chosen = offer(world, referral, world.zephyr, world.aire_user)

    placement = services.accept_offer(chosen, start_date=chosen.available_from, planned_end_date=None,
                                      actor=world.leeds_officer)

    assert _kinds(world.aire_user) == ['referral.new', 'referral.offer_accepted']
    accepted = _notes(world.aire_user)[-1]
    assert accepted.link == f'/placements/{placement.id}' and placement.reference in accepted.body
    assert _kinds(world.pennine_user) == ['referral.new', 'referral.not_selected']
    # out of area: Bradford's commissioners were not told (Zephyr House is in Leeds)
    assert _notes(world.bradford_officer) == []


def test_out_of_area_placement_closing_and_ending_reach_the_notifications_list(world, app_ctx):
    referral = send(world, world.bradford_home)
    made = offer(world, referral, world.bradford_home, world.pennine_user, available_from=date.today())
    placement = services.accept_offer(made, start_date=date.today(), planned_end_date=None,
                                      actor=world.leeds_officer)
    services.end_placement(placement, reason='planned', ended_on=date.today(), actor=world.leeds_officer)
    closed = send(world, world.zephyr)
    services.close_referral(closed, reason='placed-elsewhere', actor=world.leeds_officer)

    assert _kinds(world.bradford_officer) == ['placement.out_of_area']
    assert _notes(world.bradford_officer)[0].title == 'Out-of-area placement into Bradford by Leeds'
    assert _kinds(world.pennine_user) == ['referral.new', 'referral.offer_accepted', 'placement.ended']
    assert _kinds(world.aire_user) == ['referral.new', 'referral.closed']


def test_provider_who_chose_a_daily_summary_gets_referrals_in_the_digest_not_each_email(world, app_ctx):
    notification_services.set_preference(world.aire_user, EmailFrequency.DAILY, actor=world.aire_user)

    referral = send(world)

    note, = _notes(world.aire_user)
    assert note.email_frequency == EmailFrequency.DAILY and note.emailed_at is None
    assert _emails_to(world.aire_user) == []
    assert [email.template for email in _emails_to(world.pennine_user)] == ['referral-new']  # each, by default
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    assert notification_services.send_digests(now=datetime(tomorrow.year, tomorrow.month, tomorrow.day, 9,
                                                           tzinfo=UTC)) == 1
    digest, = _emails_to(world.aire_user)
    assert digest.template == 'notify-digest'
    assert f'New referral {referral.reference} from Leeds' in digest.body
    assert f'/placements/referrals/{referral.id}' in digest.body


def test_provider_without_members_is_still_emailed_at_its_contact_address(world, app_ctx):
    from registry.organisations.models import Membership

    db.session.execute(db.delete(Membership).where(Membership.organisation_id == world.pennine.id))
    world.pennine.contact_email = 'office@pennine.example'
    db.session.commit()

    send(world, world.bradford_home)

    sent = db.session.scalars(select(OutboxEmail).where(OutboxEmail.template == 'referral-new')).all()
    assert [email.to_address for email in sent] == ['office@pennine.example']
    assert db.session.scalar(select(db.func.count()).select_from(Notification)) == 0
