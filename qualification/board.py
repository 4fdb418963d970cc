"""Board review services: assign, mark questions, ask for clarification, propose a decision, sign it off.

Each verb is one transaction. The decision verbs claim the application with a compare-and-set UPDATE on its
status (portable across SQLite and PostgreSQL), so two board members acting at once leave exactly one decision.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app, url_for
from sqlalchemy import delete, select, update

from qualification import answers as answer_rules
from qualification import carry, conflicts, permissions, rules
from qualification.applications import Application
from qualification.models import Qualification, QualificationStatus
from qualification.review import ClarificationRequest, DecisionOverride, LotDecision, QuestionReview, Review
from qualification.schemes import Question, Scheme, SchemeError
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


def assessors(organisation_id: int | None = None) -> list[User]:
    """Board users who can be assigned an application (without a conflict of interest with its organisation)."""
    users = db.session.scalars(select(User).where(User.role.in_([Role.ASSESSOR, Role.BOARD_MEMBER]))
                               .order_by(User.full_name))
    excluded = conflicts.conflicted_user_ids(organisation_id) if organisation_id is not None else set()
    return [user for user in users if user.id not in excluded]


def automatic_marks(application: Application) -> dict[str, str]:
    """question id -> the outcome the automatic rules recorded at submission (pass, fail or assessor)."""
    snapshot = application.snapshot or {}
    marks = dict(snapshot.get('outcomes') or {})
    for answer in application.answers:
        if answer.outcome:
            marks[answer.question_id] = answer.outcome
    return marks


def _scheme(application: Application) -> Scheme:
    from qualification.services import scheme_for  # services imports this module

    return scheme_for(application)


def submitted_values(application: Application) -> dict[str, Any]:
    """The answers the board reviews: the frozen snapshot's, or the live rows before submission."""
    snapshot = application.snapshot or {}
    return snapshot.get('answers') if snapshot else application.answer_values()


def reviewable_questions(application: Application, scheme: Scheme | None = None) -> list[Question]:
    """Every question the board must give an outcome, in scheme order.

    These are the questions shown for the application's lots given its answers (follow-ups only when triggered),
    except optional questions the provider left blank: there is nothing to judge in those.
    """
    scheme = scheme or _scheme(application)
    values = submitted_values(application)
    with_evidence = {item.question_id for item in application.evidence}
    shown = rules.triggered_ids(scheme, values, application.lots)
    return [question for section in scheme.sections_for(application.lots)
            for question in section.questions_for(application.lots)
            if question.id in shown and (question.required or question.id in with_evidence
                                         or not rules.is_blank(values.get(question.id)))]


@dataclass(frozen=True)
class Failure:
    """A question that stands in the way of approval: its mandatory automatic rule fails, or it is marked fail."""

    question_id: str
    label: str
    #: The automatic rule is not met.
    automatic: bool
    #: The assessor's outcome is "fail".
    marked: bool
    #: What the rule asks for, and the assessor's comment.
    requirement: str
    comment: str
    #: Where the "fail" mark came from: ``automatic`` when the assessor accepted the rule's mark, else ``assessor``.
    mark_source: str
    #: The application's lots the question applies to: only approving those is blocked.
    lots: tuple[str, ...]

    @property
    def key(self) -> str:
        return self.question_id

    def as_record(self) -> dict[str, Any]:
        return {'question_id': self.question_id, 'label': self.label, 'automatic': self.automatic,
                'marked': self.marked}


@dataclass(frozen=True)
class ReviewCounts:
    """How far the review has got: what the overview and sign-off pages show."""

    total: int
    passed: int
    failed: int
    clarify: int
    unmarked: int
    #: Questions whose mandatory automatic rule fails, whatever the assessor marked.
    automatic_fails: int


