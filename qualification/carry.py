"""Qualify once: what a new application carries forward, which facts come from the organisation's record, which
carried documents have expired, and what changed since the application it was carried from.

Nothing here commits: :mod:`qualification.services` and :mod:`qualification.board` call these helpers inside
their own unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from qualification import answers as answer_rules
from qualification import rules
from qualification.applications import Answer, Application, Evidence
from qualification.schemes import Expiry, Question, Scheme, SchemeError
from qualification.states import ApplicationStatus
from registry.db import utcnow
from registry.extensions import db

#: A carried-forward document expiring within this many days must be replaced before the application is submitted.
EXPIRY_WARNING_DAYS = 30

#: Expiring documents of questions whose scheme version does not say ``expires:`` itself. Version 2026.1 is
#: published and immutable (its sha256 is recorded), so its insurance certificates and safeguarding policy are
#: declared here; later versions (2026.2 on) declare ``expires`` on the question, which takes precedence.
DEFAULT_EXPIRY: dict[str, Expiry] = {
    'ins-certificates': Expiry(('ins-el-expiry', 'ins-pl-expiry', 'ins-pi-expiry')),
    'sg-policy': Expiry(('sg-policy-reviewed',), after_days=365),
}

#: Questions answered by the organisation's own record rather than typed into each application.
FACT_QUESTIONS = ('org-legal-name', 'org-legal-form', 'org-company-number', 'reg-urns')

#: The organisation's legal forms as the scheme's ``org-legal-form`` choices.
_LEGAL_FORM_CHOICES = {
    'company-limited-by-shares': 'company', 'company-limited-by-guarantee': 'company',
    'community-interest-company': 'cic', 'charitable-incorporated-organisation': 'charity',
    'charitable-company': 'charity', 'limited-liability-partnership': 'partnership', 'partnership': 'partnership',
    'local-authority': 'public-body', 'nhs-body': 'public-body',
}

#: Statuses of an application that has been submitted at least once (so it has a frozen snapshot).
_SUBMITTED = (ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW, ApplicationStatus.CLARIFICATION_REQUESTED,
              ApplicationStatus.DECISION_PROPOSED, ApplicationStatus.APPROVED, ApplicationStatus.REJECTED)


# --- where a new application starts from ---------------------------------------------------------------------------

def source_application(organisation_id: int, *, exclude_id: int | None = None) -> Application | None:
    """The organisation's latest approved application, else its latest submitted one, else its latest one."""
    query = select(Application).where(Application.organisation_id == organisation_id)
    if exclude_id is not None:
        query = query.where(Application.id != exclude_id)
    approved = db.session.scalar(query.where(Application.status == ApplicationStatus.APPROVED)
                                 .order_by(Application.decided_at.desc(), Application.id.desc()).limit(1))
    if approved is not None:
        return approved
    submitted = db.session.scalar(query.where(Application.status.in_(_SUBMITTED),
                                              Application.submitted_at.is_not(None))
                                  .order_by(Application.submitted_at.desc(), Application.id.desc()).limit(1))
    if submitted is not None:
        return submitted
    # nothing submitted yet: a draft withdrawn (say, to restart on a newer scheme version) still saves retyping
    return db.session.scalar(query.order_by(Application.created_at.desc(), Application.id.desc()).limit(1))


#: How many earlier approved applications fill gaps the latest one leaves (answers to another lot's questions).
GAP_SOURCES = 4


def source_applications(organisation_id: int, *, exclude_id: int | None = None,
                        before=None) -> list[Application]:
    """Where a new application's answers come from, in order: :func:`source_application` first, then earlier
    approved applications, which answer questions the first one did not ask (a lot it did not cover)."""
    first = source_application(organisation_id, exclude_id=exclude_id)
    if first is None:
        return []
    query = select(Application).where(Application.organisation_id == organisation_id,
                                      Application.status == ApplicationStatus.APPROVED, Application.id != first.id)
    if exclude_id is not None:
        query = query.where(Application.id != exclude_id)
    if before is not None:
        query = query.where(Application.decided_at <= before)
    others = db.session.scalars(query.order_by(Application.decided_at.desc(), Application.id.desc())
                                .limit(GAP_SOURCES)).all()
    return [first, *others]


