"""Shortlists: a saved placement search with its results frozen at save time, notes and sharing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import TimestampMixin, UTCDateTime, utcnow
from registry.extensions import db


class Shortlist(TimestampMixin, db.Model):
    """A placement search saved by a commissioner, with the exact ranked results at that moment."""

    __tablename__ = 'shortlists'
    __table_args__ = (Index('ix_shortlists_authority_shared', 'authority_code', 'is_shared'),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The authority that owns the shortlist; only its commissioners may ever see it.
    authority_code: Mapped[str] = mapped_column(ForeignKey('local_authorities.code'), nullable=False)
    owner_id: Mapped[int] = mapped_column(ForeignKey('users.id'), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    #: The finder's criteria as the officer gave them (JSON-ready: dates as ISO strings).
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    #: Visible to every commissioner of the authority, not just the owner.
    is_shared: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    owner = relationship('User')
    authority = relationship('LocalAuthority')
    entries = relationship('ShortlistEntry', back_populates='shortlist', order_by='ShortlistEntry.rank',
                           cascade='all, delete-orphan')
    notes = relationship('ShortlistNote', back_populates='shortlist', order_by='ShortlistNote.id',
                         cascade='all, delete-orphan')

    def __repr__(self) -> str:
        return f'<Shortlist {self.id} {self.authority_code} {self.name!r}>'


class ShortlistEntry(db.Model):
    """One result as it was when the shortlist was saved: never updated afterwards."""

    __tablename__ = 'shortlist_entries'
    __table_args__ = (UniqueConstraint('shortlist_id', 'rank', name='uq_shortlist_entries_shortlist_rank'),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shortlist_id: Mapped[int] = mapped_column(ForeignKey('shortlists.id', ondelete='CASCADE'), nullable=False)
    rank: Mapped[int] = mapped_column(Integer, nullable=False)
    #: No foreign key: the record must survive the setting being removed or changed.
    setting_id: Mapped[int] = mapped_column(Integer, nullable=False)
    #: Setting, provider, distance, vacancies and their confirmation time, judgement, reasons, score.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)

    shortlist = relationship('Shortlist', back_populates='entries')

    def __repr__(self) -> str:
        return f'<ShortlistEntry {self.shortlist_id}#{self.rank}>'


class ShortlistNote(db.Model):
    """A note on a shortlist. Notes are append-only: the ORM refuses to change one."""

    __tablename__ = 'shortlist_notes'

    id: Mapped[int] = mapped_column(primary_key=True)
    shortlist_id: Mapped[int] = mapped_column(ForeignKey('shortlists.id', ondelete='CASCADE'), nullable=False,
                                              index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey('users.id'), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    shortlist = relationship('Shortlist', back_populates='notes')
    author = relationship('User')

    def __repr__(self) -> str:
        return f'<ShortlistNote {self.id} on {self.shortlist_id}>'


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change a row that may only ever be inserted."""


@event.listens_for(ShortlistNote, 'before_update')
@event.listens_for(ShortlistEntry, 'before_update')
def _refuse_update(_mapper, _connection, target) -> None:
    raise AppendOnlyError(f'{type(target).__name__} rows are append-only')