@dataclass(frozen=True)
class ReviewState:
    """Everything the decision checks read, computed once from the application, its scheme and its marks."""

    questions: list[Question]
    marks: dict[str, QuestionReview]
    automatic: dict[str, str]
    failures: list[Failure]

    @property
    def unmarked(self) -> list[Question]:
        return [question for question in self.questions if question.id not in self.marks]

    def marked(self, outcome: str) -> list[Question]:
        return [question for question in self.questions
                if question.id in self.marks and self.marks[question.id].outcome == outcome]

    @property
    def counts(self) -> ReviewCounts:
        return ReviewCounts(total=len(self.questions), passed=len(self.marked('pass')),
                            failed=len(self.marked('fail')), clarify=len(self.marked('clarify')),
                            unmarked=len(self.unmarked),
                            automatic_fails=sum(1 for failure in self.failures if failure.automatic))

    def failures_for(self, lots) -> list[Failure]:
        return [failure for failure in self.failures if set(failure.lots) & set(lots)]


def review_state(application: Application, scheme: Scheme | None = None) -> ReviewState:
    """The application's questions, marks, automatic marks and the failures that block approval."""
    scheme = scheme or _scheme(application)
    questions = reviewable_questions(application, scheme)
    marks = question_reviews(application)
    automatic = automatic_marks(application)
    values = submitted_values(application)
    everything = scheme.questions
    failures = []
    for question in questions:
        automatic_fail = rules.is_mandatory_failure(question, automatic.get(question.id), values.get(question.id))
        mark = marks.get(question.id)
        marked_fail = mark is not None and mark.outcome == 'fail'
        if automatic_fail or marked_fail:
            failures.append(Failure(
                question_id=question.id, label=question.label, automatic=automatic_fail, marked=marked_fail,
                requirement=rules.rule_requirement(question, everything), comment=mark.comment if mark else '',
                mark_source=mark.source if mark else '',
                lots=tuple(lot for lot in application.lots if lot in question.applies_to)))
    return ReviewState(questions, marks, automatic, failures)


def review_counts(application: Application) -> ReviewCounts:
    return review_state(application).counts


def active_override(application: Application) -> DecisionOverride | None:
    """The board member's override in force on this application, if any."""
    return db.session.scalar(select(DecisionOverride).where(
        DecisionOverride.application_id == application.id, DecisionOverride.voided_at.is_(None))
        .order_by(DecisionOverride.id.desc()).limit(1))


def approval_refusal(application: Application, approving: list[str], state: ReviewState | None = None) -> str | None:
    """Why the lots in ``approving`` cannot be approved now, or None.

    Approval is refused while a question that applies to those lots is still marked "Ask for clarification", or
    while one fails (a mandatory automatic rule, or the assessor's mark) and no board member's override covers it.
    """
    if not approving:
        return None
    state = state or review_state(application)
    clarify = [question for question in state.marked('clarify') if question.applies(approving)]
    if clarify:
        return (f'{_count(len(clarify), "question is", "questions are")} still marked "Ask for clarification" '
                f'({_labels(clarify)}): request clarification or change the outcome before proposing approval')
    failures = state.failures_for(approving)
    if not failures:
        return None
    override = active_override(application)
    if override is not None and override.covers(failures):
        return None
    lots = ', '.join(Lot(lot).label for lot in approving)
    return (f'{lots} cannot be approved: {_count(len(failures), "question fails", "questions fail")} '
            f'({_labels(failures)}). Propose rejection, or a board member must first record an override with '
            'reasons')


def _count(number: int, singular: str, plural: str) -> str:
    return f'{number} {singular if number == 1 else plural}'


def _labels(items, limit: int = 4) -> str:
    labels = [f'‘{item.label.rstrip("?")}’' for item in items]
    shown = '; '.join(labels[:limit])
    return shown + (f'; and {len(labels) - limit} more' if len(labels) > limit else '')


