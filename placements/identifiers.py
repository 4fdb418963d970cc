"""Spot obvious identifiers in free text: dates of birth, NHS numbers and full postcodes.

A referral describes a child without identity. Officers are warned not to type names; these checks catch the
identifiers that have a recognisable shape. They are deliberately narrow so that ordinary notes pass:

- a **date of birth**: a full date (day, month and year, in any common written or numeric form) that lies within
  the last 26 years, or any full date (or month and year) written after "born", "DOB" or "date of birth";
- an **NHS number**: ten digits (optionally spaced 3-3-4) whose check digit passes the modulus 11 check;
- a **full postcode** (a district or outward code such as "LS1" is fine): written in capitals, or a real postcode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from registry.geography import postcodes

MONTHS = {name: number for number, names in enumerate(
    [('jan', 'january'), ('feb', 'february'), ('mar', 'march'), ('apr', 'april'), ('may',), ('jun', 'june'),
     ('jul', 'july'), ('aug', 'august'), ('sep', 'sept', 'september'), ('oct', 'october'), ('nov', 'november'),
     ('dec', 'december')], start=1) for name in names}
_MONTH = r'(?P<month_name>' + '|'.join(sorted(MONTHS, key=len, reverse=True)) + r')\.?'
_ORDINAL = r'(?:st|nd|rd|th)?'
#: Oldest a looked-after child (or care leaver) can be, so older dates are not read as dates of birth.
MAX_AGE_YEARS = 26
_BIRTH_WORDS = re.compile(r'(?:\bborn\b|\bd\.?\s?o\.?\s?b\b|date\s+of\s+birth|\bbirth\s*date|\bbirthday\b)[^\n]{0,20}$',
                          re.IGNORECASE)

_DATE_PATTERNS = [
    # 03/04/2012, 3-4-12, 03.04.2012, 3 4 2012
    re.compile(r'(?<![\d/.\-])(?P<a>\d{1,2})(?P<sep>[/.\-]| )(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})(?![\d/.\-])'),
    # 2012-04-03, 2012/04/03
    re.compile(r'(?<![\d/.\-])(?P<year>\d{4})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<a>\d{1,2})(?![\d/.\-])'),
    # 3 April 2012, 3rd of Apr. 2012, 03-Apr-2012
    re.compile(r'\b(?P<a>\d{1,2})' + _ORDINAL + r'(?:\s+of)?[\s\-/]*' + _MONTH + r',?[\s\-/]*(?P<year>\d{4}|\d{2})\b',
               re.IGNORECASE),
    # April 3, 2012 / April 3rd 2012
    re.compile(r'\b' + _MONTH + r'\s+(?P<a>\d{1,2})' + _ORDINAL + r',?\s+(?P<year>\d{4})\b', re.IGNORECASE),
    # 03042012 (only counted after "born" or "DOB")
    re.compile(r'(?<!\d)(?P<a>\d{2})(?P<b>\d{2})(?P<year>\d{4})(?!\d)'),
]
_MONTH_YEAR = re.compile(r'\b' + _MONTH + r',?\s+(?P<year>\d{4})\b', re.IGNORECASE)
_NHS_NUMBER = re.compile(r'(?<![\d\-])(\d{3})[ \-]?(\d{3})[ \-]?(\d{4})(?![\d\-])')
_POSTCODE = re.compile(r'\b([A-PR-UWYZ][A-HK-Y]?[0-9][A-HJKMNPR-Y0-9]?) ?([0-9][ABD-HJLNP-UW-Z]{2})\b',
                       re.IGNORECASE)


@dataclass(frozen=True)
class Identifier:
    """An identifier found in text: its kind (``date-of-birth``, ``nhs-number``, ``postcode``) and the text."""

    kind: str
    text: str


def nhs_number_is_valid(digits: str) -> bool:
    """The NHS number modulus 11 check: weights 10 down to 2; 11 minus the remainder is the check digit."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _full_year(text: str, today: date) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year <= today.year % 100 else 1900
    return year


def _parse(match: re.Match, today: date) -> list[date]:
    """Every real date the match could be (day-month and, for numbers, month-day)."""
    groups = match.groupdict()
    year = _full_year(groups['year'], today)
    first = int(groups['a'])
    if groups.get('month_name'):
        orders = [(first, MONTHS[groups['month_name'].lower()])]
    else:
        second = int(groups['b'])
        orders = [(first, second), (second, first)]
    found = []
    for day, month in orders:
        try:
            found.append(date(year, month, day))
        except ValueError:
            continue
    return found


def _after_birth_words(text: str, start: int) -> bool:
    return bool(_BIRTH_WORDS.search(text[max(0, start - 40):start]))


def _dates_of_birth(text: str, today: date) -> list[Identifier]:
    earliest = date(today.year - MAX_AGE_YEARS, today.month, min(today.day, 28))
    found, taken = [], []
    for index, pattern in enumerate(_DATE_PATTERNS):
        for match in pattern.finditer(text):
            span = match.span()
            if any(start < span[1] and span[0] < end for start, end in taken):
                continue
            candidates = _parse(match, today)
            if not candidates:
                continue
            flagged_by_words = _after_birth_words(text, span[0])
            compact = index == len(_DATE_PATTERNS) - 1
            if compact and not flagged_by_words:
                continue
            if flagged_by_words or any(earliest <= day <= today for day in candidates):
                found.append(Identifier('date-of-birth', match.group(0)))
                taken.append(span)
    for match in _MONTH_YEAR.finditer(text):
        span = match.span()
        if not any(start < span[1] and span[0] < end for start, end in taken) and _after_birth_words(text, span[0]):
            found.append(Identifier('date-of-birth', match.group(0)))
    return found


def _nhs_numbers(text: str) -> list[Identifier]:
    return [Identifier('nhs-number', match.group(0)) for match in _NHS_NUMBER.finditer(text)
            if nhs_number_is_valid(''.join(match.groups()))]


def _is_real_postcode(candidate: str) -> bool:
    try:
        postcodes.lookup(candidate)
    except (postcodes.PostcodeError, LookupError, OSError):
        return False
    return True


def _postcodes(text: str) -> list[Identifier]:
    found = []
    for match in _POSTCODE.finditer(text):
        written = match.group(0)
        if written.isupper() or _is_real_postcode(f'{match.group(1)} {match.group(2)}'):
            found.append(Identifier('postcode', written))
    return found


def find_identifiers(text: str, today: date | None = None) -> list[Identifier]:
    """Every obvious identifier in ``text``, in the order: dates of birth, NHS numbers, postcodes."""
    if not text:
        return []
    today = today or date.today()
    return [*_dates_of_birth(text, today), *_nhs_numbers(text), *_postcodes(text)]


def identifier_problem(text: str, label: str, today: date | None = None) -> str | None:
    """A GOV.UK error message for the first identifier in ``text`` (None when there is none)."""
    found = find_identifiers(text, today)
    if not found:
        return None
    first = found[0]
    if first.kind == 'date-of-birth':
        return (f'{label} must not include a date of birth (“{first.text}”). Give the child’s age instead, '
                'or remove the date')
    if first.kind == 'nhs-number':
        return f'{label} must not include an NHS number (“{first.text}”). Remove it'
    return (f'{label} must not include a full postcode (“{first.text}”). Give the district only, '
            f'like “{first.text.split()[0] if " " in first.text else first.text[:-3]}”')
