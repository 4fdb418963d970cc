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


def register_with_ofsted(setting, *, urn: str | None = None):
    """Put the setting in Ofsted's register as an active registration of its type in its postcode's authority.

    Ofsted is the gate for listing (``qualification.listing``): a children's home, fostering agency or family
    centre is listed only while its URN is verified against the register, so factories that expect a listed
    setting call this. A setting without a URN is given one. Types Ofsted does not register are left alone.
    """
    from registry.ofsted.importer import row_hash
    from registry.ofsted.models import OfstedRegisterEntry
    from registry.settings.taxonomy import RegistrationStatus

    info = setting.provision_type.info
    if not info.ofsted_registered:
        return None
    if setting.id is None:
        db.session.flush()
    if urn or not setting.urn:
        setting.urn = urn or f'SC{700000 + setting.id:06d}'
    entry = db.session.get(OfstedRegisterEntry, setting.urn)
    if entry is None:
        values = {'urn': setting.urn, 'provision_type_text': info.ofsted_names[0] if info.ofsted_names else info.label,
                  'provision_type': setting.provision_type, 'registration_status': RegistrationStatus.ACTIVE,
                  'authority_code': setting.authority_code, 'places': setting.places}
        entry = OfstedRegisterEntry(**values, name='REDACTED' if info.confidential_address else setting.name,
                                    local_authority_name=setting.authority_code, row_hash=row_hash(values))
        db.session.add(entry)
    db.session.flush()
    return entry