def question_feedback(application: Application, scheme: Scheme | None = None) -> list[dict[str, str]]:
    """Each question marked fail or clarify, with the answer, outcome and comment, for the provider to read."""
    scheme = scheme or _scheme(application)
    marks = question_reviews(application)
    values = submitted_values(application)
    sections = {section.id: section.title for section in scheme.sections}
    rows = []
    for question in reviewable_questions(application, scheme):
        mark = marks.get(question.id)
        if mark is None or mark.outcome not in {'fail', 'clarify'}:
            continue
        rows.append({'question_id': question.id, 'section': sections.get(question.section_id, ''),
                     'question': question.label, 'answer': answer_rules.display(question, values.get(question.id)),
                     'outcome': 'Fail' if mark.outcome == 'fail' else 'Needs clarification',
                     'comment': mark.comment})
    return rows


@dataclass(frozen=True)
class RenewalView:
    """An application carried forward from an earlier one, compared question by question for the assessor."""

    previous: Application
    changes: dict[str, carry.Change]
    #: Unchanged questions not yet marked whose previous mark can be carried (same answer, same automatic mark).
    carriable: dict[str, QuestionReview]

    @property
    def unchanged(self) -> int:
        return sum(1 for change in self.changes.values() if change.unchanged)

    @property
    def changed(self) -> int:
        return len(self.changes) - self.unchanged


def renewal_view(application: Application, scheme: Scheme | None = None) -> RenewalView | None:
    """What changed since the application this one was carried forward from, or None for a first application."""
    previous = carry.previous_for_review(application)
    if previous is None:
        return None
    scheme = scheme or _scheme(application)
    sources = []
    for source in carry.review_sources(application, previous):
        try:
            sources.append((source, _scheme(source)))
        except SchemeError:  # an old scheme that can no longer be loaded only means there is nothing to compare
            continue
    if not sources or sources[0][0].id != previous.id:
        return None
    questions = reviewable_questions(application, scheme)
    changes = carry.compare(application, scheme, sources, questions)
    marks = question_reviews(application)
    automatic_now = automatic_marks(application)
    by_id = {source.id: source for source, _scheme_ in sources}
    previous_marks = {source_id: question_reviews(source) for source_id, source in by_id.items()}
    automatic_then = {source_id: automatic_marks(source) for source_id, source in by_id.items()}
    carriable = {}
    for question in questions:
        change = changes[question.id]
        old = previous_marks[change.previous_id].get(question.id)
        if (change.unchanged and question.id not in marks and old is not None and old.outcome in {'pass', 'fail'}
                and automatic_now.get(question.id) == automatic_then[change.previous_id].get(question.id)):
            carriable[question.id] = old
    return RenewalView(previous, changes, carriable)


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
    conflicts.require_no_conflict(actor, application)
    if assessor.role not in {Role.ASSESSOR, Role.BOARD_MEMBER}:
        raise PermissionDenied('Applications can only be assigned to assessors and board members')
    if conflicts.conflict_with(assessor, application.organisation_id) is not None:
        raise PermissionDenied(f'{assessor.full_name} has declared a conflict of interest with '
                               f'{application.organisation.display_name} and cannot be assigned its application')
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
    _require_assessor(application, actor)
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
    _require_assessor(application, actor)
    _require_in_review(application)
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
                                     comment=comment, reviewer_id=actor.id, updated_at=now, source='assessor')
                db.session.add(row)
                before[question_id], after[question_id] = None, outcome
            elif (row.outcome, row.comment) != (outcome, comment):
                before[question_id], after[question_id] = row.outcome, outcome
                row.outcome, row.comment, row.reviewer_id, row.updated_at = outcome, comment, actor.id, now
                row.source = 'assessor'
        if after:
            record('application.mark', application, actor=actor, before=before, after=after)


def request_clarification(application: Application, message: str, *, actor) -> ClarificationRequest:
    """Send the questions marked "clarify" back to the provider, who may then change only those.

    :raises DomainError: no question is marked "clarify".
    :raises InvalidTransition: the application is not in review.
    """
    _require_assessor(application, actor)
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
    override = active_override(application)
    if override is not None:
        # the answers it judged may have changed: the board must look again
        override.voided_at = utcnow()
        record('application.override_void', application, reason='The provider resubmitted after clarification',
               before={'override_id': override.id})


