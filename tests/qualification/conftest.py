"""Fixtures for the qualification tests: organisations with members, small real documents, valid scheme answers."""

from __future__ import annotations

import io
import itertools
import zipfile
from datetime import date, timedelta

import pytest

from qualification.schemes import Question, Scheme, Section
from registry.accounts.models import Role
from registry.extensions import db
from registry.organisations.models import LegalForm, MemberRole, Membership, Organisation, Sector
from tests.factories import make_user

_counter = itertools.count(1)

#: A tiny but well-formed PDF.
PDF_BYTES = (b'%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n'
             b'2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n'
             b'3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n'
             b'trailer<</Root 1 0 R>>\n%%EOF\n')
PNG_BYTES = b'\x89PNG\r\n\x1a\n' + b'\x00\x00\x00\rIHDR' + b'\x00' * 64


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX_BYTES = zip_bytes({'[Content_Types].xml': b'<Types/>', 'word/document.xml': b'<w:document/>'})
XLSX_BYTES = zip_bytes({'[Content_Types].xml': b'<Types/>', 'xl/workbook.xml': b'<workbook/>'})
ODT_BYTES = zip_bytes({'mimetype': b'application/vnd.oasis.opendocument.text', 'content.xml': b'<office/>'})


def make_organisation(name: str | None = None) -> Organisation:
    n = next(_counter)
    organisation = Organisation(
        legal_name=name or f'Test Care Ltd {n}', legal_form=LegalForm.COMPANY_LIMITED_BY_SHARES,
        company_number=f'{n:08d}', sector=Sector.PRIVATE, address_line_1='1 High Street', town='Leeds',
        postcode='LS1 1AA', contact_name='Pat Provider', contact_email=f'contact{n}@example.org',
        contact_phone='0113 000 0000')
    db.session.add(organisation)
    db.session.commit()
    return organisation


def make_member(organisation: Organisation, role: MemberRole = MemberRole.OWNER):
    user = make_user(Role.PROVIDER)
    db.session.add(Membership(user=user, organisation=organisation, role=role))
    db.session.commit()
    return user


@pytest.fixture
def organisation(app_ctx):
    return make_organisation()


@pytest.fixture
def provider(organisation):
    return make_member(organisation)


# --- valid answers generated from the scheme -------------------------------------------------------------------

def valid_value(question: Question):
    """A stored-form value that passes the question's validation and (where there is one) its automatic rule."""
    validation = question.validation
    if question.type == 'text':
        text = 'A sufficiently detailed answer for the assessor to read.'
        if 'pattern' in validation:
            text = '01234567'
        return text[:validation.get('max_length', 10_000)]
    if question.type == 'yes-no':
        rule = question.rule.condition
        if rule is not None:
            if rule.op == 'equals':
                return rule.value
            if rule.op == 'not_equals':
                return 'no' if rule.value == 'yes' else 'yes'
        return 'no'
    if question.type == 'choice':
        values = [value for value, _label in question.choices]
        rule = question.rule.condition
        if rule is not None and rule.op == 'not_in':
            values = [value for value in values if value not in rule.value]
        return [values[0]] if question.multiple else values[0]
    if question.type == 'number':
        return int(validation.get('min', 0)) + 1 if validation.get('max', 10**9) > validation.get('min', 0) else 0
    if question.type == 'money':
        rule = question.rule.condition
        return max(rule.value if rule and rule.op == 'min' else 0, validation.get('min', 0)) + 100
    if question.type == 'date':
        rule = question.rule.condition
        if rule is not None and rule.op == 'date_after_today':
            return (date.today() + timedelta(days=200)).isoformat()
        return (date.today() - timedelta(days=30)).isoformat()
    if question.type == 'rows':
        row = {}
        for column in question.columns:
            if column.type == 'number':
                row[column.id] = 3
            elif column.type == 'choice':
                row[column.id] = column.choices[1][0]
            else:
                row[column.id] = 'SC123456' if 'pattern' in column.validation else 'Registered manager'
        return [row]
    return None


def form_data_for(section: Section, lots, question_values: dict | None = None) -> dict:
    """HTTP form data answering every non-evidence question in ``section`` with a valid value."""
    data: dict = {}
    for question in section.questions_for(lots):
        value = (question_values or {}).get(question.id, valid_value(question))
        data.update(encode(question, value))
    data['save_and_continue'] = 'Save and continue'
    return data


def encode(question: Question, value) -> dict:
    """Form fields for one stored-form value."""
    if value is None or question.type == 'evidence':
        return {}
    if question.type == 'money':
        pounds, pence = divmod(value, 100)
        return {question.id: f'{pounds}.{pence:02d}'}
    if question.type == 'number':
        return {question.id: str(value)}
    if question.type == 'date':
        day = date.fromisoformat(value)
        return {question.id: [str(day.day), str(day.month), str(day.year)]}
    if question.type == 'rows':
        from qualification.forms import row_field_name

        return {row_field_name(question.id, index, column.id): str(row[column.id])
                for index, row in enumerate(value) for column in question.columns}
    return {question.id: value}


def stored_answers(scheme: Scheme, lots) -> dict[str, dict]:
    """section id -> {question id: valid stored value} for non-evidence questions."""
    return {section.id: {question.id: valid_value(question) for question in section.questions_for(lots)
                         if question.type != 'evidence'}
            for section in scheme.sections_for(lots)}