def frozen_values(application: Application) -> dict[str, Any]:
    """The answers as submitted (the snapshot), or the live rows for an application never submitted."""
    return dict((application.snapshot or {}).get('answers') or application.answer_values())


def provenance(application: Application) -> str:
    """"Carried forward from QA-12, approved 3 June 2026" (or "submitted ..."), or '' for a fresh application."""
    source = application.carried_forward_from
    if source is None:
        return ''
    if source.status == ApplicationStatus.APPROVED and source.decided_at:
        return f'Carried forward from QA-{source.id}, approved {_long_date(source.decided_at.date())}'
    if source.submitted_at:
        return f'Carried forward from QA-{source.id}, submitted {_long_date(source.submitted_at.date())}'
    return f'Carried forward from QA-{source.id}'


def _long_date(day: date) -> str:
    return f'{day.day} {day:%B %Y}'


def carry_forward(application: Application, scheme: Scheme, sources: list[tuple[Application, Scheme]],
                  actor) -> list[str]:
    """Copy answers and documents whose question is unchanged and applies to ``application``'s lots.

    Each question takes its answer (and its documents) from the first of ``sources`` that has one, so a renewal
    after a second lot was added gets both lots' answers. Documents keep their stored file (the storage key is
    shared, nothing is copied); an expiring document records when it expires, worked out from the answers it was
    submitted with. Facts held in the organisation's record are not copied: they are read from the record.
    Returns the question ids carried.
    """
    facts = fact_values(application.organisation, scheme, application.lots)
    new_questions = scheme.questions
    carried: list[str] = []
    sections: set[str] = set()
    now = utcnow()
    for source, source_scheme in sources:
        old_questions = source_scheme.questions
        values = frozen_values(source)

        def same(question_id: str, old_questions=old_questions) -> Question | None:
            old, new = old_questions.get(question_id), new_questions.get(question_id)
            if old is None or new is None or old.fingerprint != new.fingerprint or not new.applies(application.lots):
                return None
            return new

        for question_id, value in values.items():
            question = same(question_id)
            if (question is None or question.type == 'evidence' or question_id in facts or question_id in carried
                    or rules.is_blank(value)):
                continue
            db.session.add(Answer(application_id=application.id, question_id=question_id, value=value,
                                  updated_at=now, updated_by_id=actor.id))
            carried.append(question_id)
            sections.add(question.section_id)
        submitted_ids = ({item['id'] for item in (source.snapshot or {}).get('evidence', [])}
                         if source.snapshot else None)
        documents: dict[str, list[Evidence]] = {}
        for item in source.evidence:
            if same(item.question_id) is not None and item.question_id not in carried and (
                    submitted_ids is None or item.id in submitted_ids):
                documents.setdefault(item.question_id, []).append(item)
        for question_id, items in documents.items():
            question = new_questions[question_id]
            rule = expiry_rule(scheme, question)
            for item in items:
                db.session.add(Evidence(application_id=application.id, question_id=question_id,
                                        storage_key=item.storage_key, filename=item.filename, sha256=item.sha256,
                                        content_type=item.content_type, size=item.size,
                                        uploaded_by_id=item.uploaded_by_id, uploaded_at=item.uploaded_at,
                                        expires_on=expiry_date(rule, values) if rule else None))
            carried.append(question_id)
            sections.add(question.section_id)
    application.carried_forward_from_id = sources[0][0].id if sources else None
    application.carried_sections = [section.id for section in scheme.sections if section.id in sections]
    application.confirmed_sections = []
    db.session.flush()
    db.session.expire(application, ['answers', 'evidence', 'carried_forward_from'])
    return carried


def source_scheme_for(source: Application, loader) -> Scheme | None:
    """The scheme ``source`` was made against, or None when its file can no longer be loaded."""
    try:
        return loader(source.scheme_version)
    except SchemeError:
        return None


def sections_to_confirm(application: Application) -> list[str]:
    """Carried-forward sections the provider has neither confirmed unchanged nor saved."""
    confirmed = set(application.confirmed_sections or [])
    return [section_id for section_id in application.carried_sections or [] if section_id not in confirmed]


# --- evidence that expires -----------------------------------------------------------------------------------------

