"""Service verbs for applications: each is one transaction that audits what it changed."""

from __future__ import annotations

import secrets
from datetime import date
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select

from qualification import answers as answer_rules
from qualification import board, carry, rules
from qualification.applications import Answer, Application, Evidence, SchemeVersion
from qualification.evidence import CheckedUpload
from qualification.permissions import can_edit_application, can_start_application
from qualification.schemes import (
    Question,
    Scheme,
    SchemeError,
    Section,
    current_version,
    list_versions,
    load_scheme,
    version_key,
)
from qualification.states import OPEN_STATUSES, ApplicationAction, ApplicationStatus, SchemeVersionStatus
from qualification.workflow import apply_transition
from registry.audit.services import record
from registry.db import after_commit, retry_on_conflict, unit_of_work, utcnow
from registry.errors import DomainError, PermissionDenied
from registry.extensions import db
from registry.storage import get_storage


class ApplicationLocked(DomainError):
    """The application is not open for changes (it has been submitted or closed)."""


class ApplicationIncomplete(DomainError):
    """Submission refused: some required questions are unanswered."""

    def __init__(self, message: str, missing: dict[str, list[str]]):
        super().__init__(message)
        self.missing = missing


# --- schemes -----------------------------------------------------------------------------------------------------

def schemes_dir() -> Path | None:
    """Where scheme files are read from (config ``QUALIFICATION_SCHEMES_DIR``; tests point it at fixtures)."""
    configured = current_app.config.get('QUALIFICATION_SCHEMES_DIR')
    return Path(configured) if configured else None


def get_scheme(version: str) -> Scheme:
    """Load a scheme version, refusing a published version whose file changed since the registry first used it.

    :raises SchemeError: the file is invalid, missing, or a published version was edited.
    """
    recorded = db.session.get(SchemeVersion, version)
    if recorded is not None and recorded.is_uploaded:
        from qualification.scheme_publishing import uploaded_scheme

        return uploaded_scheme(recorded)
    scheme = load_scheme(version, schemes_dir())
    if recorded is not None and recorded.is_published and recorded.sha256 != scheme.sha256:
        raise SchemeError(
            f'{scheme.filename}: published version {version} has changed since it was first used '
            f'(recorded sha256 {recorded.sha256[:12]}…, file now {scheme.sha256[:12]}…); '
            'published versions are immutable: restore the file and publish the change as a new version')
    return scheme


def _register_scheme(scheme: Scheme) -> SchemeVersion:
    """Record the version's sha256 the first time it is used (inside the caller's transaction)."""
    recorded = db.session.get(SchemeVersion, scheme.version)
    now = utcnow()
    status = SchemeVersionStatus.PUBLISHED if scheme.published else SchemeVersionStatus.DRAFT
    if recorded is None:
        recorded = SchemeVersion(version=scheme.version, sha256=scheme.sha256, status=status,
                                 published_at=now if scheme.published else None, first_used_at=now)
        db.session.add(recorded)
    elif recorded.is_uploaded:
        pass  # the board's upload: its content and status change only through qualification.scheme_publishing
    elif not recorded.is_published:
        # drafts of a scheme file may still change; once published the content is fixed
        recorded.sha256 = scheme.sha256
        if scheme.published:
            recorded.status, recorded.published_at = SchemeVersionStatus.PUBLISHED, now
    db.session.flush()
    return recorded


def effective_version(today: date | None = None) -> str:
    """The version a new application uses: the newest published version in effect ``today``.

    Published scheme files count from their publication; versions the board publishes in the service count from
    their effective date. With nothing published yet, the newest file (as :func:`current_version` does).
    """
    today = today or date.today()
    directory = schemes_dir()
    candidates = list(db.session.scalars(select(SchemeVersion.version).where(
        SchemeVersion.content.is_not(None), SchemeVersion.status == SchemeVersionStatus.PUBLISHED,
        SchemeVersion.effective_from <= today)))
    candidates += [version for version in list_versions(directory) if load_scheme(version, directory).published]
    if candidates:
        return max(candidates, key=version_key)
    return current_version(directory)


def scheme_for(application: Application) -> Scheme:
    return get_scheme(application.scheme_version)


# --- reading progress ----------------------------------------------------------------------------------------------

