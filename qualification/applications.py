"""Applications to the national qualification: answers, evidence and the scheme versions they were made against."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qualification.states import EDITABLE_STATUSES, OPEN_STATUSES, ApplicationStatus, SchemeVersionStatus
from registry.db import TimestampMixin, UTCDateTime, enum_column, utcnow
from registry.extensions import db

_OPEN = ', '.join(f"'{status.value}'" for status in sorted(OPEN_STATUSES))


class SchemeVersion(db.Model):
    """A scheme version the registry knows, with the sha256 of its content: published content must never change.

    Versions shipped as files in ``qualification/schemes`` are recorded the first time they are used (``content``
    is None). Versions the board uploads in the service keep their YAML in ``content``: a draft until published
    (:func:`qualification.scheme_publishing.publish`), then used by applications started on or after
    ``effective_from``.
    """

    __tablename__ = 'scheme_versions'

    version: Mapped[str] = mapped_column(String(20), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[SchemeVersionStatus] = enum_column(SchemeVersionStatus, 'scheme_version_status', nullable=False,
                                                      default=SchemeVersionStatus.DRAFT)
    #: When the registry first used the version as published (its content is fixed from then on).
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: The uploaded YAML, for versions the board uploads (None: the version is a file shipped with the service).
    content: Mapped[str | None] = mapped_column(Text)
    #: Applications started on or after this day use the version (None for shipped files: from publication).
    effective_from: Mapped[date | None] = mapped_column(Date)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))

    uploaded_by = relationship('User', foreign_keys=[uploaded_by_id])
    published_by = relationship('User', foreign_keys=[published_by_id])

    @property
    def id(self) -> str:
        """The version, under the name audit events use for an object's key."""
        return self.version

    @property
    def is_published(self) -> bool:
        return self.status == SchemeVersionStatus.PUBLISHED

    @property
    def is_uploaded(self) -> bool:
        return self.content is not None

    def __repr__(self) -> str:
        return f'<SchemeVersion {self.version} {self.status} {self.sha256[:12]}>'


class Application(TimestampMixin, db.Model):
    """An organisation's answers to one scheme version for the lots it chose."""

    __tablename__ = 'applications'
    __table_args__ = (
        # One open application per organisation, enforced by the database as well as the service.
        Index('uq_applications_one_open_per_organisation', 'organisation_id', unique=True,
              sqlite_where=text(f'status IN ({_OPEN})'), postgresql_where=text(f'status IN ({_OPEN})')),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey('organisations.id', ondelete='CASCADE'),
                                                 nullable=False, index=True)
    scheme_version: Mapped[str] = mapped_column(ForeignKey('scheme_versions.version'), nullable=False)
    #: Lot ids (``registry.settings.taxonomy.Lot`` values) the organisation applies for.
    lots: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    status: Mapped[ApplicationStatus] = enum_column(ApplicationStatus, 'application_status', nullable=False,
                                                    default=ApplicationStatus.DRAFT)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    carried_forward_from_id: Mapped[int | None] = mapped_column(ForeignKey('applications.id', ondelete='SET NULL'))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clarification_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declaration_name: Mapped[str] = mapped_column(String(120), default='', nullable=False)
    declaration_role: Mapped[str] = mapped_column(String(120), default='', nullable=False)
    declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Frozen at submission: answers, evidence metadata, rule outcomes, the scheme's sha256, the declaration.
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Why the status last changed, in the actor's words (clarification questions, decisions).
    status_reason: Mapped[str] = mapped_column(Text, default='', nullable=False)
    #: Ids of sections that started with answers or documents carried forward from an earlier application.
    carried_sections: Mapped[list[str]] = mapped_column(JSON, default=list, server_default='[]', nullable=False)
    #: Ids of sections carried forward that the provider confirmed unchanged (or saved after reviewing them).
    confirmed_sections: Mapped[list[str]] = mapped_column(JSON, default=list, server_default='[]', nullable=False)

    organisation = relationship('Organisation')
    started_by = relationship('User', foreign_keys=[started_by_id])
    carried_forward_from = relationship('Application', remote_side=[id], foreign_keys=[carried_forward_from_id])
    answers = relationship('Answer', back_populates='application', cascade='all, delete-orphan',
                           order_by='Answer.id')
    evidence = relationship('Evidence', back_populates='application', cascade='all, delete-orphan',
                            order_by='Evidence.id')

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def answer_values(self) -> dict[str, Any]:
        """question id -> stored value."""
        return {answer.question_id: answer.value for answer in self.answers}

    def evidence_for(self, question_id: str) -> list[Evidence]:
        return [item for item in self.evidence if item.question_id == question_id]

    def __repr__(self) -> str:
        return f'<Application {self.id} org={self.organisation_id} {self.scheme_version} {self.status}>'


class Answer(db.Model):
    """One answer: the value as JSON (money in pence, dates as ISO text, rows as a list of mappings)."""

    __tablename__ = 'application_answers'
    __table_args__ = (UniqueConstraint('application_id', 'question_id'),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey('applications.id', ondelete='CASCADE'), nullable=False)
    question_id: Mapped[str] = mapped_column(String(80), nullable=False)
    value: Mapped[Any] = mapped_column(JSON)
    #: The automatic rule's outcome recorded at submission: pass, fail or assessor.
    outcome: Mapped[str | None] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))

    application = relationship('Application', back_populates='answers')

    def __repr__(self) -> str:
        return f'<Answer {self.application_id}/{self.question_id}>'


class Evidence(db.Model):
    """An uploaded document attached to an application's evidence question."""

    __tablename__ = 'evidence_documents'

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey('applications.id', ondelete='CASCADE'),
                                                nullable=False, index=True)
    question_id: Mapped[str] = mapped_column(String(80), nullable=False)
    #: Random, unguessable; shared by copies carried forward to a newer application.
    storage_key: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    #: The uploader's file name, sanitised, for display only.
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    #: For a document carried forward from an earlier application: when it expires (from that application's
    #: answers, see :mod:`qualification.carry`); None for documents uploaded to this application.
    expires_on: Mapped[date | None] = mapped_column(Date)

    application = relationship('Application', back_populates='evidence')
    uploaded_by = relationship('User')

    def metadata_dict(self) -> dict[str, Any]:
        """What the frozen snapshot records about this document."""
        return {'id': self.id, 'question_id': self.question_id, 'filename': self.filename, 'sha256': self.sha256,
                'content_type': self.content_type, 'size': self.size, 'storage_key': self.storage_key,
                'uploaded_at': self.uploaded_at.isoformat() if self.uploaded_at else None,
                'uploaded_by_id': self.uploaded_by_id}

    def __repr__(self) -> str:
        return f'<Evidence {self.id} {self.filename!r}>'
