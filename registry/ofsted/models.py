"""Ofsted's register of social care providers, as imported, and the record of each import."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import UTCDateTime, enum_column, utcnow
from registry.extensions import db
from registry.settings.taxonomy import Judgement, ProvisionType, RegistrationStatus

#: Ofsted's placeholder for details it withholds (children's homes' names and addresses).
REDACTED = 'REDACTED'


class OfstedRegisterEntry(db.Model):
    """One provider in Ofsted's published register, keyed by its URN; upserted by each import."""

    __tablename__ = 'ofsted_register'

    urn: Mapped[str] = mapped_column(String(8), primary_key=True)
    #: The provision type exactly as Ofsted published it, for example ``Supported Accommodation``.
    provision_type_text: Mapped[str] = mapped_column(String(120), nullable=False)
    #: Our provision type, or None for types the directory does not list (boarding schools, adoption agencies).
    provision_type: Mapped[ProvisionType | None] = enum_column(ProvisionType, 'ofsted_provision_type', index=True)
    registration_status: Mapped[RegistrationStatus] = enum_column(
        RegistrationStatus, 'ofsted_registration_status', nullable=False)
    registration_date: Mapped[date | None] = mapped_column(Date)
    sector: Mapped[str] = mapped_column(String(40), default='', nullable=False)
    places: Mapped[int | None] = mapped_column(Integer)
    #: ``REDACTED`` for children's homes.
    name: Mapped[str] = mapped_column(String(200), default='', nullable=False)
    #: Blank when Ofsted redacts the address.
    town: Mapped[str] = mapped_column(String(80), default='', nullable=False)
    postcode: Mapped[str] = mapped_column(String(10), default='', nullable=False)
    local_authority_name: Mapped[str] = mapped_column(String(120), default='', nullable=False)
    #: The children's services authority matched by name; None outside England (Ofsted lists a few Welsh sites).
    authority_code: Mapped[str | None] = mapped_column(ForeignKey('local_authorities.code'), index=True)
    #: Government Office Region as published (Ofsted's own region when that column is absent).
    region: Mapped[str] = mapped_column(String(80), default='', nullable=False)
    ofsted_region: Mapped[str] = mapped_column(String(80), default='', nullable=False)
    owner_name: Mapped[str] = mapped_column(String(200), default='', nullable=False)
    latest_inspection_date: Mapped[date | None] = mapped_column(Date)
    latest_publication_date: Mapped[date | None] = mapped_column(Date)
    overall_judgement: Mapped[Judgement | None] = enum_column(Judgement, 'ofsted_overall_judgement')
    #: The overall judgement's wording as published (also kept when we cannot map it).
    overall_judgement_text: Mapped[str] = mapped_column(String(120), default='', nullable=False)
    #: Other published columns (sub-judgements, inspection event type) keyed by their published heading.
    judgements: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    source_file: Mapped[str] = mapped_column(String(255), default='', nullable=False)
    #: When this row was last inserted or changed by an import.
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: sha256 of the mapped values, so a re-import can tell changed rows from unchanged ones.
    row_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    #: The "as at" date of the first full release this provider was missing from; None while Ofsted still lists it.
    #: A provider that closes simply disappears from the next release, so this is how we learn it has gone.
    removed_as_at: Mapped[date | None] = mapped_column(Date, index=True)

    authority = relationship('LocalAuthority')

    @property
    def is_redacted(self) -> bool:
        return self.name == REDACTED

    def __repr__(self) -> str:
        return f'<OfstedRegisterEntry {self.urn} {self.provision_type_text}>'


class OfstedImport(db.Model):
    """One completed import of an Ofsted file. A file that fails to import leaves no row."""

    __tablename__ = 'ofsted_imports'

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total_rows: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    new_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    changed_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    rejected_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    #: ``[{"row": 12, "urn": "SC12", "reason": "..."}]``; row numbers are the file's own (1-based).
    rejected_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    settings_updated: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    #: The date the release describes ("providers at 31 March 2025"); None only for imports made before it was kept.
    as_at: Mapped[date | None] = mapped_column(Date, index=True)
    #: An older release recorded for its history (counts per release) without touching the register.
    historical: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: Providers in the register before this release and missing from it: marked no longer registered.
    removed_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    run_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))

    run_by = relationship('User')


class OfstedReleaseCount(db.Model):
    """Active registrations and places in one release, per provision type and authority.

    The lean record of the register over time: each import (historical ones too) adds a few hundred rows
    instead of keeping every provider of every release. Read through
    :func:`registry.ofsted.services.supply_by_release`.
    """

    __tablename__ = 'ofsted_release_counts'

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey('ofsted_imports.id', ondelete='CASCADE'), nullable=False,
                                           index=True)
    as_at: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    provision_type: Mapped[ProvisionType] = enum_column(ProvisionType, 'release_provision_type', nullable=False)
    #: None for providers outside England or in an authority we could not match.
    authority_code: Mapped[str | None] = mapped_column(ForeignKey('local_authorities.code'))
    providers: Mapped[int] = mapped_column(Integer, nullable=False)
    places: Mapped[int] = mapped_column(Integer, nullable=False)


class ReviewReason(enum.StrEnum):
    """Why an import put a setting in front of the board."""

    JUDGEMENT_INADEQUATE = 'judgement-inadequate'
    REGISTRATION_SUSPENDED = 'registration-suspended'
    REGISTRATION_CANCELLED = 'registration-cancelled'
    REGISTRATION_RESIGNED = 'registration-resigned'
    REMOVED_FROM_REGISTER = 'removed-from-register'

    @property
    def label(self) -> str:
        return {'judgement-inadequate': 'Judged inadequate',
                'registration-suspended': 'Registration suspended',
                'registration-cancelled': 'Registration cancelled',
                'registration-resigned': 'Registration resigned',
                'removed-from-register': "No longer in Ofsted's register"}[self.value]


class ReviewOutcome(enum.StrEnum):
    """What the board decided about a review item."""

    #: The setting stays out of the directory (the board's suspension, or the register, keeps it out).
    UPHELD = 'upheld'
    #: The board lifts the suspension the import applied; the setting is listed again if the rule allows.
    LIFTED = 'lifted'

    @property
    def label(self) -> str:
        return {'upheld': 'Delisting upheld', 'lifted': 'Suspension lifted'}[self.value]


class OfstedReviewItem(db.Model):
    """A setting an import delisted (or suspended), waiting for a board member to record an outcome."""

    __tablename__ = 'ofsted_review_items'

    id: Mapped[int] = mapped_column(primary_key=True)
    setting_id: Mapped[int] = mapped_column(ForeignKey('settings.id', ondelete='CASCADE'), nullable=False, index=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey('ofsted_imports.id', ondelete='SET NULL'))
    reason: Mapped[ReviewReason] = enum_column(ReviewReason, 'ofsted_review_reason', nullable=False)
    #: The facts in words, for example "Overall judgement good -> inadequate (inspection 12/02/2025)".
    detail: Mapped[str] = mapped_column(Text, default='', nullable=False)
    #: True when the import suspended the setting (an inadequate judgement), so lifting has something to undo.
    suspended_setting: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    outcome: Mapped[ReviewOutcome | None] = enum_column(ReviewOutcome, 'ofsted_review_outcome')
    outcome_reason: Mapped[str] = mapped_column(Text, default='', nullable=False)

    setting = relationship('Setting')
    resolved_by = relationship('User')
    register_import = relationship('OfstedImport')

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
