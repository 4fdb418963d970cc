"""Board workspace pages: queue, assignment, question-by-question review, clarification, decision and sign-off."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from qualification import board, bp, carry, conflicts, permissions, qualifications, rules, services
from qualification.applications import Application
from qualification.board_forms import (
    AcceptAutomaticMarksForm,
    AssignForm,
    CarryMarksForm,
    ClarificationForm,
    ConflictForm,
    OverrideForm,
    ReasonForm,
    SignOffForm,
    StartReviewForm,
    WithdrawConflictForm,
    decision_form,
    marks_form,
)
from qualification.models import Qualification
from qualification.states import ApplicationStatus, QualificationAction
from registry.accounts.models import User
from registry.audit.services import events_for
from registry.db import get_or_404
from registry.errors import DomainError, PermissionDenied
from registry.extensions import db
from registry.organisations.forms import add_form_error
from registry.organisations.models import Organisation
from registry.permissions import require
from registry.settings.taxonomy import Lot


def _board_application(application_id: int) -> Application:
    """Load an application for a board page: 403 outside the board, or with a conflict of interest."""
    require(permissions.can_use_board(current_user))
    application = get_or_404(Application, application_id)
    conflicts.require_no_conflict(current_user, application)
    return application


def _review_context(application: Application) -> dict:
    """What the overview, decision and sign-off pages show about the review: counts, failures, the override."""
    state = board.review_state(application)
    return {'counts': state.counts, 'failures': state.failures, 'override': board.active_override(application)}


@bp.route('/board/')
@login_required
def board_queue():
    """The queue of submitted applications, with filters and age in days."""
    require(permissions.can_use_board(current_user))
    status, lot, assigned = request.args.get('status') or None, request.args.get('lot') or None, \
        request.args.get('assigned') or None
    if status not in {s.value for s in ApplicationStatus}:
        status = None
    if lot not in {item.value for item in Lot}:
        lot = None
    rows = board.queue_rows(status=status, lot=lot, assigned=assigned, user=current_user)
    return render_template('qualification/board_queue.html', rows=rows, statuses=list(ApplicationStatus),
                           lots=list(Lot), filters={'status': status, 'lot': lot, 'assigned': assigned})


@bp.route('/board/applications/<int:application_id>')
@login_required
def board_application(application_id: int):
    """One application for the board: sections to review, marks so far, and what can be done next."""
    application = _board_application(application_id)
    scheme = services.scheme_for(application)
    review = board.review_of(application)
    questions = {question.id for question in board.reviewable_questions(application, scheme)}
    events = events_for(application)
    actors = {user.id: user for user in db.session.scalars(
        db.select(User).where(User.id.in_({event.actor_id for event in events if event.actor_id})))}
    return render_template('qualification/board_application.html', application=application, scheme=scheme,
                           review=review, marks=board.question_reviews(application),
                           lot_decisions=board.lot_decisions(application),
                           can_assess=permissions.can_assess(current_user, review),
                           can_override=permissions.can_override(current_user),
                           sign_off_refusal=board.sign_off_refusal(application, current_user),
                           start_form=StartReviewForm(), accept_form=AcceptAutomaticMarksForm(),
                           carry_form=CarryMarksForm(), renewal=board.renewal_view(application, scheme),
                           fact_changes=carry.fact_changes(application),
                           sections=scheme.sections_for(application.lots), reviewable=questions, events=events,
                           actors=actors, **_review_context(application))


@bp.route('/board/applications/<int:application_id>/assign', methods=['GET', 'POST'])
@login_required
def board_assign(application_id: int):
    """Assign the application to an assessor (starting the review if it was waiting)."""
    application = _board_application(application_id)
    review = board.review_of(application)
    require(permissions.can_assign(current_user, review))
    form = AssignForm()
    candidates = board.assessors(application.organisation_id) if current_user.role.value != 'assessor' \
        else [current_user]
    form.assessor_id.choices = [(user.id, f'{user.full_name} ({user.role.label})') for user in candidates]
    if form.validate_on_submit():
        assessor = next(user for user in candidates if user.id == form.assessor_id.data)
        try:
            board.assign(application, assessor, actor=current_user)
        except DomainError as exc:
            flash(str(exc), 'error')
        else:
            flash(f'QA-{application.id} is assigned to {assessor.full_name}', 'success')
        return redirect(url_for('qualification.board_application', application_id=application.id))
    return render_template('qualification/board_assign.html', application=application, form=form), \
        (400 if form.errors else 200)


@bp.route('/board/applications/<int:application_id>/start-review', methods=['POST'])
@login_required
def board_start_review(application_id: int):
    """Start reviewing a resubmitted application."""
    application = _board_application(application_id)
    require(permissions.can_assess(current_user, board.review_of(application)))
    if StartReviewForm().validate_on_submit():
        try:
            board.start_review(application, actor=current_user)
        except DomainError as exc:
            flash(str(exc), 'error')
    return redirect(url_for('qualification.board_application', application_id=application.id))


@bp.route('/board/applications/<int:application_id>/sections/<section_id>', methods=['GET', 'POST'])
@login_required
def board_review_section(application_id: int, section_id: str):
    """Each question's answer and evidence, the automatic mark pre-filled, and an outcome and comment per question."""
    application = _board_application(application_id)
    review = board.review_of(application)
    scheme = services.scheme_for(application)
    section = scheme.section(section_id)
    if section is None or not section.applies(application.lots):
        abort(404)
    values = board.submitted_values(application)
    evidence = {}
    for item in application.evidence:
        evidence.setdefault(item.question_id, []).append(item)
    questions = [question for question in board.reviewable_questions(application, scheme)
                 if question.section_id == section.id]
    automatic = board.automatic_marks(application)
    form = marks_form(questions, board.question_reviews(application))
    if request.method == 'POST':
        require(permissions.can_assess(current_user, review))
        if form.validate_on_submit():
            try:
                board.save_marks(application, form.marks(), actor=current_user)
            except DomainError as exc:
                flash(str(exc), 'error')
            else:
                flash(f'Marks for {section.title} saved', 'success')
                return redirect(url_for('qualification.board_application', application_id=application.id))
    by_id = {question.id: question for question in questions}
    everything = scheme.questions
    requirements = {question.id: rules.rule_requirement(question, everything) for question in questions}
    renewal = board.renewal_view(application, scheme)
    return render_template('qualification/board_section.html', application=application, scheme=scheme,
                           section=section, form=form, by_id=by_id, values=values, evidence=evidence,
                           renewal=renewal, marks=board.question_reviews(application),
                           automatic=automatic, requirements=requirements,
                           can_assess=permissions.can_assess(current_user, review)), \
        (400 if form.errors else 200)


