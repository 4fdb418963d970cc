"""Who may use the finder, and who may see and change a shortlist: commissioners, within their own authority."""

from __future__ import annotations

from registry.accounts.models import Role


def _commissioner(user) -> bool:
    return bool(getattr(user, 'is_authenticated', False) and user.role == Role.COMMISSIONER and user.authority_code)


def can_use_finder(user) -> bool:
    """Commissioners find placements; the board and admins may look at the finder too."""
    return bool(getattr(user, 'is_authenticated', False)) and user.role in {
        Role.COMMISSIONER, Role.ASSESSOR, Role.BOARD_MEMBER, Role.ADMIN}


def can_create_shortlist(user) -> bool:
    """A commissioner with an authority: the shortlist belongs to that authority."""
    return _commissioner(user)


def can_use_authority_view(user) -> bool:
    """Commissioners see their own authority's local list."""
    return _commissioner(user)


def can_view_shortlist(user, shortlist) -> bool:
    """The owner; or, once shared, any commissioner of the same authority. Never another authority."""
    if not _commissioner(user) or user.authority_code != shortlist.authority_code:
        return False
    return shortlist.owner_id == user.id or shortlist.is_shared


def can_add_note(user, shortlist) -> bool:
    """Anyone who can see the shortlist may add a note to it."""
    return can_view_shortlist(user, shortlist)


def can_share(user, shortlist) -> bool:
    """Only the owner shares or unshares a shortlist."""
    return can_view_shortlist(user, shortlist) and shortlist.owner_id == user.id


def can_remove_entry(user, shortlist) -> bool:
    """Only the owner takes settings off a shortlist (colleagues may see it, not cut it down)."""
    return can_share(user, shortlist)


def can_see_contacts(user) -> bool:
    """Settings' addresses, phone numbers and emails are for commissioners only (never public)."""
    return _commissioner(user)
