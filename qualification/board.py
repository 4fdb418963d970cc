"""Board review services: assign, mark questions, ask for clarification, propose a decision, sign it off.

Each verb is one transaction. The decision verbs claim the application with a compare-and-set UPDATE on its
status (portable across SQLite and PostgreSQL), so two board members acting at once leave exactly one decision.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from flask import current_app, url_for
from sqlalchemy import delete, select, update

from qualification import permissions
from qualification.applications import Application
from qualification.models import Qualification, QualificationStatus
from qualification.review import ClarificationRequest, LotDecision, QuestionReview, Review
from qualification.states import (
    APPLICATION_MACHINE,
    ApplicationAction,
    ApplicationStatus,
    QualificationAction,
    TransitionRefused,
)
from qualification.workflow import apply_qualification_transition, apply_transition
from registry.accounts.models import Role, User
from registry.audit.services import record
from registry.db import unit_of_work, utcnow
from registry.errors import DomainError, InvalidTransition, PermissionDenied
from registry.extensions import db
from registry.notifications.services import queue_email
from registry.settings.taxonomy import Lot

ALREADY_DECIDED = 'This application has already been decided'


# --- reading -------------------------------------------------------------------------------------------------------

def review_of(application: Application) -> Review | None:
    return db.session.scalar(select(Review).where(Review.application_id == application.id))


def question_reviews(application: Application) -> dict[str, QuestionReview]:
    """question id -> the assessor's outcome and comment."""
    rows = db.session.scalars(select(QuestionReview).where(QuestionReview.application_id == application.id))
    return {row.question_id: row for row in rows}


def lot_decisions(application: Application) -> list[LotDecision]:
    return list(db.session.scalars(select(LotDecision).where(LotDecision.application_id == application.id)
                                   .order_by(LotDecision.lot)))


def open_clarification(application: Application) -> ClarificationRequest | None:
    """The clarification round the provider is answering, if the application is waiting for one."""
    if application.status != ApplicationStatus.CLARIFICATION_REQUESTED:
        return None
    return db.session.scalar(select(ClarificationRequest).where(
        ClarificationRequest.application_id == application.id, ClarificationRequest.answered_at.is_(None))
        .order_by(ClarificationRequest.id.desc()).limit(1))


def flagged_question_ids(application: Application) -> set[str] | None:
    """Questions the provider may change during clarification, or None when the application is not in clarification."""
    request = open_clarification(application)
    return set(request.questions) if request is not None else None


def assessors() -> list[User]:
    """Board users who can be assigned an application."""
    return list(db.session.scalars(select(User).where(User.role.in_([Role.ASSESSOR, Role.BOARD_MEMBER]))
                                   .order_by(User.full_name)))


def automatic_marks(application: Application) -> dict[str, str]:
    """question id -> the outcome the automatic rules recorded at submission (pass, fail or assessor)."""
    snapshot = application.snapshot or {}
    marks = dict(snapshot.get('outcomes') or {})
    for answer in application.answers:
        if answer.outcome:
            marks[answer.question_id] = answer.outcome
    return marks


# --- helpers -------------------------------------------------------------------------------------------------------

def _review_for_update(application: Application) -> Review:
    review = review_of(application)
    if review is None:
        review = Review(application_id=application.id)
        db.session.add(review)
        db.session.flush()
    return review


def _check_table(application: Application, action: ApplicationAction) -> ApplicationStatus:
    try:
        return APPLICATION_MACHINE.next_status(application.status, action)
    except TransitionRefused as exc:
        raise InvalidTransition(str(exc)) from None


def _claim(application: Application, action: ApplicationAction) -> None:
    """Compare-and-set the status first thing in the transaction: only one concurrent decision can win.

    The in-memory status may be stale (another board member decided since the page loaded): the conditional
    UPDATE then matches no row and the loser is told the application has already been decided.
    """
    expected = ApplicationStatus(application.status)
    new = _check_table(application, action)
    result = db.session.execute(
        update(Application).where(Application.id == application.id, Application.status == expected)
        .values(status=new).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise InvalidTransition(ALREADY_DECIDED)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the last day of the month when that day does not exist)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _board_link(application: Application) -> str:
    base = current_app.config['SERVER_BASE_URL'].rstrip('/')
    try:
        return base + url_for('qualification.board_application', application_id=application.id)
    except RuntimeError:
        return f'{base}/qualification/board/applications/{application.id}'


