"""Renewing a qualification in a browser: the provider starts from the approved application and confirms each
section unchanged; the assessor sees nothing changed and carries the previous marks; a board member signs off.
"""

import re

import pytest

from tests.e2e import journeys
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e


def approve(assessor, board_member, application_id: int, *, renewal: bool) -> None:
    """The assessor reviews (carrying previous marks on a renewal) and proposes approval; the board member signs."""
    overview = f'/qualification/board/applications/{application_id}'
    assessor.goto(f'{overview}/assign')
    journeys.click_button(assessor, 'Assign')
    if renewal:
        assessor.goto(overview)
        assert_accessible(assessor)
        summary = assessor.locator('#renewal-summary').inner_text()
        assert '0 changed' in summary
        button = assessor.get_by_role('button', name=re.compile(r'Carry previous marks for the \d+ unchanged answers'))
        button.click()
        assessor.locator('.govuk-notification-banner--success').wait_for()
        assessor.goto(f'{overview}/sections/insurance')
        assert 'Unchanged' in assessor.locator('main').inner_text()
        assert_accessible(assessor)
    else:
        journeys.review_every_question(assessor, application_id)
    assessor.goto(overview)
    assert assessor.locator('[data-count="unmarked"]').inner_text().strip() == '0'
    assessor.goto(f'{overview}/decision')
    assessor.locator('input[type="radio"][value="approve"]').check()
    assessor.locator('textarea').first.fill('Meets every national criterion.')
    journeys.click_button(assessor, 'Propose decision')
    board_member.goto(f'{overview}/sign-off')
    board_member.locator('input[name="decision"][value="sign-off"]').check()
    journeys.click_button(board_member, 'Continue')


def test_provider_renews_a_qualification_from_the_approved_application(new_person, live_server, tmp_path):
    pdf = tmp_path / 'policy.pdf'
    pdf.write_bytes(journeys.PDF_BYTES)
    provider = new_person()
    journeys.register_provider(provider, live_server, 'rio@rowancare.example', 'Rio Provider')
    organisation_id = journeys.create_organisation(provider, 'Rowan Care Homes Limited')
    journeys.add_childrens_home(provider, organisation_id, 'Rowan House', 'SC765499', 'LS6 2AB')
    first_id = journeys.complete_application(provider, pdf)

    live_server.flask('registry', 'create-admin', '--email', 'admin-renewal@board.example', '--name', 'Ren Admin',
                      '--password', journeys.PASSWORD)
    admin = new_person()
    journeys.sign_in(admin, 'admin-renewal@board.example')
    journeys.set_up_second_factor(admin)
    journeys.invite_staff(admin, 'Ria Assessor', 'ria@board.example', 'Assessor (national board)')
    journeys.invite_staff(admin, 'Rex Board', 'rex@board.example', 'Board member')
    assessor = new_person()
    journeys.accept_staff_invite(assessor, live_server, 'ria@board.example', second_factor=True)
    board_member = new_person()
    journeys.accept_staff_invite(board_member, live_server, 'rex@board.example', second_factor=True)
    approve(assessor, board_member, first_id, renewal=False)
    assert live_server.query('SELECT status FROM applications WHERE id = ?', (first_id,))[0][0] == 'approved'

    # the renewal starts from the approved application
    provider.goto('/qualification/')
    provider.get_by_role('button', name='Renew from your approved application').click()
    assert f'carried forward from application QA-{first_id}' in provider.locator('main').inner_text()
    assert provider.locator('input[name="lots"][value="childrens-homes"]').is_checked()
    assert_accessible(provider)
    journeys.click_button(provider, 'Start application')
    renewal_id = int(re.search(r'/applications/(\d+)', provider.url).group(1))
    assert f'Carried forward from QA-{first_id}, approved' in provider.locator('main').inner_text()
    assert_accessible(provider)
    sections = provider.locator('main a[href*="/sections/"]').evaluate_all('links => links.map(link => link.href)')
    assert len(sections) == 9
    for index, href in enumerate(sections):
        provider.goto(href)
        if index == 0:
            # the organisation's facts are read from its record, not typed again
            main = provider.locator('main').inner_text()
            assert 'Rowan Care Homes Limited' in main and 'Change your organisation’s details' in main
            assert provider.locator('input[name="org-legal-name"]').count() == 0
        if '/sections/insurance' in href:
            assert 'Confirm this section is unchanged' in provider.locator('main').inner_text()
            assert_accessible(provider)
        journeys.click_button(provider, 'Confirm this section is unchanged')
        provider.locator('.govuk-notification-banner--success').wait_for()
    provider.goto(f'/qualification/applications/{renewal_id}/submit')
    assert provider.get_by_label('Your full name').input_value() == 'Jo Provider'
    provider.locator('input[name="confirm"]').check()
    journeys.click_button(provider, 'Accept and submit')
    provider.locator('.govuk-panel').wait_for()

    approve(assessor, board_member, renewal_id, renewal=True)
    assert live_server.query('SELECT status FROM applications WHERE id = ?', (renewal_id,))[0][0] == 'approved'
    qualification = live_server.query(
        "SELECT status, application_id FROM qualifications WHERE organisation_id = ? AND lot = 'childrens-homes'",
        (organisation_id,))
    assert qualification == [('active', renewal_id)]