def expiry_rule(scheme: Scheme, question: Question) -> Expiry | None:
    """How ``question``'s documents expire: the scheme's ``expires``, else :data:`DEFAULT_EXPIRY` if it fits."""
    if question.type != 'evidence':
        return None
    if question.expires is not None:
        return question.expires
    rule = DEFAULT_EXPIRY.get(question.id)
    questions = scheme.questions
    if rule is None or not all(questions.get(qid) is not None and questions[qid].type == 'date'
                               for qid in rule.dates):
        return None
    return rule


def expiry_date(rule: Expiry, values: dict[str, Any]) -> date | None:
    """The earliest of the rule's date answers plus its ``after_days``; None when none is answered."""
    days = []
    for question_id in rule.dates:
        try:
            days.append(date.fromisoformat(values.get(question_id)))
        except (TypeError, ValueError):
            continue
    return min(days) + timedelta(days=rule.after_days) if days else None


@dataclass(frozen=True)
class ExpiryFlag:
    """A carried-forward document that has expired or expires soon, and so must be replaced."""

    question: Question
    evidence: Evidence
    expires_on: date
    expired: bool

    @property
    def message(self) -> str:
        label = self.question.label.removeprefix('Upload ').rstrip('.')
        when = (f'expired on {_long_date(self.expires_on)}' if self.expired
                else f'expires on {_long_date(self.expires_on)}, within {EXPIRY_WARNING_DAYS} days')
        return f'{self.evidence.filename} ({label}) {when}: upload a replacement'


def expiry_flags(application: Application, scheme: Scheme, today: date | None = None) -> list[ExpiryFlag]:
    """Carried-forward documents that expire within :data:`EXPIRY_WARNING_DAYS` (or already have)."""
    today = today or date.today()
    horizon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    questions = scheme.questions
    flags = []
    for item in application.evidence:
        question = questions.get(item.question_id)
        if question is None or item.expires_on is None or item.expires_on > horizon:
            continue
        flags.append(ExpiryFlag(question, item, item.expires_on, expired=item.expires_on < today))
    return flags


# --- facts held once, in the organisation's record -----------------------------------------------------------------

def organisation_facts(organisation) -> dict[str, Any]:
    """The organisation's facts as the application shows them and the snapshot records them (no home addresses)."""
    address = ', '.join(part for part in (organisation.address_line_1, organisation.address_line_2,
                                          organisation.town, organisation.postcode) if part)
    settings = [{'urn': setting.urn, 'name': setting.name,
                 'judgement': setting.judgement.value if setting.judgement else 'not-yet-inspected'}
                for setting in sorted(organisation.settings, key=lambda setting: setting.urn or '') if setting.urn]
    return {'legal_name': organisation.legal_name, 'legal_form': organisation.legal_form.value,
            'legal_form_label': organisation.legal_form.label, 'company_number': organisation.company_number or '',
            'charity_number': organisation.charity_number or '', 'address': address, 'settings': settings}


#: Labels for the facts the board sees compared.
FACT_LABELS = {'legal_name': 'Legal name', 'legal_form_label': 'Legal form', 'company_number': 'Company number',
               'charity_number': 'Charity number', 'address': 'Registered address',
               'settings': 'Regulated settings'}


def fact_values(organisation, scheme: Scheme, lots) -> dict[str, Any]:
    """question id -> the answer the organisation's record gives, for fact questions the record can answer."""
    facts = organisation_facts(organisation)
    questions = scheme.questions
    number = facts['company_number'] or facts['charity_number']
    candidates = {
        'org-legal-name': facts['legal_name'] or None,
        'org-legal-form': _LEGAL_FORM_CHOICES.get(facts['legal_form']),
        'org-company-number': number or None,
        'reg-urns': [{'urn': row['urn'], 'judgement': row['judgement']} for row in facts['settings']] or None,
    }
    values = {}
    for question_id, value in candidates.items():
        question = questions.get(question_id)
        if value is None or question is None or not question.applies(lots):
            continue
        if question.type != 'rows' and answer_rules.check_stored(question, value):
            continue  # the record holds something the question cannot take: the provider answers it instead
        values[question_id] = value
    return values