# --- verbs ---------------------------------------------------------------------------------------------------------

def assign(application: Application, assessor: User, *, actor) -> Review:
    """Assign an assessor; a submitted application moves into review at the same time.

    :raises PermissionDenied: the actor may not assign, or ``assessor`` is not on the board.
    """
    review = review_of(application)
    if not permissions.can_assign(actor, review, assessor):
        raise PermissionDenied('You cannot assign this application')
    if assessor.role not in {Role.ASSESSOR, Role.BOARD_MEMBER}:
        raise PermissionDenied('Applications can only be assigned to assessors and board members')
    if application.status not in {ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW,
                                  ApplicationStatus.CLARIFICATION_REQUESTED}:
        raise InvalidTransition(f'You cannot assign an application that is {application.status.label.lower()}')
    with unit_of_work():
        review = _review_for_update(application)
        before = review.assessor_id
        review.assessor_id, review.assigned_at = assessor.id, utcnow()
        record('application.assign', application, actor=actor, before={'assessor_id': before},
               after={'assessor_id': assessor.id})
        if application.status == ApplicationStatus.SUBMITTED:
            apply_transition(application, ApplicationAction.START_REVIEW, actor=actor)
        queue_email(assessor.email, 'application-assigned', f'Application QA-{application.id} is assigned to you',
                    application=application, link=_board_link(application))
    return review


def start_review(application: Application, *, actor) -> Application:
    """Start reviewing a (re)submitted application.

    :raises PermissionDenied: the actor is not the assessor or a board member.
    :raises InvalidTransition: the application is not submitted.
    """
    if not permissions.can_assess(actor, review_of(application)):
        raise PermissionDenied('Only the assigned assessor or a board member can review this application')
    with unit_of_work():
        apply_transition(application, ApplicationAction.START_REVIEW, actor=actor)
    return application


def save_marks(application: Application, marks: dict[str, tuple[str, str]], *, actor) -> None:
    """Record outcomes (pass, fail, clarify) and comments for some questions.

    :param marks: question id -> (outcome, comment).
    :raises PermissionDenied: the actor is not the assessor or a board member.
    :raises InvalidTransition: the application is not in review.
    :raises DomainError: an outcome is unknown, or a fail or clarify has no comment.
    """
    if not permissions.can_assess(actor, review_of(application)):
        raise PermissionDenied('Only the assigned assessor or a board member can review this application')
    if application.status != ApplicationStatus.IN_REVIEW:
        raise InvalidTransition(f'You can only mark questions while the application is in review; it is '
                                f'{application.status.label.lower()}')
    for question_id, (outcome, comment) in marks.items():
        if outcome not in {'pass', 'fail', 'clarify'}:
            raise DomainError(f'{question_id}: choose pass, fail or ask for clarification')
        if outcome in {'fail', 'clarify'} and not (comment or '').strip():
            raise DomainError(f'{question_id}: explain why in a comment')
    existing = question_reviews(application)
    with unit_of_work():
        before, after = {}, {}
        now = utcnow()
        for question_id, (outcome, comment) in marks.items():
            row = existing.get(question_id)
            comment = (comment or '').strip()
            if row is None:
                row = QuestionReview(application_id=application.id, question_id=question_id, outcome=outcome,
                                     comment=comment, reviewer_id=actor.id, updated_at=now)
                db.session.add(row)
                before[question_id], after[question_id] = None, outcome
            elif (row.outcome, row.comment) != (outcome, comment):
                before[question_id], after[question_id] = row.outcome, outcome
                row.outcome, row.comment, row.reviewer_id, row.updated_at = outcome, comment, actor.id, now
        if after:
            record('application.mark', application, actor=actor, before=before, after=after)


