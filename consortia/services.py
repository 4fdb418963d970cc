"""Consortium workflow: create one, change its members, give and take away commissioners' roles. Each is one
audited unit of work; a change of members re-indexes every organisation the consortium accepted (so "accepted by my
authority" follows the membership at once) and the members' in-house services (partners see each other's)."""

from __future__ import annotations

from sqlalchemy import select

from consortia.models import Consortium, ConsortiumCommissioner, ConsortiumMember
from qualification.models import LocalApplication, LocalApplicationStatus
from registry.accounts.models import Role
from registry.audit.services import record
from registry.db import unit_of_work
from registry.errors import DomainError, PermissionDenied
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.indexing import enqueue_organisation, enqueue_settings

NAME_MAX = 120


def _require_admin(actor) -> None:
    if not (getattr(actor, 'is_authenticated', False) and actor.role == Role.ADMIN):
        raise PermissionDenied('Only an administrator can manage consortia')


def _clean_members(authority_codes) -> list[str]:
    codes = sorted({(code or '').strip().upper() for code in authority_codes if (code or '').strip()})
    if len(codes) < 2:
        raise DomainError('Choose at least two member authorities')
    known = set(db.session.scalars(select(LocalAuthority.code).where(LocalAuthority.code.in_(codes))))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise DomainError(f'Unknown local authority: {", ".join(unknown)}')
    return codes


def _clean_name(name: str, consortium: Consortium | None = None) -> str:
    name = ' '.join((name or '').split())
    if not name:
        raise DomainError('Enter the consortium name')
    if len(name) > NAME_MAX:
        raise DomainError(f'The name must be {NAME_MAX} characters or fewer')
    clash = db.session.scalar(select(Consortium.id).where(Consortium.name == name))
    if clash is not None and (consortium is None or clash != consortium.id):
        raise DomainError(f'There is already a consortium called {name}')
    return name


def _reindex_accepted(consortium_id: int, reason: str) -> None:
    """Queue a reindex of every organisation the consortium accepted (their entries' ``accepted_by`` changes)."""
    for organisation_id in sorted(set(db.session.scalars(select(LocalApplication.organisation_id).where(
            LocalApplication.consortium_id == consortium_id,
            LocalApplication.status == LocalApplicationStatus.ACCEPTED)))):
        enqueue_organisation(organisation_id, reason=reason)


def _reindex_in_house(authority_codes) -> None:
    """Queue the in-house services of these authorities: who shares a consortium with them decides who sees them."""
    from unlisted.models import UnlistedKind, UnlistedSetting
    from unlisted.services import UNLISTED_ID_OFFSET

    ids = db.session.scalars(select(UnlistedSetting.id).where(UnlistedSetting.kind == UnlistedKind.IN_HOUSE,
                                                              UnlistedSetting.owner_authority_code.in_(
                                                                  sorted(set(authority_codes)))))
    enqueue_settings([UNLISTED_ID_OFFSET + entry_id for entry_id in ids], reason='consortium.members')


def create_consortium(name: str, authority_codes, *, actor) -> Consortium:
    """Create a consortium of at least two of the 153 authorities.

    :raises PermissionDenied: the actor is not an administrator.
    :raises DomainError: the name is missing or taken, or the members are too few or unknown.
    """
    _require_admin(actor)
    name, codes = _clean_name(name), _clean_members(authority_codes)
    with unit_of_work():
        consortium = Consortium(name=name, members=[ConsortiumMember(authority_code=code) for code in codes])
        db.session.add(consortium)
        db.session.flush()
        record('consortium.create', consortium, actor=actor, after={'name': name, 'members': codes})
        _reindex_in_house(codes)
    return consortium


