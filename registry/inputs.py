"""Input hardening shared by every feature: ids the database can hold, money, GOV.UK date inputs and length limits.

Anything typed or put in a URL by a person reaches these before it reaches the database, so hostile or odd
input (``inf``, ``nan``, ``1e309``, an id of 2^31, a POST without the date boxes) gets a clear message or a
404, never a 500.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovTextInput
from werkzeug.routing import IntegerConverter
from wtforms import Field
from wtforms.utils import unset_value
from wtforms.validators import Length, StopValidation

#: The largest value a (PostgreSQL) ``integer`` column holds; ids and counts beyond it cannot exist.
MAX_DB_INT = 2 ** 31 - 1
#: The largest amount of money the service accepts anywhere: £10 million, in pence.
MAX_MONEY_PENCE = 10_000_000 * 100

_MONEY = re.compile(r'^-?\d{1,12}(\.\d{1,2})?$')


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` in URLs, limited to what an integer column can hold: larger ids are not found (404).

    The app factory installs it as the ``int`` converter, so every route gets it.
    """

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_DB_INT, signed=False):  # noqa: A002 - Werkzeug names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def max_length(limit: int, name: str) -> Length:
    """``Length(max=limit)`` with the GOV.UK message naming the field: "Legal name must be 200 characters or fewer".

    Every length limit goes through here: WTForms' own message ("Field cannot be longer than 200 characters.")
    names no field, so two of them in the error summary cannot be told apart.
    """
    return Length(max=limit, message=f'{name} must be {limit:,} characters or fewer')


def parse_id(raw) -> int | None:
    """A positive database id from a query string or form value, or None when it is not one."""
    text = str(raw if raw is not None else '').strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= MAX_DB_INT else None


def parse_money(raw: str, *, allow_negative: bool = False, max_pence: int = MAX_MONEY_PENCE) -> int:
    """Pounds as typed ("£5,000", "1234.5", " 250.50 ") to whole pence.

    Only plain decimal numbers are accepted: never ``inf``, ``nan``, exponents or more than 2 decimal places.

    :raises ValueError: not an amount of money, negative (unless allowed), or more than ``max_pence``.
    """
    cleaned = re.sub(r'[£,\s]', '', str(raw or ''))
    if not cleaned.isascii() or not _MONEY.match(cleaned):
        raise ValueError(f'{raw!r} is not an amount of money')
    try:
        pence = int((Decimal(cleaned) * 100).to_integral_exact())
    except InvalidOperation:
        raise ValueError(f'{raw!r} is not an amount of money') from None
    if pence < 0 and not allow_negative:
        raise ValueError(f'{raw!r} is below £0')
    if abs(pence) > max_pence:
        raise ValueError(f'{raw!r} is more than £{max_pence // 100:,}')
    return pence


def format_pounds(pence: int | None) -> str:
    """Pence as a person types pounds back into a box: ``5200`` or ``250.50``."""
    if pence is None:
        return ''
    sign = '-' if pence < 0 else ''
    pounds, rest = divmod(abs(int(pence)), 100)
    return f'{sign}{pounds}' + (f'.{rest:02d}' if rest else '')


class MoneyField(Field):
    """An amount in pounds typed into a GOV.UK text input, held as integer pence (``None`` when blank).

    ``label`` names the amount in the messages, e.g. ``MoneyField('Weekly price')`` says "Weekly price must be
    an amount in pounds, like 5200 or 250.50".
    """

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, *, allow_negative: bool = False,
                 max_pence: int = MAX_MONEY_PENCE, **kwargs):
        kwargs.setdefault('render_kw', {'inputmode': 'decimal', 'spellcheck': 'false'})
        super().__init__(label, validators, **kwargs)
        self.allow_negative, self.max_pence = allow_negative, max_pence

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_pounds(self.data)

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not str(valuelist[0]).strip():
            return
        try:
            self.data = parse_money(valuelist[0], allow_negative=self.allow_negative, max_pence=self.max_pence)
        except ValueError as exc:
            reason = str(exc)
            if 'more than' in reason:
                raise ValueError(f'{self.label.text} must be £{self.max_pence // 100:,} or less') from None
            if 'below' in reason:
                raise ValueError(f'{self.label.text} must be £0 or more') from None
            raise ValueError(f'{self.label.text} must be an amount in pounds, like 5200 or 250.50') from None


def parse_date_parts(parts, label: str) -> date | None:
    """A date from the day, month and year boxes of a GOV.UK date input, in that order.

    Missing boxes (a hand-made POST) count as empty. Returns None when all three are empty.

    :raises ValueError: with a GOV.UK message: a box left empty, or not a real date.
    """
    values = [str(part or '').strip() for part in list(parts or [])[:3]]
    values += [''] * (3 - len(values))
    day, month, year = values
    if not (day or month or year):
        return None
    missing = [name for name, value in (('day', day), ('month', month), ('year', year)) if not value]
    if missing:
        raise ValueError(f'{label} must include a {" and ".join(missing)}')
    if not all(value.isascii() and value.isdigit() for value in values) or len(year) != 4:
        raise ValueError(f'{label} must be a real date')
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f'{label} must be a real date') from None


class GovDateField(Field):
    """A date typed as day, month and year (the GOV.UK date input), with GOV.UK error messages.

    Robust to any POST: missing, extra or non-numeric boxes give a message, never an error page.
    """

    widget = GovDateInput()

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        # The widget unpacks exactly three values (day, month, year), even when some were not sent.
        if self.raw_data is not None and len(self.raw_data) != 3:
            self.raw_data = [*self.raw_data, '', '', ''][:3]

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist:
            self.data = parse_date_parts(valuelist, self.label.text)

    def _value(self):
        # the widget renders the three boxes from raw_data or data; this is only its unused "value" argument
        return ''



def date_required(message: str):
    """Validator for :class:`GovDateField`: a date must be entered (a malformed one already has its message)."""

    def check(form, field) -> None:
        if field.data is None and not field.process_errors:
            raise StopValidation(message)

    return check