def propose_decision(application: Application, decisions: dict[str, tuple[str, str]], *, actor) -> list[LotDecision]:
    """Propose approve or reject for every lot applied for, with reasons the provider will see.

    Every question must have an outcome first. Approval is refused while a question that applies to the lot
    fails (its mandatory automatic rule, or the assessor's mark) unless a board member's override covers it.

    :param decisions: lot id -> (``approve`` | ``reject``, reasons).
    :raises PermissionDenied: the actor is not the assessor or a board member, or has a conflict of interest.
    :raises InvalidTransition: the application is not in review, or another board member decided first.
    :raises DomainError: a lot is missing, unknown or has no reasons; a question has no outcome; approval is
        refused by the failures above.
    """
    _require_assessor(application, actor, 'propose a decision')
    _check_table(application, ApplicationAction.PROPOSE_DECISION)
    lots = list(application.lots)
    if set(decisions) != set(lots):
        raise DomainError('Propose an outcome for every lot applied for')
    for lot, (outcome, reasons) in decisions.items():
        if outcome not in {'approve', 'reject'}:
            raise DomainError(f'{Lot(lot).label}: choose approve or reject')
        if not (reasons or '').strip():
            raise DomainError(f'{Lot(lot).label}: give the reasons the provider will see')
    approving = [lot for lot in lots if decisions[lot][0] == 'approve']
    with unit_of_work():
        _claim(application, ApplicationAction.PROPOSE_DECISION)
        # checked after the claim, inside its transaction, so the marks read are the ones the decision rests on
        override = _check_decision_rests_on_marks(application, approving)
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
        if override is not None:
            _record_override_use(application, override, 'application.propose_with_override', actor)
    return rows


def _check_decision_rests_on_marks(application: Application, approving: list[str]) -> DecisionOverride | None:
    """Refuse a decision while a question has no outcome, or approval while failures stand uncovered.

    :returns: the override the approval relies on, if it relies on one.
    :raises DomainError: with the reason, for the page to show.
    """
    state = review_state(application)
    unmarked = state.unmarked
    if unmarked:
        raise DomainError(f'{_count(len(unmarked), "question has", "questions have")} no outcome yet '
                          f'({_labels(unmarked)}). Give every question an outcome, or accept the automatic marks, '
                          'before a decision is made')
    refusal = approval_refusal(application, approving, state)
    if refusal:
        raise DomainError(refusal)
    if approving and state.failures_for(approving):
        return active_override(application)
    return None


def _record_override_use(application: Application, override: DecisionOverride, action: str, actor) -> None:
    """Put the override an approval relies on into the audit trail next to the decision."""
    recorder = override.recorded_by.full_name if override.recorded_by else 'a board member'
    record(action, application, actor=actor, reason=f'Override recorded by {recorder}: {override.reasons}',
           after={'override_id': override.id, 'recorded_by_id': override.recorded_by_id,
                  'failures': override.failures})


def sign_off_blocker(application: Application) -> str | None:
    """Why the proposed decision cannot be signed off as it stands (so it must be sent back), or None."""
    approving = [row.lot for row in lot_decisions(application) if row.outcome == 'approve']
    try:
        _check_decision_rests_on_marks(application, approving)
    except DomainError as exc:
        return str(exc)
    return None


def sign_off_refusal(application: Application, user) -> str | None:
    """Why ``user`` may not sign off the proposed decision, or None.

    Besides :func:`permissions.sign_off_refusal` (not the proposer, not the assessor, a board member), the board
    member who recorded the override an approval relies on may not sign it off, and nor may anyone with a
    conflict of interest.
    """
    organisation = application.organisation
    conflict = conflicts.refusal(user, application.organisation_id, organisation.display_name if organisation else '')
    if conflict:
        return conflict
    refusal = permissions.sign_off_refusal(user, review_of(application))
    if refusal:
        return refusal
    override = active_override(application)
    if (override is not None and override.recorded_by_id == getattr(user, 'id', None)
            and any(row.outcome == 'approve' for row in lot_decisions(application))):
        return 'You recorded the override this approval relies on, so another board member must sign it off'
    return None


