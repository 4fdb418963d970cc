"""Qualifications (what an approval grants) and local applications (joining an authority's list)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qualification.states import LocalApplicationStatus, QualificationStatus
from registry.db import TimestampMixin, UTCDateTime, enum_column, utcnow
from registry.extensions import db
from registry.settings.taxonomy import Lot

__all__ = ['LocalApplication', 'LocalApplicationStatus', 'LocalRequirements', 'Qualification',
           'QualificationReminder', 'QualificationStatus']


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
    #: The approved application that granted it (None for qualifications loaded by other means).
    application_id: Mapped[int | None] = mapped_column(ForeignKey('applications.id', ondelete='SET NULL'),
                                                       index=True)

    organisation = relationship('Organisation')
    application = relationship('Application')

    @property
    def lot_label(self) -> str:
        return Lot(self.lot).label

    def __repr__(self) -> str:
        return f'<Qualification {self.id} org={self.organisation_id} {self.lot} {self.status}>'


class QualificationReminder(db.Model):
    """An annual-review reminder already sent, so the expiry job never sends the same one twice."""

    __tablename__ = 'qualification_reminders'
    __table_args__ = (UniqueConstraint('qualification_id', 'valid_to', 'days_before',
                                       name='uq_qualification_reminders_once'),)

    id: Mapped[int] = mapped_column(primary_key=True)
    qualification_id: Mapped[int] = mapped_column(ForeignKey('qualifications.id', ondelete='CASCADE'),
                                                  nullable=False)
    #: The expiry date the reminder was about: a renewal moves it, and the reminders start again.
    valid_to: Mapped[date] = mapped_column(Date, nullable=False)
    days_before: Mapped[int] = mapped_column(Integer, nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class LocalOwnerMixin:
    """The layer a local list belongs to: an authority, or a consortium publishing on its members' behalf.

    Exactly one of ``authority_code`` and ``consortium_id`` is set (a check constraint holds it).
    """

    @property
    def owner(self):
        """The owning :class:`LocalAuthority` or :class:`consortia.models.Consortium` (both have ``name``)."""
        return self.consortium if self.consortium_id is not None else self.authority

    @property
    def owner_key(self) -> tuple[str, str | int]:
        return ('consortium', self.consortium_id) if self.consortium_id is not None else ('authority',
                                                                                           self.authority_code)

    @property
    def is_consortium(self) -> bool:
        return self.consortium_id is not None


_ONE_OWNER = '(authority_code IS NULL) <> (consortium_id IS NULL)'


class LocalRequirements(LocalOwnerMixin, db.Model):
    """One published version of an authority's (or a consortium's) local requirements for a lot; never changed
    once published."""

    __tablename__ = 'local_requirements'
    __table_args__ = (UniqueConstraint('authority_code', 'lot', 'version', name='uq_local_requirements_version'),
                      UniqueConstraint('consortium_id', 'lot', 'version',
                                       name='uq_local_requirements_consortium_version'),
                      CheckConstraint(_ONE_OWNER, name='one_owner'))

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_code: Mapped[str | None] = mapped_column(ForeignKey('local_authorities.code'), index=True)
    consortium_id: Mapped[int | None] = mapped_column(ForeignKey('consortia.id', ondelete='CASCADE'), index=True)
    lot: Mapped[Lot] = enum_column(Lot, 'local_requirements_lot', nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    #: ``[{'id': 'q1', 'text': ..., 'type': 'text' | 'yes-no'}]``
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    #: Document names the authority accepts, one string each.
    documents: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    #: ``[{'placement_type': ..., 'weekly_price_pence': int}]``
    price_schedule: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: Closed requirements take no new applications (a newer version supersedes an older one automatically).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    authority = relationship('LocalAuthority')
    consortium = relationship('Consortium')
    published_by = relationship('User')

    @property
    def lot_label(self) -> str:
        return Lot(self.lot).label


class LocalApplication(LocalOwnerMixin, TimestampMixin, db.Model):
    """A qualified provider's answers to one authority's (or consortium's) local requirements for one lot."""

    __tablename__ = 'local_applications'
    __table_args__ = (Index('ix_local_applications_authority_status', 'authority_code', 'status'),
                      Index('ix_local_applications_consortium_status', 'consortium_id', 'status'),
                      CheckConstraint(_ONE_OWNER, name='one_owner'))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey('organisations.id', ondelete='CASCADE'),
                                                 nullable=False, index=True)
    authority_code: Mapped[str | None] = mapped_column(ForeignKey('local_authorities.code'))
    consortium_id: Mapped[int | None] = mapped_column(ForeignKey('consortia.id', ondelete='CASCADE'))
    lot: Mapped[Lot] = enum_column(Lot, 'local_application_lot', nullable=False)
    status: Mapped[LocalApplicationStatus] = enum_column(LocalApplicationStatus, 'local_application_status',
                                                         nullable=False, default=LocalApplicationStatus.DRAFT)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str] = mapped_column(Text, default='', nullable=False)
    requirements_id: Mapped[int | None] = mapped_column(ForeignKey('local_requirements.id', ondelete='SET NULL'))
    #: question id -> answer (text, or ``yes``/``no``), for the requirements version applied to.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    #: The provider's confirmation that it accepts the price schedule and holds the documents listed.
    accepts_terms: Mapped[str] = mapped_column(String(3), default='', nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation = relationship('Organisation')
    authority = relationship('LocalAuthority')
    consortium = relationship('Consortium')
    requirements = relationship('LocalRequirements')
    decided_by = relationship('User')

    @property
    def lot_label(self) -> str:
        return Lot(self.lot).label


import consortia.models  # noqa: E402,F401  (consortia own local layers: registered with the metadata here)
import qualification.conflicts  # noqa: E402,F401  (conflicts of interest: registered with the metadata here)
import qualification.review  # noqa: E402,F401  (board review tables: registered with the metadata here)
