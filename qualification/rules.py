"""Pure evaluation of scheme conditions: automatic pass/fail rules and follow-up triggers (no Flask, no DB)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from qualification.schemes import Condition, Question, Scheme, Section

PASS, FAIL, ASSESSOR = 'pass', 'fail', 'assessor'


def is_blank(value: Any) -> bool:
    """An answer that says nothing: None, empty text, an empty list."""
    return value is None or value == '' or value == [] or value == {}


def matches(condition: Condition, value: Any, today: date | None = None) -> bool:
    """Whether ``value`` (as stored: money in pence, dates as ISO text) meets ``condition``."""
    if is_blank(value):
        return False
    op, expected = condition.op, condition.value
    today = today or date.today()
    if op == 'equals':
        return value == expected
    if op == 'not_equals':
        return value != expected
    if op == 'in':
        return value in expected
    if op == 'not_in':
        return value not in expected
    if op == 'contains':
        return isinstance(value, list) and expected in value
    if op == 'not_contains':
        return isinstance(value, list) and expected not in value
    if op in ('min', 'max', 'less_than', 'greater_than'):
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        return {'min': value >= expected, 'max': value <= expected,
                'less_than': value < expected, 'greater_than': value > expected}[op]
    if op in ('date_after_today', 'within_last_days'):
        try:
            answered = date.fromisoformat(value)
        except (TypeError, ValueError):
            return False
        if op == 'date_after_today':
            return answered > today
        return today - timedelta(days=expected) <= answered <= today
    if op == 'min_rows':
        return isinstance(value, list) and len(value) >= expected
    raise ValueError(f'unknown operator {op!r}')


def evaluate(question: Question, answer: Any, answers: dict[str, Any] | None = None,
             today: date | None = None) -> str:
    """``'pass'`` or ``'fail'`` for a question with an automatic rule, ``'assessor'`` otherwise.

    A rule's ``otherwise`` clause tests another answer (for example a parent company guarantee) when the
    question's own condition fails.
    """
    rule = question.rule
    if not rule.is_auto:
        return ASSESSOR
    if matches(rule.condition, answer, today):
        return PASS
    if rule.otherwise is not None and matches(rule.otherwise, (answers or {}).get(rule.otherwise.question), today):
        return PASS
    return FAIL


def triggered_ids(scheme: Scheme, answers: dict[str, Any], lots) -> set[str]:
    """Ids of the questions that apply to ``lots`` and are shown given ``answers`` (follow-ups only when triggered)."""
    parents = scheme.follow_up_parents()
    questions = scheme.questions
    memo: dict[str, bool] = {}

    def shown(question_id: str) -> bool:
        if question_id not in memo:
            memo[question_id] = False  # guards against loops (the loader rejects them anyway)
            question = questions[question_id]
            if not question.applies(lots):
                result = False
            elif question_id not in parents:
                result = True
            else:
                result = any(shown(parent) and matches(when, answers.get(parent))
                             for parent, when in parents[question_id])
            memo[question_id] = result
        return memo[question_id]

    return {question_id for question_id in questions if shown(question_id)}


def visible_questions(scheme: Scheme, section: Section, lots, answers: dict[str, Any]) -> list[Question]:
    """The section's questions a provider must consider, in order."""
    shown = triggered_ids(scheme, answers, lots)
    return [question for question in section.questions if question.id in shown]


def evaluate_all(scheme: Scheme, lots, answers: dict[str, Any], today: date | None = None) -> dict[str, str]:
    """Outcome for every shown question: pass, fail or assessor."""
    shown = triggered_ids(scheme, answers, lots)
    return {question.id: evaluate(question, answers.get(question.id), answers, today)
            for question in scheme.questions.values() if question.id in shown}
