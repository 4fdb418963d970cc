"""Users, roles and sign-in attempts."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import TimestampMixin, UTCDateTime, enum_column, utcnow
from registry.extensions import db


class Role(enum.StrEnum):
    """What a user is: it decides which parts of the service they reach."""

    PROVIDER = 'provider'
    COMMISSIONER = 'commissioner'
    ASSESSOR = 'assessor'
    BOARD_MEMBER = 'board-member'
    ADMIN = 'admin'

    @property
    def label(self) -> str:
        return {
            'provider': 'Provider',
            'commissioner': 'Commissioner',
            'assessor': 'Assessor (national board)',
            'board-member': 'Board member',
            'admin': 'Administrator',
        }[self.value]

    @property
    def needs_second_factor(self) -> bool:
        """Board and admin accounts must use a TOTP second factor."""
        return self in {Role.ASSESSOR, Role.BOARD_MEMBER, Role.ADMIN}

    @property
    def is_board(self) -> bool:
        return self in {Role.ASSESSOR, Role.BOARD_MEMBER}


class User(UserMixin, TimestampMixin, db.Model):
    """A person who signs in."""

    __tablename__ = 'users'

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-case; unique.
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    full_name: Mapped[str] = mapped_column(String(120), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[Role] = enum_column(Role, 'role', nullable=False, default=Role.PROVIDER)
    #: Commissioners are scoped to one authority.
    authority_code: Mapped[str | None] = mapped_column(ForeignKey('local_authorities.code'), index=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    #: Base32 TOTP secret once the user has set up a second factor.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    #: The last TOTP time-step accepted, so a code cannot be replayed.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    #: Consecutive wrong passwords (reset by a right one, and when the account locks).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Wrong security codes since ``totp_failures_since``: counted across sign-ins (a right password does not
    #: reset it), so codes cannot be guessed by signing in again and again.
    totp_failures: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    totp_failures_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Bumped on password change; part of the session id so old sessions stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    authority = relationship('LocalAuthority')
    memberships = relationship('Membership', back_populates='user', cascade='all, delete-orphan')

    def get_id(self) -> str:
        """Session id: the user id plus the session version, so a password change signs out everywhere."""
        return f'{self.id}:{self.session_version}'

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def has_second_factor(self) -> bool:
        return bool(self.totp_secret)

    def is_locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    def __repr__(self) -> str:
        return f'<User {self.id} {self.email} {self.role}>'


class LoginAttempt(db.Model):
    """A sign-in attempt, kept so that throttling works across processes and restarts."""

    __tablename__ = 'login_attempts'
    __table_args__ = (Index('ix_login_attempts_ip_at', 'ip_address', 'attempted_at'),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False, index=True)
    ip_address: Mapped[str] = mapped_column(String(45), nullable=False)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    succeeded: Mapped[bool] = mapped_column(Boolean, nullable=False)
