"""What needs each person's attention: read-only queries over the other packages, one function per role."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from notifications import services as notifications
from qualification.applications import Application
from qualification.board import submitted_values
from qualification.models import LocalApplication, LocalApplicationStatus, Qualification, QualificationStatus
from qualification.review import Review
from qualification.services import scheme_for
from qualification.states import OPEN_STATUSES, ApplicationStatus
from registry.accounts.models import Role, User
from registry.db import utcnow
from registry.extensions import db
from registry.organisations.models import Membership, Organisation
from registry.settings.models import Setting
from workspace.finder import STALE_AFTER_DAYS
from workspace.services import visible_shortlists

#: Qualifications, cover and certificates expiring within this many days are listed.
EXPIRY_WARNING_DAYS = 60
#: Staff roles an administrator invites.
STAFF_ROLES = (Role.COMMISSIONER, Role.ASSESSOR, Role.BOARD_MEMBER, Role.ADMIN)
#: What a provider does next, by application status.
NEXT_STEPS = {
    ApplicationStatus.DRAFT: 'Finish your answers and submit the application',
    ApplicationStatus.SUBMITTED: 'Nothing to do: waiting for the national board to start the review',
    ApplicationStatus.IN_REVIEW: 'Nothing to do: the national board is reviewing it',
    ApplicationStatus.CLARIFICATION_REQUESTED: "Answer the board's questions and submit again",
    ApplicationStatus.DECISION_PROPOSED: 'Nothing to do: a decision is being signed off',
}


@dataclass
class Expiring:
    """Something that runs out: a qualification, or cover the provider told us the expiry date of."""

    organisation: Organisation
    what: str
    on: date


@dataclass
class Attention:
    """Everything the page shows; sections without items are left out."""

    role: Role
    notifications: list = field(default_factory=list)
    unread: int = 0
    applications: list = field(default_factory=list)
    clarifications: list = field(default_factory=list)
    expiring: list[Expiring] = field(default_factory=list)
    vacancies_to_confirm: list[Setting] = field(default_factory=list)
    pending_local: list[LocalApplication] = field(default_factory=list)
    shortlists: list = field(default_factory=list)
    assigned: list = field(default_factory=list)
    sign_offs: list = field(default_factory=list)
    review_queue: list = field(default_factory=list)
    invitations: list[User] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any((self.notifications, self.applications, self.clarifications, self.expiring,
                        self.vacancies_to_confirm, self.pending_local, self.shortlists, self.assigned,
                        self.sign_offs, self.review_queue, self.invitations))


def attention_for(user, today: date | None = None) -> Attention:
    """What needs ``user``'s attention now, according to their role."""
    today = today or date.today()
    unread, _total = notifications.notifications_for(user, unread_only=True)
    attention = Attention(role=Role(user.role), notifications=unread[:5], unread=notifications.unread_count(user))
    if user.role == Role.PROVIDER:
        _provider(attention, user, today)
    elif user.role == Role.COMMISSIONER:
        _commissioner(attention, user)
    elif user.role in (Role.ASSESSOR, Role.BOARD_MEMBER):
        _board(attention, user)
    elif user.role == Role.ADMIN:
        _board(attention, user)
        attention.invitations = list(db.session.scalars(
            select(User).where(User.role.in_(STAFF_ROLES), User.email_verified_at.is_(None),
                               User.is_active_account.is_(True)).order_by(User.created_at)))
    return attention


