"""Burden benchmark: what a provider must fill in, upload and submit to qualify, renew and add a lot.

Run: ``.venv/bin/python bench/burden.py`` (``--markdown`` prints the table for docs/burden.md).

It drives the real pages through Flask's test client, on a fresh SQLite database in a temporary folder, as a
provider would: it opens each page, reads the form as the page pre-fills it, changes only what the journey needs
and posts it. A field counts as filled when the value posted differs from the value the page showed (a date is one
field, a row cell is one field, a ticked box is one field). Answer fields are the scheme's questions; other fields
are the lots chosen and the declaration. Uploads are files attached. Page submissions are POSTs. The board's review
between journeys goes through the board services and is not counted: it is not the provider's burden.

Journeys, in order, for one organisation with 7 children's homes:

1. a first application for children's homes;
2. the renewal a year later with nothing changed;
3. the next renewal with one insurance certificate replaced (the public liability certificate, with its new expiry
   date);
4. adding a second lot (fostering).

:func:`run_journeys` is also what ``tests/qualification/test_burden.py`` runs, so the targets are tested.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: A minimal valid PDF (the evidence checks read the content, not just the name).
PDF_BYTES = (b'%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n'
             b'trailer<</Root 1 0 R>>\n%%EOF\n')
#: Posted names that are buttons or tokens, never fields a person fills in.
NOT_FIELDS = {'csrf_token', 'save_and_continue', 'save_and_return', 'submit'}


@dataclass
class Burden:
    """What one journey asked of the provider."""

    name: str
    submissions: int = 0
    answer_fields: int = 0
    other_fields: int = 0
    uploads: int = 0
    #: section id -> answer fields filled there.
    answer_fields_by_section: dict[str, int] = field(default_factory=dict)


class _Forms(HTMLParser):
    """Every ``<form>`` on a page: its action and the values it would post as the page stands."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'form':
            self.forms.append({'action': attrs.get('action') or '', 'values': {}})
            return
        if not self.forms:
            return
        values = self.forms[-1]['values']
        name = attrs.get('name')
        if tag == 'input' and name:
            kind = attrs.get('type', 'text')
            if kind in ('radio', 'checkbox'):
                if 'checked' in attrs:
                    values.setdefault(name, []).append(attrs.get('value', 'y'))
            elif kind not in ('file', 'submit'):
                values.setdefault(name, []).append(attrs.get('value') or '')
        elif tag == 'textarea' and name:
            self._textarea = name
            values.setdefault(name, []).append('')
        elif tag == 'select' and name:
            self._select = name
            values.setdefault(name, [])
        elif tag == 'option' and self._select and 'selected' in attrs:
            values[self._select].append(attrs.get('value', ''))

    def handle_endtag(self, tag):
        if tag == 'textarea':
            self._textarea = None
        elif tag == 'select':
            self._select = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            values = self.forms[-1]['values'][self._textarea]
            values[-1] += data.lstrip('\n') if not values[-1] else data


class Provider:
    """A provider at the keyboard: reads each form as pre-filled, changes what it must, and posts it (counted)."""

    def __init__(self, client):
        self.client = client
        self.burden: Burden | None = None

    def form(self, url: str, action: str = '') -> dict[str, list[str]]:
        page = self.client.get(url)
        assert page.status_code == 200, (url, page.status_code)
        parser = _Forms()
        parser.feed(page.get_data(as_text=True))
        for form in parser.forms:
            if urlsplit(form['action']).path == urlsplit(action).path:
                return {name: list(values) for name, values in form['values'].items()}
        raise AssertionError(f'no form posting to {action or "the page itself"} on {url}')

    def post(self, url: str, shown: dict[str, list[str]], changes: dict, *, files: dict | None = None,
             answers: bool = True, section: str = '', button: tuple[str, str] | None = None):
        """Post ``shown`` with ``changes`` applied, counting the fields whose value differs from what was shown."""
        data: dict = {name: values for name, values in shown.items()}
        filled = 0
        for name, value in changes.items():
            value = value if isinstance(value, list) else [value]
            if [str(item) for item in value] != shown.get(name, []) and any(str(item) for item in value):
                filled += name not in NOT_FIELDS
            data[name] = [str(item) for item in value]
        for name, (content, filename) in (files or {}).items():
            data[name] = (io.BytesIO(content), filename)
        if button:
            data[button[0]] = button[1]
        burden = self.burden
        burden.submissions += 1
        burden.uploads += len(files or {})
        if answers:
            burden.answer_fields += filled
            burden.answer_fields_by_section[section] = burden.answer_fields_by_section.get(section, 0) + filled
        else:
            burden.other_fields += filled
        response = self.client.post(url, data=data, content_type='multipart/form-data')
        assert response.status_code in (302, 303), (url, response.status_code,
                                                     _errors(response.get_data(as_text=True)))
        return response


