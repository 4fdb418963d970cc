"""Queue emails inside a unit of work; deliver them after it commits, or from ``flask registry send-emails``.

Delivery claims rows before sending them, so two senders running at once never send the same email twice:
``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional ``UPDATE`` on SQLite (whose writers are
serialised anyway). A claim is a lease (``MAIL_CLAIM_SECONDS``): a sender that dies mid-batch leaves rows that
another picks up once the lease runs out. A failed attempt waits ``MAIL_RETRY_SECONDS`` × 2^(attempts-1) before
the next; after ``MAIL_MAX_ATTEMPTS`` the row is dead-lettered (``status='dead'``) and never tried again.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage

from flask import Flask, current_app, render_template
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from registry.db import after_commit, utcnow
from registry.extensions import db
from registry.notifications.models import EmailStatus, OutboxEmail

log = logging.getLogger(__name__)

#: Key in ``db.session.info``: addresses emailed in the current transaction (see :func:`emailed_in_transaction`).
_QUEUED_KEY = 'emails_queued_to'


def queue_email(to_address: str, template: str, subject: str, **context) -> OutboxEmail:
    """Render ``templates/email/<template>.txt`` and add it to the outbox in the current transaction."""
    body = render_template(f'email/{template}.txt', service_name=current_app.config['SERVICE_NAME'],
                           base_url=current_app.config['SERVER_BASE_URL'], **context)
    return queue_rendered(to_address, template, subject, body)


def queue_rendered(to_address: str, template: str, subject: str, body: str) -> OutboxEmail:
    """Add an already written email to the outbox in the current transaction."""
    email = OutboxEmail(to_address=to_address, subject=subject[:200], body=body, template=template,
                        status=EmailStatus.PENDING)
    db.session.add(email)
    db.session.info.setdefault(_QUEUED_KEY, set()).add(to_address.lower())
    # one batch right after the commit; ``flask registry send-emails`` sends whatever is left
    after_commit('deliver-email', lambda: deliver_pending(max_batches=1))
    return email


def emailed_in_transaction(address: str) -> bool:
    """Whether an email to ``address`` was queued in the current transaction (so news is not emailed twice)."""
    return address.lower() in db.session.info.get(_QUEUED_KEY, ())


@event.listens_for(Session, 'after_commit')
@event.listens_for(Session, 'after_soft_rollback')
def _forget_queued_addresses(session, *_args) -> None:
    """Each transaction starts with no addresses emailed."""
    session.info.pop(_QUEUED_KEY, None)


# --- delivery ------------------------------------------------------------------------------------------------------

def retry_delay(attempts: int, base_seconds: float) -> timedelta:
    """Exponential backoff: the wait after the ``attempts``-th failure (1 → base, 2 → 2 × base, 3 → 4 × base ...)."""
    return timedelta(seconds=base_seconds * 2 ** max(0, attempts - 1))


def claim_pending(limit: int, *, now=None) -> tuple[str, list[OutboxEmail]]:
    """Claim up to ``limit`` due emails for this sender, committed, and return (claim token, the rows).

    PostgreSQL locks candidate rows with ``FOR UPDATE SKIP LOCKED`` (a concurrent sender takes others); the
    ``UPDATE`` is conditional everywhere, so on SQLite too a row claimed by another sender is never taken.
    """
    now = now or utcnow()
    config = current_app.config
    token = secrets.token_hex(16)
    due = select(OutboxEmail.id).where(
        OutboxEmail.status == EmailStatus.PENDING,
        OutboxEmail.attempts < config['MAIL_MAX_ATTEMPTS'],
        or_(OutboxEmail.next_attempt_at.is_(None), OutboxEmail.next_attempt_at <= now),
        or_(OutboxEmail.claimed_until.is_(None), OutboxEmail.claimed_until < now),
    ).order_by(OutboxEmail.id).limit(limit)
    if db.engine.dialect.name == 'postgresql':
        due = due.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(due))
    if ids:
        db.session.execute(
            update(OutboxEmail).where(
                OutboxEmail.id.in_(ids), OutboxEmail.status == EmailStatus.PENDING,
                or_(OutboxEmail.claimed_until.is_(None), OutboxEmail.claimed_until < now))
            .values(claimed_until=now + timedelta(seconds=config['MAIL_CLAIM_SECONDS']), claim_token=token)
            .execution_options(synchronize_session=False))
    db.session.commit()
    rows = list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.claim_token == token)
                                   .order_by(OutboxEmail.id).execution_options(populate_existing=True)))
    return token, rows


def deliver_pending(limit: int = 100, *, max_batches: int | None = None) -> int:
    """Log, and with the SMTP backend send, due emails this sender could claim. Returns how many were delivered.

    Claims ``limit`` at a time until none are left (or ``max_batches`` were sent). Each email's outcome is
    committed on its own, so a crash never makes an email that went out look unsent.
    """
    config = current_app.config
    delivered = batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        token, batch = claim_pending(limit)
        if not batch:
            return delivered
        smtp = _SmtpConnection(config) if config['MAIL_BACKEND'] == 'smtp' else None
        try:
            for email in batch:
                delivered += _deliver_one(email, token, smtp)
        finally:
            if smtp is not None:
                smtp.close()
        if len(batch) < limit:
            return delivered
    return delivered


def _deliver_one(email: OutboxEmail, token: str, smtp: _SmtpConnection | None) -> int:
    config = current_app.config
    values: dict
    try:
        if smtp is not None:
            smtp.send(email)
        log.info('email to=%s subject=%r\n%s', email.to_address, email.subject, email.body)
        values = {'status': EmailStatus.SENT, 'sent_at': utcnow(), 'attempts': email.attempts + 1,
                  'last_error': ''}
    except (OSError, smtplib.SMTPException) as exc:
        attempts = email.attempts + 1
        values = {'attempts': attempts, 'last_error': f'{type(exc).__name__}: {exc}'[:2000]}
        if attempts >= config['MAIL_MAX_ATTEMPTS']:
            values.update(status=EmailStatus.DEAD, dead_at=utcnow())
            log.error('email %s to %s dead-lettered after %s attempts: %s', email.id, email.to_address, attempts,
                      exc)
        else:
            values['next_attempt_at'] = utcnow() + retry_delay(attempts, config['MAIL_RETRY_SECONDS'])
            log.warning('email %s to %s failed (attempt %s): %s', email.id, email.to_address, attempts, exc)
    # only the claim holder records the outcome: a sender whose lease lapsed mid-send cannot overwrite another's
    result = db.session.execute(
        update(OutboxEmail).where(OutboxEmail.id == email.id, OutboxEmail.claim_token == token)
        .values(claimed_until=None, claim_token=None, **values).execution_options(synchronize_session=False))
    db.session.commit()
    return int(values.get('status') == EmailStatus.SENT and result.rowcount == 1)


class _SmtpConnection:
    """One SMTP session per batch, opened at the first email and reopened after a connection-level failure."""

    def __init__(self, config):
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        config = self.config
        timeout = config['SMTP_TIMEOUT']
        if config['SMTP_USE_SSL']:
            smtp = smtplib.SMTP_SSL(config['SMTP_HOST'], config['SMTP_PORT'], timeout=timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(config['SMTP_HOST'], config['SMTP_PORT'], timeout=timeout)
            if config['SMTP_USE_TLS']:
                smtp.starttls(context=ssl.create_default_context())
        if config['SMTP_USERNAME']:
            smtp.login(config['SMTP_USERNAME'], config['SMTP_PASSWORD'])
        return smtp

    def send(self, email: OutboxEmail) -> None:
        message = EmailMessage()
        message['From'] = self.config['MAIL_FROM']
        message['To'] = email.to_address
        message['Subject'] = email.subject
        message['Message-ID'] = f'<outbox-{email.id}@{self.config["MAIL_FROM"].rpartition("@")[2] or "localhost"}>'
        message.set_content(email.body)
        if self._smtp is None:
            self._smtp = self._open()
        try:
            self._smtp.send_message(message)
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()
            raise
        except smtplib.SMTPException:
            # the server refused this message; reset the session so the next one starts cleanly
            try:
                self._smtp.rset()
            except (smtplib.SMTPException, OSError):
                self.close()
            raise

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._smtp = None


# --- scheduled email jobs ------------------------------------------------------------------------------------------

def register_email_job(app: Flask, name: str, job: Callable[[], int]) -> None:
    """Let a feature package add work that ``flask registry send-emails`` runs before delivering (e.g. digests).

    ``job()`` queues emails in its own units of work and returns how many it queued; it must be safe to run twice
    at once and more than once a day.
    """
    app.extensions.setdefault('email_jobs', {})[name] = job


def run_email_jobs() -> dict[str, int]:
    """Run every registered email job: name → emails queued."""
    return {name: job() for name, job in current_app.extensions.get('email_jobs', {}).items()}
