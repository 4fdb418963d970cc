"""Qualification lifecycle services: suspend, reinstate, revoke, and the daily expiry and review-reminder job."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from qualification import permissions
from qualification.models import Qualification, QualificationReminder, QualificationStatus
from qualification.states import QualificationAction
from qualification.workflow import apply_qualification_transition
from registry.db import unit_of_work, utcnow
from registry.errors import DomainError, PermissionDenied
from registry.extensions import db
from registry.notifications.services import queue_email

#: Days before expiry when the annual-review reminder goes out.
REMINDER_DAYS = (60, 30, 7)


def change_status(qualification: Qualification, action: QualificationAction | str, *, actor,
                  reason: str) -> Qualification:
    """Suspend, reinstate or revoke a qualification, with the reason the provider sees.

    :raises PermissionDenied: the actor is not a board member or administrator.
    :raises DomainError: no reason was given.
    :raises InvalidTransition: the move is not allowed from the qualification's status.
    """
    if not permissions.can_change_qualification(actor):
        raise PermissionDenied('Only board members can change a qualification')
    action = QualificationAction(action)
    if action not in {QualificationAction.SUSPEND, QualificationAction.REINSTATE, QualificationAction.REVOKE}:
        raise DomainError(f'You cannot {action.value} a qualification from this page')
    if not (reason or '').strip():
        raise DomainError(f'Enter the reason you want to {action.value} this qualification')
    with unit_of_work():
        apply_qualification_transition(qualification, action, actor=actor, reason=reason.strip())
    return qualification


def qualifications_of(organisation_id: int) -> list[Qualification]:
    return list(db.session.scalars(select(Qualification).where(Qualification.organisation_id == organisation_id)
                                   .order_by(Qualification.lot, Qualification.valid_from.desc())))


@dataclass
class ExpiryReport:
    """What one run of the job did."""

    expired: list[int] = field(default_factory=list)
    reminded: list[tuple[int, int]] = field(default_factory=list)


def expire_due(today: date | None = None) -> ExpiryReport:
    """Expire active qualifications past ``valid_to`` and send annual-review reminders, each at most once.

    Each qualification is its own transaction, so one failure does not undo the rest; running twice on the
    same day changes nothing the second time.
    """
    today = today or date.today()
    report = ExpiryReport()
    due = db.session.scalars(select(Qualification).where(Qualification.status == QualificationStatus.ACTIVE,
                                                         Qualification.valid_to < today)
                             .order_by(Qualification.id)).all()
    for qualification in due:
        with unit_of_work():
            apply_qualification_transition(qualification, QualificationAction.EXPIRE, actor=None,
                                           reason=f'Expired: valid until {qualification.valid_to.isoformat()}')
        report.expired.append(qualification.id)
    horizon = max(REMINDER_DAYS)
    upcoming = db.session.scalars(select(Qualification).where(Qualification.status == QualificationStatus.ACTIVE,
                                                              Qualification.valid_to >= today)
                                  .order_by(Qualification.id)).all()
    for qualification in upcoming:
        days_left = (qualification.valid_to - today).days
        if days_left > horizon:
            continue
        # the nearest threshold reached: a job that missed the 60-day run still sends only one reminder today
        threshold = min(days for days in REMINDER_DAYS if days_left <= days)
        already = db.session.scalar(select(QualificationReminder.id).where(
            QualificationReminder.qualification_id == qualification.id,
            QualificationReminder.valid_to == qualification.valid_to,
            QualificationReminder.days_before <= threshold).limit(1))
        if already is not None:
            continue
        with unit_of_work():
            db.session.add(QualificationReminder(qualification_id=qualification.id,
                                                 valid_to=qualification.valid_to, days_before=threshold,
                                                 sent_at=utcnow()))
            organisation = qualification.organisation
            if organisation.contact_email:
                queue_email(organisation.contact_email, 'qualification-reminder',
                            f'Your national qualification expires in {days_left} days',
                            qualification=qualification, organisation=organisation, days=days_left)
        report.reminded.append((qualification.id, threshold))
    return report
