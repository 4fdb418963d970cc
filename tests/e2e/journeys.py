"""Steps shared by the browser journeys: each drives the real pages the way a person would."""

from __future__ import annotations

import re
import zlib
from datetime import date

import pyotp
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from qualification.schemes import load_scheme
from tests.e2e.conftest import assert_accessible
from tests.qualification.conftest import valid_value

PASSWORD = 'a long and memorable passphrase'
#: A minimal valid PDF (the evidence allow-list checks content, not just the name).
PDF_BYTES = (b'%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n'
             b'trailer<</Root 1 0 R>>\n%%EOF\n')


def click_button(page, name: str) -> None:
    page.get_by_role('button', name=name, exact=True).click()


def register_provider(page, server, email: str, full_name: str) -> None:
    """Create an account, follow the emailed verification link, and sign in."""
    page.goto('/register')
    assert_accessible(page)
    page.get_by_label('Full name').fill(full_name)
    page.get_by_label('Email address').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('input[name="confirm_password"]').fill(PASSWORD)
    click_button(page, 'Create account')
    body = server.latest_email(email, 'verify-email')
    link = re.search(r'https?://\S+/verify-email/\S+', body).group(0)
    page.goto(link)
    if page.locator('input[name="password"]').count():
        sign_in(page, email)


def sign_in(page, email: str, password: str = PASSWORD, totp_secret: str | None = None) -> None:
    page.goto('/sign-in')
    page.get_by_label('Email address').fill(email)
    page.get_by_label('Password', exact=True).fill(password)
    click_button(page, 'Sign in')
    if totp_secret:
        page.get_by_label('Security code').fill(pyotp.TOTP(totp_secret).now())
        click_button(page, 'Continue')


def sign_out(page) -> None:
    page.goto('/sign-out')
    buttons = page.get_by_role('button', name=re.compile('Sign out'))
    if buttons.count():
        buttons.first.click()


def create_organisation(page, legal_name: str) -> int:
    """Fill in the new organisation form and save it; returns the organisation's id.

    Under load a 400 with an error summary was seen once in a while for this valid form (not reproduced in
    isolation); the form is then filled in again once, and a second refusal fails with the summary's text.
    """
    refusals = []
    for _attempt in range(2):
        page.goto('/organisations/new')
        assert_accessible(page)
        page.get_by_label('Legal name').fill(legal_name)
        page.get_by_label('Private company limited by shares').check()
        # one organisation per number: each journey's organisation has its own
        page.get_by_label('Companies House number').fill(f'{zlib.crc32(legal_name.encode()) % 10**8:08d}')
        page.get_by_label('Private', exact=True).check()
        page.get_by_label('Address line 1').fill('1 Park Row')
        page.get_by_label('Town or city').fill('Leeds')
        page.get_by_label('Postcode').fill('LS1 5AB')
        page.get_by_label('Contact name').fill('Jo Provider')
        page.get_by_label('Contact email address').fill('contact@example.org')
        page.get_by_label('Contact telephone number').fill('0113 496 0000')
        with page.expect_navigation():  # the redirect to the organisation, or the form again with its errors
            click_button(page, 'Save and continue')
        match = re.search(r'/organisations/(\d+)', page.url)
        if match:
            return int(match.group(1))
        summary = page.locator('.govuk-error-summary')
        refusals.append(summary.inner_text() if summary.count() else page.url)
    raise AssertionError(f'the organisation form was refused: {refusals}')


HOME_DESCRIPTION = 'A therapeutic home for four young people with autism, near good schools.'


def add_childrens_home(page, organisation_id: int, name: str, urn: str, postcode: str,
                       description: str = HOME_DESCRIPTION) -> None:
    """Fill in and save the setting form for a children's home at 12 Confidential Road."""
    fill_childrens_home(page, organisation_id, name, urn, postcode, description)
    click_button(page, 'Save setting')
    page.get_by_text(name).first.wait_for()


