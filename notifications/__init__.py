"""In-service notifications: one service (:func:`notifications.services.notify`) for news about a provider's
standing and about referrals, with an in-service list, an unread count in the header and email through the
outbox, each or as a daily digest, as each person prefers.

Producers (qualification, workspace, consortia, placements) call :func:`notifications.services.notify` with
recipients from :mod:`notifications.recipients`; ``registry`` itself reaches it only through the signal in
:mod:`registry.notifications.signals`, so the core imports no feature package.
"""

from flask import Blueprint

bp = Blueprint('notifications', __name__, template_folder='templates', url_prefix='/notifications')


@bp.record_once
def _wire(state) -> None:
    """Digests go out with ``flask registry send-emails``; Ofsted changes announced by the core reach people."""
    from notifications import standing
    from notifications.services import send_digests, unread_count
    from registry.notifications.services import register_email_job
    from registry.permissions import register_navigation_badge

    register_email_job(state.app, 'daily digests', send_digests)
    register_navigation_badge(state.app, 'notifications.list_notifications', unread_count)
    standing.connect()


from notifications import views  # noqa: E402,F401
