"""Referrals, the settings approached, offers and placements.

The child is described without identity. What could still point to a child (exact age, where they live, the
free-text notes, the provider's conditions and decline notes) sits in columns that retention clears a set time
after the referral closes; everything else is an anonymised fact kept for statistics (authority, age band, sex,
needs, provision type, dates, prices, outcome, distances). Prices are integer pence.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from placements.states import (
    CloseReason,
    DeclineReason,
    EndReason,
    PlacementStatus,
    ReferralStatus,
    ResponseStatus,
)
from registry.db import UTCDateTime, enum_column, utcnow
from registry.extensions import db
from registry.settings.taxonomy import ProvisionType

#: DfE's looked-after children age bands (SSDA903), so statistics line up with the national return.
AGE_BANDS = (('under-1', 0, 0), ('1-4', 1, 4), ('5-9', 5, 9), ('10-15', 10, 15), ('16-17', 16, 17), ('18-plus', 18, 99))


def age_band(age: int) -> str:
    """The DfE age band for an age in years."""
    for band, low, high in AGE_BANDS:
        if low <= age <= high:
            return band
    raise ValueError(f'age out of range: {age}')


class Referral(db.Model):
    """A standard referral: one child (or sibling group) described without identity, sent to chosen settings."""

    __tablename__ = 'referrals'
    __table_args__ = (
        Index('ix_referrals_authority_created', 'authority_code', 'created_at'),
        Index('ix_referrals_status_closed', 'status', 'closed_at'),
        Index('ix_referrals_provision_created', 'provision_type', 'created_at'),
        CheckConstraint('children >= 1', name='children_positive'),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The home (referring) authority: only its commissioners see the referral and its offers.
    authority_code: Mapped[str] = mapped_column(ForeignKey('local_authorities.code'), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    status: Mapped[ReferralStatus] = enum_column(ReferralStatus, 'referral_status', nullable=False,
                                                 default=ReferralStatus.OPEN)

    # Anonymised facts, kept for statistics.
    age_band: Mapped[str] = mapped_column(String(8), nullable=False)
    sex: Mapped[str] = mapped_column(String(6), nullable=False)
    #: Keys of :data:`registry.settings.taxonomy.NEEDS`.
    needs: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    provision_type: Mapped[ProvisionType] = enum_column(ProvisionType, 'referral_provision_type', nullable=False)
    #: 1 for a child placed alone; 2 to 6 for brothers and sisters placed together.
    children: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    expected_duration_weeks: Mapped[int | None] = mapped_column(Integer)
    max_distance_miles: Mapped[int | None] = mapped_column(Integer)
    #: The authority the distances were measured from (the child's home authority or the requested location's).
    origin_authority_code: Mapped[str | None] = mapped_column(ForeignKey('local_authorities.code'))
    response_deadline: Mapped[date] = mapped_column(Date, nullable=False)
    indicative_budget_pence: Mapped[int | None] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[CloseReason | None] = enum_column(CloseReason, 'referral_close_reason')

    # Child details: cleared by retention (see placements.retention).
    age: Mapped[int | None] = mapped_column(Integer)
    #: The district (outward code, "LS1") or authority the child lives in; never a full postcode.
    origin_label: Mapped[str] = mapped_column(String(80), default='', nullable=False)
    origin_easting: Mapped[float | None] = mapped_column(Float)
    origin_northing: Mapped[float | None] = mapped_column(Float)
    location_notes: Mapped[str] = mapped_column(Text, default='', nullable=False)
    education_notes: Mapped[str] = mapped_column(Text, default='', nullable=False)
    risk_notes: Mapped[str] = mapped_column(Text, default='', nullable=False)
    other_notes: Mapped[str] = mapped_column(Text, default='', nullable=False)
    #: When retention removed the child details (None while they are held).
    details_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    authority = relationship('LocalAuthority', foreign_keys=[authority_code])
    created_by = relationship('User')
    responses = relationship('ReferralResponse', back_populates='referral', order_by='ReferralResponse.id',
                             cascade='all, delete-orphan')
    placement = relationship('Placement', back_populates='referral', uselist=False)

    @property
    def reference(self) -> str:
        return f'REF-{self.id:06d}'

    @property
    def details_deleted(self) -> bool:
        return self.details_deleted_at is not None

    def __repr__(self) -> str:
        return f'<Referral {self.id} {self.authority_code} {self.status}>'


class ReferralResponse(db.Model):
    """One setting approached by a referral, and where its provider's answer stands."""

    __tablename__ = 'referral_responses'
    __table_args__ = (
        UniqueConstraint('referral_id', 'setting_id', name='uq_referral_responses_referral_setting'),
        Index('ix_referral_responses_organisation_status', 'organisation_id', 'status'),
        Index('ix_referral_responses_status_reminded', 'status', 'reminded_at'),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey('referrals.id', ondelete='CASCADE'), nullable=False,
                                             index=True)
    setting_id: Mapped[int | None] = mapped_column(ForeignKey('settings.id', ondelete='SET NULL'), index=True)
    #: The provider approached: its members answer, and only they (with the referring authority) see the referral.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey('organisations.id', ondelete='SET NULL'))
    #: The setting's authority and type when approached (kept for statistics whatever happens to the setting).
    host_authority_code: Mapped[str] = mapped_column(String(9), nullable=False)
    provision_type: Mapped[ProvisionType] = enum_column(ProvisionType, 'response_provision_type', nullable=False)
    #: Straight-line distance from the child's home or requested location, when it was given.
    distance_miles: Mapped[float | None] = mapped_column(Float)
    #: The finder's reasons when the setting was chosen: ``[{'kind', 'met', 'text'}]``.
    finder_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    status: Mapped[ResponseStatus] = enum_column(ResponseStatus, 'response_status', nullable=False,
                                                 default=ResponseStatus.AWAITING)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    decline_reason: Mapped[DeclineReason | None] = enum_column(DeclineReason, 'decline_reason')
    #: The provider's words on a decline: may mention the child, so retention clears it.
    decline_notes: Mapped[str] = mapped_column(Text, default='', nullable=False)
    #: When the deadline reminder went (once per response).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    referral = relationship('Referral', back_populates='responses')
    setting = relationship('Setting')
    organisation = relationship('Organisation')
    offer = relationship('Offer', back_populates='response', uselist=False)

    def __repr__(self) -> str:
        return f'<ReferralResponse {self.id} referral={self.referral_id} setting={self.setting_id} {self.status}>'


