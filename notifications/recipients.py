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


def consortium_commissioners(consortium_ids: Iterable[int]) -> list[User]:
    """Commissioners who hold a role in any of the consortia given (and whose authority is still a member)."""
    from consortia.models import ConsortiumCommissioner, ConsortiumMember

    ids = sorted(set(consortium_ids))
    if not ids:
        return []
    return list(db.session.scalars(
        select(User).join(ConsortiumCommissioner, ConsortiumCommissioner.user_id == User.id)
        .join(ConsortiumMember, (ConsortiumMember.consortium_id == ConsortiumCommissioner.consortium_id)
              & (ConsortiumMember.authority_code == User.authority_code))
        .where(ConsortiumCommissioner.consortium_id.in_(ids), User.role == Role.COMMISSIONER,
               User.is_active_account.is_(True)).distinct().order_by(User.id)))


def accepting_authority_codes(organisation_id: int, lot=None) -> list[str]:
    """Every authority that accepted the organisation onto its local list (for ``lot``, or any lot)."""
    from qualification.listing import accepted_authority_codes

    return accepted_authority_codes(organisation_id, lot)


def accepting_consortium_ids(organisation_id: int, lot=None) -> list[int]:
    """Every consortium that accepted the organisation onto its list (for ``lot``, or any lot)."""
    from qualification.models import LocalApplication, LocalApplicationStatus

    query = select(LocalApplication.consortium_id).where(
        LocalApplication.organisation_id == organisation_id, LocalApplication.consortium_id.is_not(None),
        LocalApplication.status == LocalApplicationStatus.ACCEPTED)
    if lot is not None:
        query = query.where(LocalApplication.lot == lot)
    return sorted(set(db.session.scalars(query)))


def commissioners_who_accepted(organisation_id: int, lot=None) -> list[User]:
    """Everyone acting for an authority or consortium that accepted the organisation (for ``lot``, or any lot):
    the commissioners of each accepting authority and of every member of an accepting consortium, and the
    commissioners holding that consortium's role; each person once."""
    people = {user.id: user for user in commissioners_of(accepting_authority_codes(organisation_id, lot))}
    for user in consortium_commissioners(accepting_consortium_ids(organisation_id, lot)):
        people.setdefault(user.id, user)
    return [people[user_id] for user_id in sorted(people)]


def board(roles: Iterable[Role] = BOARD_ROLES) -> list[User]:
    """National board staff (assessors and board members by default)."""
    return list(db.session.scalars(
        select(User).where(User.role.in_(list(roles)), User.is_active_account.is_(True)).order_by(User.id)))