@bp.route('/board/applications/<int:application_id>/accept-automatic-marks', methods=['POST'])
@login_required
def board_accept_automatic_marks(application_id: int):
    """Record the automatic rules' marks as outcomes for every question not yet marked (one audited action)."""
    application = _board_application(application_id)
    require(permissions.can_assess(current_user, board.review_of(application)))
    if AcceptAutomaticMarksForm().validate_on_submit():
        try:
            accepted = board.accept_automatic_marks(application, actor=current_user)
        except DomainError as exc:
            flash(str(exc), 'error')
        else:
            failed = sum(1 for outcome in accepted.values() if outcome == 'fail')
            flash(f'{len(accepted)} automatic marks accepted ({len(accepted) - failed} pass, {failed} fail)',
                  'success')
    return redirect(url_for('qualification.board_application', application_id=application.id))


@bp.route('/board/applications/<int:application_id>/carry-previous-marks', methods=['POST'])
@login_required
def board_carry_previous_marks(application_id: int):
    """Give the unchanged answers of a renewal or new lot the marks they had last time (one audited action)."""
    application = _board_application(application_id)
    require(permissions.can_assess(current_user, board.review_of(application)))
    if CarryMarksForm().validate_on_submit():
        try:
            carried = board.carry_previous_marks(application, actor=current_user)
        except DomainError as exc:
            flash(str(exc), 'error')
        else:
            flash(f'Previous marks carried for {len(carried)} unchanged answers', 'success')
    return redirect(url_for('qualification.board_application', application_id=application.id))