def sync_facts(application: Application, scheme: Scheme, actor) -> dict[str, tuple[Any, Any]]:
    """Write the record's facts into the application's answers (no commit); returns {question id: (before, after)}."""
    values = fact_values(application.organisation, scheme, application.lots)
    existing = {answer.question_id: answer for answer in application.answers}
    changed = {}
    now = utcnow()
    for question_id, value in values.items():
        current = existing.get(question_id)
        if current is None:
            db.session.add(Answer(application_id=application.id, question_id=question_id, value=value,
                                  updated_at=now, updated_by_id=getattr(actor, 'id', None)))
            changed[question_id] = (None, value)
        elif current.value != value:
            changed[question_id] = (current.value, value)
            current.value, current.updated_at = value, now
    if changed:
        db.session.flush()
        db.session.expire(application, ['answers'])
    return changed


def fact_changes(application: Application) -> list[dict[str, str]]:
    """Facts in the organisation's record that changed since the application was submitted (for the board)."""
    recorded = (application.snapshot or {}).get('organisation')
    if not recorded or application.organisation is None:
        return []
    current = organisation_facts(application.organisation)
    rows = []
    for key, label in FACT_LABELS.items():
        before, after = recorded.get(key), current.get(key)
        if before != after:
            rows.append({'label': label, 'before': _fact_text(key, before), 'after': _fact_text(key, after)})
    return rows


def _fact_text(key: str, value) -> str:
    if key == 'settings':
        return '; '.join(f'{row["urn"]} {row.get("name", "")}'.strip() for row in value or []) or 'None'
    return str(value or '') or 'None'


# --- what changed since the previous application -------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """One question compared with the application this one was carried forward from."""

    question_id: str
    unchanged: bool
    before: str
    after: str
    #: The application compared with (where the carried answer came from).
    previous_id: int


def previous_for_review(application: Application) -> Application | None:
    """The submitted application this one was carried forward from, if there is one to compare with."""
    source = application.carried_forward_from
    if source is None or not source.snapshot:
        return None
    return source


def review_sources(application: Application, previous: Application) -> list[Application]:
    """``previous`` then the earlier approved applications the answers may have come from (see
    :func:`carry_forward`), for comparing each question with the application its answer came from."""
    others = db.session.scalars(select(Application).where(
        Application.organisation_id == application.organisation_id, Application.status == ApplicationStatus.APPROVED,
        Application.id.not_in([application.id, previous.id]), Application.decided_at <= application.created_at)
        .order_by(Application.decided_at.desc(), Application.id.desc()).limit(GAP_SOURCES)).all()
    return [previous, *[other for other in others if other.snapshot]]


def compare(application: Application, scheme: Scheme, sources: list[tuple[Application, Scheme]],
            questions: list[Question]) -> dict[str, Change]:
    """question id -> unchanged or changed (old and new values as text), each compared with the first of
    ``sources`` whose lots the question applies to (the application its carried answer came from)."""
    now_values = (application.snapshot or {}).get('answers') or application.answer_values()
    new_evidence: dict[str, list[tuple[str, str]]] = {}
    for item in application.evidence:
        new_evidence.setdefault(item.question_id, []).append((item.sha256, item.filename))
    changes = {}
    for question in questions:
        previous, previous_scheme = next(((source, source_scheme) for source, source_scheme in sources
                                          if question.applies(source.lots)), sources[0])
        old_question = previous_scheme.questions.get(question.id)
        comparable = old_question is not None and old_question.fingerprint == question.fingerprint
        if question.type == 'evidence':
            before = sorted((item['sha256'], item['filename']) for item in previous.snapshot.get('evidence', [])
                            if item['question_id'] == question.id)
            after = sorted(new_evidence.get(question.id, []))
            changes[question.id] = Change(
                question.id, comparable and {sha for sha, _ in before} == {sha for sha, _ in after},
                ', '.join(name for _, name in before) or 'None', ', '.join(name for _, name in after) or 'None',
                previous.id)
            continue
        before_value, after_value = frozen_values(previous).get(question.id), now_values.get(question.id)
        changes[question.id] = Change(
            question.id, comparable and before_value == after_value,
            answer_rules.display(old_question or question, before_value) or 'Not answered',
            answer_rules.display(question, after_value) or 'Not answered', previous.id)
    return changes
