"""Provider pages for the national qualification: choose lots, task list, sections, check answers, submit."""

from __future__ import annotations

import dataclasses

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from qualification import answers as answer_rules
from qualification import board, bp, carry, permissions, rules, services
from qualification.applications import Application, Evidence
from qualification.forms import (
    ConfirmSectionForm,
    DeclarationForm,
    LotsForm,
    RemoveEvidenceForm,
    WithdrawForm,
    choice_label,
    row_field_name,
    section_form,
)
from qualification.states import ApplicationStatus
from registry.db import get_or_404
from registry.errors import DomainError, InvalidTransition
from registry.extensions import db
from registry.organisations.models import Membership, Organisation
from registry.permissions import is_board, require
from registry.settings.taxonomy import Lot
from registry.storage import StorageUnavailableError, get_storage

STATUS_TAGS = {
    'not-started': {'text': 'Not started', 'classes': 'govuk-tag--blue'},
    'in-progress': {'text': 'In progress', 'classes': 'govuk-tag--light-blue'},
    'completed': {'text': 'Completed', 'classes': ''},
    'cannot-start': {'text': 'Cannot start yet', 'classes': 'govuk-tag--grey'},
    'carried': {'text': 'Confirm or change', 'classes': 'govuk-tag--yellow'},
}
APPLICATION_TAGS = {
    ApplicationStatus.DRAFT: 'govuk-tag--grey', ApplicationStatus.SUBMITTED: 'govuk-tag--blue',
    ApplicationStatus.IN_REVIEW: 'govuk-tag--light-blue',
    ApplicationStatus.CLARIFICATION_REQUESTED: 'govuk-tag--yellow',
    ApplicationStatus.DECISION_PROPOSED: 'govuk-tag--purple',
    ApplicationStatus.APPROVED: 'govuk-tag--green', ApplicationStatus.REJECTED: 'govuk-tag--red',
    ApplicationStatus.WITHDRAWN: 'govuk-tag--grey',
}


@bp.context_processor
def _helpers():
    return {'application_tag_class': APPLICATION_TAGS, 'display_answer': answer_rules.display,
            'answer_lines': _answer_lines, 'row_field_name': row_field_name, 'getter': _getter,
            'lot_labels': _lot_labels}


def _lot_labels(lots) -> str:
    """Lot codes as the names people use ("Children's homes, Fostering"); unknown codes as they are."""
    known = {lot.value: lot.label for lot in Lot}
    return ', '.join(known.get(lot, lot) for lot in lots or [])


def _answer_lines(question, value) -> list[str]:
    """Rows as one line each; other answers as their display text split on new lines."""
    if question.type == 'rows':
        return [', '.join(_cell_text(column, row.get(column.id, '')) for column in question.columns)
                for row in value or []]
    text = answer_rules.display(question, value)
    return text.splitlines() if text else []


def _cell_text(column, value) -> str:
    if column.type == 'choice' and value:
        return choice_label(str(value), dict(column.choices).get(value, str(value)))
    return str(value)


def _getter(mapping):
    """A function returning ``mapping[key]`` or an empty list (templates pass it as evidence_for)."""
    return lambda key: mapping.get(key, [])


def _follow_up_layout(scheme, questions):
    """How to show follow-ups: revealed inside a radio or checkbox option, or always beneath their question."""
    here = {question.id: question for question in questions}
    reveal, always, children = {}, {}, set()
    for question in questions:
        for follow_up in question.follow_ups:
            kids = [here[child] for child in follow_up.show if child in here]
            children.update(kid.id for kid in kids)
            op, value = follow_up.when.op, follow_up.when.value
            if question.type in ('yes-no', 'choice') and op in ('equals', 'in', 'contains'):
                values = tuple(value) if op == 'in' else (value,)
                reveal.setdefault(question.id, []).extend((kid, values) for kid in kids)
            else:
                always.setdefault(question.id, []).extend(kids)
    return reveal, always, children