def sign_off(application: Application, *, actor, comment: str = '') -> list[Qualification]:
    """A second board member confirms the proposed decision: approved lots become qualifications.

    The checks made at proposal are made again: every question has an outcome, and no failure stands against an
    approved lot without an override.

    :raises PermissionDenied: the actor proposed the decision, is the assessor, recorded the override it relies on,
        has a conflict of interest, or is not a board member.
    :raises InvalidTransition: no decision is waiting, or another board member signed off first.
    :raises DomainError: the decision does not rest on a complete review (send it back instead).
    """
    refusal = sign_off_refusal(application, actor)
    if refusal:
        raise PermissionDenied(refusal)
    decisions = lot_decisions(application)
    approved = [row for row in decisions if row.outcome == 'approve']
    action = ApplicationAction.APPROVE if approved else ApplicationAction.REJECT
    _check_table(application, action)
    granted: list[Qualification] = []
    with unit_of_work():
        _claim(application, action)
        override = _check_decision_rests_on_marks(application, [row.lot for row in approved])
        review = _review_for_update(application)
        review.signed_off_by_id, review.signed_off_at = actor.id, utcnow()
        today = date.today()
        for row in approved:
            granted.append(_grant(application, row.lot, today, actor))
        reasons = '\n'.join(f'{Lot(row.lot).label}: {"approved" if row.outcome == "approve" else "not approved"}. '
                            f'{row.reasons}' for row in decisions)
        apply_transition(application, action, actor=actor, reason=reasons,
                         email_context={'feedback': question_feedback(application)})
        if override is not None:
            _record_override_use(application, override, 'application.approve_with_override', actor)
        if comment:
            record('application.sign_off_comment', application, actor=actor, reason=comment)
    return granted


def accept_automatic_marks(application: Application, *, actor) -> dict[str, str]:
    """Record the automatic rules' marks as the outcome of every question not yet marked, in one audited action.

    Each becomes a mark with source ``automatic``; a failed rule's mark carries a comment saying what the rule asks
    for, which the provider reads if the application is rejected. Marks the assessor already gave are kept.

    :returns: question id -> the outcome recorded.
    :raises PermissionDenied: the actor is not the assessor or a board member, or has a conflict of interest.
    :raises InvalidTransition: the application is not in review.
    :raises DomainError: there is no automatic mark left to accept.
    """
    _require_assessor(application, actor)
    _require_in_review(application)
    scheme = _scheme(application)
    state = review_state(application, scheme)
    everything = scheme.questions
    accepted = {question.id: state.automatic[question.id] for question in state.unmarked
                if state.automatic.get(question.id) in {rules.PASS, rules.FAIL}}
    if not accepted:
        raise DomainError('There are no automatic marks left to accept: every question with an automatic rule '
                          'already has an outcome')
    with unit_of_work():
        now = utcnow()
        for question_id, outcome in accepted.items():
            comment = ''
            if outcome == rules.FAIL:
                comment = ('The answer does not meet the scheme’s automatic rule. '
                           + rules.rule_requirement(everything[question_id], everything))
            db.session.add(QuestionReview(application_id=application.id, question_id=question_id, outcome=outcome,
                                          comment=comment, reviewer_id=actor.id, updated_at=now,
                                          source='automatic'))
        record('application.accept_automatic_marks', application, actor=actor,
               reason=f'{len(accepted)} automatic marks accepted', before={key: None for key in accepted},
               after=accepted)
    return accepted