def register_with_ofsted(live_server, urn: str, authority_code: str, provision_type: str = 'childrens-home',
                         provision_type_text: str = "Children's home") -> None:
    """Put a URN in the server's copy of Ofsted's register (active, in the authority): the listing gate."""
    live_server.query(
        'INSERT INTO ofsted_register (urn, provision_type_text, provision_type, registration_status, sector, '
        'name, town, postcode, local_authority_name, authority_code, region, ofsted_region, owner_name, '
        "overall_judgement_text, judgements, source_file, imported_at, row_hash) VALUES (?, ?, ?, 'active', "
        "'Private', 'REDACTED', '', '', '', ?, '', '', '', '', '{}', 'e2e', CURRENT_TIMESTAMP, ?)",
        (urn, provision_type_text, provision_type, authority_code, urn))


def fill_childrens_home(page, organisation_id: int, name: str, urn: str, postcode: str, description: str) -> None:
    page.goto(f'/organisations/{organisation_id}/settings/new')
    assert_accessible(page)
    page.get_by_label("Children's home", exact=True).check()
    page.get_by_label('Name of the setting').fill(name)
    page.get_by_label('Ofsted unique reference number (URN)').fill(urn)
    page.get_by_label('Address line 1').fill('12 Confidential Road')
    page.get_by_label('Town or city').fill('Leeds')
    page.get_by_label('Postcode').fill(postcode)
    page.get_by_label('Registered places').fill('4')
    page.get_by_label('Youngest age').fill('11')
    page.get_by_label('Oldest age').fill('17')
    page.get_by_label('Any', exact=True).check()
    page.get_by_label('Autism').check()
    page.get_by_label('Therapeutic care').check()
    page.get_by_label('Description').fill(description)


def _fill_question(page, question, tmp_pdf) -> None:
    """Answer one question on a section page with a valid value, if it is shown."""
    qid = question.id
    if question.type == 'evidence':
        field = page.locator(f'input[type="file"][name="{qid}"]')
        if field.count():
            field.set_input_files(str(tmp_pdf))
        return
    value = valid_value(question)
    if question.type == 'date':
        day = date.fromisoformat(value)
        if not page.locator(f'#{qid}-day').is_visible():
            return
        page.locator(f'#{qid}-day').fill(str(day.day))
        page.locator(f'#{qid}-month').fill(str(day.month))
        page.locator(f'#{qid}-year').fill(str(day.year))
        return
    if question.type == 'rows':
        from qualification.forms import row_field_name

        if not page.locator(f'[name="{row_field_name(qid, 0, question.columns[0].id)}"]').count():
            return  # answered from the organisation's record (its settings), shown read-only
        for index, row in enumerate(value):
            for column in question.columns:
                field = page.locator(f'[name="{row_field_name(qid, index, column.id)}"]')
                if field.evaluate('el => el.tagName') == 'SELECT':
                    field.select_option(str(row[column.id]))
                else:
                    field.fill(str(row[column.id]))
        return
    if question.type in {'yes-no', 'choice'}:
        for choice in (value if isinstance(value, list) else [value]):
            option = page.locator(f'input[name="{qid}"][value="{choice}"]')
            if option.is_visible():
                option.check()
        return
    field = page.locator(f'[name="{qid}"]')
    if not field.is_visible():
        return
    if question.type == 'money':
        pounds, pence = divmod(value, 100)
        field.fill(f'{pounds}.{pence:02d}')
    else:
        field.fill(str(value))


def start_application(page, lots) -> int:
    page.goto('/qualification/')
    page.get_by_role('button', name='Start an application').click()
    page.locator('input[name="lots"]:checked').evaluate_all('boxes => boxes.forEach(box => box.click())')
    for lot in lots:
        page.locator(f'input[value="{lot}"]').check()
    click_button(page, 'Start application')
    assert_accessible(page)
    return int(re.search(r'/applications/(\d+)', page.url).group(1))


