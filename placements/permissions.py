"""Who may see and act on referrals and placements.

A referral is seen only by commissioners of the referring (home) authority and by members of the provider
organisations it approached, and a provider sees only its own settings' responses. Everyone else (another
authority, another provider, the national board, anonymous visitors) is refused.
"""

from __future__ import annotations

from flask import g
from sqlalchemy import select

from registry.accounts.models import Role
from registry.extensions import db
from registry.organisations.models import Membership


def _signed_in(user) -> bool:
    return bool(getattr(user, 'is_authenticated', False))


def is_commissioner(user) -> bool:
    return _signed_in(user) and user.role == Role.COMMISSIONER and bool(user.authority_code)


def is_provider(user) -> bool:
    return _signed_in(user) and user.role == Role.PROVIDER


def organisation_ids(user) -> frozenset[int]:
    """The organisations a provider belongs to (cached for the request)."""
    if not is_provider(user):
        return frozenset()
    cache = g.setdefault('_placements_orgs', {}) if _has_g() else {}
    if user.id not in cache:
        cache[user.id] = frozenset(db.session.scalars(
            select(Membership.organisation_id).where(Membership.user_id == user.id)))
    return cache[user.id]


def _has_g() -> bool:
    from flask import has_app_context

    return has_app_context()


def can_refer(user) -> bool:
    """Commissioners refer, for their own authority."""
    return is_commissioner(user)


def is_referring_commissioner(user, referral) -> bool:
    return is_commissioner(user) and user.authority_code == referral.authority_code


def can_respond(user, response) -> bool:
    """Members of the provider organisation the setting belongs to."""
    return response.organisation_id is not None and response.organisation_id in organisation_ids(user)


def can_view_referral(user, referral) -> bool:
    """The referring authority's commissioners, and the providers it approached."""
    if is_referring_commissioner(user, referral):
        return True
    mine = organisation_ids(user)
    return bool(mine) and any(response.organisation_id in mine for response in referral.responses)


def can_view_placement(user, placement) -> bool:
    """The home authority, the host authority (placements into its area) and the provider."""
    if is_commissioner(user):
        return user.authority_code in {placement.home_authority_code, placement.host_authority_code}
    return placement.organisation_id is not None and placement.organisation_id in organisation_ids(user)


def can_see_referral_of(user, placement) -> bool:
    """Only the home authority follows a placement back to its referral (the host sees no child details)."""
    return is_commissioner(user) and user.authority_code == placement.home_authority_code


def can_end_placement(user, placement) -> bool:
    """The home authority records the end of a placement."""
    return is_commissioner(user) and user.authority_code == placement.home_authority_code
