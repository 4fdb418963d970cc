"""Preferences (an email each time, or a daily digest) and the digests ``flask registry send-emails`` sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from notifications import services
from notifications.models import EmailFrequency, Notification
from qualification.qualifications import change_status
from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.notifications.models import OutboxEmail


def _emails_to(user) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == user.email)
                                   .order_by(OutboxEmail.id)))


def _morning(days: int = 0) -> datetime:
    """09:00 UTC (9am or 10am UK time), ``days`` from today."""
    today = datetime.now(UTC).date() + timedelta(days=days)
    return datetime(today.year, today.month, today.day, 9, 0, tzinfo=UTC)


def test_someone_who_chose_a_daily_digest_is_not_emailed_each_time(world):
    officer = world.people['leeds_2']
    services.set_preference(officer, 'daily', actor=officer)

    change_status(world.qualification, 'suspend', actor=world.people['board_member'], reason='Concerns')

    assert _emails_to(officer) == []
    note = db.session.scalars(select(Notification).where(Notification.user_id == officer.id)).one()
    assert note.email_frequency == EmailFrequency.DAILY and note.emailed_at is None
    assert len(_emails_to(world.people['leeds_1'])) == 1  # colleagues keep their own choice


def test_daily_digest_lists_the_days_notifications_once_a_day(world, app):
    officer = world.people['leeds_1']
    services.set_preference(officer, EmailFrequency.DAILY, actor=officer)
    change_status(world.qualification, 'suspend', actor=world.people['board_member'], reason='Concerns')

    assert services.send_digests(now=_morning(1)) == 1
    assert services.send_digests(now=_morning(1) + timedelta(hours=3)) == 0

    digest, = _emails_to(officer)
    assert digest.template == 'notify-digest'
    assert digest.subject == '2 new notifications from the registry'
    assert "Aire Valley Homes Ltd: national qualification for Children's homes suspended" in digest.body
    assert 'Zephyr House on your shortlist "Girl, 12, Leeds" is no longer listed' in digest.body
    assert f'/workspace/shortlists/{world.shortlists["leeds"].id}' in digest.body
    assert all(note.emailed_at for note in db.session.scalars(select(Notification).where(
        Notification.user_id == officer.id)))
    # nothing new: no digest the next day either
    assert services.send_digests(now=_morning(2)) == 0
    # something new: the next day's digest has only that
    change_status(world.qualification, 'reinstate', actor=world.people['board_member'], reason='Resolved')
    assert services.send_digests(now=_morning(2)) == 1
    latest = _emails_to(officer)[-1]
    assert latest.subject == '1 new notification from the registry'
    assert 'reinstated' in latest.body and 'suspended' not in latest.body


def test_no_digest_goes_before_the_morning(world, app):
    officer = world.people['leeds_1']
    services.set_preference(officer, 'daily', actor=officer)
    change_status(world.qualification, 'suspend', actor=world.people['board_member'], reason='Concerns')
    early = _morning(1).replace(hour=4)

    assert services.send_digests(now=early) == 0
    assert services.send_digests(now=_morning(1)) == 1


def test_choosing_each_email_again_applies_from_then_on(world):
    officer = world.people['bradford']
    services.set_preference(officer, 'daily', actor=officer)
    services.set_preference(officer, 'each', actor=officer)

    change_status(world.qualification, 'suspend', actor=world.people['board_member'], reason='Concerns')

    assert len(_emails_to(officer)) == 1
    assert [event.after for event in db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == 'notification_preference.update').order_by(AuditEvent.id))] == [
        {'email_frequency': 'daily'}, {'email_frequency': 'each'}]


def test_send_emails_command_sends_digests_then_delivers(world, app):
    officer = world.people['leeds_1']
    services.set_preference(officer, 'daily', actor=officer)
    change_status(world.qualification, 'suspend', actor=world.people['board_member'], reason='Concerns')
    app.config['NOTIFICATION_DIGEST_HOUR'] = 0
    try:
        result = app.test_cli_runner().invoke(args=['registry', 'send-emails'])
        again = app.test_cli_runner().invoke(args=['registry', 'send-emails'])
    finally:
        app.config['NOTIFICATION_DIGEST_HOUR'] = 7

    assert result.exit_code == 0, result.output
    assert 'daily digests: queued 1 emails.' in result.output
    assert 'daily digests: queued 0 emails.' in again.output
    digest, = _emails_to(officer)
    db.session.refresh(digest)
    assert digest.status == 'sent'