def current_values(application: Application, scheme: Scheme) -> dict[str, Any]:
    """The stored answers, with the facts the organisation's record answers read from the record as it is now."""
    values = application.answer_values()
    if application.is_editable and application.organisation is not None:
        values.update(carry.fact_values(application.organisation, scheme, application.lots))
    return values


def is_answered(application: Application, question: Question, values: dict[str, Any]) -> bool:
    if question.type == 'evidence':
        return bool(application.evidence_for(question.id))
    return not rules.is_blank(values.get(question.id))


def missing_answers(application: Application, scheme: Scheme) -> dict[str, list[str]]:
    """section id -> ids of shown, required, unanswered questions (for the chosen lots)."""
    values = current_values(application, scheme)
    shown = rules.triggered_ids(scheme, values, application.lots)
    missing: dict[str, list[str]] = {}
    for section in scheme.sections_for(application.lots):
        ids = [question.id for question in section.questions
               if question.id in shown and question.required and not is_answered(application, question, values)]
        if ids:
            missing[section.id] = ids
    return missing


def section_status(application: Application, scheme: Scheme, section: Section) -> str:
    """``not-started``, ``in-progress``, ``carried`` (to confirm or change) or ``completed`` for the task list."""
    if section.id in carry.sections_to_confirm(application):
        return 'carried'
    values = current_values(application, scheme)
    shown = rules.triggered_ids(scheme, values, application.lots)
    questions = [question for question in section.questions if question.id in shown]
    answered = [question for question in questions if is_answered(application, question, values)]
    if not answered:
        return 'not-started'
    if all(is_answered(application, question, values) for question in questions if question.required):
        return 'completed'
    return 'in-progress'


# --- verbs ---------------------------------------------------------------------------------------------------------

def open_application(organisation_id: int) -> Application | None:
    """The organisation's one open application, if any."""
    return db.session.scalar(select(Application).where(
        Application.organisation_id == organisation_id, Application.status.in_(list(OPEN_STATUSES))))


def start_application(organisation, lots: list[str], *, actor, version: str | None = None) -> Application:
    """Start a draft application for ``lots`` on the scheme version in effect today (or the given one).

    An application keeps the version it was started on, even after the board publishes a newer one.

    It starts from what was approved: answers and documents to unchanged questions carry forward from the
    organisation's latest approved application (else its latest submitted one), whatever its version or lots, and
    the organisation's facts are read from its record.

    :raises PermissionDenied: the actor is not a member of the organisation.
    :raises DomainError: an application is already open, or the lots are not offered by the scheme.
    """
    if not can_start_application(actor, organisation):
        raise PermissionDenied('Only members of the organisation can apply for it')
    scheme = get_scheme(version or effective_version())
    chosen = [lot for lot in scheme.lot_ids if lot in set(lots)]
    if not chosen or len(chosen) != len(set(lots)):
        raise DomainError('Select at least one of the lots offered by the scheme')
    if open_application(organisation.id) is not None:
        raise DomainError(f'{organisation.display_name} already has an open application; '
                          'continue that one or withdraw it first')
    sources = [(source, source_scheme) for source in carry.source_applications(organisation.id)
               if (source_scheme := carry.source_scheme_for(source, get_scheme)) is not None]
    with unit_of_work():
        _register_scheme(scheme)
        application = Application(organisation_id=organisation.id, scheme_version=scheme.version, lots=chosen,
                                  status=ApplicationStatus.DRAFT, started_by_id=actor.id)
        db.session.add(application)
        db.session.flush()
        carried = carry.carry_forward(application, scheme, sources, actor) if sources else []
        record('application.start', application, actor=actor,
               after={'scheme_version': scheme.version, 'lots': chosen, 'carried_forward': sorted(carried),
                      'carried_forward_from': application.carried_forward_from_id})
    return application