def complete_application(page, tmp_pdf, lots=('childrens-homes',)) -> int:
    """Start an application for ``lots``, answer every section, declare and submit. Returns its id."""
    application_id = start_application(page, lots)
    scheme = load_scheme('2026.1')
    for section in scheme.sections_for(list(lots)):
        page.goto(f'/qualification/applications/{application_id}/sections/{section.id}')
        for question in section.questions_for(list(lots)):
            _fill_question(page, question, tmp_pdf)
        click_button(page, 'Save and continue')
        assert '/check' in page.url, f'section {section.id} was not accepted: ' + page.locator(
            '.govuk-error-summary').all_inner_texts().__str__()
    page.goto(f'/qualification/applications/{application_id}/submit')
    assert_accessible(page)
    page.get_by_label('Your full name').fill('Jo Provider')
    page.get_by_label('Your role in the organisation').fill('Responsible individual')
    page.locator('input[name="confirm"]').check()
    click_button(page, 'Accept and submit')
    page.locator('.govuk-panel').wait_for()
    assert_accessible(page)
    return application_id


def set_up_second_factor(page) -> str:
    """On the set-up page: read the secret shown as text, confirm with a code, return the secret."""
    text = page.locator('main').inner_text()
    secret = re.search(r'\b([A-Z2-7]{16,})\b', text.replace(' ', '')).group(1)
    page.get_by_label(re.compile('code', re.I)).fill(pyotp.TOTP(secret).now())
    page.get_by_role('button', name=re.compile('Continue|Confirm|Save')).first.click()
    return secret


# --- keyboard only -------------------------------------------------------------------------------------------------

def wait_for_components(page) -> None:
    """Wait until GOV.UK Frontend has initialised every component (it marks each with data-<module>-init)."""
    page.wait_for_function("() => document.body.classList.contains('govuk-frontend-supported') && "
                           "[...document.querySelectorAll('[data-module]')]"
                           ".every(el => el.hasAttribute('data-' + el.dataset.module + '-init'))")


def tab_to(page, selector: str, limit: int = 400) -> None:
    """Press Tab until the element matching ``selector`` has focus (as a keyboard user would)."""
    target = page.locator(selector).first
    for _ in range(limit):
        if target.evaluate('el => el === document.activeElement'):
            return
        page.keyboard.press('Tab')
    raise AssertionError(f'could not reach {selector} with the Tab key')


def _key_answer(page, question, tmp_pdf) -> None:
    """Answer one shown question using only the keyboard."""
    qid = question.id
    if question.type == 'evidence':
        field = page.locator(f'input[type="file"][name="{qid}"]')
        if not field.count():
            return
        # GOV.UK Frontend replaces the native input with a button that opens the file chooser
        enhanced = f'.govuk-drop-zone:has(input[name="{qid}"]) button.govuk-file-upload-button'
        target = enhanced if page.locator(enhanced).count() else f'input[type="file"][name="{qid}"]'
        if not page.locator(target).is_visible():
            return
        tab_to(page, target)
        # a busy machine can swallow the first key press before the button's handler is ready: try again
        for key in ('Space', 'Enter', 'Space'):
            try:
                with page.expect_file_chooser(timeout=4000) as chooser:
                    page.keyboard.press(key)
            except PlaywrightTimeoutError:
                continue
            chooser.value.set_files(str(tmp_pdf))
            return
        raise AssertionError(f'the keyboard could not open the file chooser for {qid}')
        return
    value = valid_value(question)
    if question.type in {'yes-no', 'choice'}:
        for choice in (value if isinstance(value, list) else [value]):
            selector = f'input[name="{qid}"][value="{choice}"]'
            if not page.locator(selector).is_visible():
                continue
            if page.locator(selector).get_attribute('type') == 'radio':
                # Tab lands on the group; arrow keys move the selection to the wanted option
                group = f'input[name="{qid}"]'
                tab_to(page, f'{group}:checked' if page.locator(f'{group}:checked').count() else group)
                for _ in range(12):
                    if page.locator(selector).is_checked():
                        break
                    page.keyboard.press('ArrowDown')
                if not page.locator(selector).is_checked():
                    page.keyboard.press('Space')
            else:
                tab_to(page, selector)
                page.keyboard.press('Space')
        return
    if question.type == 'date':
        day = date.fromisoformat(value)
        if not page.locator(f'#{qid}-day').is_visible():
            return
        for part, text in (('day', day.day), ('month', day.month), ('year', day.year)):
            tab_to(page, f'#{qid}-{part}')
            page.keyboard.type(str(text))
        return
    if question.type == 'rows':
        from qualification.forms import row_field_name

        for index, row in enumerate(value):
            for column in question.columns:
                selector = f'[name="{row_field_name(qid, index, column.id)}"]'
                tab_to(page, selector)
                if page.locator(selector).evaluate('el => el.tagName') == 'SELECT':
                    page.locator(selector).select_option(str(row[column.id]))  # native select: keyboard picks too
                else:
                    page.keyboard.type(str(row[column.id]))
        return
    selector = f'[name="{qid}"]'
    if not page.locator(selector).is_visible():
        return
    tab_to(page, selector)
    page.keyboard.press('Control+A')
    if question.type == 'money':
        pounds, pence = divmod(value, 100)
        page.keyboard.type(f'{pounds}.{pence:02d}')
    else:
        page.keyboard.type(str(value))


