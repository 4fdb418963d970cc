"""Accounts: registration, email verification, sign-in with throttling, password reset, TOTP."""

from flask import Blueprint

from registry.extensions import db, login_manager

bp = Blueprint('accounts', __name__, template_folder='templates')

login_manager.login_view = 'accounts.sign_in'
login_manager.login_message = 'Sign in to see this page'
# 'basic' rather than 'strong': sign-in starts a brand-new session and sessions carry the password's
# session_version, while pinning a session to IP and browser signs out people on mobile networks (and Flask-Login
# treats permanent sessions as 'basic' anyway).
login_manager.session_protection = 'basic'


@login_manager.user_loader
def load_user(session_id: str):
    """Load the user from ``"<id>:<session_version>"``; a stale version (password changed) signs them out."""
    from registry.accounts.models import User

    user_id, _, version = session_id.partition(':')
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or str(user.session_version) != version or not user.is_active:
        return None
    return user


from registry.accounts import views  # noqa: E402,F401
