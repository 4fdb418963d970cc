"""The whole national journey in a browser, each person in their own browser session.

A provider applies with evidence; an assessor reviews and proposes approval; a second board member signs
it off; the setting appears in the directory (without its address in public); a Leeds commissioner finds it
by words and by distance, and saves a shortlist.
"""

import re
from datetime import date, timedelta

import pytest

from tests.e2e import journeys
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e


def test_provider_is_qualified_by_the_board_and_found_by_a_commissioner(new_person, live_server, tmp_path):
    person = new_person
    pdf = tmp_path / 'statement-of-purpose.pdf'
    pdf.write_bytes(journeys.PDF_BYTES)

    provider = person()
    journeys.register_provider(provider, live_server, 'ali@willowcare.example', 'Ali Provider')
    organisation_id = journeys.create_organisation(provider, 'Willow Care Homes Limited')
    journeys.add_childrens_home(provider, organisation_id, 'Willow House', 'SC765432', 'LS6 2AB')
    journeys.register_with_ofsted(live_server, 'SC765432', 'E08000035')  # Ofsted registers it in Leeds
    application_id = journeys.complete_application(provider, pdf)

    live_server.flask('registry', 'create-admin', '--email', 'admin@board.example', '--name', 'Ada Admin',
                      '--password', journeys.PASSWORD)
    admin = person()
    journeys.sign_in(admin, 'admin@board.example')
    journeys.set_up_second_factor(admin)
    journeys.invite_staff(admin, 'Asha Assessor', 'asha@board.example', 'Assessor (national board)')
    journeys.invite_staff(admin, 'Bea Board', 'bea@board.example', 'Board member')
    journeys.invite_staff(admin, 'Cal Commissioner', 'cal@leeds.example', 'Commissioner', authority='Leeds')

    assessor = person()
    journeys.accept_staff_invite(assessor, live_server, 'asha@board.example', second_factor=True)
    assessor.goto('/qualification/board/')
    assert_accessible(assessor)
    assessor.get_by_role('link', name=re.compile(f'QA-{application_id}')).first.click()
    assessor.goto(f'/qualification/board/applications/{application_id}/assign')
    journeys.click_button(assessor, 'Assign')
    assert_accessible(assessor)
    # no decision before every question has an outcome
    assessor.goto(f'/qualification/board/applications/{application_id}/decision')
    assessor.locator('input[type="radio"][value="approve"]').check()
    assessor.locator('textarea').first.fill('Meets every national criterion; evidence is current.')
    journeys.click_button(assessor, 'Propose decision')
    assert 'no outcome yet' in assessor.locator('.govuk-error-summary').inner_text()
    assert_accessible(assessor)
    journeys.review_every_question(assessor, application_id)
    assessor.goto(f'/qualification/board/applications/{application_id}/sections/insurance')
    assert 'To qualify, the answer must be at least £5,000,000.' in assessor.locator('main').inner_text()
    assert_accessible(assessor)
    assessor.goto(f'/qualification/board/applications/{application_id}/decision')
    assessor.locator('input[type="radio"][value="approve"]').check()
    assessor.locator('textarea').first.fill('Meets every national criterion; evidence is current.')
    journeys.click_button(assessor, 'Propose decision')
    # the proposer cannot sign off their own proposal
    assessor.goto(f'/qualification/board/applications/{application_id}')
    assert assessor.get_by_role('link', name='Sign off decision').count() == 0

    board_member = person()
    journeys.accept_staff_invite(board_member, live_server, 'bea@board.example', second_factor=True)
    board_member.goto(f'/qualification/board/applications/{application_id}/sign-off')
    assert_accessible(board_member)
    assert board_member.locator('[data-count="unmarked"]').inner_text().strip() == '0'
    assert board_member.locator('[data-count="automatic-fails"]').inner_text().strip() == '0'
    board_member.locator('input[name="decision"][value="sign-off"]').check()
    journeys.click_button(board_member, 'Continue')

    assert live_server.query('SELECT status FROM applications WHERE id = ?', (application_id,))[0][0] == 'approved'
    assert live_server.query("SELECT status FROM qualifications WHERE organisation_id = ? AND lot = 'childrens-homes'",
                             (organisation_id,))[0][0] == 'active'

    # the public directory lists the home by district and authority only
    public = person()
    public.goto('/directory?q=willow')
    assert_accessible(public)
    public.get_by_text('Willow House').filter(visible=True).first.wait_for()
    assert 'Confidential Road' not in public.content() and 'LS6 2AB' not in public.content()

    commissioner = person()
    journeys.accept_staff_invite(commissioner, live_server, 'cal@leeds.example', second_factor=False)
    commissioner.goto('/directory/commissioner')
    commissioner.locator('#q').fill('therapeutic autism')
    commissioner.locator('#q').press('Enter')
    commissioner.get_by_text('Willow House').filter(visible=True).first.wait_for()
    assert_accessible(commissioner)
    commissioner.goto('/directory/commissioner')
    commissioner.locator('#postcode').fill('LS1 4DY')
    commissioner.locator('#radius').select_option('5')
    commissioner.locator('#postcode').press('Enter')
    commissioner.get_by_text('Willow House').filter(visible=True).first.wait_for()
    assert re.search(r'\d+(\.\d)? miles', commissioner.locator('main').inner_text())
    assert 'Confidential Road' in commissioner.content()  # signed-in commissioners see exact locations

    commissioner.goto('/workspace/finder')
    assert_accessible(commissioner)
    commissioner.get_by_label("Child's age").fill('14')
    commissioner.get_by_label('Home postcode').fill('LS1 4DY')
    commissioner.get_by_label('Maximum distance in miles').fill('20')
    commissioner.get_by_label('Female', exact=True).check()
    commissioner.get_by_label('Autism').check()
    start = date.today() + timedelta(days=3)
    commissioner.locator('#start_date-day').fill(str(start.day))
    commissioner.locator('#start_date-month').fill(str(start.month))
    commissioner.locator('#start_date-year').fill(str(start.year))
    journeys.click_button(commissioner, 'Find placements')
    commissioner.get_by_text('Willow House').filter(visible=True).first.wait_for()
    commissioner.get_by_label('Select Willow House').check()
    commissioner.get_by_label('Name this shortlist').fill('Friday evening: 14-year-old with autism')
    journeys.click_button(commissioner, 'Save as shortlist')
    commissioner.get_by_text('Friday evening: 14-year-old with autism').first.wait_for()
    assert_accessible(commissioner)
    shortlist = live_server.query('SELECT id FROM shortlists')
    assert len(shortlist) == 1
    # only the ticked result is saved, with the setting's contact shown to the commissioner
    assert live_server.query('SELECT count(*) FROM shortlist_entries WHERE shortlist_id = ?', shortlist[0])[0][0] == 1
    assert 'Confidential Road' in commissioner.content() and '0113 496 0000' in commissioner.content()