def update_consortium(consortium: Consortium, name: str, authority_codes, *, actor, reason: str = '') -> Consortium:
    """Rename a consortium and set its members; commissioners of authorities that leave lose their role.

    :raises PermissionDenied: the actor is not an administrator.
    :raises DomainError: as for :func:`create_consortium`.
    """
    _require_admin(actor)
    name, codes = _clean_name(name, consortium), _clean_members(authority_codes)
    before = {'name': consortium.name, 'members': consortium.authority_codes}
    with unit_of_work():
        consortium.name = name
        current = {member.authority_code: member for member in consortium.members}
        for code in set(current) - set(codes):
            consortium.members.remove(current[code])
        for code in sorted(set(codes) - set(current)):
            consortium.members.append(ConsortiumMember(authority_code=code))
        for role in list(consortium.commissioners):
            if role.user.authority_code not in codes:
                consortium.commissioners.remove(role)
        record('consortium.update', consortium, actor=actor, reason=reason, before=before,
               after={'name': name, 'members': codes})
        if set(codes) != set(current):
            _reindex_accepted(consortium.id, 'consortium.update')
            _reindex_in_house(set(codes) | set(current))
    return consortium


def grant_role(consortium: Consortium, user, *, actor) -> ConsortiumCommissioner:
    """Give a commissioner of a member authority a role in the consortium.

    :raises PermissionDenied: the actor is not an administrator.
    :raises DomainError: the user is not a commissioner of a member authority, or already has the role.
    """
    _require_admin(actor)
    if user.role != Role.COMMISSIONER or user.authority_code not in consortium.authority_codes:
        raise DomainError(f'Only commissioners of {consortium.name}\'s member authorities can have a role in it')
    if any(role.user_id == user.id for role in consortium.commissioners):
        raise DomainError(f'{user.full_name} already has a role in {consortium.name}')
    with unit_of_work():
        role = ConsortiumCommissioner(consortium=consortium, user_id=user.id, granted_by_id=actor.id)
        db.session.add(role)
        db.session.flush()
        record('consortium.grant_role', consortium, actor=actor, after={'user_id': user.id, 'email': user.email})
    return role


def invite_commissioner(consortium: Consortium, *, email: str, full_name: str, authority_code: str, actor):
    """Invite a new commissioner of a member authority through the usual staff invitation, with a role in the
    consortium from the start (their invitation email is the ordinary one).

    :raises PermissionDenied: the actor is not an administrator.
    :raises DomainError: the authority is not a member.
    :raises registry.accounts.services.AccountError: as for any staff invitation (bad or duplicate email, throttle).
    """
    from registry.accounts.services import invite_staff_user

    _require_admin(actor)
    if authority_code not in consortium.authority_codes:
        raise DomainError(f'Choose one of {consortium.name}\'s member authorities')
    user = invite_staff_user(email=email, full_name=full_name, role=Role.COMMISSIONER, authority_code=authority_code,
                             actor=actor)
    grant_role(consortium, user, actor=actor)
    return user


def revoke_role(consortium: Consortium, user, *, actor, reason: str = '') -> None:
    """Take a commissioner's consortium role away.

    :raises DomainError: the user has no role in the consortium.
    """
    _require_admin(actor)
    role = next((role for role in consortium.commissioners if role.user_id == user.id), None)
    if role is None:
        raise DomainError(f'{user.full_name} has no role in {consortium.name}')
    with unit_of_work():
        consortium.commissioners.remove(role)
        record('consortium.revoke_role', consortium, actor=actor, reason=reason,
               before={'user_id': user.id, 'email': user.email})


def all_consortia() -> list[Consortium]:
    return list(db.session.scalars(select(Consortium).order_by(Consortium.name)))


def consortia_of_authority(authority_code: str | None) -> list[Consortium]:
    if not authority_code:
        return []
    return list(db.session.scalars(select(Consortium).join(ConsortiumMember).where(
        ConsortiumMember.authority_code == authority_code).order_by(Consortium.name)))


def consortia_of_commissioner(user) -> list[Consortium]:
    """The consortia the user acts for (a role, while their authority is still a member)."""
    if not getattr(user, 'is_authenticated', False) or user.role != Role.COMMISSIONER:
        return []
    return [consortium for consortium in db.session.scalars(
        select(Consortium).join(ConsortiumCommissioner).where(ConsortiumCommissioner.user_id == user.id)
        .order_by(Consortium.name)) if user.authority_code in consortium.authority_codes]
