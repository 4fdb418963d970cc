"""The email outbox: every email is a row first, then a delivery with retries and a dead-letter state."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import UTCDateTime, enum_column, utcnow
from registry.extensions import db


class EmailStatus(enum.StrEnum):
    """Where one outbox email stands."""

    PENDING = 'pending'
    SENT = 'sent'
    #: Every attempt failed (``MAIL_MAX_ATTEMPTS``): kept for people to look at, never tried again.
    DEAD = 'dead'


class OutboxEmail(db.Model):
    """An email queued in the same transaction as the change it reports."""

    __tablename__ = 'outbox_emails'
    __table_args__ = (Index('ix_outbox_emails_status_next_attempt_at', 'status', 'next_attempt_at'),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    #: A short name such as ``verify-email``, for tests and reporting.
    template: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    status: Mapped[EmailStatus] = enum_column(EmailStatus, 'email_status', nullable=False,
                                              default=EmailStatus.PENDING, server_default=EmailStatus.PENDING.value)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_error: Mapped[str] = mapped_column(Text, default='', nullable=False)
    #: Not tried again before this time: each failure doubles the wait (``MAIL_RETRY_SECONDS`` × 2^(attempts-1)).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A sender's claim on the row: nobody else sends it until the lease runs out (a crashed sender's claim lapses).
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f'<OutboxEmail {self.id} {self.template} to={self.to_address} {self.status}>'