def _provider(attention: Attention, user, today: date) -> None:
    organisation_ids = list(db.session.scalars(select(Membership.organisation_id)
                                               .where(Membership.user_id == user.id)))
    if not organisation_ids:
        return
    applications = db.session.scalars(
        select(Application).where(Application.organisation_id.in_(organisation_ids),
                                  Application.status.in_(list(OPEN_STATUSES)))
        .options(selectinload(Application.organisation)).order_by(Application.created_at)).all()
    attention.applications = [(application, NEXT_STEPS[ApplicationStatus(application.status)])
                              for application in applications]
    attention.clarifications = [application for application in applications
                                if application.status == ApplicationStatus.CLARIFICATION_REQUESTED]
    horizon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    for qualification in db.session.scalars(
            select(Qualification).where(Qualification.organisation_id.in_(organisation_ids),
                                        Qualification.status == QualificationStatus.ACTIVE,
                                        Qualification.valid_to <= horizon).order_by(Qualification.valid_to)):
        attention.expiring.append(Expiring(qualification.organisation,
                                           f'National qualification for {qualification.lot_label}',
                                           qualification.valid_to))
    attention.expiring += _expiring_cover(organisation_ids, horizon)
    attention.expiring.sort(key=lambda item: item.on)
    stale_before = utcnow() - timedelta(days=STALE_AFTER_DAYS)
    attention.vacancies_to_confirm = list(db.session.scalars(
        select(Setting).where(Setting.organisation_id.in_(organisation_ids), Setting.suspended_at.is_(None),
                              (Setting.vacancies_confirmed_at.is_(None))
                              | (Setting.vacancies_confirmed_at < stale_before))
        .order_by(Setting.vacancies_confirmed_at.is_not(None), Setting.vacancies_confirmed_at, Setting.name)))


def _expiring_cover(organisation_ids: list[int], horizon: date) -> list[Expiring]:
    """Expiry dates the provider gave in its latest approved application (insurance cover and the like)."""
    found = []
    approved = db.session.scalars(
        select(Application).where(Application.organisation_id.in_(organisation_ids),
                                  Application.status == ApplicationStatus.APPROVED)
        .order_by(Application.organisation_id, Application.decided_at.desc())).all()
    seen: set[int] = set()
    for application in approved:
        if application.organisation_id in seen:
            continue
        seen.add(application.organisation_id)
        questions = scheme_for(application).questions
        for question_id, value in (submitted_values(application) or {}).items():
            question = questions.get(question_id)
            if question is None or question.type != 'date' or not question_id.endswith('-expiry'):
                continue
            try:
                on = date.fromisoformat(value)
            except (TypeError, ValueError):
                continue
            if on <= horizon:
                found.append(Expiring(application.organisation, question.label.removeprefix('When does ')
                                      .removesuffix(' expire?').capitalize(), on))
    return found


def _commissioner(attention: Attention, user) -> None:
    if not user.authority_code:
        return
    attention.pending_local = list(db.session.scalars(
        select(LocalApplication).where(LocalApplication.authority_code == user.authority_code,
                                       LocalApplication.status == LocalApplicationStatus.SUBMITTED)
        .options(selectinload(LocalApplication.organisation))
        .order_by(LocalApplication.submitted_at, LocalApplication.id)))
    mine, shared = visible_shortlists(user)
    attention.shortlists = sorted(mine + shared, key=lambda item: item.created_at, reverse=True)[:5]


def _board(attention: Attention, user) -> None:
    rows = db.session.execute(
        select(Application, Review).outerjoin(Review, Review.application_id == Application.id)
        .where(Application.status.in_([ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW,
                                       ApplicationStatus.CLARIFICATION_REQUESTED,
                                       ApplicationStatus.DECISION_PROPOSED]))
        .options(selectinload(Application.organisation)).order_by(Application.submitted_at)).all()
    for application, review in rows:
        status = ApplicationStatus(application.status)
        if review is not None and review.assessor_id == user.id and status != ApplicationStatus.DECISION_PROPOSED:
            attention.assigned.append(application)
        if status == ApplicationStatus.DECISION_PROPOSED and user.role != Role.ASSESSOR \
                and (review is None or review.proposed_by_id != user.id):
            attention.sign_offs.append(application)
        if status == ApplicationStatus.SUBMITTED and (review is None or review.assessor_id is None):
            attention.review_queue.append(application)
