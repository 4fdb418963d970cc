"""Every form message names its field: length limits through ``max_length``, number ranges, choices and numbers.

WTForms' own messages ("Field cannot be longer than 200 characters.", "Not a valid choice.") name no field, so
two of them in a GOV.UK error summary cannot be told apart. These checks keep them from creeping back: one reads
every form class, the other reads the source, which also covers the forms built per request (marks, decisions,
local questions).
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from flask_wtf import FlaskForm
from wtforms import DecimalField, FloatField, IntegerField, SelectField
from wtforms.fields.core import UnboundField
from wtforms.validators import Length, NumberRange

from registry.inputs import max_length

ROOT = Path(__file__).resolve().parents[2]
#: The application's packages (not tests, benchmarks or migrations).
PACKAGES = ('attention', 'consortia', 'market', 'notifications', 'placements', 'qualification', 'registry', 'search',
            'unlisted', 'workspace')
CHOICE_FIELDS = {'SelectField', 'RadioField', 'SelectMultipleField'}
#: A message that says "Field" or "this field" instead of naming the field.
UNNAMED = re.compile(r'\bfield\b', re.IGNORECASE)


def _app_sources() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob('*.py'))


def _form_classes() -> list[type[FlaskForm]]:
    for path in _app_sources():
        if path.name == 'forms.py' or path.name.endswith('_forms.py'):
            importlib.import_module('.'.join(path.relative_to(ROOT).with_suffix('').parts))
    found, pending = [], [FlaskForm]
    while pending:
        for cls in pending.pop().__subclasses__():
            pending.append(cls)
            if cls.__module__.split('.')[0] in PACKAGES:
                found.append(cls)
    return found


def _problems(form: type[FlaskForm]) -> list[str]:
    problems = []
    for name in dir(form):
        field = getattr(form, name)
        if not isinstance(field, UnboundField):
            continue
        where = f'{form.__module__}.{form.__name__}.{name}'
        kwargs = field.kwargs
        validators = kwargs.get('validators') or (field.args[1] if len(field.args) > 1 else [])
        messages = [kwargs.get('invalid_choice_message'), kwargs.get('invalid_value_message')]
        for validator in validators:
            if isinstance(validator, Length | NumberRange) and validator.message is None:
                problems.append(f'{where}: {type(validator).__name__} without a message')
            messages.append(getattr(validator, 'message', None))
        if issubclass(field.field_class, SelectField):
            if kwargs.get('validate_choice', True) and not kwargs.get('invalid_choice_message'):
                problems.append(f'{where}: a choice not offered would say "Not a valid choice."')
            if kwargs.get('coerce', str) is not str and not kwargs.get('invalid_value_message'):
                problems.append(f'{where}: a value that is not a number would say "Invalid Choice: could not coerce."')
        if issubclass(field.field_class, IntegerField | DecimalField | FloatField) \
                and not kwargs.get('invalid_value_message'):
            problems.append(f'{where}: a value that is not a number would say "Not a valid ... value."')
        problems += [f'{where}: {message!r} does not name the field' for message in messages
                     if isinstance(message, str) and UNNAMED.search(message)]
    return problems


def _call_name(node: ast.Call) -> str:
    return node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, 'attr', '')


def _source_problems(source: str, filename: str) -> list[str]:
    problems = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        name, keywords = _call_name(node), {keyword.arg: keyword.value for keyword in node.keywords}
        where = f'{filename}:{node.lineno}'
        if name in {'Length', 'NumberRange'} and 'message' not in keywords and len(node.args) < 3:
            problems.append(f'{where}: {name} without a message (use registry.inputs.max_length for a limit)')
        if name in CHOICE_FIELDS and 'invalid_choice_message' not in keywords:
            validate = keywords.get('validate_choice')
            if not (isinstance(validate, ast.Constant) and validate.value is False):
                problems.append(f'{where}: {name} without invalid_choice_message')
        if name in CHOICE_FIELDS and 'coerce' in keywords and 'invalid_value_message' not in keywords:
            problems.append(f'{where}: {name} with coerce but without invalid_value_message')
    return problems


def test_max_length_names_the_field_in_gov_uk_words():
    validator = max_length(4000, 'Reasons for Fostering')
    assert (validator.min, validator.max) == (-1, 4000)
    assert validator.message == 'Reasons for Fostering must be 4,000 characters or fewer'


def test_every_form_class_gives_messages_that_name_the_field(app_ctx):
    forms = _form_classes()
    assert len(forms) > 40  # every feature's forms were found
    assert [problem for form in forms for problem in _problems(form)] == []


def test_no_length_range_or_choice_in_the_code_is_left_with_the_wtforms_message():
    sources = _app_sources()
    assert any(path.name == 'board_forms.py' for path in sources)
    assert [problem for path in sources
            for problem in _source_problems(path.read_text(encoding='utf-8'), str(path.relative_to(ROOT)))] == []


@pytest.mark.parametrize('source', [
    "StringField('Name', validators=[Length(max=10)])",
    "NumberRange(0, 5)",
    "RadioField('Lot', choices=[])",
    "SelectField('Assessor', coerce=int, invalid_choice_message='Select an assessor from the list')",
])
def test_the_source_check_catches_a_missing_message(source):
    assert len(_source_problems(source, 'probe.py')) == 1