def confirm_section(application: Application, section_id: str, *, actor) -> Application:
    """The provider confirms a carried-forward section is unchanged, in one action (audited).

    :raises ApplicationLocked: the application has been submitted or closed.
    :raises DomainError: the section was not carried forward, has unanswered questions, or holds a carried
        document that has expired or expires soon.
    """
    _check_editable(application, actor)
    scheme = scheme_for(application)
    section = scheme.section(section_id)
    if section is None or not section.applies(application.lots) or section_id not in application.carried_sections:
        raise DomainError('Only sections carried forward from an earlier application can be confirmed unchanged')
    flags = [flag for flag in carry.expiry_flags(application, scheme) if flag.question.section_id == section_id]
    if flags:
        raise DomainError(flags[0].message + ', before you confirm this section')
    missing = missing_answers(application, scheme).get(section_id)
    if missing:
        labels = ', '.join(f'‘{scheme.questions[qid].label.rstrip("?")}’' for qid in missing[:3])
        raise DomainError(f'Answer {labels} before you confirm this section')
    if section_id in (application.confirmed_sections or []):
        return application
    with unit_of_work():
        application.confirmed_sections = [*(application.confirmed_sections or []), section_id]
        application.updated_at = utcnow()
        record('application.confirm_section', application, actor=actor, reason=f'section {section_id}',
               after={'section': section_id, 'carried_forward_from': application.carried_forward_from_id})
    return application


def _check_editable(application: Application, actor, question_id: str | None = None) -> None:
    if not can_edit_application(actor, application):
        raise PermissionDenied('Only members of the organisation can change its application')
    if not application.is_editable:
        raise ApplicationLocked(f'This application is {application.status.label.lower()} and can no longer be '
                                'changed')
    if question_id is not None:
        flagged = board.flagged_question_ids(application)
        if flagged is not None and question_id not in flagged:
            raise ApplicationLocked('Only the questions the national board asked about can be changed')


@retry_on_conflict
def save_answers(application: Application, section_id: str, form_data: dict[str, Any], *, actor,
                 uploads: dict[str, list[CheckedUpload]] | None = None) -> Application:
    """Save one section's answers (and any new uploads) in one transaction.

    ``form_data`` maps question id to a value in stored form (see :mod:`qualification.answers`). Answers to
    follow-up questions that are no longer shown are removed, so the application never keeps stale answers.
    Facts the organisation's record answers are read from the record, never from ``form_data``. A new upload to
    an expiring question replaces the documents carried forward to it. Saving a carried-forward section counts
    as reviewing it: it no longer needs confirming.

    :raises ApplicationLocked: the application has been submitted or closed.
    :raises DomainError: a value does not fit its question.
    """
    _check_editable(application, actor)
    scheme = scheme_for(application)
    section = scheme.section(section_id)
    if section is None or not section.applies(application.lots):
        raise DomainError(f'There is no section {section_id!r} in this application')
    section_questions = {question.id: question for question in section.questions_for(application.lots)}
    facts = carry.fact_values(application.organisation, scheme, application.lots)
    form_data = {qid: value for qid, value in form_data.items() if qid not in facts}
    section_questions = {qid: question for qid, question in section_questions.items() if qid not in facts}
    flagged = board.flagged_question_ids(application)
    if flagged is not None:
        # during clarification only the questions the board flagged may change
        refused = sorted((set(form_data) | set(uploads or {})) - flagged)
        if refused:
            raise ApplicationLocked('Only the questions the national board asked about can be changed')
        section_questions = {qid: question for qid, question in section_questions.items() if qid in flagged}
    for question_id, value in form_data.items():
        question = section_questions.get(question_id)
        if question is None:
            raise DomainError(f'Question {question_id!r} is not in section {section_id!r}')
        problem = answer_rules.check_stored(question, value)
        if problem:
            raise DomainError(f'{question.label}: {problem}')
    values = application.answer_values()
    values.update(form_data)
    shown = rules.triggered_ids(scheme, values, application.lots)
    existing = {answer.question_id: answer for answer in application.answers}
    stored_keys: list[str] = []
    try:
        with unit_of_work():
            before, after = {}, {}
            now = utcnow()
            for question_id, question in section_questions.items():
                if question.type == 'evidence':
                    continue
                value = form_data.get(question_id) if question_id in shown else None
                if question_id not in form_data and question_id in shown:
                    continue  # not on this submission: leave as it was
                current = existing.get(question_id)
                if rules.is_blank(value):
                    if current is not None:
                        before[question_id] = current.value
                        after[question_id] = None
                        db.session.delete(current)
                    continue
                if current is None:
                    db.session.add(Answer(application_id=application.id, question_id=question_id, value=value,
                                          updated_at=now, updated_by_id=actor.id))
                    before[question_id], after[question_id] = None, value
                elif current.value != value:
                    before[question_id], after[question_id] = current.value, value
                    current.value, current.updated_at, current.updated_by_id = value, now, actor.id
            for question_id, files in (uploads or {}).items():
                question = section_questions.get(question_id)
                if question is None or question.type != 'evidence':
                    raise DomainError(f'Question {question_id!r} does not take uploads')
                if files and carry.expiry_rule(scheme, question) is not None:
                    for old in [item for item in application.evidence
                                if item.question_id == question_id and item.expires_on is not None]:
                        before.setdefault('evidence_replaced', []).append(old.filename)
                        db.session.delete(old)  # the file stays: the application it came from still uses it
                for upload in files:
                    item = _store_evidence(application, question_id, upload, actor, stored_keys)
                    after.setdefault('evidence', []).append(item.filename)
            application.updated_at = now
            if section_id in (application.carried_sections or []) and \
                    section_id not in (application.confirmed_sections or []):
                application.confirmed_sections = [*(application.confirmed_sections or []), section_id]
                after['section_reviewed'] = section_id
            if before or after:
                record('application.save_answers', application, actor=actor, before=before, after=after,
                       reason=f'section {section_id}')
    except BaseException:
        _delete_blobs(stored_keys)
        raise
    db.session.expire(application, ['answers', 'evidence'])
    return application