def _errors(html: str) -> list[str]:
    return re.findall(r'<a href="#[^"]*">([^<]+)</a>', html)[:5]


def _encode(question, value) -> dict:
    """Form fields for one stored-form value (as a person would type it)."""
    from qualification.forms import row_field_name

    if value is None or question.type == 'evidence':
        return {}
    if question.type == 'money':
        pounds, pence = divmod(value, 100)
        return {question.id: f'{pounds}.{pence:02d}'}
    if question.type == 'date':
        day = date.fromisoformat(value)
        return {question.id: [str(day.day), str(day.month), str(day.year)]}
    if question.type == 'rows':
        return {row_field_name(question.id, index, column.id): str(row[column.id])
                for index, row in enumerate(value) for column in question.columns}
    if question.type == 'choice' and question.multiple:
        return {question.id: list(value)}
    return {question.id: str(value)}


def _application_id(response) -> int:
    return int(re.search(r'/applications/(\d+)', response.headers['Location']).group(1))


def first_application(provider: Provider, organisation_id: int, lots: list[str], answer) -> int:
    """Choose the lots, answer every section (uploading each required document) and submit."""
    from flask import url_for

    from qualification import carry, services
    from qualification.applications import Application
    from registry.extensions import db

    start_url = url_for('qualification.start_application', organisation_id=organisation_id)
    response = provider.post(start_url, provider.form(start_url), {'lots': lots}, answers=False)
    application_id = _application_id(response)
    application = db.session.get(Application, application_id)
    scheme = services.scheme_for(application)
    children = set(scheme.follow_up_parents())
    facts = carry.fact_values(application.organisation, scheme, lots)
    for section in scheme.sections_for(lots):
        url = url_for('qualification.edit_section', application_id=application_id, section_id=section.id)
        changes, files = {}, {}
        for question in section.questions_for(lots):
            if question.id in facts or question.id in children:
                continue
            if question.type == 'evidence':
                if question.required:
                    files[question.id] = (PDF_BYTES, f'{question.id}.pdf')
                continue
            changes.update(_encode(question, answer(question)))
        provider.post(url, provider.form(url), changes, files=files, section=section.id,
                      button=('save_and_continue', 'Save and continue'))
    _declare(provider, application_id, typed=True)
    return application_id


def _declare(provider: Provider, application_id: int, *, typed: bool) -> None:
    from flask import url_for

    url = url_for('qualification.submit_application', application_id=application_id)
    shown = provider.form(url)
    changes = {'confirm': 'y'}
    if typed:
        changes.update({'name': 'Pat Provider', 'role': 'Responsible individual'})
    provider.post(url, shown, changes, answers=False)