def _record_urls(application: Application, scheme) -> dict[str, str]:
    """Questions answered by the organisation's record -> where that record is changed."""
    facts = carry.fact_values(application.organisation, scheme, application.lots) if application.is_editable else {}
    details = url_for('organisations.edit_organisation', organisation_id=application.organisation_id)
    settings = url_for('organisations.view_organisation', organisation_id=application.organisation_id)
    return {question_id: settings if question_id == 'reg-urns' else details for question_id in facts}


def _load_application(application_id: int, *, edit: bool = False) -> Application:
    application = get_or_404(Application, application_id)
    allowed = (permissions.can_edit_application if edit else permissions.can_view_application)(
        current_user, application)
    require(allowed)
    return application


def _locked(application: Application):
    """Editing a submitted application: say so and answer 409 Conflict, changing nothing."""
    flash(f'This application is {application.status.label.lower()}; you can no longer change it', 'error')
    return render_template('qualification/snapshot.html', application=application,
                           scheme=services.scheme_for(application), **_snapshot_context(application)), 409


@bp.route('/')
@login_required
def index():
    """Your organisations' applications (providers) or submitted applications (the board)."""
    if is_board(current_user):
        applications = db.session.scalars(select(Application).where(Application.status != ApplicationStatus.DRAFT)
                                          .order_by(Application.submitted_at.desc())).all()
        return render_template('qualification/board_index.html', applications=applications)
    organisations = db.session.scalars(select(Organisation).join(Membership).where(
        Membership.user_id == current_user.id).order_by(Organisation.legal_name)).all()
    require(bool(organisations) or current_user.role.value == 'provider')
    rows = []
    for organisation in organisations:
        history = db.session.scalars(select(Application).where(Application.organisation_id == organisation.id)
                                     .order_by(Application.created_at.desc())).all()
        rows.append((organisation, services.open_application(organisation.id), history))
    return render_template('qualification/index.html', rows=rows)


@bp.route('/organisations/<int:organisation_id>/apply', methods=['GET', 'POST'])
@login_required
def start_application(organisation_id: int):
    """Choose lots and start an application."""
    organisation = get_or_404(Organisation, organisation_id)
    require(permissions.can_start_application(current_user, organisation))
    existing = services.open_application(organisation.id)
    if existing is not None:
        return redirect(url_for('qualification.task_list', application_id=existing.id))
    scheme = services.get_scheme(services.effective_version())
    form = LotsForm()
    form.lots.choices = [(lot_id, label) for lot_id, label, _description in scheme.lots]
    source = carry.source_application(organisation.id)
    if source is not None and not form.is_submitted():
        # a renewal usually covers the same lots: start from those (a new lot is one more tick)
        form.lots.data = [lot for lot in source.lots if lot in scheme.lot_ids]
    if form.validate_on_submit():
        try:
            application = services.start_application(organisation, form.lots.data, actor=current_user)
        except DomainError as exc:
            form.lots.errors = [str(exc)]
        else:
            flash('Application started. You can save your answers and come back at any time.', 'success')
            return redirect(url_for('qualification.task_list', application_id=application.id))
    return render_template('qualification/start.html', form=form, organisation=organisation, scheme=scheme,
                           source=source)


