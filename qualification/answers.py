"""Turning what a provider typed into stored answer values, and checking stored values against the scheme (pure).

Stored forms: text as text, yes/no as ``'yes'``/``'no'``, a choice as its value (a list when multiple),
numbers as ``int`` (or ``float``), money as integer pence, dates as ISO ``YYYY-MM-DD`` text, rows as a list
of mappings from column id to value. Blank input is ``None``.
"""

from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from qualification.schemes import Column, Question

_MONEY = re.compile(r'^-?\d+(\.\d{1,2})?$')
#: No answer is this large, whatever a scheme's bounds: longer numbers were stored as infinity (SQLite's JSON) or
#: could not be stored at all. Money is in pence: £1,000,000,000,000.
LARGEST_MONEY = 100 * 10**12
LARGEST_NUMBER = 10**15


def _quote(label: str) -> str:
    return f'‘{label.rstrip("?").strip()}’'


def required_message(question: Question) -> str:
    """The GOV.UK-style message for an unanswered required question."""
    if question.type in ('yes-no', 'choice'):
        return f'Select your answer to {_quote(question.label)}'
    if question.type == 'evidence':
        return f'Upload a file for {_quote(question.label)}'
    if question.type == 'rows':
        return f'Fill in at least {max(1, question.validation.get("min_rows", 1))} row for {_quote(question.label)}'
    return f'Enter your answer to {_quote(question.label)}'


def format_money(pence: int | None) -> str:
    """£1,234.50 (whole pounds without pence)."""
    if pence is None:
        return ''
    sign = '-' if pence < 0 else ''
    pounds, rest = divmod(abs(int(pence)), 100)
    return f'{sign}£{pounds:,}' + (f'.{rest:02d}' if rest else '')


def money_input(pence: int | None) -> str:
    """The value to put back in a money input box."""
    if pence is None:
        return ''
    sign = '-' if pence < 0 else ''
    pounds, rest = divmod(abs(int(pence)), 100)
    return f'{sign}{pounds}' + (f'.{rest:02d}' if rest else '')


def parse_money(raw: str) -> int:
    """Pounds as typed ("£5,000,000", "1234.5", "-25000") to integer pence; ValueError if not money."""
    cleaned = re.sub(r'[£,\s]', '', raw or '')
    if not _MONEY.match(cleaned):
        raise ValueError(raw)
    try:
        return int((Decimal(cleaned) * 100).to_integral_exact())
    except InvalidOperation:
        raise ValueError(raw) from None


def parse_number(raw: str) -> int | float:
    """A whole or decimal number as typed; ValueError otherwise."""
    cleaned = (raw or '').replace(',', '').strip()
    if re.fullmatch(r'-?\d+', cleaned):
        return int(cleaned)
    if re.fullmatch(r'-?\d+\.\d+', cleaned):
        return float(cleaned)
    raise ValueError(raw)


def _bounds_error(label: str, value, validation: dict, money: bool) -> str | None:
    show = format_money if money else (lambda number: f'{number:,}')
    low, high = validation.get('min'), validation.get('max')
    if low is not None and value < low:
        if high is not None:
            return f'{_quote(label)} must be between {show(low)} and {show(high)}'
        return f'{_quote(label)} must be {show(low)} or more'
    if high is not None and value > high:
        if low is not None:
            return f'{_quote(label)} must be between {show(low)} and {show(high)}'
        return f'{_quote(label)} must be {show(high)} or less'
    return None


def clean_text(label: str, raw: str | None, validation: dict) -> tuple[Any, str | None]:
    value = (raw or '').strip()
    if not value:
        return None, None
    if 'min_length' in validation and len(value) < validation['min_length']:
        return value, f'{_quote(label)} must be {validation["min_length"]} characters or more'
    if 'max_length' in validation and len(value) > validation['max_length']:
        return value, f'{_quote(label)} must be {validation["max_length"]} characters or fewer'
    if 'pattern' in validation and not re.fullmatch(validation['pattern'], value):
        return value, validation.get('pattern_message') or f'Enter {_quote(label)} in the correct format'
    return value, None


def clean_number(label: str, raw: str | None, validation: dict) -> tuple[Any, str | None]:
    if not (raw or '').strip():
        return None, None
    try:
        value = parse_number(raw)
    except ValueError:
        return None, f'{_quote(label)} must be a number'
    if not math.isfinite(value) or abs(value) >= LARGEST_NUMBER:
        return None, (_bounds_error(label, value, validation, money=False)
                      or _size_error(label, value, LARGEST_NUMBER, lambda number: f'{number:,}'))
    return value, _bounds_error(label, value, validation, money=False)


def clean_money(label: str, raw: str | None, validation: dict) -> tuple[Any, str | None]:
    if not (raw or '').strip():
        return None, None
    try:
        value = parse_money(raw)
    except ValueError:
        return None, f'{_quote(label)} must be an amount of money in pounds, like 5000000 or 250.50'
    if abs(value) >= LARGEST_MONEY:
        return None, (_bounds_error(label, value, validation, money=True)
                      or _size_error(label, value, LARGEST_MONEY, format_money))
    return value, _bounds_error(label, value, validation, money=True)


