"""Who may see which market figures.

- Commissioners see their own authority in detail (its figures, its flows, its sufficiency pack) and every other
  area only in aggregate: a region's or England's totals, never another authority's figures.
- The national board (assessors, board members) and admins see everything, every authority included.
- Providers and the public see none of it: prices by area would tell a provider what its competitors charge, and
  the demand log is for the authorities that placed and the board that oversees them.
"""

from __future__ import annotations

from registry.accounts.models import Role

MARKET_ROLES = (Role.COMMISSIONER, Role.ASSESSOR, Role.BOARD_MEMBER, Role.ADMIN)
BOARD_ROLES = frozenset({Role.ASSESSOR, Role.BOARD_MEMBER, Role.ADMIN})


def _signed_in(user) -> bool:
    return bool(getattr(user, 'is_authenticated', False))


def is_board(user) -> bool:
    return _signed_in(user) and user.role in BOARD_ROLES


def can_view_market(user) -> bool:
    """Commissioners with an authority, the board and admins."""
    if not _signed_in(user):
        return False
    return is_board(user) or (user.role == Role.COMMISSIONER and bool(user.authority_code))


def can_view_authority(user, authority_code: str) -> bool:
    """One authority's own figures: its commissioners and the board."""
    if not can_view_market(user):
        return False
    return is_board(user) or user.authority_code == authority_code


def can_compare_authorities(user) -> bool:
    """Tables with a line per authority (other authorities' figures side by side): the board only."""
    return is_board(user)
