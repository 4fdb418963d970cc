"""A consortium, its member authorities and the commissioners who act for it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import TimestampMixin, UTCDateTime, utcnow
from registry.extensions import db


class Consortium(TimestampMixin, db.Model):
    """A named group of authorities that buys together (a regional or sub-regional arrangement)."""

    __tablename__ = 'consortia'

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)

    members = relationship('ConsortiumMember', back_populates='consortium', cascade='all, delete-orphan',
                           order_by='ConsortiumMember.authority_code')
    commissioners = relationship('ConsortiumCommissioner', back_populates='consortium', cascade='all, delete-orphan')

    @property
    def authority_codes(self) -> list[str]:
        return sorted(member.authority_code for member in self.members)

    @property
    def authorities(self) -> list:
        return sorted((member.authority for member in self.members), key=lambda authority: authority.name)

    def __repr__(self) -> str:
        return f'<Consortium {self.id} {self.name!r}>'


class ConsortiumMember(db.Model):
    """One authority's membership of a consortium (an authority may belong to several)."""

    __tablename__ = 'consortium_members'
    __table_args__ = (UniqueConstraint('consortium_id', 'authority_code', name='uq_consortium_members'),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consortium_id: Mapped[int] = mapped_column(ForeignKey('consortia.id', ondelete='CASCADE'), nullable=False,
                                               index=True)
    authority_code: Mapped[str] = mapped_column(ForeignKey('local_authorities.code'), nullable=False, index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    consortium = relationship('Consortium', back_populates='members')
    authority = relationship('LocalAuthority')


class ConsortiumCommissioner(db.Model):
    """A commissioner's role in a consortium: publish its requirements and decide applications to its list."""

    __tablename__ = 'consortium_commissioners'
    __table_args__ = (UniqueConstraint('consortium_id', 'user_id', name='uq_consortium_commissioners'),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consortium_id: Mapped[int] = mapped_column(ForeignKey('consortia.id', ondelete='CASCADE'), nullable=False,
                                               index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('users.id', ondelete='CASCADE'), nullable=False, index=True)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    consortium = relationship('Consortium', back_populates='commissioners')
    user = relationship('User', foreign_keys=[user_id])
