"""Pure evaluation of scheme conditions: automatic pass/fail rules and follow-up triggers (no Flask, no DB)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from qualification.answers import format_money
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


# --- what a rule asks for, in words (generated from the scheme's rule data, never written twice) ---------------------

#: Average days in a month, for saying "18 months" rather than "548 days".
_DAYS_PER_MONTH = 365.25 / 12


def _period(days: int) -> str:
    """548 -> '18 months', 365 -> '12 months', 14 -> '14 days'."""
    months = round(days / _DAYS_PER_MONTH)
    if months >= 1 and abs(days - months * _DAYS_PER_MONTH) <= 2:
        return f'{months} month{"s" if months != 1 else ""}'
    return f'{days} day{"s" if days != 1 else ""}'


def _value_text(question: Question, value: Any) -> str:
    if question.type == 'money':
        return format_money(value)
    if question.type == 'number':
        return f'{value:,}'
    if question.choices:
        return question.choice_label(value)
    return str(value)


def _either(question: Question, values) -> str:
    labels = [_value_text(question, value) for value in values]
    return labels[0] if len(labels) == 1 else ', '.join(labels[:-1]) + ' or ' + labels[-1]


def describe_condition(condition: Condition, question: Question) -> str:
    """What an answer to ``question`` must be to meet ``condition``: the end of a sentence ("at least £5,000,000")."""
    op, value = condition.op, condition.value
    if op == 'equals':
        return f'{_value_text(question, value)}'
    if op == 'not_equals':
        return f'anything but {_value_text(question, value)}'
    if op == 'in':
        return _either(question, value)
    if op == 'not_in':
        return f'anything but {_either(question, value)}'
    if op == 'contains':
        return f'including {_value_text(question, value)}'
    if op == 'not_contains':
        return f'not including {_value_text(question, value)}'
    if op == 'min':
        return f'at least {_value_text(question, value)}'
    if op == 'max':
        return f'no more than {_value_text(question, value)}'
    if op == 'greater_than':
        return f'more than {_value_text(question, value)}'
    if op == 'less_than':
        return f'less than {_value_text(question, value)}'
    if op == 'date_after_today':
        return 'a date in the future'
    if op == 'within_last_days':
        return f'a date within the last {_period(value)}'
    if op == 'min_rows':
        return f'at least {value} row{"s" if value != 1 else ""}'
    raise ValueError(f'unknown operator {op!r}')


def rule_requirement(question: Question, questions: dict[str, Question] | None = None) -> str:
    """The automatic rule as a sentence for providers and assessors, or '' for a question the assessor judges.

    For example "To qualify, the answer must be at least £5,000,000." or, with an ``otherwise`` clause, "…; if it
    is not, the answer to ‘Will a parent company or investor guarantee your obligations’ must be Yes."
    """
    rule = question.rule
    if not rule.is_auto or rule.condition is None:
        return ''
    sentence = f'To qualify, the answer must be {describe_condition(rule.condition, question)}'
    other = (questions or {}).get(rule.otherwise.question) if rule.otherwise is not None else None
    if other is not None:
        sentence += (f'; if it is not, the answer to ‘{other.label.rstrip("?")}’ must be '
                     f'{describe_condition(rule.otherwise, other)}')
    return sentence + '.'


def provider_hint(question: Question, questions: dict[str, Question] | None = None) -> str:
    """The hint a provider sees under a question: the scheme's hint, then what the automatic rule requires."""
    return ' '.join(part for part in (question.hint, rule_requirement(question, questions)) if part)


def is_mandatory_failure(question: Question, outcome: str | None, answer: Any) -> bool:
    """Whether an automatic ``fail`` counts against approval.

    A mandatory question's rule always counts; an optional question left blank does not, because the rule only
    judges an answer that was given.
    """
    if outcome != FAIL or not question.rule.is_auto:
        return False
    return question.required or not is_blank(answer)
