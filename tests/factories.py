"""Test data factories. They go through the real services where those exist, so fixtures cannot build illegal states."""

from __future__ import annotations

import itertools

from registry.accounts.models import Role, User
from registry.db import utcnow
from registry.extensions import db

_counter = itertools.count(1)

#: Every factory-made user has this password.
PASSWORD = 'correct horse battery staple'


def make_user(role: Role = Role.PROVIDER, *, email: str | None = None, full_name: str | None = None,
              authority_code: str | None = None, verified: bool = True, totp_secret: str | None = None) -> User:
    """A user who can sign in with :data:`PASSWORD`. Commissioners default to Westminster."""
    from registry.accounts.passwords import hash_password

    n = next(_counter)
    if role == Role.COMMISSIONER and authority_code is None:
        authority_code = 'E09000033'
    user = User(
        email=email or f'user{n}@example.org',
        full_name=full_name or f'Test User {n}',
        password_hash=hash_password(PASSWORD),
        role=role,
        authority_code=authority_code,
        email_verified_at=utcnow() if verified else None,
        totp_secret=totp_secret,
    )
    db.session.add(user)
    db.session.commit()
    return user
