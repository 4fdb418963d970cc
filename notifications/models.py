"""Notifications (one row per person per event) and each person's email preference."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import UTCDateTime, enum_column, utcnow
from registry.extensions import db


class EmailFrequency(enum.StrEnum):
    """How a person wants notifications emailed."""

    EACH = 'each'
    DAILY = 'daily'

    @property
    def label(self) -> str:
        return {'each': 'Email me about each one', 'daily': 'Email me a daily summary'}[self.value]


class Notification(db.Model):
    """One event told to one person: shown in their list until read, and emailed as they prefer."""

    __tablename__ = 'notifications'
    __table_args__ = (Index('ix_notifications_user_read', 'user_id', 'read_at'),
                      Index('ix_notifications_digest', 'email_frequency', 'emailed_at'))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('users.id', ondelete='CASCADE'), nullable=False)
    #: The event, e.g. ``qualification.suspended`` (see :data:`notifications.events.EVENTS`).
    kind: Mapped[str] = mapped_column(String(60), nullable=False)
    #: What the event is about, by type and id (no foreign key: the record outlives the object).
    subject_type: Mapped[str] = mapped_column(String(60), nullable=False)
    subject_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, default='', nullable=False)
    #: A path inside the service (``/workspace/shortlists/3``), or empty.
    link: Mapped[str] = mapped_column(String(500), default='', nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The person's preference when the event happened: emailed at once, or in the next daily digest.
    email_frequency: Mapped[EmailFrequency] = enum_column(EmailFrequency, 'notification_email_frequency',
                                                          nullable=False, default=EmailFrequency.EACH)
    #: When its email (or the digest holding it) was queued; None while a digest is still to come.
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship('User')

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    def __repr__(self) -> str:
        return f'<Notification {self.id} {self.kind} to user {self.user_id}>'


class NotificationPreference(db.Model):
    """A person's choice of emails; people without a row get each one (:attr:`EmailFrequency.EACH`)."""

    __tablename__ = 'notification_preferences'

    user_id: Mapped[int] = mapped_column(ForeignKey('users.id', ondelete='CASCADE'), primary_key=True)
    email_frequency: Mapped[EmailFrequency] = enum_column(EmailFrequency, 'preference_email_frequency',
                                                          nullable=False, default=EmailFrequency.EACH)
    #: The day (UK) the last digest went out: claimed by a conditional UPDATE, so one digest a day at most.
    last_digest_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    def __repr__(self) -> str:
        return f'<NotificationPreference user={self.user_id} {self.email_frequency}>'
