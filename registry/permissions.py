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


def navigation_for(user) -> list[dict]:
    """Top navigation entries for a signed-in user."""
    items: list[dict] = []
    if user.role == Role.PROVIDER:
        items.append({'href': url_for('organisations.list_organisations'), 'text': 'Your organisations'})
    if user.role == Role.COMMISSIONER:
        items.append({'href': url_for('workspace.finder'), 'text': 'Placement finder'})
        items.append({'href': url_for('workspace.list_shortlists'), 'text': 'Shortlists'})
        items.append({'href': url_for('workspace.authority_view'), 'text': 'Our authority'})
    if user.role == Role.ADMIN:
        items.append({'href': url_for('admin.list_users'), 'text': 'Users'})
    return items