@bp.route('/board/applications/<int:application_id>/override', methods=['GET', 'POST'])
@login_required
def board_record_override(application_id: int):
    """A board member records why the application may be approved despite its failures."""
    application = _board_application(application_id)
    require(permissions.can_override(current_user))
    form = OverrideForm()
    if form.validate_on_submit():
        try:
            board.record_override(application, form.reasons.data, actor=current_user)
        except DomainError as exc:
            add_form_error(form, 'reasons', str(exc))
        else:
            flash('Override recorded. It is shown to the board member who signs off the decision.', 'success')
            return redirect(url_for('qualification.board_application', application_id=application.id))
    return render_template('qualification/board_override.html', application=application, form=form,
                           **_review_context(application)), (400 if form.errors else 200)


@bp.route('/board/applications/<int:application_id>/clarification', methods=['GET', 'POST'])
@login_required
def board_request_clarification(application_id: int):
    """Send the questions marked "Ask for clarification" to the provider."""
    application = _board_application(application_id)
    require(permissions.can_assess(current_user, board.review_of(application)))
    form = ClarificationForm()
    flagged = {qid: row for qid, row in board.question_reviews(application).items() if row.outcome == 'clarify'}
    if form.validate_on_submit():
        try:
            board.request_clarification(application, form.message.data or '', actor=current_user)
        except DomainError as exc:
            form.message.errors = [str(exc)]
        else:
            flash('The request for clarification has been sent to the provider', 'success')
            return redirect(url_for('qualification.board_application', application_id=application.id))
    scheme = services.scheme_for(application)
    return render_template('qualification/board_clarification.html', application=application, form=form,
                           flagged=flagged, scheme=scheme), (400 if form.errors else 200)


@bp.route('/board/applications/<int:application_id>/decision', methods=['GET', 'POST'])
@login_required
def board_propose_decision(application_id: int):
    """Propose approve or reject for each lot, with reasons the provider will see."""
    application = _board_application(application_id)
    require(permissions.can_assess(current_user, board.review_of(application)))
    form = decision_form(list(application.lots))
    if form.validate_on_submit():
        try:
            board.propose_decision(application, form.decisions(), actor=current_user)
        except DomainError as exc:
            add_form_error(form, f'outcome_{form.lots[0].replace("-", "_")}', str(exc))
            return render_template('qualification/board_decision.html', application=application, form=form,
                                   **_review_context(application)), 409
        flash('Decision proposed. A second board member must now sign it off.', 'success')
        return redirect(url_for('qualification.board_application', application_id=application.id))
    return render_template('qualification/board_decision.html', application=application, form=form,
                           **_review_context(application)), (400 if form.errors else 200)


@bp.route('/board/applications/<int:application_id>/sign-off', methods=['GET', 'POST'])
@login_required
def board_sign_off(application_id: int):
    """A second board member signs off the proposed decision, or sends it back."""
    application = _board_application(application_id)
    review = board.review_of(application)
    refusal = board.sign_off_refusal(application, current_user)
    form = SignOffForm()
    blocker = board.sign_off_blocker(application) if application.status == ApplicationStatus.DECISION_PROPOSED \
        else None
    context = {'application': application, 'form': form, 'refusal': refusal, 'blocker': blocker,
               'lot_decisions': board.lot_decisions(application), 'scheme': services.scheme_for(application),
               'review': review, **_review_context(application)}
    if refusal:
        # a clear explanation rather than a bare 403: the proposer and the assessor are refused by design
        return render_template('qualification/board_sign_off.html', **context), 403
    if form.validate_on_submit():
        try:
            if form.decision.data == 'send-back':
                board.send_back(application, actor=current_user, reason=form.comment.data)
                flash('The decision has been sent back to the assessor', 'success')
            else:
                board.sign_off(application, actor=current_user, comment=form.comment.data or '')
                flash(f'Decision signed off: QA-{application.id} is {application.status.label.lower()}', 'success')
        except DomainError as exc:
            add_form_error(form, 'decision', str(exc))
            # another board member acted first: show the application as it is now (the decision rows read
            # before may have been deleted by a send-back)
            context.update(lot_decisions=board.lot_decisions(application), review=board.review_of(application),
                           **_review_context(application))
            return render_template('qualification/board_sign_off.html', **context), 409
        return redirect(url_for('qualification.board_application', application_id=application.id))
    return render_template('qualification/board_sign_off.html', **context), (400 if form.errors else 200)


