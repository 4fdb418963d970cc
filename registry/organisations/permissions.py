"""Who may see and change an organisation, its colleagues and its settings."""

from __future__ import annotations

from registry.accounts.models import Role
from registry.extensions import db
from registry.organisations.models import MemberRole, Membership, Organisation

#: The national board and administrators may read any organisation, never change it here.
READ_ONLY_ROLES = {Role.ASSESSOR, Role.BOARD_MEMBER, Role.ADMIN}


def membership_of(user, organisation: Organisation) -> Membership | None:
    """The user's membership of ``organisation``, or None."""
    if not getattr(user, 'is_authenticated', False) or user.role != Role.PROVIDER or organisation.id is None:
        return None
    return db.session.scalar(db.select(Membership).where(Membership.user_id == user.id,
                                                          Membership.organisation_id == organisation.id))


def can_create_organisation(user) -> bool:
    """Only providers register organisations."""
    return getattr(user, 'is_authenticated', False) and user.role == Role.PROVIDER


def can_view_organisation(user, organisation: Organisation) -> bool:
    """Members, and the board and admins (read-only)."""
    if not getattr(user, 'is_authenticated', False):
        return False
    return user.role in READ_ONLY_ROLES or membership_of(user, organisation) is not None


def can_edit_organisation(user, organisation: Organisation) -> bool:
    """Any member may change the organisation's details and settings."""
    return membership_of(user, organisation) is not None


def can_manage_members(user, organisation: Organisation) -> bool:
    """Only owners invite, remove and change the roles of colleagues."""
    membership = membership_of(user, organisation)
    return membership is not None and membership.role == MemberRole.OWNER
