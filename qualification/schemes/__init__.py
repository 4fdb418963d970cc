"""Qualification schemes as versioned YAML data: parsing, structural validation and a content-addressed cache.

A scheme file ``<version>.yaml`` holds lots, sections and questions. :func:`load_scheme` rejects an invalid
file with a :class:`SchemeError` naming the file, the path inside it and the question id, for example
``2026.1.yaml: sections[3].questions[2] (insurance-el-amount): unknown type 'moneyy'; expected one of ...``.
Conditions (follow-up triggers and automatic rules) are small mappings such as ``{equals: yes}`` or
``{min: 5000000}``; nothing in a scheme is ever evaluated as code.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from registry.settings.taxonomy import Lot

#: Where the service's own schemes live.
SCHEMES_DIR = Path(__file__).resolve().parent

QUESTION_TYPES = ('text', 'yes-no', 'choice', 'number', 'money', 'date', 'evidence', 'rows')
COLUMN_TYPES = ('text', 'number', 'choice')
ID_PATTERN = re.compile(r'^[a-z][a-z0-9]*(-[a-z0-9]+)*$')
YES_NO = (('yes', 'Yes'), ('no', 'No'))

#: Condition operators and the question types each one makes sense for.
OPERATORS: dict[str, tuple[str, ...]] = {
    'equals': ('text', 'yes-no', 'choice', 'number'),
    'not_equals': ('text', 'yes-no', 'choice', 'number'),
    'in': ('yes-no', 'choice'),
    'not_in': ('yes-no', 'choice'),
    'contains': ('choice',),
    'not_contains': ('choice',),
    'min': ('number', 'money'),
    'max': ('number', 'money'),
    'less_than': ('number', 'money'),
    'greater_than': ('number', 'money'),
    'date_after_today': ('date',),
    'within_last_days': ('date',),
    'min_rows': ('rows',),
}
VALIDATION_KEYS: dict[str, tuple[str, ...]] = {
    'text': ('min_length', 'max_length', 'pattern', 'pattern_message'),
    'yes-no': (),
    'choice': ('min_selected', 'max_selected'),
    'number': ('min', 'max'),
    'money': ('min', 'max'),
    'date': ('past', 'future'),
    'evidence': ('max_files',),
    'rows': ('min_rows',),
}
SCHEME_KEYS = ('version', 'title', 'published', 'published_on', 'description', 'lots', 'sections')
LOT_KEYS = ('id', 'label', 'description')
SECTION_KEYS = ('id', 'title', 'description', 'applies_to', 'questions')
QUESTION_KEYS = ('id', 'type', 'label', 'hint', 'required', 'validation', 'applies_to', 'follow_up', 'evidence',
                 'rule', 'choices', 'multiple', 'multiline', 'columns', 'max_rows', 'help', 'expires')
COLUMN_KEYS = ('id', 'label', 'type', 'choices', 'validation')


class SchemeError(Exception):
    """A scheme file is not valid; the message says exactly where and why."""


@dataclass(frozen=True)
class Condition:
    """One test on an answer, such as ``{min: 5000000}`` (money in pounds in YAML, held here in pence)."""

    op: str
    value: Any
    #: For a rule's ``otherwise`` clause: the other question whose answer is tested.
    question: str | None = None


@dataclass(frozen=True)
class Rule:
    """``assessor`` (judgement) or an automatic pass/fail condition, with an optional fallback on another answer."""

    kind: str  # 'auto' | 'assessor'
    condition: Condition | None = None
    otherwise: Condition | None = None

    @property
    def is_auto(self) -> bool:
        return self.kind == 'auto'


@dataclass(frozen=True)
class FollowUp:
    """Show ``show`` (question ids in the same section) when the answer meets ``when``."""

    when: Condition
    show: tuple[str, ...]


@dataclass(frozen=True)
class Expiry:
    """When an evidence document expires: the earliest of some date answers, plus ``after_days``.

    ``{dates: [ins-el-expiry, ins-pl-expiry], after_days: 0}`` reads "the certificates expire when the first cover
    ends"; ``{dates: [sg-policy-reviewed], after_days: 365}`` reads "the policy is due for review a year after it
    was last reviewed".
    """

    dates: tuple[str, ...]
    after_days: int = 0


@dataclass(frozen=True)
class Column:
    id: str
    label: str
    type: str
    choices: tuple[tuple[str, str], ...] = ()
    validation: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Question:
    """One question, as parsed and checked from the scheme file."""

    id: str
    type: str
    label: str
    section_id: str
    hint: str = ''
    help: str = ''
    required: bool = True
    validation: dict = field(default_factory=dict)
    applies_to: tuple[str, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    evidence: str = ''
    rule: Rule = field(default_factory=lambda: Rule('assessor'))
    choices: tuple[tuple[str, str], ...] = ()
    multiple: bool = False
    multiline: bool = False
    columns: tuple[Column, ...] = ()
    max_rows: int = 0
    #: Evidence only: how to tell when the document expires (documents carried forward are then checked).
    expires: Expiry | None = None
    #: sha256 of the definition without help text: equal fingerprints mean an answer can be carried forward.
    fingerprint: str = ''

    def applies(self, lots) -> bool:
        return any(lot in self.applies_to for lot in lots)

    def choice_label(self, value: str) -> str:
        return dict(self.choices).get(value, value)


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    description: str
    applies_to: tuple[str, ...]
    questions: tuple[Question, ...]

    def applies(self, lots) -> bool:
        return any(lot in self.applies_to for lot in lots) and bool(self.questions_for(lots))

    def questions_for(self, lots) -> list[Question]:
        return [question for question in self.questions if question.applies(lots)]


@dataclass(frozen=True)
class Scheme:
    """A whole scheme version."""

    version: str
    title: str
    description: str
    published: bool
    lots: tuple[tuple[str, str, str], ...]
    sections: tuple[Section, ...]
    sha256: str
    filename: str

    @property
    def lot_ids(self) -> tuple[str, ...]:
        return tuple(lot[0] for lot in self.lots)

    def lot_label(self, lot_id: str) -> str:
        return {lot[0]: lot[1] for lot in self.lots}.get(lot_id, lot_id)

    @property
    def questions(self) -> dict[str, Question]:
        return {question.id: question for section in self.sections for question in section.questions}

    def section(self, section_id: str) -> Section | None:
        return next((section for section in self.sections if section.id == section_id), None)

    def sections_for(self, lots) -> list[Section]:
        return [section for section in self.sections if section.applies(lots)]

    def follow_up_parents(self) -> dict[str, list[tuple[str, Condition]]]:
        """question id -> [(parent id, condition)] for every follow-up question."""
        parents: dict[str, list[tuple[str, Condition]]] = {}
        for question in self.questions.values():
            for follow_up in question.follow_ups:
                for child in follow_up.show:
                    parents.setdefault(child, []).append((question.id, follow_up.when))
        return parents


class _Parser:
    """Walks the raw YAML, building dataclasses and raising precise errors."""

    def __init__(self, filename: str):
        self.filename = filename

    def fail(self, where: str, message: str):
        raise SchemeError(f'{self.filename}: {where}: {message}' if where else f'{self.filename}: {message}')

    def mapping(self, raw, where: str, allowed: tuple[str, ...], required: tuple[str, ...]) -> dict:
        if not isinstance(raw, dict):
            self.fail(where, f'expected a mapping, got {type(raw).__name__}')
        unknown = sorted(set(map(str, raw)) - set(allowed))
        if unknown:
            self.fail(where, f'unknown key {unknown[0]!r}; expected one of {", ".join(allowed)}')
        for key in required:
            if raw.get(key) in (None, ''):
                self.fail(where, f'missing {key!r}')
        return raw

    def text(self, raw, where: str, key: str, default: str | None = None) -> str:
        value = raw.get(key, default)
        if not isinstance(value, str):
            self.fail(where, f'{key!r} must be text')
        return value.strip()

    def identifier(self, raw, where: str) -> str:
        value = raw.get('id')
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            self.fail(where, f'id {value!r} must be lower-case words joined by hyphens')
        return value

    def pounds_to_pence(self, value, where: str) -> int:
        try:
            return int((Decimal(str(value)) * 100).to_integral_exact())
        except (InvalidOperation, ArithmeticError):
            self.fail(where, f'{value!r} is not an amount of money in pounds')

    def choices(self, raw, where: str) -> tuple[tuple[str, str], ...]:
        if not isinstance(raw, list) or not raw:
            self.fail(where, "a choice needs a non-empty 'choices' list")
        result = []
        for index, item in enumerate(raw):
            if isinstance(item, dict) and set(item) <= {'value', 'label'} and 'value' in item:
                value, label = str(item['value']), str(item.get('label', item['value']))
            elif isinstance(item, str):
                value, label = item, item
            else:
                self.fail(where, f'choices[{index}] must be text or a mapping with value and label')
            if value in dict(result):
                self.fail(where, f'duplicate choice {value!r}')
            result.append((value, label))
        return tuple(result)

    def condition(self, raw, where: str, qtype: str, choices, *, context: str) -> Condition:
        if not isinstance(raw, dict) or len(raw) != 1:
            self.fail(where, f'{context} must be a mapping with exactly one operator such as {{equals: yes}}')
        op, value = next(iter(raw.items()))
        if op not in OPERATORS:
            self.fail(where, f'{context}: unknown operator {op!r}; expected one of {", ".join(OPERATORS)}')
        if qtype not in OPERATORS[op]:
            self.fail(where, f'{context}: operator {op!r} cannot apply to a {qtype} question '
                             f'(it applies to {", ".join(OPERATORS[op])})')
        if op in ('in', 'not_in'):
            if not isinstance(value, list) or not value:
                self.fail(where, f'{context}: {op!r} needs a non-empty list')
            value = tuple(_yaml_scalar(item) for item in value)
            for item in value:
                self._check_choice(item, choices, where, context)
        elif op in ('equals', 'not_equals', 'contains', 'not_contains'):
            value = _yaml_scalar(value)
            if qtype == 'number':
                if not isinstance(value, int | float) or isinstance(value, bool):
                    self.fail(where, f'{context}: {op!r} on a number needs a number')
            elif choices:
                self._check_choice(value, choices, where, context)
        elif op in ('min', 'max', 'less_than', 'greater_than'):
            if qtype == 'money':
                value = self.pounds_to_pence(value, where)
            elif not isinstance(value, int | float) or isinstance(value, bool):
                self.fail(where, f'{context}: {op!r} needs a number')
        elif op == 'date_after_today':
            if value is not True:
                self.fail(where, f'{context}: date_after_today must be true')
        elif op in ('within_last_days', 'min_rows'):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                self.fail(where, f'{context}: {op!r} needs a whole number of 0 or more')
        return Condition(op, value)

    def _check_choice(self, value, choices, where: str, context: str) -> None:
        if choices and value not in dict(choices):
            self.fail(where, f'{context}: {value!r} is not one of the choices ({", ".join(dict(choices))})')

    def rule(self, raw, where: str, qtype: str, choices) -> tuple[Rule, dict | None]:
        """Parse a rule; ``otherwise`` is checked against the other question once every question is known."""
        if raw is None or raw == 'assessor':
            return Rule('assessor'), None
        if not isinstance(raw, dict) or not set(raw) <= {'auto', 'otherwise'} or 'auto' not in raw:
            self.fail(where, "rule must be 'assessor' or a mapping {auto: {<operator>: <value>}} "
                             '(optionally with otherwise: {question: <id>, <operator>: <value>})')
        if qtype == 'evidence':
            self.fail(where, 'an evidence question cannot have an automatic rule; use assessor')
        condition = self.condition(raw['auto'], where, qtype, choices, context='rule')
        otherwise = raw.get('otherwise')
        if otherwise is not None and (not isinstance(otherwise, dict) or 'question' not in otherwise
                                      or len(otherwise) != 2):
            self.fail(where, 'rule otherwise must be {question: <id>, <operator>: <value>}')
        return Rule('auto', condition), otherwise

    def lots_list(self, raw, where: str, lot_ids: tuple[str, ...], default: tuple[str, ...]) -> tuple[str, ...]:
        if raw is None:
            return default
        if not isinstance(raw, list) or not raw:
            self.fail(where, 'applies_to must be a non-empty list of lot ids')
        for lot in raw:
            if lot not in lot_ids:
                self.fail(where, f'applies_to: unknown lot {lot!r}; expected one of {", ".join(lot_ids)}')
        return tuple(raw)

    def validation(self, raw, where: str, qtype: str) -> dict:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.fail(where, 'validation must be a mapping')
        for key in raw:
            if key not in VALIDATION_KEYS[qtype]:
                allowed = ', '.join(VALIDATION_KEYS[qtype]) or 'nothing'
                self.fail(where, f'validation {key!r} does not apply to a {qtype} question (allowed: {allowed})')
        result = dict(raw)
        if 'pattern' in result:
            try:
                re.compile(result['pattern'])
            except (re.error, TypeError) as exc:
                self.fail(where, f'validation pattern is not a regular expression: {exc}')
        for key in ('min', 'max'):
            if key in result:
                if qtype == 'money':
                    result[key] = self.pounds_to_pence(result[key], where)
                elif not isinstance(result[key], int | float) or isinstance(result[key], bool):
                    self.fail(where, f'validation {key!r} must be a number')
        for key in ('min_length', 'max_length', 'min_selected', 'max_selected', 'max_files', 'min_rows'):
            if key in result and (not isinstance(result[key], int) or isinstance(result[key], bool)
                                  or result[key] < 0):
                self.fail(where, f'validation {key!r} must be a whole number of 0 or more')
        if 'min' in result and 'max' in result and result['min'] > result['max']:
            self.fail(where, 'validation min is greater than max')
        return result

    def columns(self, raw, where: str) -> tuple[Column, ...]:
        if not isinstance(raw, list) or not raw:
            self.fail(where, "a rows question needs a non-empty 'columns' list")
        columns, seen = [], set()
        for index, item in enumerate(raw):
            cwhere = f'{where}.columns[{index}]'
            self.mapping(item, cwhere, COLUMN_KEYS, ('id', 'label', 'type'))
            column_id = self.identifier(item, cwhere)
            if column_id in seen:
                self.fail(cwhere, f'duplicate column id {column_id!r}')
            seen.add(column_id)
            if item['type'] not in COLUMN_TYPES:
                self.fail(cwhere, f'unknown column type {item["type"]!r}; expected one of {", ".join(COLUMN_TYPES)}')
            choices = self.choices(item.get('choices'), cwhere) if item['type'] == 'choice' else ()
            validation = self.validation(item.get('validation'), cwhere, item['type'])
            columns.append(Column(column_id, self.text(item, cwhere, 'label'), item['type'], choices, validation))
        return tuple(columns)

    def question(self, raw, where: str, section_id: str, lot_ids, section_lots):
        if isinstance(raw, dict) and isinstance(raw.get('id'), str):
            where = f'{where} ({raw["id"]})'
        self.mapping(raw, where, QUESTION_KEYS, ('id', 'type', 'label'))
        question_id = self.identifier(raw, where)
        qtype = raw['type']
        if qtype not in QUESTION_TYPES:
            self.fail(where, f'unknown type {qtype!r}; expected one of {", ".join(QUESTION_TYPES)}')
        required = raw.get('required', True)
        if not isinstance(required, bool):
            self.fail(where, 'required must be true or false')
        choices: tuple = ()
        if qtype == 'choice':
            choices = self.choices(raw.get('choices'), where)
        elif qtype == 'yes-no':
            choices = YES_NO
        elif 'choices' in raw:
            self.fail(where, f'choices do not apply to a {qtype} question')
        for flag, only in (('multiple', 'choice'), ('multiline', 'text'), ('columns', 'rows'), ('max_rows', 'rows')):
            if flag in raw and qtype != only:
                self.fail(where, f'{flag!r} applies only to a {only} question')
        columns = self.columns(raw.get('columns'), where) if qtype == 'rows' else ()
        max_rows = raw.get('max_rows', 5) if qtype == 'rows' else 0
        if qtype == 'rows' and (not isinstance(max_rows, int) or not 1 <= max_rows <= 50):
            self.fail(where, 'max_rows must be a whole number from 1 to 50')
        evidence = raw.get('evidence', '')
        if qtype == 'evidence' and not evidence:
            self.fail(where, "an evidence question must say what to upload in 'evidence'")
        if evidence and qtype != 'evidence':
            self.fail(where, "'evidence' applies only to an evidence question")
        multiple = bool(raw.get('multiple', False))
        effective_type = qtype
        rule, otherwise = self.rule(raw.get('rule'), where, qtype, choices)
        if rule.condition and rule.condition.op in ('contains', 'not_contains') and not multiple:
            self.fail(where, f'rule: operator {rule.condition.op!r} needs a choice question with multiple: true')
        follow_ups = []
        raw_follow_ups = raw.get('follow_up') or []
        if isinstance(raw_follow_ups, dict):
            raw_follow_ups = [raw_follow_ups]
        if not isinstance(raw_follow_ups, list):
            self.fail(where, 'follow_up must be a mapping {when: ..., show: [...]} or a list of them')
        for index, item in enumerate(raw_follow_ups):
            fwhere = f'{where}.follow_up[{index}]'
            self.mapping(item, fwhere, ('when', 'show'), ('when', 'show'))
            show = item['show'] if isinstance(item['show'], list) else [item['show']]
            if not all(isinstance(child, str) for child in show):
                self.fail(fwhere, 'show must list question ids')
            follow_ups.append(FollowUp(self.condition(item['when'], fwhere, effective_type, choices, context='when'),
                                       tuple(show)))
        expires = self.expires(raw.get('expires'), where, qtype)
        # hints, help and expiry tracking do not change what an answer means, so they do not stop carry-forward
        definition = {key: value for key, value in raw.items() if key not in ('hint', 'help', 'expires')}
        question = Question(
            id=question_id, type=qtype, label=self.text(raw, where, 'label'), section_id=section_id,
            hint=self.text(raw, where, 'hint', ''), help=self.text(raw, where, 'help', ''), required=required,
            validation=self.validation(raw.get('validation'), where, qtype),
            applies_to=self.lots_list(raw.get('applies_to'), where, lot_ids, section_lots),
            follow_ups=tuple(follow_ups), evidence=str(evidence), rule=rule, choices=choices, multiple=multiple,
            multiline=bool(raw.get('multiline', False)), columns=columns, max_rows=max_rows, expires=expires,
            fingerprint=hashlib.sha256(json.dumps(definition, sort_keys=True, default=str).encode()).hexdigest(),
        )
        return question, otherwise, where

    def expires(self, raw, where: str, qtype: str) -> Expiry | None:
        if raw is None:
            return None
        if qtype != 'evidence':
            self.fail(where, "'expires' applies only to an evidence question")
        if not isinstance(raw, dict) or not set(raw) <= {'dates', 'after_days'} or 'dates' not in raw:
            self.fail(where, 'expires must be a mapping {dates: [<date question id>, ...], after_days: <days>}')
        dates = raw['dates'] if isinstance(raw['dates'], list) else [raw['dates']]
        if not dates or not all(isinstance(item, str) for item in dates):
            self.fail(where, 'expires: dates must list date question ids')
        after_days = raw.get('after_days', 0)
        if not isinstance(after_days, int) or isinstance(after_days, bool) or after_days < 0:
            self.fail(where, "expires: 'after_days' needs a whole number of 0 or more")
        return Expiry(tuple(dates), after_days)

    def scheme(self, raw, sha256: str, expected_version: str | None) -> Scheme:
        self.mapping(raw, '', SCHEME_KEYS, ('version', 'title', 'lots', 'sections'))
        version = str(raw['version'])
        if expected_version is not None and version != expected_version:
            self.fail('version', f'{version!r} does not match the file name (expected {expected_version!r})')
        published = raw.get('published', False)
        if not isinstance(published, bool):
            self.fail('published', 'must be true or false')
        if not isinstance(raw['lots'], list) or not raw['lots']:
            self.fail('lots', 'must be a non-empty list')
        lots = []
        known_lots = {lot.value for lot in Lot}
        for index, item in enumerate(raw['lots']):
            where = f'lots[{index}]'
            self.mapping(item, where, LOT_KEYS, ('id', 'label'))
            lot_id = item['id']
            if lot_id not in known_lots:
                self.fail(where, f'unknown lot {lot_id!r}; expected one of {", ".join(sorted(known_lots))}')
            if lot_id in [lot[0] for lot in lots]:
                self.fail(where, f'duplicate lot {lot_id!r}')
            lots.append((lot_id, self.text(item, where, 'label'), self.text(item, where, 'description', '')))
        lot_ids = tuple(lot[0] for lot in lots)
        if not isinstance(raw['sections'], list) or not raw['sections']:
            self.fail('sections', 'must be a non-empty list')
        sections, seen_sections, seen_questions = [], set(), {}
        pending: list[tuple[Question, dict, str]] = []
        for sindex, sraw in enumerate(raw['sections']):
            where = f'sections[{sindex}]'
            if isinstance(sraw, dict) and isinstance(sraw.get('id'), str):
                where = f'{where} ({sraw["id"]})'
            self.mapping(sraw, where, SECTION_KEYS, ('id', 'title', 'questions'))
            section_id = self.identifier(sraw, where)
            if section_id in seen_sections:
                self.fail(where, f'duplicate section id {section_id!r}')
            seen_sections.add(section_id)
            section_lots = self.lots_list(sraw.get('applies_to'), where, lot_ids, lot_ids)
            if not isinstance(sraw['questions'], list) or not sraw['questions']:
                self.fail(where, 'questions must be a non-empty list')
            questions = []
            for qindex, qraw in enumerate(sraw['questions']):
                question, otherwise, qwhere = self.question(qraw, f'sections[{sindex}].questions[{qindex}]',
                                                            section_id, lot_ids, section_lots)
                if question.id in seen_questions:
                    self.fail(qwhere, f'duplicate question id {question.id!r} '
                                      f'(first used at {seen_questions[question.id]})')
                stray = set(question.applies_to) - set(section_lots)
                if stray:
                    self.fail(qwhere, f'applies_to lot {sorted(stray)[0]!r} is not one the section applies to')
                seen_questions[question.id] = qwhere
                questions.append(question)
                if otherwise is not None:
                    pending.append((question, otherwise, qwhere))
            sections.append(Section(section_id, self.text(sraw, where, 'title'),
                                    self.text(sraw, where, 'description', ''), section_lots, tuple(questions)))
        by_id = {question.id: question for section in sections for question in section.questions}
        resolved = {}
        for question, otherwise, qwhere in pending:
            other_id = otherwise['question']
            other = by_id.get(other_id)
            if other is None:
                self.fail(qwhere, f'rule otherwise refers to unknown question {other_id!r}')
            op_raw = {key: value for key, value in otherwise.items() if key != 'question'}
            condition = self.condition(op_raw, qwhere, other.type, other.choices, context='rule otherwise')
            resolved[question.id] = Condition(condition.op, condition.value, other_id)
        self._check_follow_ups(sections, by_id, seen_questions)
        for question in by_id.values():
            for date_id in (question.expires.dates if question.expires else ()):
                if date_id not in by_id or by_id[date_id].type != 'date':
                    self.fail(seen_questions[question.id], f'expires: {date_id!r} is not a date question')
        final_sections = []
        for section in sections:
            questions = tuple(
                _replace_rule(question, resolved[question.id]) if question.id in resolved else question
                for question in section.questions)
            final_sections.append(Section(section.id, section.title, section.description, section.applies_to,
                                          questions))
        return Scheme(version=version, title=self.text(raw, '', 'title'),
                      description=self.text(raw, '', 'description', ''), published=published, lots=tuple(lots),
                      sections=tuple(final_sections), sha256=sha256, filename=self.filename)

    def _check_follow_ups(self, sections, by_id, where_of) -> None:
        parents: dict[str, str] = {}
        for section in sections:
            for question in section.questions:
                for index, follow_up in enumerate(question.follow_ups):
                    fwhere = f'{where_of[question.id]}.follow_up[{index}]'
                    for child_id in follow_up.show:
                        child = by_id.get(child_id)
                        if child is None:
                            self.fail(fwhere, f'shows unknown question {child_id!r}')
                        if child_id == question.id:
                            self.fail(fwhere, 'a question cannot follow up itself')
                        if child.section_id != question.section_id:
                            self.fail(fwhere, f'follow-up question {child_id!r} must be in the same section '
                                              f'({question.section_id!r}), not {child.section_id!r}')
                        parents.setdefault(child_id, question.id)
        # a follow-up chain must not loop back on itself
        for start in parents:
            seen, node = set(), start
            while node in parents:
                if node in seen:
                    self.fail(where_of[start], 'follow-up questions form a loop')
                seen.add(node)
                node = parents[node]


def _replace_rule(question: Question, otherwise: Condition) -> Question:
    from dataclasses import replace

    return replace(question, rule=Rule('auto', question.rule.condition, otherwise))


def _yaml_scalar(value):
    """YAML 1.1 reads a bare ``yes`` as True: turn such booleans back into the answer values we store."""
    if value is True:
        return 'yes'
    if value is False:
        return 'no'
    return value


_cache: dict[tuple[str, str], Scheme] = {}


def parse_scheme(content: bytes, filename: str, expected_version: str | None = None) -> Scheme:
    """Parse and validate scheme ``content``; raise :class:`SchemeError` with a precise message."""
    sha256 = hashlib.sha256(content).hexdigest()
    try:
        raw = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        raise SchemeError(f'{filename}: not valid YAML: {exc}') from None
    return _Parser(filename).scheme(raw, sha256, expected_version)


def load_scheme(version: str, directory: str | Path | None = None) -> Scheme:
    """Load ``<directory>/<version>.yaml`` (cached by content hash, so an edited file is re-read)."""
    directory = Path(directory or SCHEMES_DIR)
    path = directory / f'{version}.yaml'
    if not re.fullmatch(r'[0-9A-Za-z.\-]+', version) or not path.is_file():
        raise SchemeError(f'{version}.yaml: no such scheme version in {directory}')
    content = path.read_bytes()
    key = (str(path), hashlib.sha256(content).hexdigest())
    if key not in _cache:
        _cache[key] = parse_scheme(content, path.name, expected_version=version)
    return _cache[key]


def _version_key(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r'[.\-]', version))


def list_versions(directory: str | Path | None = None) -> list[str]:
    """Every scheme version in ``directory``, oldest first."""
    directory = Path(directory or SCHEMES_DIR)
    return sorted((path.stem for path in directory.glob('*.yaml')), key=_version_key)


def current_version(directory: str | Path | None = None) -> str:
    """The newest published version (or the newest of all, if none is published yet)."""
    versions = list_versions(directory)
    if not versions:
        raise SchemeError(f'no scheme files in {directory or SCHEMES_DIR}')
    published = [version for version in versions if load_scheme(version, directory).published]
    return (published or versions)[-1]


def version_key(version: str) -> tuple:
    """Sort key for version strings such as ``2026.1`` < ``2026.10``."""
    return _version_key(version)
