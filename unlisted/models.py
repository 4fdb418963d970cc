"""Settings outside the national list that commissioners may still search: the register's and in-house ones."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import TimestampMixin, UTCDateTime, enum_column
from registry.extensions import db
from registry.settings.taxonomy import Judgement, ProvisionType


class UnlistedKind(enum.StrEnum):
    NOT_QUALIFIED = 'not_qualified'
    IN_HOUSE = 'in_house'


class UnlistedSetting(TimestampMixin, db.Model):
    """One setting outside the national list. Its directory entry id is ``UNLISTED_ID_OFFSET + id``."""

    __tablename__ = 'unlisted_settings'

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[UnlistedKind] = enum_column(UnlistedKind, 'unlisted_kind', nullable=False)
    #: The register's URN (not-qualified entries; optional for in-house ones).
    urn: Mapped[str | None] = mapped_column(String(8), unique=True)
    #: In-house entries: the authority that runs the service.
    owner_authority_code: Mapped[str | None] = mapped_column(ForeignKey('local_authorities.code'), index=True)
    provision_type: Mapped[ProvisionType] = enum_column(ProvisionType, 'unlisted_provision_type', nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: The provider as the register names it, or the authority for in-house services.
    organisation_name: Mapped[str] = mapped_column(String(200), default='', nullable=False)
    #: Where the setting is (for a children's home, its authority only).
    authority_code: Mapped[str] = mapped_column(ForeignKey('local_authorities.code'), nullable=False, index=True)
    district_name: Mapped[str] = mapped_column(String(80), default='', nullable=False)
    #: Blank for children's homes: their addresses are confidential and never stored here.
    address: Mapped[str] = mapped_column(String(200), default='', nullable=False)
    postcode: Mapped[str] = mapped_column(String(8), default='', nullable=False)
    #: The postcode's point, or the authority's centroid for a children's home.
    easting: Mapped[float] = mapped_column(Float, nullable=False)
    northing: Mapped[float] = mapped_column(Float, nullable=False)
    places: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    age_min: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    age_max: Mapped[int] = mapped_column(Integer, default=17, nullable=False)
    sex: Mapped[str] = mapped_column(String(10), default='any', nullable=False)
    needs: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    description: Mapped[str] = mapped_column(Text, default='', nullable=False)
    judgement: Mapped[Judgement | None] = enum_column(Judgement, 'unlisted_judgement')
    judgement_date: Mapped[date | None] = mapped_column(Date)
    vacancies: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    vacancies_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Closed entries stay for the audit trail but leave the directory.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))

    authority = relationship('LocalAuthority', foreign_keys=[authority_code])
    owner_authority = relationship('LocalAuthority', foreign_keys=[owner_authority_code])