def _size_error(label: str, value, largest: int, show) -> str:
    if value < 0:
        return f'{_quote(label)} must be more than {show(-largest)}'
    return f'{_quote(label)} must be less than {show(largest)}'


def clean_date(label: str, parts: list[str] | None, validation: dict,
               today: date | None = None) -> tuple[Any, str | None]:
    parts = [(part or '').strip() for part in (parts or [])] + ['', '', '']
    day, month, year = parts[:3]
    if not (day or month or year):
        return None, None
    missing = [name for name, part in (('day', day), ('month', month), ('year', year)) if not part]
    if missing:
        return None, f'{_quote(label)} must include a {" and ".join(missing)}'
    try:
        if len(year) != 4:
            raise ValueError
        value = date(int(year), int(month), int(day))
    except ValueError:
        return None, f'{_quote(label)} must be a real date'
    today = today or date.today()
    if validation.get('past') and value > today:
        return None, f'{_quote(label)} must be today or in the past'
    if validation.get('future') and value <= today:
        return None, f'{_quote(label)} must be in the future'
    return value.isoformat(), None


def clean_choice(question: Question, raw) -> tuple[Any, str | None]:
    allowed = dict(question.choices)
    if question.multiple:
        values = [value for value in (raw or []) if value]
        if not values:
            return None, None
        if any(value not in allowed for value in values):
            return None, f'Select only the options shown for {_quote(question.label)}'
        low, high = question.validation.get('min_selected'), question.validation.get('max_selected')
        if low and len(values) < low:
            return values, f'Select at least {low} for {_quote(question.label)}'
        if high and len(values) > high:
            return values, f'Select at most {high} for {_quote(question.label)}'
        return [value for value in allowed if value in values], None
    if not raw:
        return None, None
    if raw not in allowed:
        return None, f'Select one of the options shown for {_quote(question.label)}'
    return raw, None


def clean_cell(column: Column, raw: str | None) -> tuple[Any, str | None]:
    if column.type == 'number':
        return clean_number(column.label, raw, column.validation)
    if column.type == 'choice':
        value = (raw or '').strip()
        if value and value not in dict(column.choices):
            return None, f'Select one of the options shown for {_quote(column.label)}'
        return value or None, None
    return clean_text(column.label, raw, column.validation)


def clean_rows(question: Question, rows: list[dict[str, str]]) -> tuple[Any, list[tuple[int, str, str]]]:
    """Clean repeating rows: blank rows are dropped; a partly filled row must be completed.

    Returns (value, [(row index, column id, message)]).
    """
    value, errors = [], []
    for index, raw_row in enumerate(rows):
        if not any((raw_row.get(column.id) or '').strip() for column in question.columns):
            continue
        row = {}
        for column in question.columns:
            cell, error = clean_cell(column, raw_row.get(column.id))
            if error is None and cell is None:
                error = f'Enter {_quote(column.label)} in row {index + 1}, or clear the row'
            if error:
                errors.append((index, column.id, error))
            row[column.id] = cell
        value.append(row)
    min_rows = question.validation.get('min_rows', 0)
    if value and len(value) < min_rows:
        errors.append((0, question.columns[0].id, f'Fill in at least {min_rows} rows for {_quote(question.label)}'))
    return (value or None), errors


def check_stored(question: Question, value: Any) -> str | None:
    """Re-check a value in stored form (services call this so that no caller can store a malformed answer)."""
    if value is None:
        return None
    qtype = question.type
    if qtype == 'text':
        return 'expected text' if not isinstance(value, str) else clean_text(question.label, value,
                                                                                question.validation)[1]
    if qtype in ('yes-no', 'choice'):
        if question.multiple:
            return None if isinstance(value, list) else 'expected a list of choices'
        return None if value in dict(question.choices) else f'{value!r} is not one of the choices'
    if qtype in ('number', 'money'):
        if not isinstance(value, int | float) or isinstance(value, bool) or (qtype == 'money'
                                                                            and not isinstance(value, int)):
            return 'expected a number' if qtype == 'number' else 'expected whole pence'
        return _bounds_error(question.label, value, question.validation, money=qtype == 'money')
    if qtype == 'date':
        try:
            date.fromisoformat(value)
        except (TypeError, ValueError):
            return 'expected an ISO date'
        return None
    if qtype == 'rows':
        if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
            return 'expected a list of rows'
        if len(value) > question.max_rows:
            return f'at most {question.max_rows} rows'
        return None
    if qtype == 'evidence':
        return 'evidence is uploaded, not typed'
    return None


def display(question: Question, value: Any) -> str:
    """An answer as text for check-your-answers pages and the snapshot view."""
    if value is None or value == '' or value == []:
        return ''
    if question.type == 'money':
        return format_money(value)
    if question.type == 'date':
        try:
            day = date.fromisoformat(value)
            return f'{day.day} {day:%B %Y}'
        except (TypeError, ValueError):
            return str(value)
    if question.type in ('yes-no', 'choice'):
        if isinstance(value, list):
            return ', '.join(question.choice_label(item) for item in value)
        return question.choice_label(value)
    if question.type == 'number':
        return f'{value:,}' if isinstance(value, int) else str(value)
    if question.type == 'rows':
        return '; '.join(', '.join(str(row.get(column.id, '')) for column in question.columns) for row in value)
    return str(value)