@bp.route('/applications/<int:application_id>')
@login_required
def task_list(application_id: int):
    """The GOV.UK task list for a draft, or the read-only application once submitted."""
    application = _load_application(application_id)
    if not application.is_editable or not permissions.can_edit_application(current_user, application):
        return redirect(url_for('qualification.view_snapshot', application_id=application.id))
    scheme = services.scheme_for(application)
    sections = scheme.sections_for(application.lots)
    clarification = board.open_clarification(application)
    if clarification is not None:
        # only the sections holding questions the board asked about are open again
        sections = [section for section in sections
                    if any(question.id in clarification.questions for question in section.questions)]
    statuses = {section.id: services.section_status(application, scheme, section) for section in sections}
    all_done = all(status == 'completed' for status in statuses.values())
    origin = carry.provenance(application)
    carried = set(application.carried_sections or [])
    flags = carry.expiry_flags(application, scheme)
    flagged_sections = {flag.question.section_id for flag in flags}
    all_done = all_done and not flags

    def hint(section):
        text = section.description
        if section.id in carried and origin:
            text = f'{origin}. {text}' if text else origin
        return {'text': text} if text else None

    items = [{'title': {'text': section.title}, 'hint': hint(section),
              'href': url_for('qualification.edit_section', application_id=application.id, section_id=section.id),
              'status': {'tag': {'text': 'Replace expired document', 'classes': 'govuk-tag--red'}}
              if section.id in flagged_sections else
              {'tag': STATUS_TAGS[statuses[section.id]]} if statuses[section.id] != 'completed'
              else {'text': 'Completed'}}
             for section in sections]
    if all_done:
        submit_item = {'title': {'text': 'Check and submit your application'},
                       'href': url_for('qualification.submit_application', application_id=application.id),
                       'status': {'tag': STATUS_TAGS['not-started']}}
    else:
        submit_item = {'title': {'text': 'Check and submit your application'},
                       'status': {'text': 'Cannot start yet', 'classes': 'govuk-task-list__status--cannot-start-yet'}}
    completed = sum(1 for status in statuses.values() if status == 'completed')
    return render_template('qualification/task_list.html', application=application, scheme=scheme, items=items,
                           submit_item=submit_item, completed=completed, total=len(sections),
                           withdraw_form=WithdrawForm(), clarification=clarification, origin=origin,
                           expiry_flags=flags, to_confirm=sum(1 for status in statuses.values() if status == 'carried'),
                           clarification_uploads={qid for qid in (clarification.questions if clarification else {})
                                                  if qid in scheme.questions
                                                  and scheme.questions[qid].type == 'evidence'},
                           clarification_labels={qid: scheme.questions[qid].label
                                                 for qid in (clarification.questions if clarification else {})
                                                 if qid in scheme.questions})


@bp.route('/applications/<int:application_id>/sections/<section_id>', methods=['GET', 'POST'])
@login_required
def edit_section(application_id: int, section_id: str):
    """One section's questions as a form; follow-ups appear when their trigger answer is given."""
    application = _load_application(application_id, edit=True)
    if not application.is_editable:
        if request.method == 'POST':
            return _locked(application)
        return redirect(url_for('qualification.view_snapshot', application_id=application.id))
    scheme = services.scheme_for(application)
    section = scheme.section(section_id)
    if section is None or not section.applies(application.lots):
        abort(404)
    clarification = board.open_clarification(application)
    if clarification is not None:
        # the provider answers only the flagged questions; the rest stay as submitted
        section = dataclasses.replace(section, questions=tuple(
            question for question in section.questions if question.id in clarification.questions))
        if not section.questions_for(application.lots):
            return redirect(url_for('qualification.task_list', application_id=application.id))
    facts = carry.fact_values(application.organisation, scheme, application.lots)
    fact_questions = [question for question in section.questions_for(application.lots) if question.id in facts]
    if fact_questions:
        # facts held in the organisation's record are shown read-only, never typed again
        section = dataclasses.replace(section, questions=tuple(
            question for question in section.questions if question.id not in facts))
    values = application.answer_values()
    counts = {question.id: len(application.evidence_for(question.id)) for question in section.questions}
    form = section_form(scheme, section, application.lots, values, counts)
    status = 400 if request.method == 'POST' else 200
    if request.method == 'POST' and form.validate():
        try:
            services.save_answers(application, section.id, form.cleaned, actor=current_user, uploads=form.uploads)
        except StorageUnavailableError as exc:
            # the answers typed stay in the form; the message sits on the file question(s) in the error summary
            for question_id in form.uploads:
                form[question_id].errors = [*(form[question_id].errors or []), str(exc)]
            form._errors = None
            status = 503
        except DomainError as exc:
            flash(str(exc), 'error')
        else:
            if form.save_and_return.data:
                flash('Your answers have been saved. You can come back to this application at any time.', 'success')
                return redirect(url_for('qualification.task_list', application_id=application.id))
            return redirect(url_for('qualification.check_section', application_id=application.id,
                                    section_id=section.id))
    reveal, always, children = _follow_up_layout(scheme, form.questions)
    needs_confirming = section.id in carry.sections_to_confirm(application)
    return render_template('qualification/section.html', application=application, scheme=scheme, section=section,
                           form=form, reveal=reveal, always=always, follow_up_children=children,
                           clarification=clarification, fact_questions=fact_questions, facts=facts,
                           organisation_facts=carry.organisation_facts(application.organisation)
                           if fact_questions else None,
                           origin=carry.provenance(application) if section.id in application.carried_sections
                           else '', needs_confirming=needs_confirming, confirm_form=ConfirmSectionForm(),
                           expiry_flags=[flag for flag in carry.expiry_flags(application, scheme)
                                         if flag.question.section_id == section.id]), \
        status, ({'Retry-After': '60'} if status == 503 else {})


