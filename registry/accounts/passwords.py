"""Memory-hard password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context


def _hasher() -> PasswordHasher:
    if not has_app_context():
        return PasswordHasher()
    config = current_app.config
    return PasswordHasher(time_cost=config['PASSWORD_HASH_TIME_COST'], memory_cost=config['PASSWORD_HASH_MEMORY_KIB'],
                          parallelism=config['PASSWORD_HASH_PARALLELISM'])


def hash_password(password: str) -> str:
    """Hash a password with argon2id and the configured cost."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Check a password against its hash; False for a mismatch or an unusable hash."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash was made with weaker parameters than configured now."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return False
