"""Qualifications (what an approval grants) and local applications (joining an authority's list)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import TimestampMixin, UTCDateTime, enum_column
from registry.extensions import db
from registry.settings.taxonomy import Lot


class QualificationStatus(enum.StrEnum):
    ACTIVE = 'active'
    SUSPENDED = 'suspended'
    REVOKED = 'revoked'
    EXPIRED = 'expired'


class Qualification(TimestampMixin, db.Model):
    """An organisation's national qualification for one lot under one scheme version, valid 12 months."""

    __tablename__ = 'qualifications'
    __table_args__ = (Index('ix_qualifications_org_lot_status', 'organisation_id', 'lot', 'status'),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey('organisations.id', ondelete='CASCADE'), nullable=False)
    lot: Mapped[Lot] = enum_column(Lot, 'qualification_lot', nullable=False)
    scheme_version: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[QualificationStatus] = enum_column(QualificationStatus, 'qualification_status', nullable=False,
                                                      default=QualificationStatus.ACTIVE)
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_to: Mapped[date] = mapped_column(Date, nullable=False)
    next_review_due: Mapped[date] = mapped_column(Date, nullable=False)
    status_reason: Mapped[str] = mapped_column(Text, default='', nullable=False)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation = relationship('Organisation')


class LocalApplicationStatus(enum.StrEnum):
    DRAFT = 'draft'
    SUBMITTED = 'submitted'
    ACCEPTED = 'accepted'
    DECLINED = 'declined'
    WITHDRAWN = 'withdrawn'


class LocalApplication(TimestampMixin, db.Model):
    """A qualified provider's answers to one authority's local requirements for one lot."""

    __tablename__ = 'local_applications'
    __table_args__ = (Index('ix_local_applications_authority_status', 'authority_code', 'status'),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey('organisations.id', ondelete='CASCADE'),
                                                 nullable=False, index=True)
    authority_code: Mapped[str] = mapped_column(ForeignKey('local_authorities.code'), nullable=False)
    lot: Mapped[Lot] = enum_column(Lot, 'local_application_lot', nullable=False)
    status: Mapped[LocalApplicationStatus] = enum_column(LocalApplicationStatus, 'local_application_status',
                                                         nullable=False, default=LocalApplicationStatus.DRAFT)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str] = mapped_column(Text, default='', nullable=False)

    organisation = relationship('Organisation')
    authority = relationship('LocalAuthority')