def carried_application(provider: Provider, organisation_id: int, lots: list[str], *, edits=None, answer=None) -> int:
    """Start from the approved application: confirm each carried section, or change it (``edits``: section id ->
    (answer changes, files)); answer any section that starts empty; submit with the declaration pre-filled."""
    from flask import url_for

    from qualification import carry, services
    from qualification.applications import Application
    from registry.extensions import db

    start_url = url_for('qualification.start_application', organisation_id=organisation_id)
    response = provider.post(start_url, provider.form(start_url), {'lots': lots}, answers=False)
    application_id = _application_id(response)
    application = db.session.get(Application, application_id)
    scheme = services.scheme_for(application)
    children = set(scheme.follow_up_parents())
    facts = carry.fact_values(application.organisation, scheme, lots)
    for section in scheme.sections_for(lots):
        url = url_for('qualification.edit_section', application_id=application_id, section_id=section.id)
        if section.id in (edits or {}):
            changes, files = edits[section.id]
            provider.post(url, provider.form(url), changes, files=files, section=section.id,
                          button=('save_and_continue', 'Save and continue'))
        elif section.id in application.carried_sections:
            confirm = url_for('qualification.confirm_section', application_id=application_id, section_id=section.id)
            provider.post(confirm, provider.form(url, action=confirm), {}, section=section.id)
        else:
            changes, files = {}, {}
            for question in section.questions_for(lots):
                if question.id in facts or question.id in children:
                    continue
                if question.type == 'evidence':
                    if question.required:
                        files[question.id] = (PDF_BYTES, f'{question.id}.pdf')
                    continue
                changes.update(_encode(question, answer(question)))
            provider.post(url, provider.form(url), changes, files=files, section=section.id,
                          button=('save_and_continue', 'Save and continue'))
    _declare(provider, application_id, typed=False)
    return application_id


def approve(application_id: int, assessor, member, signer) -> None:
    """The board's review, through its services (not counted): assign, mark, propose, sign off."""
    from qualification import board
    from qualification.applications import Application
    from registry.errors import DomainError
    from registry.extensions import db

    application = db.session.get(Application, application_id)
    board.assign(application, assessor, actor=member)
    if board.renewal_view(application) and board.renewal_view(application).carriable:
        board.carry_previous_marks(application, actor=assessor)
    try:
        board.accept_automatic_marks(application, actor=assessor)
    except DomainError:
        pass  # every automatic mark was carried
    rest = {question.id: ('pass', '') for question in board.review_state(application).unmarked}
    if rest:
        board.save_marks(application, rest, actor=assessor)
    board.propose_decision(application, {lot: ('approve', 'Meets the scheme') for lot in application.lots},
                           actor=assessor)
    board.sign_off(application, actor=signer)


def run_journeys(client, login, organisation, provider_user, assessor, member, signer, answer) -> list[Burden]:
    """The four journeys in order (each renewal starts from the one approved before it)."""
    from qualification.schemes import load_scheme

    provider = Provider(client)
    results = []

    def journey(name, run):
        login(provider_user)
        provider.burden = Burden(name)
        application_id = run()
        results.append(provider.burden)
        login(assessor)
        approve(application_id, assessor, member, signer)

    lots = ['childrens-homes']
    journey('First application', lambda: first_application(provider, organisation.id, lots, answer))
    journey('Renewal, nothing changed', lambda: carried_application(provider, organisation.id, lots))
    # the public liability certificate is renewed: its new expiry date is typed and the certificate attached
    scheme = load_scheme('2026.1')
    new_expiry = (date.today() + timedelta(days=400)).isoformat()
    insurance = (_encode(scheme.questions['ins-pl-expiry'], new_expiry),
                 {'ins-certificates': (PDF_BYTES + b'%renewed', 'public-liability-2027.pdf')})

    def renewal_with_certificate():
        return carried_application(provider, organisation.id, lots, edits={'insurance': insurance})

    journey('Renewal, one insurance certificate replaced', renewal_with_certificate)
    journey('Adding a second lot (fostering)',
            lambda: carried_application(provider, organisation.id, ['fostering'], answer=answer))
    return results