# --- conflicts of interest -----------------------------------------------------------------------------------------

@bp.route('/board/conflicts', methods=['GET', 'POST'])
@login_required
def board_conflicts():
    """Your declarations of conflicts of interest, and a form to declare one."""
    require(permissions.can_use_board(current_user))
    form = ConflictForm()
    organisations = db.session.scalars(db.select(Organisation).order_by(Organisation.legal_name)).all()
    form.organisation_id.choices = [(0, 'Select an organisation')] + [
        (organisation.id, organisation.display_name + (f' ({organisation.company_number})'
                                                       if organisation.company_number else ''))
        for organisation in organisations]
    if request.method == 'GET' and request.args.get('organisation_id', '').isdecimal():
        form.organisation_id.data = int(request.args['organisation_id'])
    if form.validate_on_submit():
        organisation = db.session.get(Organisation, form.organisation_id.data) if form.organisation_id.data else None
        if organisation is None:
            add_form_error(form, 'organisation_id', 'Select the organisation')
        else:
            try:
                conflicts.declare(organisation, form.reason.data, actor=current_user)
            except DomainError as exc:
                add_form_error(form, 'reason', str(exc))
            else:
                flash(f'Conflict of interest with {organisation.display_name} declared. You will not be assigned '
                      'its applications and cannot take part in them.', 'success')
                return redirect(url_for('qualification.board_conflicts'))
    return render_template('qualification/board_conflicts.html', form=form,
                           declarations=conflicts.declarations(current_user)), (400 if form.errors else 200)


@bp.route('/board/conflicts/<int:conflict_id>/withdraw', methods=['GET', 'POST'])
@login_required
def board_withdraw_conflict(conflict_id: int):
    """Withdraw one of your own declarations."""
    require(permissions.can_use_board(current_user))
    conflict = get_or_404(conflicts.ConflictOfInterest, conflict_id)
    require(conflict.user_id == current_user.id)
    form = WithdrawConflictForm()
    if form.validate_on_submit():
        try:
            conflicts.withdraw(conflict, form.reason.data or '', actor=current_user)
        except PermissionDenied:
            raise
        except DomainError as exc:
            add_form_error(form, 'reason', str(exc))
        else:
            flash(f'Declaration withdrawn: you can take part in {conflict.organisation.display_name}’s '
                  'applications again', 'success')
            return redirect(url_for('qualification.board_conflicts'))
    return render_template('qualification/board_conflict_withdraw.html', conflict=conflict, form=form), \
        (400 if form.errors else 200)


# --- qualifications ------------------------------------------------------------------------------------------------

@bp.route('/board/qualifications')
@login_required
def board_qualifications():
    """Every qualification, newest first."""
    require(permissions.can_use_board(current_user))
    rows = db.session.scalars(db.select(Qualification).order_by(Qualification.valid_to)).all()
    return render_template('qualification/board_qualifications.html', qualifications=rows)


@bp.route('/board/qualifications/<int:qualification_id>/<any(suspend, reinstate, revoke):action>',
          methods=['GET', 'POST'])
@login_required
def board_change_qualification(qualification_id: int, action: str):
    """Suspend, reinstate or revoke a qualification, with a reason."""
    require(permissions.can_change_qualification(current_user))
    qualification = get_or_404(Qualification, qualification_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            qualifications.change_status(qualification, QualificationAction(action), actor=current_user,
                                         reason=form.reason.data)
        except DomainError as exc:
            flash(str(exc), 'error')
            return render_template('qualification/board_qualification_change.html', qualification=qualification,
                                   form=form, action=action), 409
        flash(f'The qualification is now {qualification.status.value}', 'success')
        return redirect(url_for('qualification.board_qualifications'))
    return render_template('qualification/board_qualification_change.html', qualification=qualification, form=form,
                           action=action), (400 if form.errors else 200)
