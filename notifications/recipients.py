"""Who is told: the helpers producers combine into the recipients they pass to ``notify``.

Each returns active accounts only, in a stable order; ``notify`` removes duplicates, so callers simply add lists.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from registry.accounts.models import Role, User
from registry.extensions import db
from registry.organisations.models import Membership

#: The national board: the people who act on a provider's standing.
BOARD_ROLES = (Role.ASSESSOR, Role.BOARD_MEMBER)


def provider_members(organisation_id: int) -> list[User]:
    """Everyone who belongs to the provider organisation."""
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation_id, User.is_active_account.is_(True))
        .order_by(User.id)))


def commissioners_of(authority_codes: Iterable[str]) -> list[User]:
    """The commissioners of each authority given."""
    codes = sorted(set(authority_codes))
    if not codes:
        return []
    return list(db.session.scalars(
        select(User).where(User.role == Role.COMMISSIONER, User.authority_code.in_(codes),
                           User.is_active_account.is_(True)).order_by(User.id)))


def accepting_authority_codes(organisation_id: int, lot=None) -> list[str]:
    """Every authority that accepted the organisation onto its local list (for ``lot``, or any lot)."""
    from qualification.listing import accepted_authority_codes

    return accepted_authority_codes(organisation_id, lot)


def commissioners_who_accepted(organisation_id: int, lot=None) -> list[User]:
    """Commissioners of every authority that accepted the organisation (for ``lot``, or any lot)."""
    return commissioners_of(accepting_authority_codes(organisation_id, lot))


def board(roles: Iterable[Role] = BOARD_ROLES) -> list[User]:
    """National board staff (assessors and board members by default)."""
    return list(db.session.scalars(
        select(User).where(User.role.in_(list(roles)), User.is_active_account.is_(True)).order_by(User.id)))
