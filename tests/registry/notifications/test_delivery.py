"""Real delivery: the outbox sent by SMTP to a real server on loopback, with retries, backoff and dead letters, and
``flask registry send-emails`` run twice at once sending each email once."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from registry.db import unit_of_work, utcnow
from registry.extensions import db
from registry.notifications.models import EmailStatus, OutboxEmail
from registry.notifications.services import deliver_pending, queue_rendered, retry_delay
from tests.smtp_server import LoopbackSmtp

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def smtp_app(app):
    """The app sending by SMTP (to whichever loopback server the test starts), put back afterwards."""
    saved = {key: app.config[key] for key in ('MAIL_BACKEND', 'SMTP_HOST', 'SMTP_PORT', 'SMTP_USE_TLS',
                                              'SMTP_USERNAME', 'SMTP_PASSWORD', 'MAIL_MAX_ATTEMPTS',
                                              'MAIL_RETRY_SECONDS')}
    app.config.update(MAIL_BACKEND='smtp', SMTP_HOST='127.0.0.1', SMTP_USE_TLS=False, MAIL_MAX_ATTEMPTS=3,
                      MAIL_RETRY_SECONDS=60)
    yield app
    app.config.update(saved)


def _queue(*addresses: str) -> list[int]:
    """Queue one email per address the way every service does (sent right after the commit)."""
    with unit_of_work():
        emails = [queue_rendered(address, 'test-email', f'Hello {address}', f'Body for {address}')
                  for address in addresses]
        db.session.flush()
        ids = [email.id for email in emails]
    return ids


def _row(email_id: int) -> OutboxEmail:
    db.session.expire_all()
    return db.session.get(OutboxEmail, email_id)


def _time_passes(email_id: int) -> None:
    """Move the email's next attempt into the past, as if the backoff had elapsed."""
    db.session.execute(update(OutboxEmail).where(OutboxEmail.id == email_id)
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_emails_are_sent_by_smtp_after_the_commit(smtp_app, app_ctx):
    with LoopbackSmtp(auth=('registry', 's3cret')) as smtp:
        smtp_app.config.update(SMTP_PORT=smtp.port, SMTP_USERNAME='registry', SMTP_PASSWORD='s3cret')
        first, second = _queue('ada@example.org', 'bob@example.org')

    assert [(to, subject) for to, subject, _id, _body in smtp.messages] == [
        ('ada@example.org', 'Hello ada@example.org'), ('bob@example.org', 'Hello bob@example.org')]
    assert smtp.messages[0][3].strip() == 'Body for ada@example.org'
    assert smtp.logins == ['registry']  # one session for the batch
    row = _row(first)
    assert (row.status, row.attempts, row.last_error, row.claim_token) == (EmailStatus.SENT, 1, '', None)
    assert row.sent_at is not None and _row(second).status == EmailStatus.SENT


def test_a_failed_email_is_retried_after_a_growing_wait_and_then_sent(smtp_app, app_ctx):
    with LoopbackSmtp(defer={'busy@example.org': 2}) as smtp:
        smtp_app.config['SMTP_PORT'] = smtp.port
        busy, fine = _queue('busy@example.org', 'fine@example.org')

        row = _row(busy)
        assert (row.status, row.attempts, row.sent_at) == (EmailStatus.PENDING, 1, None)
        assert '451' in row.last_error
        wait = row.next_attempt_at - utcnow()
        assert timedelta(seconds=55) < wait <= timedelta(seconds=60)
        assert _row(fine).status == EmailStatus.SENT  # one failing address does not hold up the rest
        assert deliver_pending() == 0  # not due yet: nothing is tried
        assert smtp.attempts.count('busy@example.org') == 1

        _time_passes(busy)
        assert deliver_pending() == 0
        row = _row(busy)
        assert row.attempts == 2
        assert timedelta(seconds=115) < row.next_attempt_at - utcnow() <= timedelta(seconds=120)  # doubled

        _time_passes(busy)
        assert deliver_pending() == 1

    row = _row(busy)
    assert (row.status, row.attempts, row.last_error) == (EmailStatus.SENT, 3, '')
    assert [to for to, *_rest in smtp.messages] == ['fine@example.org', 'busy@example.org']


def test_an_address_that_keeps_failing_is_dead_lettered_and_never_tried_again(smtp_app, app_ctx):
    with LoopbackSmtp(refuse={'gone@example.org'}) as smtp:
        smtp_app.config['SMTP_PORT'] = smtp.port
        gone, = _queue('gone@example.org')
        for _ in range(2):
            _time_passes(gone)
            deliver_pending()

        row = _row(gone)
        assert (row.status, row.attempts, row.sent_at) == (EmailStatus.DEAD, 3, None)
        assert row.dead_at is not None and '550' in row.last_error
        _time_passes(gone)
        deliver_pending()
        assert smtp.attempts.count('gone@example.org') == 3
        assert smtp.messages == []


def test_an_unreachable_server_counts_as_a_failed_attempt(smtp_app, app_ctx):
    with LoopbackSmtp() as smtp:
        port = smtp.port
    smtp_app.config['SMTP_PORT'] = port  # nothing listens there now

    email_id, = _queue('ada@example.org')

    row = _row(email_id)
    assert (row.status, row.attempts) == (EmailStatus.PENDING, 1)
    assert 'ConnectionRefusedError' in row.last_error


def test_backoff_doubles_from_the_configured_wait():
    assert [retry_delay(n, 60).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]


def test_a_claimed_email_is_left_to_its_sender_until_the_lease_runs_out(smtp_app, app_ctx):
    from registry.notifications.services import claim_pending

    with LoopbackSmtp() as smtp:
        smtp_app.config['SMTP_PORT'] = smtp.port
        db.session.add(OutboxEmail(to_address='ada@example.org', subject='Hi', body='Hi', template='test-email'))
        db.session.commit()
        token, claimed = claim_pending(10)
        assert len(claimed) == 1

        assert deliver_pending() == 0  # another sender finds nothing to do
        later = utcnow() + timedelta(seconds=smtp_app.config['MAIL_CLAIM_SECONDS'] + 1)
        _token, reclaimed = claim_pending(10, now=later)  # the first sender died: the lease ran out
        assert [row.id for row in reclaimed] == [claimed[0].id]


def test_two_send_emails_runs_at_once_send_each_email_once(smtp_app, app_ctx):
    count = 120
    db.session.add_all([OutboxEmail(to_address=f'person{n}@example.org', subject=f'Email {n}', body=f'Body {n}',
                                    template='test-email') for n in range(count)])
    db.session.commit()
    with LoopbackSmtp(delay=0.02) as smtp:
        env = {**os.environ, 'DATABASE_URL': smtp_app.config['SQLALCHEMY_DATABASE_URI'],
               'REGISTRY_MAIL_BACKEND': 'smtp', 'REGISTRY_SMTP_HOST': '127.0.0.1',
               'REGISTRY_SMTP_PORT': str(smtp.port), 'REGISTRY_SMTP_USE_TLS': 'false',
               'REGISTRY_SEARCH_SNAPSHOT_REFRESH_SECONDS': '0', 'REGISTRY_SEARCH_SNAPSHOT_DIR': ''}
        command = [sys.executable, '-m', 'flask', '--app', 'wsgi', 'registry', 'send-emails', '--batch-size', '10']
        runs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(2)]
        outputs = [run.communicate(timeout=120) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    delivered = [int(out.split('Delivered ')[1].split()[0]) for out, _err in outputs]
    assert sum(delivered) == count, delivered
    ids = [message_id for _to, _subject, message_id, _body in smtp.messages]
    assert len(ids) == len(set(ids)) == count
    statuses = db.session.scalars(select(OutboxEmail.status)).all()
    assert set(statuses) == {EmailStatus.SENT}
    assert db.session.scalar(select(db.func.max(OutboxEmail.attempts))) == 1