def _store_evidence(application: Application, question_id: str, upload: CheckedUpload, actor,
                    stored_keys: list[str]) -> Evidence:
    """Write the file under a random key and add its row (no commit)."""
    key = f'evidence/{application.organisation_id}/{secrets.token_urlsafe(24)}'
    get_storage().save(key, upload.stream(), upload.content_type)
    stored_keys.append(key)
    item = Evidence(application_id=application.id, question_id=question_id, storage_key=key,
                    filename=upload.filename, sha256=upload.sha256, content_type=upload.content_type,
                    size=upload.size, uploaded_by_id=actor.id, uploaded_at=utcnow())
    db.session.add(item)
    db.session.flush()
    return item


def _delete_blobs(keys: list[str]) -> None:
    storage = get_storage()
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # noqa: BLE001 - best effort: the row was never committed
            current_app.logger.warning('could not delete orphaned document %s', key)


def upload_evidence(application: Application, question_id: str, upload: CheckedUpload, *, actor) -> Evidence:
    """Attach one checked upload to an evidence question.

    :raises ApplicationLocked: the application has been submitted or closed.
    """
    _check_editable(application, actor, question_id)
    question = scheme_for(application).questions.get(question_id)
    if question is None or question.type != 'evidence' or not question.applies(application.lots):
        raise DomainError(f'Question {question_id!r} does not take uploads')
    stored: list[str] = []
    try:
        with unit_of_work():
            item = _store_evidence(application, question_id, upload, actor, stored)
            record('evidence.upload', item, actor=actor, object_type='evidence',
                   after={'application_id': application.id, 'question_id': question_id,
                          'filename': item.filename, 'sha256': item.sha256, 'size': item.size})
    except BaseException:
        _delete_blobs(stored)
        raise
    return item


def remove_evidence(evidence: Evidence, *, actor) -> None:
    """Remove a document from a draft application; the stored file goes once no application refers to it.

    :raises ApplicationLocked: the application has been submitted or closed.
    """
    application = evidence.application
    _check_editable(application, actor, evidence.question_id)
    key = evidence.storage_key
    with unit_of_work():
        record('evidence.remove', evidence, actor=actor, object_type='evidence',
               before={'application_id': application.id, 'question_id': evidence.question_id,
                       'filename': evidence.filename, 'sha256': evidence.sha256})
        db.session.delete(evidence)
        db.session.flush()
        still_used = db.session.scalar(select(func.count(Evidence.id)).where(Evidence.storage_key == key))
        if not still_used:
            after_commit(f'delete-document-{key}', lambda: get_storage().delete(key))
    db.session.expire(application, ['evidence'])