def carry_previous_marks(application: Application, *, actor) -> dict[str, str]:
    """Give every unchanged, unmarked answer the mark the previous application's answer had, in one audited action.

    An answer counts as unchanged when its value (or document) is the same as in the application it was carried
    forward from, under an unchanged question, and its automatic mark is the same; each mark keeps its comment
    and is recorded with source ``carried``. Marks already given are kept.

    :returns: question id -> the outcome recorded.
    :raises PermissionDenied: the actor is not the assessor or a board member, or has a conflict of interest.
    :raises InvalidTransition: the application is not in review.
    :raises DomainError: the application was not carried forward, or no unchanged answer is left to mark.
    """
    _require_assessor(application, actor)
    _require_in_review(application)
    view = renewal_view(application)
    if view is None:
        raise DomainError('This application was not carried forward from an earlier one: there are no previous '
                          'marks to carry')
    if not view.carriable:
        raise DomainError('There are no previous marks left to carry: every unchanged answer already has an '
                          'outcome')
    with unit_of_work():
        now = utcnow()
        carried = {}
        for question_id, old in view.carriable.items():
            db.session.add(QuestionReview(application_id=application.id, question_id=question_id,
                                          outcome=old.outcome, comment=old.comment, reviewer_id=actor.id,
                                          updated_at=now, source='carried'))
            carried[question_id] = old.outcome
        record('application.carry_previous_marks', application, actor=actor,
               reason=f'{len(carried)} marks carried from QA-{view.previous.id} for unchanged answers',
               before={key: None for key in carried},
               after={'marks': carried, 'from': {key: view.changes[key].previous_id for key in carried}})
    return carried


def record_override(application: Application, reasons: str, *, actor) -> DecisionOverride:
    """A board member allows approval despite the failures standing now, with reasons (audited, shown at sign-off).

    :raises PermissionDenied: the actor is not a board member, or has a conflict of interest.
    :raises InvalidTransition: the application is not in review.
    :raises DomainError: no reasons, or nothing fails.
    """
    if not permissions.can_override(actor):
        raise PermissionDenied('Only a board member can record an override')
    conflicts.require_no_conflict(actor, application)
    _require_in_review(application, 'record an override')
    reasons = (reasons or '').strip()
    if not reasons:
        raise DomainError('Explain why the board should approve despite these failures')
    failures = review_state(application).failures
    if not failures:
        raise DomainError('There is nothing to override: no mandatory automatic rule fails and no question is '
                          'marked fail')
    with unit_of_work():
        previous = active_override(application)
        now = utcnow()
        if previous is not None:
            previous.voided_at = now
        override = DecisionOverride(application_id=application.id, reasons=reasons,
                                    failures=[failure.as_record() for failure in failures],
                                    recorded_by_id=actor.id, recorded_at=now)
        db.session.add(override)
        db.session.flush()
        record('application.override', application, actor=actor, reason=reasons,
               before={'override_id': previous.id if previous else None},
               after={'override_id': override.id, 'failures': override.failures})
    return override


def _require_assessor(application: Application, actor, doing: str = 'review this application') -> None:
    """The assigned assessor or a board member, without a conflict of interest with the organisation."""
    if not permissions.can_assess(actor, review_of(application)):
        raise PermissionDenied(f'Only the assigned assessor or a board member can {doing}')
    conflicts.require_no_conflict(actor, application)


def _require_in_review(application: Application, doing: str = 'mark questions') -> None:
    if application.status != ApplicationStatus.IN_REVIEW:
        raise InvalidTransition(f'You can only {doing} while the application is in review; it is '
                                f'{application.status.label.lower()}')


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
    refusal = conflicts.refusal(actor, application.organisation_id) or \
        permissions.sign_off_refusal(actor, review_of(application))
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
    conflicted = conflicts.conflicted_organisation_ids(user)
    rows = []
    for application, review in db.session.execute(query):
        if lot and lot not in (application.lots or []):
            continue
        submitted = application.submitted_at.date() if application.submitted_at else None
        rows.append({'application': application, 'review': review,
                     'age_days': (today - submitted).days if submitted else None,
                     'conflict': application.organisation_id in conflicted})
    return rows
