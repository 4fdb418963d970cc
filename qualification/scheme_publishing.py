"""Scheme versions published by the board: upload (validated by the loader), preview, diff, publish.

A board member uploads a scheme file in the service. The loader's checks run on it, so a mistake comes back with
the loader's own message (file, path and question id). A valid upload is kept as a draft version, previewed as
providers will see it and compared with the version in effect. Publishing it (:func:`publish`, one transaction
through the scheme-version transition table, audited) fixes its content and sets the day from which new
applications use it; applications already started keep the version they were started on.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import select, update

from qualification import rules
from qualification.applications import SchemeVersion
from qualification.permissions import can_publish_schemes
from qualification.schemes import (
    Question,
    Scheme,
    SchemeError,
    Section,
    list_versions,
    load_scheme,
    parse_scheme,
    version_key,
)
from qualification.states import SCHEME_MACHINE, SchemeVersionAction, SchemeVersionStatus
from qualification.workflow import apply_scheme_transition
from registry.audit.services import record
from registry.db import unit_of_work, utcnow
from registry.errors import DomainError, InvalidTransition, PermissionDenied
from registry.extensions import db

#: A scheme file is a few dozen kilobytes; anything far larger is not one.
MAX_UPLOAD_BYTES = 512 * 1024
_VERSION_PATTERN = re.compile(r'^[0-9A-Za-z][0-9A-Za-z.\-]{0,19}$')

_cache: dict[tuple[str, str, str], Scheme] = {}

__all__ = ['SCHEME_MACHINE', 'SchemeDiff', 'diff_schemes', 'is_published', 'publish', 'upload_draft', 'uploaded_scheme',
           'validate_upload']


def uploaded_scheme(recorded: SchemeVersion) -> Scheme:
    """The scheme held in an uploaded version's content (parsed once per content and status)."""
    key = (recorded.version, recorded.sha256, recorded.status.value if recorded.status else '')
    if key not in _cache:
        scheme = parse_scheme(recorded.content.encode('utf-8'), f'{recorded.version}.yaml',
                              expected_version=recorded.version)
        _cache[key] = replace(scheme, published=recorded.is_published)
    return _cache[key]


def _known_versions() -> dict[str, SchemeVersion | None]:
    """Every version the service knows: shipped files not used yet (None) and recorded versions."""
    from qualification.services import schemes_dir

    known: dict[str, SchemeVersion | None] = dict.fromkeys(list_versions(schemes_dir()))
    for recorded in db.session.scalars(select(SchemeVersion)):
        known[recorded.version] = recorded
    return known


def is_published(version: str, recorded: SchemeVersion | None) -> bool:
    """Whether a version is published: by its record once used, else by its shipped file."""
    from qualification.services import schemes_dir

    if recorded is not None:
        return recorded.is_published
    return load_scheme(version, schemes_dir()).published


def validate_upload(content: bytes, filename: str) -> Scheme:
    """Check an uploaded scheme file as the loader does, and that its version is new.

    :raises SchemeError: with the loader's message (``2026.2.yaml: sections[3].questions[2] (id): ...``) or one
        naming the version problem.
    """
    name = re.sub(r'[^0-9A-Za-z.\-_]', '_', (filename or 'scheme.yaml').rsplit('/', 1)[-1])[:80] or 'scheme.yaml'
    if not content:
        raise SchemeError(f'{name}: the file is empty')
    if len(content) > MAX_UPLOAD_BYTES:
        raise SchemeError(f'{name}: the file is larger than {MAX_UPLOAD_BYTES // 1024} KB; a scheme file is much '
                          'smaller')
    try:
        content.decode('utf-8')
    except UnicodeDecodeError:
        raise SchemeError(f'{name}: the file must be text in UTF-8 (a .yaml scheme file)') from None
    scheme = parse_scheme(content, name)
    if not _VERSION_PATTERN.match(scheme.version):
        raise SchemeError(f"{name}: version: {scheme.version!r} must be up to 20 letters, numbers, dots and "
                          "hyphens, like '2026.2'")
    known = _known_versions()
    if scheme.version in known:
        existing = known[scheme.version]
        if is_published(scheme.version, existing):
            raise SchemeError(f'{name}: version: {scheme.version} is already published; published versions never '
                              'change, so give this one a new version number')
        if existing is None or not existing.is_uploaded:
            raise SchemeError(f'{name}: version: {scheme.version} is a scheme file shipped with the service; give '
                              'this one a new version number')
    published = [version for version, recorded in known.items() if is_published(version, recorded)]
    newest = max(published, key=version_key, default=None)
    if newest is not None and version_key(scheme.version) <= version_key(newest):
        raise SchemeError(f'{name}: version: {scheme.version} must come after the newest published version, '
                          f'{newest}')
    return scheme


