"""Queue emails inside a unit of work; deliver them after it commits."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app, render_template

from registry.db import after_commit, utcnow
from registry.extensions import db
from registry.notifications.models import OutboxEmail

log = logging.getLogger(__name__)


def queue_email(to_address: str, template: str, subject: str, **context) -> OutboxEmail:
    """Render ``templates/email/<template>.txt`` and add it to the outbox in the current transaction."""
    body = render_template(f'email/{template}.txt', service_name=current_app.config['SERVICE_NAME'],
                           base_url=current_app.config['SERVER_BASE_URL'], **context)
    email = OutboxEmail(to_address=to_address, subject=subject, body=body, template=template)
    db.session.add(email)
    after_commit('deliver-email', deliver_pending)
    return email


def deliver_pending(limit: int = 100) -> int:
    """Log, and with the SMTP backend send, emails not yet sent. Returns how many were delivered."""
    pending = db.session.scalars(
        db.select(OutboxEmail).where(OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < 5)
        .order_by(OutboxEmail.id).limit(limit)
    ).all()
    delivered = 0
    for email in pending:
        email.attempts += 1
        try:
            if current_app.config['MAIL_BACKEND'] == 'smtp':
                _send_smtp(email)
            log.info('email to=%s subject=%r\n%s', email.to_address, email.subject, email.body)
            email.sent_at = utcnow()
            delivered += 1
        except (OSError, smtplib.SMTPException) as exc:
            email.last_error = str(exc)
            log.warning('email %s to %s failed: %s', email.id, email.to_address, exc)
    db.session.commit()
    return delivered


def _send_smtp(email: OutboxEmail) -> None:
    config = current_app.config
    message = EmailMessage()
    message['From'] = config['MAIL_FROM']
    message['To'] = email.to_address
    message['Subject'] = email.subject
    message.set_content(email.body)
    with smtplib.SMTP(config['SMTP_HOST'], config['SMTP_PORT'], timeout=10) as smtp:
        if config['SMTP_USE_TLS']:
            smtp.starttls()
        if config['SMTP_USERNAME']:
            smtp.login(config['SMTP_USERNAME'], config['SMTP_PASSWORD'])
        smtp.send_message(message)
