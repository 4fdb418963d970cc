"""Role checks shared by every feature; object-level predicates live in each package's permissions.py."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, url_for
from flask_login import current_user

from registry.accounts.models import Role


def require(allowed: bool) -> None:
    """Answer 403 unless ``allowed``; views call this with an object-level predicate."""
    if not allowed:
        abort(403)


def roles_required(*roles: Role) -> Callable:
    """Decorator: the user must be signed in (401 → sign-in page) and hold one of ``roles``."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from registry.extensions import login_manager
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def is_board(user) -> bool:
    return user.is_authenticated and user.role in {Role.ASSESSOR, Role.BOARD_MEMBER, Role.ADMIN}


#: Navigation entries: (endpoint, text, roles that see it). Endpoints only, so the core imports no feature package.
NAVIGATION: list[tuple[str, str, frozenset[Role]]] = [
    ('organisations.list_organisations', 'Your organisations', frozenset({Role.PROVIDER})),
    ('qualification.index', 'Qualification', frozenset({Role.PROVIDER})),
    ('workspace.finder', 'Placement finder', frozenset({Role.COMMISSIONER})),
    ('workspace.list_shortlists', 'Shortlists', frozenset({Role.COMMISSIONER})),
    ('placements.list_referrals', 'Referrals', frozenset({Role.COMMISSIONER})),
    ('placements.inbox', 'Referrals', frozenset({Role.PROVIDER})),
    ('placements.list_placements', 'Placements', frozenset({Role.COMMISSIONER, Role.PROVIDER})),
    ('workspace.authority_view', 'Our authority', frozenset({Role.COMMISSIONER})),
    ('qualification.local_requirements', 'Local requirements', frozenset({Role.COMMISSIONER})),
    ('qualification.board_queue', 'Applications', frozenset({Role.ASSESSOR, Role.BOARD_MEMBER, Role.ADMIN})),
    ('qualification.board_qualifications', 'Qualifications', frozenset({Role.ASSESSOR, Role.BOARD_MEMBER,
                                                                         Role.ADMIN})),
    ('qualification.board_schemes', 'Schemes', frozenset({Role.ASSESSOR, Role.BOARD_MEMBER, Role.ADMIN})),
    ('search.commissioner_search', 'Search providers', frozenset({Role.COMMISSIONER, Role.ASSESSOR,
                                                                  Role.BOARD_MEMBER, Role.ADMIN})),
    ('ofsted.show_capacity', 'Capacity', frozenset({Role.COMMISSIONER, Role.ASSESSOR, Role.BOARD_MEMBER,
                                                    Role.ADMIN})),
    ('ofsted.list_reviews', 'Ofsted reviews', frozenset({Role.ASSESSOR, Role.BOARD_MEMBER, Role.ADMIN})),
    ('market.index', 'Market', frozenset({Role.COMMISSIONER, Role.ASSESSOR, Role.BOARD_MEMBER, Role.ADMIN})),
    ('admin.list_users', 'Users', frozenset({Role.ADMIN})),
]


def navigation_for(user) -> list[dict]:
    """Top navigation entries for a signed-in user."""
    return [{'href': url_for(endpoint), 'text': text} for endpoint, text, roles in NAVIGATION if user.role in roles]