def request_clarification(application: Application, message: str, *, actor) -> ClarificationRequest:
    """Send the questions marked "clarify" back to the provider, who may then change only those.

    :raises DomainError: no question is marked "clarify".
    :raises InvalidTransition: the application is not in review.
    """
    if not permissions.can_assess(actor, review_of(application)):
        raise PermissionDenied('Only the assigned assessor or a board member can review this application')
    flagged = {question_id: row.comment for question_id, row in question_reviews(application).items()
               if row.outcome == 'clarify'}
    _check_table(application, ApplicationAction.REQUEST_CLARIFICATION)
    if not flagged:
        raise DomainError('Mark at least one question "Ask for clarification" before you send the request')
    with unit_of_work():
        request = ClarificationRequest(application_id=application.id, questions=flagged, message=message or '',
                                       requested_by_id=actor.id, requested_at=utcnow())
        db.session.add(request)
        reason = (message or '').strip() or 'Please answer the questions the national board has marked.'
        apply_transition(application, ApplicationAction.REQUEST_CLARIFICATION, actor=actor, reason=reason)
    return request


def mark_clarification_answered(application: Application) -> None:
    """Close the open clarification round (called inside the resubmission's unit of work)."""
    request = open_clarification(application)
    if request is not None:
        request.answered_at = utcnow()
        # the board re-marks the answers it asked about
        db.session.execute(delete(QuestionReview).where(QuestionReview.application_id == application.id,
                                                        QuestionReview.question_id.in_(list(request.questions))))


def propose_decision(application: Application, decisions: dict[str, tuple[str, str]], *, actor) -> list[LotDecision]:
    """Propose approve or reject for every lot applied for, with reasons the provider will see.

    :param decisions: lot id -> (``approve`` | ``reject``, reasons).
    :raises InvalidTransition: the application is not in review, or another board member decided first.
    :raises DomainError: a lot is missing, unknown, or has no reasons.
    """
    if not permissions.can_assess(actor, review_of(application)):
        raise PermissionDenied('Only the assigned assessor or a board member can propose a decision')
    _check_table(application, ApplicationAction.PROPOSE_DECISION)
    lots = list(application.lots)
    if set(decisions) != set(lots):
        raise DomainError('Propose an outcome for every lot applied for')
    for lot, (outcome, reasons) in decisions.items():
        if outcome not in {'approve', 'reject'}:
            raise DomainError(f'{Lot(lot).label}: choose approve or reject')
        if not (reasons or '').strip():
            raise DomainError(f'{Lot(lot).label}: give the reasons the provider will see')
    with unit_of_work():
        _claim(application, ApplicationAction.PROPOSE_DECISION)
        review = _review_for_update(application)
        now = utcnow()
        db.session.execute(delete(LotDecision).where(LotDecision.application_id == application.id))
        rows = [LotDecision(application_id=application.id, lot=lot, outcome=decisions[lot][0],
                            reasons=decisions[lot][1].strip(), proposed_by_id=actor.id, proposed_at=now)
                for lot in lots]
        db.session.add_all(rows)
        review.proposed_by_id, review.proposed_at = actor.id, now
        review.signed_off_by_id = review.signed_off_at = None
        summary = '; '.join(f'{Lot(lot).label}: {decisions[lot][0]}' for lot in lots)
        apply_transition(application, ApplicationAction.PROPOSE_DECISION, actor=actor, reason=summary)
    return rows