def complete_section_by_keyboard(page, application_id: int, section, lots, tmp_pdf) -> None:
    """Fill one section and submit it with the Enter key on the button."""
    page.goto(f'/qualification/applications/{application_id}/sections/{section.id}')
    wait_for_components(page)
    for question in section.questions_for(list(lots)):
        _key_answer(page, question, tmp_pdf)
    tab_to(page, 'button[name="save_and_continue"], input[name="save_and_continue"]')
    page.keyboard.press('Enter')
    page.wait_for_url('**/check')


# --- the national board and commissioners -------------------------------------------------------------------------

def review_every_question(page, application_id: int) -> None:
    """As the assessor: accept the automatic marks, then pass every question still unmarked, section by section."""
    overview = f'/qualification/board/applications/{application_id}'
    page.goto(overview)
    click_button(page, 'Accept all automatic marks')
    page.locator('.govuk-notification-banner--success').wait_for()
    hrefs = page.locator('table a[href*="/sections/"]').evaluate_all('links => links.map(link => link.href)')
    for href in hrefs:
        page.goto(href)
        names = page.locator('input[type="radio"][name^="outcome_"]').evaluate_all(
            'inputs => [...new Set(inputs.map(input => input.name))]')
        unmarked = [name for name in names if not page.locator(f'input[name="{name}"]:checked').count()]
        for name in unmarked:
            page.locator(f'input[name="{name}"][value="pass"]').check()
        if unmarked:
            click_button(page, 'Save marks')
            page.wait_for_url(f'**{overview}')
    page.goto(overview)
    assert page.locator('[data-count="unmarked"]').inner_text().strip() == '0'


def invite_staff(page, full_name: str, email: str, role_label: str, authority: str | None = None) -> None:
    """As a signed-in admin, invite a board or commissioner account."""
    page.goto('/admin/users/invite')
    assert_accessible(page)
    page.get_by_label('Full name').fill(full_name)
    page.get_by_label('Email address').fill(email)
    page.get_by_label(role_label, exact=True).check()
    if authority:
        page.get_by_label('Local authority').select_option(label=authority)
    click_button(page, 'Send invitation')
    page.get_by_text(email).first.wait_for()


def accept_staff_invite(page, server, email: str, *, second_factor: bool) -> str | None:
    """Follow the emailed set-password link, sign in, and set up TOTP when the role needs it."""
    body = server.latest_email(email, 'staff-invite')
    page.goto(re.search(r'https?://\S+', body).group(0))
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('input[name="confirm_password"]').fill(PASSWORD)
    click_button(page, 'Save password')
    sign_in(page, email)
    if second_factor:
        page.wait_for_url('**/two-factor/set-up')
        assert_accessible(page)
        return set_up_second_factor(page)
    return None
