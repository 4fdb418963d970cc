"""The one place workflows move: a generic transition applied inside the caller's unit of work.

Each of the three machines in :mod:`qualification.states` has a thin wrapper here that says which time
to stamp, whom to email and whether the directory changes; :func:`_apply` does the rest identically.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, url_for

from notifications import standing
from qualification.applications import Application
from qualification.states import (
    APPLICATION_MACHINE,
    LOCAL_MACHINE,
    QUALIFICATION_MACHINE,
    SCHEME_MACHINE,
    ApplicationAction,
    ApplicationStatus,
    LocalApplicationAction,
    Machine,
    QualificationAction,
    SchemeVersionAction,
    TransitionRefused,
)
from registry.audit.services import record
from registry.db import utcnow
from registry.errors import InvalidTransition
from registry.indexing import enqueue_organisation
from registry.notifications.services import queue_email

#: The timestamp each application action stamps.
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
#: Emails to the provider; proposing and sending back are internal to the board, so they have none.
_SUBJECTS = {
    ApplicationAction.SUBMIT: 'Your application has been submitted',
    ApplicationAction.START_REVIEW: 'Your application is being reviewed',
    ApplicationAction.REQUEST_CLARIFICATION: 'The national board needs more information about your application',
    ApplicationAction.APPROVE: 'Your application has been approved',
    ApplicationAction.REJECT: 'Your application has not been approved',
    ApplicationAction.WITHDRAW: 'Your application has been withdrawn',
}
_QUALIFICATION_SUBJECTS = {
    QualificationAction.SUSPEND: 'Your qualification has been suspended',
    QualificationAction.REINSTATE: 'Your qualification has been reinstated',
    QualificationAction.REVOKE: 'Your qualification has been revoked',
    QualificationAction.EXPIRE: 'Your qualification has expired',
    QualificationAction.RENEW: 'Your qualification has been renewed',
}
_LOCAL_SUBJECTS = {
    LocalApplicationAction.SUBMIT: 'Your application to join a local list has been submitted',
    LocalApplicationAction.ACCEPT: 'You have been accepted onto a local list',
    LocalApplicationAction.DECLINE: 'Your application to join a local list has been declined',
    LocalApplicationAction.WITHDRAW: 'You have withdrawn from a local list',
}


def _apply(machine: Machine, obj, action, *, actor, reason: str, stamp: str | None = None,
           email: Callable[[object], tuple[str, str, dict] | None] | None = None,
           reindex_organisation_id: int | None = None, details: dict | None = None):
    """Check ``machine``'s table, set the status, stamp the time, audit, email and queue a reindex (no commit).

    :raises InvalidTransition: the table does not allow ``action`` from the object's current status.
    """
    try:
        action = machine.actions(action)
        before = machine.statuses(obj.status)
        after = machine.next_status(before, action)
    except (TransitionRefused, ValueError) as exc:
        raise InvalidTransition(str(exc)) from None
    obj.status = after
    if stamp:
        setattr(obj, stamp, utcnow())
    record(f'{machine.name}.{action.value}', obj, actor=actor, reason=reason,
           before={'status': before.value}, after={'status': after.value, **(details or {})})
    message = email(after) if email else None
    if message is not None:
        to_address, subject, context = message
        if to_address:
            queue_email(to_address, f'{machine.name.replace("_", "-")}-{action.value}', subject, reason=reason,
                        status=after, **context)
    if reindex_organisation_id is not None:
        enqueue_organisation(reindex_organisation_id, reason=f'{machine.name}.{action.value}')
    return after


def apply_transition(application: Application, action: ApplicationAction | str, *, actor,
                     reason: str = '', email_context: dict | None = None) -> ApplicationStatus:
    """Move ``application`` by ``action``: check the table, stamp the time, audit, notify and queue a reindex.

    Does not commit: the caller's :func:`registry.db.unit_of_work` does.

    :param email_context: more for the provider's email template (a decision's per-question ``feedback``).

    :raises InvalidTransition: when the transition table does not allow ``action`` from the current status.
    """
    try:
        action = ApplicationAction(action)
    except ValueError as exc:
        raise InvalidTransition(f'Unknown status or action: {exc}') from None

    def email(_after):
        organisation = application.organisation
        if action not in _SUBJECTS or organisation is None:
            return None
        return (organisation.contact_email, _SUBJECTS[action],
                {'application': application, 'organisation': organisation, 'link': _link(application),
                 **(email_context or {})})

    after = _apply(APPLICATION_MACHINE, application, action, actor=actor, reason=reason,
                   stamp=_TIMESTAMPS.get(action), email=email,
                   reindex_organisation_id=application.organisation_id if action in REINDEX_ACTIONS else None)
    application.status_reason = reason or ''
    return after


def apply_qualification_transition(qualification, action: QualificationAction | str, *, actor, reason: str = ''):
    """Move a qualification (suspend, reinstate, revoke, expire, renew); every move may change the directory.

    :raises InvalidTransition: the qualification table does not allow ``action`` from the current status.
    """
    def email(_after):
        organisation = qualification.organisation
        subject = _QUALIFICATION_SUBJECTS.get(QualificationAction(action))
        return (organisation.contact_email, subject, {'qualification': qualification, 'organisation': organisation})

    after = _apply(QUALIFICATION_MACHINE, qualification, action, actor=actor, reason=reason,
                   stamp='status_changed_at', email=email, reindex_organisation_id=qualification.organisation_id)
    qualification.status_reason = reason or ''
    # the provider's people, every authority that accepted it, and shortlists that held its settings
    standing.qualification_changed(qualification, QualificationAction(action).value, reason)
    return after


def apply_local_transition(local_application, action: LocalApplicationAction | str, *, actor, reason: str = ''):
    """Move a local application (submit, accept, decline, withdraw); decisions change the directory's local lists.

    :raises InvalidTransition: the local application table does not allow ``action`` from the current status.
    """
    try:
        act = LocalApplicationAction(action)
    except ValueError as exc:
        raise InvalidTransition(f'Unknown status or action: {exc}') from None
    stamps = {LocalApplicationAction.SUBMIT: 'submitted_at', LocalApplicationAction.ACCEPT: 'decided_at',
              LocalApplicationAction.DECLINE: 'decided_at', LocalApplicationAction.WITHDRAW: 'withdrawn_at'}

    def email(_after):
        organisation = local_application.organisation
        return (organisation.contact_email, _LOCAL_SUBJECTS[act],
                {'local_application': local_application, 'organisation': organisation,
                 'authority': local_application.authority})

    reindex = act in {LocalApplicationAction.ACCEPT, LocalApplicationAction.WITHDRAW}
    return _apply(LOCAL_MACHINE, local_application, act, actor=actor, reason=reason, stamp=stamps[act], email=email,
                  reindex_organisation_id=local_application.organisation_id if reindex else None)


def apply_scheme_transition(scheme_version, action: SchemeVersionAction | str, *, actor, reason: str = '',
                            effective_from=None):
    """Publish a scheme version: stamp who and when, and the day new applications start using it.

    :raises InvalidTransition: the scheme-version table does not allow ``action`` (a published version is final).
    """
    after = _apply(SCHEME_MACHINE, scheme_version, action, actor=actor, reason=reason, stamp='published_at',
                   details={'effective_from': effective_from, 'sha256': scheme_version.sha256})
    scheme_version.published_by_id = actor.id
    scheme_version.effective_from = effective_from
    return after


def _link(application: Application) -> str:
    """An absolute link to the application for emails (works outside a request too)."""
    base = current_app.config['SERVER_BASE_URL'].rstrip('/')
    try:
        return base + url_for('qualification.task_list', application_id=application.id, _external=False)
    except RuntimeError:
        return f'{base}/qualification/applications/{application.id}'
