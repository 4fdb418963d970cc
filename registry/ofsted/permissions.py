"""Who may see the capacity picture and the register checks."""

from __future__ import annotations

from registry.accounts.models import Role

#: Commissioners plan placements with it; the board and admins oversee the market.
CAPACITY_ROLES = (Role.COMMISSIONER, Role.ASSESSOR, Role.BOARD_MEMBER, Role.ADMIN)
#: Register mismatches name providers' settings, so they are for the board (and admins) only.
VERIFICATION_ROLES = (Role.ASSESSOR, Role.BOARD_MEMBER, Role.ADMIN)


def can_view_capacity(user) -> bool:
    """Commissioners, the board and admins see registered and listed capacity."""
    return bool(user.is_authenticated and user.role in CAPACITY_ROLES)


def can_view_verification(user) -> bool:
    """The board and admins see every setting whose URN does not match Ofsted's register."""
    return bool(user.is_authenticated and user.role in VERIFICATION_ROLES)


#: Who may see the review queue (settings an import delisted) and who records outcomes.
REVIEW_VIEW_ROLES = VERIFICATION_ROLES
REVIEW_DECIDE_ROLES = (Role.BOARD_MEMBER,)


def can_view_reviews(user) -> bool:
    """The board and admins see the settings Ofsted's register took out of the directory."""
    return bool(user.is_authenticated and user.role in REVIEW_VIEW_ROLES)


def can_resolve_review(user) -> bool:
    """Only board members record an outcome: it is a decision about a provider's listing."""
    return bool(user.is_authenticated and user.role in REVIEW_DECIDE_ROLES)