def sign_off(application: Application, *, actor, comment: str = '') -> list[Qualification]:
    """A second board member confirms the proposed decision: approved lots become qualifications.

    :raises PermissionDenied: the actor proposed the decision, is the assessor, or is not a board member.
    :raises InvalidTransition: no decision is waiting, or another board member signed off first.
    """
    review = review_of(application)
    refusal = permissions.sign_off_refusal(actor, review)
    if refusal:
        raise PermissionDenied(refusal)
    decisions = lot_decisions(application)
    approved = [row for row in decisions if row.outcome == 'approve']
    action = ApplicationAction.APPROVE if approved else ApplicationAction.REJECT
    _check_table(application, action)
    granted: list[Qualification] = []
    with unit_of_work():
        _claim(application, action)
        review = _review_for_update(application)
        review.signed_off_by_id, review.signed_off_at = actor.id, utcnow()
        today = date.today()
        for row in approved:
            granted.append(_grant(application, row.lot, today, actor))
        reasons = '\n'.join(f'{Lot(row.lot).label}: {"approved" if row.outcome == "approve" else "not approved"}. '
                            f'{row.reasons}' for row in decisions)
        apply_transition(application, action, actor=actor, reason=reasons)
        if comment:
            record('application.sign_off_comment', application, actor=actor, reason=comment)
    return granted


def _grant(application: Application, lot: str, today: date, actor) -> Qualification:
    """A new qualification for the lot, or the annual renewal of the active one (no commit)."""
    valid_to = add_months(today, 12) - timedelta(days=1)
    next_review = add_months(today, 11)
    current = db.session.scalar(select(Qualification).where(
        Qualification.organisation_id == application.organisation_id, Qualification.lot == lot,
        Qualification.status == QualificationStatus.ACTIVE).order_by(Qualification.id.desc()).limit(1))
    if current is not None:
        current.valid_to, current.next_review_due = valid_to, next_review
        current.scheme_version, current.application_id = application.scheme_version, application.id
        apply_qualification_transition(current, QualificationAction.RENEW, actor=actor,
                                       reason=f'Annual review: application QA-{application.id} approved')
        return current
    qualification = Qualification(organisation_id=application.organisation_id, lot=Lot(lot),
                                  scheme_version=application.scheme_version, status=QualificationStatus.ACTIVE,
                                  valid_from=today, valid_to=valid_to, next_review_due=next_review,
                                  application_id=application.id, status_changed_at=utcnow())
    db.session.add(qualification)
    db.session.flush()
    record('qualification.grant', qualification, actor=actor,
           after={'lot': lot, 'scheme_version': application.scheme_version, 'valid_from': today,
                  'valid_to': valid_to, 'application_id': application.id})
    return qualification


def send_back(application: Application, *, actor, reason: str) -> Application:
    """Return a proposed decision to review, with the reason, instead of signing it off.

    :raises PermissionDenied: the actor may not sign off this decision.
    :raises InvalidTransition: no decision is waiting, or another board member acted first.
    """
    refusal = permissions.sign_off_refusal(actor, review_of(application))
    if refusal:
        raise PermissionDenied(refusal)
    if not (reason or '').strip():
        raise DomainError('Explain why the decision is being sent back')
    with unit_of_work():
        _claim(application, ApplicationAction.SEND_BACK)
        db.session.execute(delete(LotDecision).where(LotDecision.application_id == application.id))
        review = _review_for_update(application)
        review.proposed_by_id = review.proposed_at = None
        apply_transition(application, ApplicationAction.SEND_BACK, actor=actor, reason=reason.strip())
    return application


def queue_rows(*, status: str | None = None, lot: str | None = None, assigned: str | None = None,
               user=None, today: date | None = None) -> list[dict[str, Any]]:
    """The board queue: submitted applications with their assessor and age in days since submission."""
    today = today or date.today()
    query = (select(Application, Review).outerjoin(Review, Review.application_id == Application.id)
             .where(Application.status != ApplicationStatus.DRAFT).order_by(Application.submitted_at))
    if status:
        query = query.where(Application.status == ApplicationStatus(status))
    if assigned == 'me' and user is not None:
        query = query.where(Review.assessor_id == user.id)
    elif assigned == 'unassigned':
        query = query.where(Review.assessor_id.is_(None))
    rows = []
    for application, review in db.session.execute(query):
        if lot and lot not in (application.lots or []):
            continue
        submitted = application.submitted_at.date() if application.submitted_at else None
        rows.append({'application': application, 'review': review,
                     'age_days': (today - submitted).days if submitted else None})
    return rows