def upload_draft(content: bytes, filename: str, *, actor) -> SchemeVersion:
    """Keep a valid upload as a draft version (a re-upload of the same draft version replaces its content).

    :raises PermissionDenied: the actor is not a board member.
    :raises SchemeError: the file is invalid or its version is not new.
    """
    if not can_publish_schemes(actor):
        raise PermissionDenied('Only board members can upload a scheme version')
    scheme = validate_upload(content, filename)
    with unit_of_work():
        recorded = db.session.get(SchemeVersion, scheme.version)
        before = None
        if recorded is None:
            recorded = SchemeVersion(version=scheme.version, status=SchemeVersionStatus.DRAFT, first_used_at=utcnow())
            db.session.add(recorded)
        else:
            before = {'sha256': recorded.sha256}
        recorded.content = content.decode('utf-8')
        recorded.sha256 = hashlib.sha256(content).hexdigest()
        recorded.uploaded_by_id = actor.id
        db.session.flush()
        record('scheme_version.upload', recorded, actor=actor, before=before,
               after={'sha256': recorded.sha256, 'title': scheme.title, 'lots': list(scheme.lot_ids),
                      'questions': len(scheme.questions)})
    return recorded


def publish(recorded: SchemeVersion, *, effective_from: date, actor, reason: str = '',
            expected_sha256: str | None = None, today: date | None = None) -> SchemeVersion:
    """Publish a draft version: from ``effective_from`` new applications use it; its content is fixed.

    :param expected_sha256: the content the board member previewed; publishing is refused if the draft was
        replaced since (so what is published is what was seen).
    :raises PermissionDenied: the actor is not a board member.
    :raises InvalidTransition: the version is already published, or was replaced or published by someone else.
    :raises DomainError: the date is in the past, a newer version is published, or the content no longer loads.
    """
    if not can_publish_schemes(actor):
        raise PermissionDenied('Only board members can publish a scheme version')
    today = today or date.today()
    if effective_from < today:
        raise DomainError('The date it takes effect must be today or in the future')
    if recorded.is_uploaded and not recorded.is_published:
        # check again: another version may have been published since this draft was uploaded
        try:
            validate_upload(recorded.content.encode('utf-8'), f'{recorded.version}.yaml')
        except SchemeError as exc:
            raise DomainError(str(exc)) from None
    with unit_of_work():
        _claim(recorded, expected_sha256)
        apply_scheme_transition(recorded, SchemeVersionAction.PUBLISH, actor=actor, reason=reason,
                                effective_from=effective_from)
    return recorded


def _claim(recorded: SchemeVersion, expected_sha256: str | None) -> None:
    """Compare-and-set first thing in the transaction: one publication wins, and only of the content seen."""
    if recorded.is_published:
        return  # the transition table refuses it with its own message
    conditions = [SchemeVersion.version == recorded.version, SchemeVersion.status == SchemeVersionStatus.DRAFT,
                  SchemeVersion.sha256 == (expected_sha256 or recorded.sha256)]
    result = db.session.execute(update(SchemeVersion).where(*conditions)
                                .values(status=SchemeVersionStatus.PUBLISHED)
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise InvalidTransition(f'Version {recorded.version} was replaced or published by someone else since you '
                                'opened it: check it again before publishing')


def versions() -> list[tuple[str, SchemeVersion | None]]:
    """Every version for the board's list, newest first."""
    return sorted(_known_versions().items(), key=lambda item: version_key(item[0]), reverse=True)


# --- the difference between two versions ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """One property of a lot, section or question that differs: what it was and what it becomes."""

    what: str
    old: str
    new: str


@dataclass
class ItemDiff:
    """Something present in both versions, with its changes."""

    id: str
    title: str
    changes: list[Change]


@dataclass
class SchemeDiff:
    lots_added: list[tuple[str, str]] = field(default_factory=list)
    lots_removed: list[tuple[str, str]] = field(default_factory=list)
    lots_changed: list[ItemDiff] = field(default_factory=list)
    sections_added: list[Section] = field(default_factory=list)
    sections_removed: list[Section] = field(default_factory=list)
    sections_changed: list[ItemDiff] = field(default_factory=list)
    questions_added: list[Question] = field(default_factory=list)
    questions_removed: list[Question] = field(default_factory=list)
    questions_changed: list[ItemDiff] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in self.__dataclass_fields__)


def _lots_text(scheme: Scheme, lot_ids) -> str:
    """The lots by name, or "Every lot" (so a new lot is one change, not one per question asked of every lot)."""
    if set(lot_ids) == set(scheme.lot_ids):
        return 'Every lot'
    return ', '.join(scheme.lot_label(lot) for lot in lot_ids)


