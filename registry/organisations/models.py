"""Provider organisations, their members and invitations to join."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import TimestampMixin, UTCDateTime, enum_column
from registry.extensions import db


class LegalForm(enum.StrEnum):
    """The legal form of a provider organisation."""

    COMPANY_LIMITED_BY_SHARES = 'company-limited-by-shares'
    COMPANY_LIMITED_BY_GUARANTEE = 'company-limited-by-guarantee'
    COMMUNITY_INTEREST_COMPANY = 'community-interest-company'
    CHARITABLE_INCORPORATED_ORGANISATION = 'charitable-incorporated-organisation'
    CHARITABLE_COMPANY = 'charitable-company'
    LIMITED_LIABILITY_PARTNERSHIP = 'limited-liability-partnership'
    PARTNERSHIP = 'partnership'
    SOLE_TRADER = 'sole-trader'
    LOCAL_AUTHORITY = 'local-authority'
    NHS_BODY = 'nhs-body'

    @property
    def label(self) -> str:
        return LEGAL_FORM_LABELS[self]

    @property
    def needs_company_number(self) -> bool:
        return self in {LegalForm.COMPANY_LIMITED_BY_SHARES, LegalForm.COMPANY_LIMITED_BY_GUARANTEE,
                        LegalForm.COMMUNITY_INTEREST_COMPANY, LegalForm.CHARITABLE_COMPANY,
                        LegalForm.LIMITED_LIABILITY_PARTNERSHIP}

    @property
    def needs_charity_number(self) -> bool:
        return self in {LegalForm.CHARITABLE_INCORPORATED_ORGANISATION, LegalForm.CHARITABLE_COMPANY}


LEGAL_FORM_LABELS = {
    LegalForm.COMPANY_LIMITED_BY_SHARES: 'Private company limited by shares',
    LegalForm.COMPANY_LIMITED_BY_GUARANTEE: 'Company limited by guarantee',
    LegalForm.COMMUNITY_INTEREST_COMPANY: 'Community interest company (CIC)',
    LegalForm.CHARITABLE_INCORPORATED_ORGANISATION: 'Charitable incorporated organisation (CIO)',
    LegalForm.CHARITABLE_COMPANY: 'Charitable company (registered charity and company)',
    LegalForm.LIMITED_LIABILITY_PARTNERSHIP: 'Limited liability partnership (LLP)',
    LegalForm.PARTNERSHIP: 'Partnership',
    LegalForm.SOLE_TRADER: 'Sole trader',
    LegalForm.LOCAL_AUTHORITY: 'Local authority',
    LegalForm.NHS_BODY: 'NHS body',
}


class Sector(enum.StrEnum):
    """Ofsted's sectors."""

    PRIVATE = 'private'
    VOLUNTARY = 'voluntary'
    LOCAL_AUTHORITY = 'local-authority'
    HEALTH = 'health'

    @property
    def label(self) -> str:
        return {'private': 'Private', 'voluntary': 'Voluntary', 'local-authority': 'Local authority',
                'health': 'Health authority'}[self.value]


class MemberRole(enum.StrEnum):
    """What a member may do within an organisation."""

    OWNER = 'owner'
    EDITOR = 'editor'

    @property
    def label(self) -> str:
        return {'owner': 'Owner (manages colleagues)', 'editor': 'Editor'}[self.value]


class Organisation(TimestampMixin, db.Model):
    """A provider organisation: the legal entity that qualifies once."""

    __tablename__ = 'organisations'
    # One organisation per Companies House number and per charity number, so nobody can register a company that
    # is already registered (ask to be invited instead) and a double click cannot register it twice. Blank (no
    # number: a sole trader, a partnership, a local authority) may be shared.
    __table_args__ = tuple(
        Index(f'uq_organisations_{column}', column, unique=True,
              sqlite_where=text(f"{column} != ''"), postgresql_where=text(f"{column} != ''"))
        for column in ('company_number', 'charity_number'))

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    trading_name: Mapped[str] = mapped_column(String(200), default='', nullable=False)
    legal_form: Mapped[LegalForm] = enum_column(LegalForm, 'legal_form', nullable=False)
    #: Companies House number: eight characters, for example ``01234567`` or ``SC123456``.
    company_number: Mapped[str] = mapped_column(String(8), default='', nullable=False, index=True)
    #: Charity Commission number (England and Wales), or ``SC`` + six digits for OSCR.
    charity_number: Mapped[str] = mapped_column(String(10), default='', nullable=False)
    sector: Mapped[Sector] = enum_column(Sector, 'sector', nullable=False)
    address_line_1: Mapped[str] = mapped_column(String(120), nullable=False)
    address_line_2: Mapped[str] = mapped_column(String(120), default='', nullable=False)
    town: Mapped[str] = mapped_column(String(80), nullable=False)
    postcode: Mapped[str] = mapped_column(String(8), nullable=False)
    contact_name: Mapped[str] = mapped_column(String(120), nullable=False)
    contact_email: Mapped[str] = mapped_column(String(254), nullable=False)
    contact_phone: Mapped[str] = mapped_column(String(30), nullable=False)
    website: Mapped[str] = mapped_column(String(200), default='', nullable=False)

    memberships = relationship('Membership', back_populates='organisation', cascade='all, delete-orphan')
    settings = relationship('Setting', back_populates='organisation', order_by='Setting.name')

    @property
    def display_name(self) -> str:
        return self.trading_name or self.legal_name

    def __repr__(self) -> str:
        return f'<Organisation {self.id} {self.legal_name}>'


class Membership(TimestampMixin, db.Model):
    """A user's place in an organisation."""

    __tablename__ = 'memberships'
    __table_args__ = (UniqueConstraint('user_id', 'organisation_id'),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('users.id', ondelete='CASCADE'), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey('organisations.id', ondelete='CASCADE'),
                                                 nullable=False, index=True)
    role: Mapped[MemberRole] = enum_column(MemberRole, 'member_role', nullable=False, default=MemberRole.EDITOR)

    user = relationship('User', back_populates='memberships')
    organisation = relationship('Organisation', back_populates='memberships')


class Invitation(TimestampMixin, db.Model):
    """An invitation for a colleague to join an organisation, accepted through an emailed link."""

    __tablename__ = 'invitations'

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey('organisations.id', ondelete='CASCADE'),
                                                 nullable=False, index=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    role: Mapped[MemberRole] = enum_column(MemberRole, 'invitation_role', nullable=False)
    #: sha256 of the emailed token; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message: Mapped[str] = mapped_column(Text, default='', nullable=False)

    organisation = relationship('Organisation')
