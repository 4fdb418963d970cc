"""A provider completes the whole application using only the keyboard."""

import pytest

from qualification.schemes import load_scheme
from tests.e2e import journeys
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e


def test_provider_can_complete_the_application_with_the_keyboard_only(page, live_server, tmp_path):
    pdf = tmp_path / 'insurance-certificate.pdf'
    pdf.write_bytes(journeys.PDF_BYTES)
    journeys.register_provider(page, live_server, 'sam@brightfutures.example', 'Sam Keys')
    journeys.create_organisation(page, 'Bright Futures Fostering CIC')
    lots = ('fostering',)
    application_id = journeys.start_application(page, lots)

    for section in load_scheme('2026.1').sections_for(list(lots)):
        journeys.complete_section_by_keyboard(page, application_id, section, lots, pdf)
        assert_accessible(page)

    page.goto(f'/qualification/applications/{application_id}/submit')
    journeys.tab_to(page, 'input[name="name"]')
    page.keyboard.type('Sam Keys')
    journeys.tab_to(page, 'input[name="role"]')
    page.keyboard.type('Registered manager')
    journeys.tab_to(page, 'input[name="confirm"]')
    page.keyboard.press('Space')
    journeys.tab_to(page, 'button[name="submit"], input[name="submit"]')
    page.keyboard.press('Enter')
    page.locator('.govuk-panel').wait_for()

    assert live_server.query('SELECT status FROM applications WHERE id = ?', (application_id,))[0][0] == 'submitted'