def _rule_text(question: Question, scheme: Scheme) -> str:
    return rules.rule_requirement(question, scheme.questions) or 'Judged by the assessor'


def _choices_text(question: Question) -> str:
    return '; '.join(label for _value, label in question.choices) if question.type == 'choice' else ''


def _validation_text(question: Question) -> str:
    return ', '.join(f'{key} {value}' for key, value in sorted(question.validation.items()))


def _follow_ups_text(question: Question) -> str:
    return '; '.join(f'{", ".join(item.show)} when {item.when.op} {item.when.value}' for item in question.follow_ups)


def _columns_text(question: Question) -> str:
    return '; '.join(f'{column.label} ({column.type})' for column in question.columns)


#: What the diff compares for each question, in the order the board reads it.
_QUESTION_PROPERTIES = (
    ('Wording', lambda q, s: q.label),
    ('Hint', lambda q, s: q.hint),
    ('Type', lambda q, s: q.type),
    ('Rule', _rule_text),
    ('Required', lambda q, s: 'Yes' if q.required else 'No'),
    ('Choices', lambda q, s: _choices_text(q)),
    ('Lots', lambda q, s: _lots_text(s, q.applies_to)),
    ('Section', lambda q, s: s.section(q.section_id).title),
    ('Checks on the answer', lambda q, s: _validation_text(q)),
    ('Follow-up questions', lambda q, s: _follow_ups_text(q)),
    ('Document asked for', lambda q, s: q.evidence),
    ('Table columns', lambda q, s: _columns_text(q)),
    ('Help', lambda q, s: q.help),
)


def _changes(properties, old, new, old_scheme: Scheme, new_scheme: Scheme) -> list[Change]:
    changes = []
    for what, describe in properties:
        before, after = describe(old, old_scheme), describe(new, new_scheme)
        if before != after:
            changes.append(Change(what, before, after))
    return changes


def diff_schemes(old: Scheme | None, new: Scheme) -> SchemeDiff:
    """Lots, sections and questions added, removed and changed (wording and rules included) from ``old``."""
    diff = SchemeDiff()
    if old is None:
        diff.lots_added = [(lot_id, label) for lot_id, label, _ in new.lots]
        diff.sections_added = list(new.sections)
        diff.questions_added = list(new.questions.values())
        return diff
    old_lots = {lot_id: (label, description) for lot_id, label, description in old.lots}
    new_lots = {lot_id: (label, description) for lot_id, label, description in new.lots}
    diff.lots_added = [(lot_id, new_lots[lot_id][0]) for lot_id in new_lots if lot_id not in old_lots]
    diff.lots_removed = [(lot_id, old_lots[lot_id][0]) for lot_id in old_lots if lot_id not in new_lots]
    for lot_id in new_lots.keys() & old_lots.keys():
        changes = [Change(what, before, after) for what, before, after in zip(
            ('Name', 'Description'), old_lots[lot_id], new_lots[lot_id], strict=True) if before != after]
        if changes:
            diff.lots_changed.append(ItemDiff(lot_id, new_lots[lot_id][0], changes))

    old_sections = {section.id: section for section in old.sections}
    new_sections = {section.id: section for section in new.sections}
    diff.sections_added = [section for section in new.sections if section.id not in old_sections]
    diff.sections_removed = [section for section in old.sections if section.id not in new_sections]
    section_properties = (('Title', lambda x, s: x.title), ('Description', lambda x, s: x.description),
                          ('Lots', lambda x, s: _lots_text(s, x.applies_to)))
    for section in new.sections:
        if section.id in old_sections:
            changes = _changes(section_properties, old_sections[section.id], section, old, new)
            if changes:
                diff.sections_changed.append(ItemDiff(section.id, section.title, changes))

    old_questions, new_questions = old.questions, new.questions
    diff.questions_added = [question for question in new_questions.values() if question.id not in old_questions]
    diff.questions_removed = [question for question in old_questions.values() if question.id not in new_questions]
    for question in new_questions.values():
        if question.id in old_questions:
            changes = _changes(_QUESTION_PROPERTIES, old_questions[question.id], question, old, new)
            if changes:
                diff.questions_changed.append(ItemDiff(question.id, question.label, changes))
    return diff


def preview_sections(scheme: Scheme) -> list[tuple[Section, list[tuple[Question, str]]]]:
    """Each section with its questions and the hint a provider sees under each (the rule included)."""
    questions = scheme.questions
    return [(section, [(question, rules.provider_hint(question, questions)) for question in section.questions])
            for section in scheme.sections]

