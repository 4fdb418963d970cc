"""The one function that moves an application between statuses, inside the caller's unit of work."""

from __future__ import annotations

from flask import current_app, url_for

from qualification.applications import Application
from qualification.states import ApplicationAction, ApplicationStatus, TransitionRefused, next_status
from registry.audit.services import record
from registry.db import utcnow
from registry.errors import InvalidTransition
from registry.indexing import enqueue_organisation
from registry.notifications.services import queue_email

#: The timestamp each action stamps.
_TIMESTAMPS = {
    ApplicationAction.SUBMIT: 'submitted_at',
    ApplicationAction.START_REVIEW: 'review_started_at',
    ApplicationAction.REQUEST_CLARIFICATION: 'clarification_requested_at',
    ApplicationAction.APPROVE: 'decided_at',
    ApplicationAction.REJECT: 'decided_at',
    ApplicationAction.WITHDRAW: 'withdrawn_at',
}
#: Actions after which the directory may change (qualifications are granted or an application closes).
REINDEX_ACTIONS = frozenset({ApplicationAction.APPROVE, ApplicationAction.REJECT, ApplicationAction.WITHDRAW})
_SUBJECTS = {
    ApplicationAction.SUBMIT: 'Your application has been submitted',
    ApplicationAction.START_REVIEW: 'Your application is being reviewed',
    ApplicationAction.REQUEST_CLARIFICATION: 'The national board needs more information about your application',
    ApplicationAction.APPROVE: 'Your application has been approved',
    ApplicationAction.REJECT: 'Your application has not been approved',
    ApplicationAction.WITHDRAW: 'Your application has been withdrawn',
}


def apply_transition(application: Application, action: ApplicationAction | str, *, actor,
                     reason: str = '') -> ApplicationStatus:
    """Move ``application`` by ``action``: check the table, stamp the time, audit, notify and queue a reindex.

    Does not commit: the caller's :func:`registry.db.unit_of_work` does.

    :raises InvalidTransition: when the transition table does not allow ``action`` from the current status.
    """
    try:
        action = ApplicationAction(action)
        before = ApplicationStatus(application.status)
        after = next_status(before, action)
    except (TransitionRefused, ValueError) as exc:
        raise InvalidTransition(str(exc)) from None
    now = utcnow()
    application.status = after
    setattr(application, _TIMESTAMPS[action], now)
    application.status_reason = reason or ''
    record(f'application.{action.value}', application, actor=actor, reason=reason,
           before={'status': before.value}, after={'status': after.value})
    organisation = application.organisation
    if organisation is not None and organisation.contact_email:
        queue_email(organisation.contact_email, f'application-{action.value}', _SUBJECTS[action],
                    application=application, organisation=organisation, reason=reason, status=after,
                    link=_link(application))
    if action in REINDEX_ACTIONS:
        enqueue_organisation(application.organisation_id, reason=f'application.{action.value}')
    return after


def _link(application: Application) -> str:
    """An absolute link to the application for emails (works outside a request too)."""
    base = current_app.config['SERVER_BASE_URL'].rstrip('/')
    try:
        return base + url_for('qualification.task_list', application_id=application.id, _external=False)
    except RuntimeError:
        return f'{base}/qualification/applications/{application.id}'
