"""Settings and the history of their vacancies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import TimestampMixin, UTCDateTime, enum_column, utcnow
from registry.extensions import db
from registry.settings.taxonomy import Judgement, ProvisionType, RegistrationStatus, SexAccepted


class Setting(TimestampMixin, db.Model):
    """One place a commissioner can place a child with."""

    __tablename__ = 'settings'
    __table_args__ = (
        CheckConstraint('age_min <= age_max', name='age_range'),
        CheckConstraint('vacancies >= 0', name='vacancies_not_negative'),
        CheckConstraint('places >= 0', name='places_not_negative'),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey('organisations.id', ondelete='CASCADE'),
                                                 nullable=False, index=True)
    provision_type: Mapped[ProvisionType] = enum_column(ProvisionType, 'provision_type', nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: Ofsted URN when the type is registered with Ofsted; unique across the registry.
    urn: Mapped[str | None] = mapped_column(String(8), unique=True)
    address_line_1: Mapped[str] = mapped_column(String(120), nullable=False)
    address_line_2: Mapped[str] = mapped_column(String(120), default='', nullable=False)
    town: Mapped[str] = mapped_column(String(80), nullable=False)
    postcode: Mapped[str] = mapped_column(String(8), nullable=False)
    #: British National Grid metres, from the postcode.
    easting: Mapped[float] = mapped_column(Float, nullable=False)
    northing: Mapped[float] = mapped_column(Float, nullable=False)
    #: Local authority district (lower tier) and children's services authority (upper tier).
    district_code: Mapped[str] = mapped_column(String(9), nullable=False)
    district_name: Mapped[str] = mapped_column(String(80), default='', nullable=False)
    authority_code: Mapped[str] = mapped_column(ForeignKey('local_authorities.code'), nullable=False, index=True)
    places: Mapped[int] = mapped_column(Integer, nullable=False)
    age_min: Mapped[int] = mapped_column(Integer, nullable=False)
    age_max: Mapped[int] = mapped_column(Integer, nullable=False)
    sex_accepted: Mapped[SexAccepted] = enum_column(SexAccepted, 'sex_accepted', nullable=False,
                                                    default=SexAccepted.ANY)
    #: Keys of :data:`registry.settings.taxonomy.NEEDS`.
    needs: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    description: Mapped[str] = mapped_column(Text, default='', nullable=False)
    #: For fostering: the authorities the service takes placements from.
    coverage: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    vacancies: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    vacancies_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_status: Mapped[RegistrationStatus] = enum_column(
        RegistrationStatus, 'registration_status', nullable=False, default=RegistrationStatus.ACTIVE)
    judgement: Mapped[Judgement | None] = enum_column(Judgement, 'judgement')
    judgement_date: Mapped[datetime | None] = mapped_column(Date)
    #: Suspended by the board or the provider: never listed while set.
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspension_reason: Mapped[str] = mapped_column(Text, default='', nullable=False)

    organisation = relationship('Organisation', back_populates='settings')
    authority = relationship('LocalAuthority')
    vacancy_history = relationship('VacancyChange', back_populates='setting', cascade='all, delete-orphan',
                                   order_by='VacancyChange.changed_at.desc()')

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def confidential_address(self) -> bool:
        return self.provision_type.info.confidential_address

    def vacancies_age_days(self, now: datetime | None = None) -> float | None:
        if self.vacancies_confirmed_at is None:
            return None
        return ((now or utcnow()) - self.vacancies_confirmed_at).total_seconds() / 86400

    def __repr__(self) -> str:
        return f'<Setting {self.id} {self.name}>'


class VacancyChange(db.Model):
    """Each time a provider confirmed or changed a setting's vacancies."""

    __tablename__ = 'vacancy_changes'

    id: Mapped[int] = mapped_column(primary_key=True)
    setting_id: Mapped[int] = mapped_column(ForeignKey('settings.id', ondelete='CASCADE'), nullable=False, index=True)
    vacancies: Mapped[int] = mapped_column(Integer, nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    note: Mapped[str] = mapped_column(String(200), default='', nullable=False)

    setting = relationship('Setting', back_populates='vacancy_history')