@bp.route('/applications/<int:application_id>/sections/<section_id>/confirm', methods=['POST'])
@login_required
def confirm_section(application_id: int, section_id: str):
    """Confirm a carried-forward section is unchanged, in one action."""
    application = _load_application(application_id, edit=True)
    if not application.is_editable:
        return _locked(application)
    if ConfirmSectionForm().validate_on_submit():
        try:
            services.confirm_section(application, section_id, actor=current_user)
        except DomainError as exc:
            flash(str(exc), 'error')
            return redirect(url_for('qualification.edit_section', application_id=application.id,
                                    section_id=section_id))
        title = services.scheme_for(application).section(section_id).title
        flash(f'{title}: confirmed unchanged', 'success')
    return redirect(url_for('qualification.task_list', application_id=application.id))


@bp.route('/applications/<int:application_id>/sections/<section_id>/check')
@login_required
def check_section(application_id: int, section_id: str):
    """Check your answers for one section."""
    application = _load_application(application_id)
    scheme = services.scheme_for(application)
    section = scheme.section(section_id)
    if section is None or not section.applies(application.lots):
        abort(404)
    values = services.current_values(application, scheme)
    questions = rules.visible_questions(scheme, section, application.lots, values)
    missing = set(services.missing_answers(application, scheme).get(section.id, []))
    return render_template('qualification/check_section.html', application=application, scheme=scheme,
                           section=section, questions=questions, values=values, missing=missing,
                           record_urls=_record_urls(application, scheme),
                           editable=application.is_editable
                           and permissions.can_edit_application(current_user, application))


@bp.route('/applications/<int:application_id>/submit', methods=['GET', 'POST'])
@login_required
def submit_application(application_id: int):
    """Check everything, make the declaration and submit."""
    application = _load_application(application_id, edit=True)
    if not application.is_editable:
        if request.method == 'POST':
            return _locked(application)
        return redirect(url_for('qualification.view_snapshot', application_id=application.id))
    scheme = services.scheme_for(application)
    missing = services.missing_answers(application, scheme)
    form = DeclarationForm()
    source = application.carried_forward_from
    if source is not None and not form.is_submitted():
        form.name.data, form.role.data = source.declaration_name, source.declaration_role
    if form.validate_on_submit():
        try:
            services.submit(application, {'name': form.name.data, 'role': form.role.data}, actor=current_user)
        except (DomainError, InvalidTransition) as exc:
            flash(str(exc), 'error')
        else:
            return redirect(url_for('qualification.submitted', application_id=application.id))
    values = services.current_values(application, scheme)
    sections = [(section, rules.visible_questions(scheme, section, application.lots, values))
                for section in scheme.sections_for(application.lots)]
    return render_template('qualification/submit.html', application=application, scheme=scheme, form=form,
                           missing=missing, sections=sections, values=values,
                           record_urls=_record_urls(application, scheme)), (400 if form.errors else 200)


@bp.route('/applications/<int:application_id>/submitted')
@login_required
def submitted(application_id: int):
    """Confirmation panel."""
    application = _load_application(application_id)
    return render_template('qualification/submitted.html', application=application)