class Offer(db.Model):
    """A provider's offer of a place: one per response, never changed once made."""

    __tablename__ = 'offers'
    __table_args__ = (
        CheckConstraint('weekly_price_pence > 0', name='weekly_price_positive'),
        Index('ix_offers_created', 'created_at'),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey('referral_responses.id', ondelete='CASCADE'),
                                             nullable=False, unique=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey('referrals.id', ondelete='CASCADE'), nullable=False,
                                             index=True)
    setting_id: Mapped[int | None] = mapped_column(ForeignKey('settings.id', ondelete='SET NULL'), index=True)
    weekly_price_pence: Mapped[int] = mapped_column(Integer, nullable=False)
    available_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[date] = mapped_column(Date, nullable=False)
    #: The provider's conditions (cleared by retention: they may describe the child).
    conditions: Mapped[str] = mapped_column(Text, default='', nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    response = relationship('ReferralResponse', back_populates='offer')
    setting = relationship('Setting')

    def __repr__(self) -> str:
        return f'<Offer {self.id} referral={self.referral_id} £{self.weekly_price_pence / 100:.2f}>'


class Placement(db.Model):
    """A child placed with a setting from an accepted offer. Holds no child details."""

    __tablename__ = 'placements'
    __table_args__ = (
        Index('ix_placements_home_start', 'home_authority_code', 'start_date'),
        Index('ix_placements_host_start', 'host_authority_code', 'start_date'),
        Index('ix_placements_provision_start', 'provision_type', 'start_date'),
        Index('ix_placements_organisation_status', 'organisation_id', 'status'),
        CheckConstraint('weekly_price_pence > 0', name='placement_weekly_price_positive'),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey('referrals.id', ondelete='CASCADE'), nullable=False,
                                             unique=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey('offers.id', ondelete='CASCADE'), nullable=False, unique=True)
    setting_id: Mapped[int | None] = mapped_column(ForeignKey('settings.id', ondelete='SET NULL'), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey('organisations.id', ondelete='SET NULL'))
    provision_type: Mapped[ProvisionType] = enum_column(ProvisionType, 'placement_provision_type', nullable=False)
    #: The authority responsible for the child, and the authority the setting is in.
    home_authority_code: Mapped[str] = mapped_column(ForeignKey('local_authorities.code'), nullable=False)
    host_authority_code: Mapped[str] = mapped_column(ForeignKey('local_authorities.code'), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    planned_end_date: Mapped[date | None] = mapped_column(Date)
    weekly_price_pence: Mapped[int] = mapped_column(Integer, nullable=False)
    #: Straight-line miles from the child's home (or the home authority's centre) to the setting.
    distance_miles: Mapped[float | None] = mapped_column(Float)
    children: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    status: Mapped[PlacementStatus] = enum_column(PlacementStatus, 'placement_status', nullable=False,
                                                  default=PlacementStatus.ACTIVE)
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[EndReason | None] = enum_column(EndReason, 'placement_end_reason')
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))

    referral = relationship('Referral', back_populates='placement')
    offer = relationship('Offer')
    setting = relationship('Setting')
    organisation = relationship('Organisation')
    home_authority = relationship('LocalAuthority', foreign_keys=[home_authority_code])
    host_authority = relationship('LocalAuthority', foreign_keys=[host_authority_code])

    @property
    def reference(self) -> str:
        return f'PL-{self.id:06d}'

    @property
    def out_of_area(self) -> bool:
        return self.home_authority_code != self.host_authority_code

    def __repr__(self) -> str:
        return f'<Placement {self.id} {self.home_authority_code}->{self.host_authority_code}>'