def table(results: list[Burden], *, organisation_sections: set[str]) -> str:
    """The results as a Markdown table."""
    lines = ['| journey | page submissions | answer fields filled | of which organisation-level | other fields '
             '(lots, declaration) | uploads |', '| --- | ---: | ---: | ---: | ---: | ---: |']
    for burden in results:
        shared = sum(count for section, count in burden.answer_fields_by_section.items()
                     if section in organisation_sections)
        lines.append(f'| {burden.name} | {burden.submissions} | {burden.answer_fields} | {shared} | '
                     f'{burden.other_fields} | {burden.uploads} |')
    return '\n'.join(lines)


def organisation_level_sections(lot: str = 'fostering') -> set[str]:
    """Sections that are not specific to a lot: answered once for the organisation."""
    from qualification.schemes import load_scheme

    scheme = load_scheme('2026.1')
    return {section.id for section in scheme.sections if set(section.applies_to) == set(scheme.lot_ids)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--markdown', action='store_true', help='print only the Markdown table')
    args = parser.parse_args()

    import flask_migrate
    from flask import g

    from registry.accounts.models import Role, User
    from registry.app import create_app
    from registry.db import utcnow
    from registry.extensions import db
    from registry.organisations.models import LegalForm, MemberRole, Membership, Organisation, Sector
    from registry.settings.models import Setting
    from registry.settings.taxonomy import ProvisionType
    from tests.qualification.conftest import valid_value

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({'SQLALCHEMY_DATABASE_URI': f'sqlite:///{folder}/burden.sqlite', 'TESTING': True,
                          'WTF_CSRF_ENABLED': False, 'SERVER_NAME': 'localhost', 'STORAGE_BACKEND': 'local',
                          'STORAGE_LOCAL_DIR': f'{folder}/storage', 'MAIL_BACKEND': 'outbox',
                          'SESSION_COOKIE_SECURE': False, 'REMEMBER_COOKIE_SECURE': False})
        with app.app_context():
            flask_migrate.upgrade(directory=str(ROOT / 'migrations'))
            organisation = Organisation(
                legal_name='Burden Care Ltd', legal_form=LegalForm.COMPANY_LIMITED_BY_SHARES,
                company_number='09876543', sector=Sector.PRIVATE, address_line_1='1 High Street', town='Leeds',
                postcode='LS1 1AA', contact_name='Pat Provider', contact_email='pat@example.org',
                contact_phone='0113 000 0000')
            db.session.add(organisation)
            users = {}
            for key, role in (('provider', Role.PROVIDER), ('assessor', Role.ASSESSOR),
                              ('member', Role.BOARD_MEMBER), ('signer', Role.BOARD_MEMBER)):
                users[key] = User(email=f'{key}@example.org', full_name=f'{key.title()} User', password_hash='x',
                                  role=role, email_verified_at=utcnow())
                db.session.add(users[key])
            db.session.flush()
            db.session.add(Membership(user=users['provider'], organisation=organisation, role=MemberRole.OWNER))
            for number in range(7):
                db.session.add(Setting(
                    organisation_id=organisation.id, provision_type=ProvisionType.CHILDRENS_HOME,
                    name=f'Home {number + 1}', urn=f'SC{800000 + number}', address_line_1=f'{number + 1} Oak Lane',
                    town='Leeds', postcode='LS1 1AA', easting=430000.0, northing=433000.0,
                    district_code='E08000035', authority_code='E08000035', places=4, age_min=8, age_max=17))
            db.session.commit()
            client = app.test_client()

            def login(user):
                g.pop('_login_user', None)
                with client.session_transaction() as session:
                    session['_user_id'] = user.get_id()
                    session['_fresh'] = True
                    session['second_factor_verified'] = True

            results = run_journeys(client, login, organisation, users['provider'], users['assessor'],
                                   users['member'], users['signer'], valid_value)
            markdown = table(results, organisation_sections=organisation_level_sections())
    if not args.markdown:
        print('Provider burden, counted by driving the real pages (bench/burden.py):\n')
    print(markdown)


if __name__ == '__main__':
    main()
