"""Role checks shared by every feature; object-level predicates live in each package's permissions.py."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, url_for
from flask_login import current_user
from markupsafe import Markup, escape

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
    ('attention.index', 'Your tasks', frozenset(Role)),
    ('organisations.list_organisations', 'Your organisations', frozenset({Role.PROVIDER})),
    ('qualification.index', 'Qualification', frozenset({Role.PROVIDER})),
    ('workspace.finder', 'Placement finder', frozenset({Role.COMMISSIONER})),
    ('workspace.list_shortlists', 'Shortlists', frozenset({Role.COMMISSIONER})),
    ('placements.list_referrals', 'Referrals', frozenset({Role.COMMISSIONER})),
    ('placements.inbox', 'Referrals', frozenset({Role.PROVIDER})),
    ('placements.list_placements', 'Placements', frozenset({Role.COMMISSIONER, Role.PROVIDER})),
    ('workspace.authority_view', 'Our authority', frozenset({Role.COMMISSIONER})),
    ('qualification.local_requirements', 'Local requirements', frozenset({Role.COMMISSIONER})),
    ('unlisted.in_house', 'In-house services', frozenset({Role.COMMISSIONER})),
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
    ('notifications.list_notifications', 'Notifications', frozenset(Role)),
    ('consortia.list_consortia', 'Consortia', frozenset({Role.ADMIN})),
]


def register_navigation_badge(app, endpoint: str, count: Callable) -> None:
    """Show ``count(user)`` beside a navigation entry when it is above 0 (the unread notifications, say)."""
    app.extensions.setdefault('navigation_badges', {})[endpoint] = count


def navigation_for(user) -> list[dict]:
    """Top navigation entries for a signed-in user."""
    badges = current_app.extensions.get('navigation_badges', {})
    items = []
    for endpoint, text, roles in NAVIGATION:
        if user.role not in roles or endpoint not in current_app.view_functions:
            continue
        count = badges[endpoint](user) if endpoint in badges else 0
        if count:
            items.append({'href': url_for(endpoint), 'html': Markup(
                f'{escape(text)} <strong class="govuk-tag govuk-tag--red app-count">{count}'
                '<span class="govuk-visually-hidden"> unread</span></strong>')})
        else:
            items.append({'href': url_for(endpoint), 'text': text})
    return items
