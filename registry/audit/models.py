"""The audit event table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import UTCDateTime, utcnow
from registry.extensions import db


class AuditEvent(db.Model):
    """One thing that happened. Rows are only ever inserted."""

    __tablename__ = 'audit_events'
    __table_args__ = (Index('ix_audit_events_object', 'object_type', 'object_id'),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    #: Null for the system (CLI jobs, imports) or an anonymous visitor.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'), index=True)
    #: A verb such as ``organisation.update`` or ``application.submit``.
    action: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    object_type: Mapped[str] = mapped_column(String(40), nullable=False)
    object_id: Mapped[str] = mapped_column(String(40), nullable=False)
    #: Why, in the actor's words (decisions, suspensions).
    reason: Mapped[str] = mapped_column(Text, default='', nullable=False)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip_address: Mapped[str] = mapped_column(String(45), default='', nullable=False)