def build_snapshot(application: Application, scheme: Scheme, outcomes: dict[str, str]) -> dict[str, Any]:
    """The frozen record of what was submitted."""
    values = application.answer_values()
    shown = rules.triggered_ids(scheme, values, application.lots)
    return {
        'scheme_version': scheme.version,
        'scheme_sha256': scheme.sha256,
        'lots': list(application.lots),
        'answers': {question_id: value for question_id, value in values.items() if question_id in shown},
        'evidence': [item.metadata_dict() for item in application.evidence if item.question_id in shown],
        'outcomes': outcomes,
        'declaration': {'name': application.declaration_name, 'role': application.declaration_role,
                        'declared_at': application.declared_at.isoformat() if application.declared_at else None},
        'submitted_at': application.submitted_at.isoformat() if application.submitted_at else None,
        # the record's facts as they stood at submission: the board is shown any later change
        'organisation': carry.organisation_facts(application.organisation),
        'carried_forward_from': application.carried_forward_from_id,
    }


def submit(application: Application, declaration: dict[str, str], *, actor) -> Application:
    """Submit (or resubmit after clarification): check completeness, evaluate rules, freeze the snapshot.

    :param declaration: ``{'name': ..., 'role': ...}`` of the person declaring the answers true.
    :raises ApplicationIncomplete: required questions are unanswered.
    :raises InvalidTransition: the application cannot be submitted from its status.
    """
    _check_editable(application, actor)
    scheme = scheme_for(application)
    to_confirm = carry.sections_to_confirm(application)
    if to_confirm:
        titles = ', '.join(scheme.section(section_id).title for section_id in to_confirm if scheme.section(section_id))
        raise ApplicationIncomplete(f'Confirm each section carried forward is unchanged, or change it, before you '
                                    f'submit: {titles}', {section_id: [] for section_id in to_confirm})
    flags = carry.expiry_flags(application, scheme)
    if flags:
        raise ApplicationIncomplete(flags[0].message + ' before you submit',
                                    {flag.question.section_id: [flag.question.id] for flag in flags})
    missing = missing_answers(application, scheme)
    if missing:
        count = sum(len(ids) for ids in missing.values())
        raise ApplicationIncomplete(f'You have {count} unanswered question{"s" if count != 1 else ""}; '
                                    'complete every section before you submit', missing)
    name, role = (declaration.get('name') or '').strip(), (declaration.get('role') or '').strip()
    if not name or not role:
        raise DomainError('Enter the name and role of the person making the declaration')
    with unit_of_work():
        _register_scheme(scheme)
        # the organisation's record may have changed since the application started: submit what it says now
        carry.sync_facts(application, scheme, actor)
        values = application.answer_values()
        outcomes = rules.evaluate_all(scheme, application.lots, values)
        # discard answers to follow-ups that are no longer shown, so the snapshot and the rows agree
        shown = set(outcomes)
        stale = [answer.question_id for answer in application.answers if answer.question_id not in shown]
        if stale:
            db.session.execute(delete(Answer).where(Answer.application_id == application.id,
                                                    Answer.question_id.in_(stale)))
        for answer in application.answers:
            answer.outcome = outcomes.get(answer.question_id)
        application.declaration_name, application.declaration_role = name[:120], role[:120]
        application.declared_at = utcnow()
        board.mark_clarification_answered(application)
        apply_transition(application, ApplicationAction.SUBMIT, actor=actor)
        db.session.expire(application, ['answers'])
        application.snapshot = build_snapshot(application, scheme, outcomes)
    return application


def withdraw(application: Application, *, actor, reason: str = '') -> Application:
    """Withdraw an open application (a member of the organisation only).

    :raises InvalidTransition: the application is already decided or withdrawn.
    """
    if not can_edit_application(actor, application):
        raise PermissionDenied('Only members of the organisation can withdraw its application')
    with unit_of_work():
        apply_transition(application, ApplicationAction.WITHDRAW, actor=actor, reason=reason)
    return application


def transition(application: Application, action: ApplicationAction | str, *, actor, reason: str = '') -> Application:
    """Apply a board action (start review, request clarification, approve, reject) as its own transaction."""
    with unit_of_work():
        apply_transition(application, action, actor=actor, reason=reason)
    return application
