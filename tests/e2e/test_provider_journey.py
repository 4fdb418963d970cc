"""A provider registers, adds a setting and applies for the national qualification with evidence."""

import pytest

from tests.e2e import journeys
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e


def test_provider_registers_adds_a_setting_and_applies_with_evidence(page, live_server, tmp_path):
    pdf = tmp_path / 'safeguarding-policy.pdf'
    pdf.write_bytes(journeys.PDF_BYTES)

    journeys.register_provider(page, live_server, 'jo@oakfield.example', 'Jo Provider')
    organisation_id = journeys.create_organisation(page, 'Oakfield Care Limited')
    # a children's home's address is confidential: its public description may not give it away
    journeys.fill_childrens_home(page, organisation_id, 'Oak Lodge', 'SC654321', 'LS6 2AB',
                                 'Visit us at 12 Confidential Road, LS6 2AB.')
    journeys.click_button(page, 'Save setting')
    summary = page.locator('.govuk-error-summary').inner_text()
    assert 'Description must not include the home’s address' in summary and '‘LS6 2AB’ (a postcode)' in summary
    assert_accessible(page)
    page.get_by_label('Description').fill(journeys.HOME_DESCRIPTION)
    journeys.click_button(page, 'Save setting')
    page.get_by_text('Oak Lodge').first.wait_for()
    saved = live_server.query("SELECT description FROM settings WHERE name = 'Oak Lodge'")
    assert saved == [(journeys.HOME_DESCRIPTION,)]
    application_id = journeys.complete_application(page, pdf)

    status, = live_server.query('SELECT status FROM applications WHERE id = ?', (application_id,))[0]
    assert status == 'submitted'
    evidence = live_server.query('SELECT filename, size FROM evidence_documents WHERE application_id = ?',
                                 (application_id,))
    assert evidence and all(size == len(journeys.PDF_BYTES) for _name, size in evidence)
    assert live_server.query("SELECT count(*) FROM audit_events WHERE action LIKE 'application.submit%' "
                             "AND object_id = ?", (str(application_id),))[0][0] == 1