def _snapshot_context(application: Application) -> dict:
    snapshot = application.snapshot
    if snapshot:
        values, evidence, outcomes = snapshot['answers'], snapshot['evidence'], snapshot.get('outcomes', {})
    else:
        values = application.answer_values()
        evidence = [item.metadata_dict() for item in application.evidence]
        outcomes = {}
    decided = application.status in {ApplicationStatus.APPROVED, ApplicationStatus.REJECTED}
    return {'values': values, 'evidence_items': evidence, 'outcomes': outcomes,
            'show_outcomes': is_board(current_user),
            'lot_decisions': board.lot_decisions(application) if decided or is_board(current_user) else [],
            # the board's marks are internal until the decision is signed off
            'feedback': board.question_feedback(application) if decided else []}


@bp.route('/applications/<int:application_id>/snapshot')
@login_required
def view_snapshot(application_id: int):
    """The application as submitted (the frozen snapshot), read-only."""
    application = _load_application(application_id)
    return render_template('qualification/snapshot.html', application=application,
                           scheme=services.scheme_for(application), **_snapshot_context(application))


@bp.route('/applications/<int:application_id>/withdraw', methods=['GET', 'POST'])
@login_required
def withdraw_application(application_id: int):
    """Confirm and withdraw an open application."""
    application = _load_application(application_id, edit=True)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            services.withdraw(application, actor=current_user, reason=form.reason.data or '')
        except InvalidTransition as exc:
            flash(str(exc), 'error')
        else:
            flash('The application has been withdrawn', 'success')
            return redirect(url_for('qualification.index'))
    return render_template('qualification/withdraw.html', application=application, form=form)


#: Evidence links given to commissioners are signed for them and last a working day.
EVIDENCE_LINK_SALT = 'qualification.evidence-link'
EVIDENCE_LINK_SECONDS = 8 * 3600


def _evidence_link_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config['SECRET_KEY'], salt=EVIDENCE_LINK_SALT)


@bp.app_template_global('evidence_url')
def evidence_url(evidence: Evidence) -> str:
    """The download link for a document, signed for the signed-in user.

    Commissioners can only use links the pages they are meant to see gave them (the provider profile), so
    counting through ids reaches nothing; members and the board may use plain links too.
    """
    token = _evidence_link_signer().dumps([evidence.id, current_user.get_id()])
    return url_for('qualification.download_evidence', evidence_id=evidence.id, t=token)


def _signed_for_current_user(evidence_id: int) -> bool:
    try:
        signed_id, user_id = _evidence_link_signer().loads(request.args.get('t', ''), max_age=EVIDENCE_LINK_SECONDS)
    except (BadSignature, ValueError, TypeError):
        return False
    return signed_id == evidence_id and user_id == current_user.get_id()


@bp.route('/evidence/<int:evidence_id>')
@login_required
def download_evidence(evidence_id: int):
    """Check who is asking, then send them to a short-lived signed link."""
    evidence = get_or_404(Evidence, evidence_id)
    require(permissions.can_read_evidence(current_user, evidence))
    if permissions.is_commissioner_reader(current_user):
        require(_signed_for_current_user(evidence.id))
    return redirect(get_storage().url(evidence.storage_key, evidence.filename))


@bp.route('/evidence/<int:evidence_id>/remove', methods=['POST'])
@login_required
def remove_evidence(evidence_id: int):
    """Remove a document from a draft application."""
    evidence = get_or_404(Evidence, evidence_id)
    application = evidence.application
    require(permissions.can_edit_application(current_user, application))
    if not application.is_editable:
        return _locked(application)
    section_id = services.scheme_for(application).questions[evidence.question_id].section_id
    form = RemoveEvidenceForm()
    if form.validate_on_submit():
        filename = evidence.filename
        services.remove_evidence(evidence, actor=current_user)
        flash(f'{filename} has been removed', 'success')
    return redirect(url_for('qualification.edit_section', application_id=application.id, section_id=section_id))
