"""From finder to placement in a browser: a Leeds commissioner refers two settings, both providers respond with
offers, the commissioner compares them and accepts one, and the placement is recorded.

The demo data gives the commissioner, one provider account and qualified settings around Leeds. A second provider
registers through the pages; the demo has one provider account, so the test makes it a member of a second demo
organisation directly in the database (joining an organisation by invitation has its own journey).
"""

import re
from datetime import date, timedelta

import pytest

from tests.e2e import journeys
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = 'demo-password-2026'


def _fill_date(page, field: str, value: date) -> None:
    page.locator(f'#{field}-day').fill(str(value.day))
    page.locator(f'#{field}-month').fill(str(value.month))
    page.locator(f'#{field}-year').fill(str(value.year))


def _two_settings_near_leeds(server) -> tuple[tuple[int, str], tuple[int, str, int]]:
    """A listed children's home of the demo provider, and one of another organisation, around Leeds."""
    demo_org = server.query(
        "SELECT m.organisation_id FROM memberships m JOIN users u ON u.id = m.user_id "
        "WHERE u.email = 'provider@demo.example.org'")[0][0]
    listed = ("SELECT s.id, s.name, s.organisation_id FROM settings s JOIN search_entries e ON e.id = s.id "
              "WHERE s.provision_type = 'childrens-home' AND s.authority_code IN "
              "('E08000035', 'E08000032', 'E08000033', 'E08000034', 'E08000036') ")
    mine = server.query(listed + 'AND s.organisation_id = ? ORDER BY s.id LIMIT 1', (demo_org,))
    other = server.query(listed + 'AND s.organisation_id != ? ORDER BY s.id LIMIT 1', (demo_org,))
    assert mine and other, 'the demo has no suitable settings around Leeds'
    return (mine[0][0], mine[0][1]), other[0]


def _respond_with_offer(page, reference: str, setting_name: str, price: str) -> None:
    page.goto('/placements/inbox')
    assert_accessible(page)
    page.get_by_role('link', name=reference).click()
    page.get_by_role('link', name=f'Make an offer for {setting_name}').click()
    assert_accessible(page)
    page.get_by_label('Weekly price').fill(price)
    _fill_date(page, 'available_from', date.today() + timedelta(days=2))
    _fill_date(page, 'valid_until', date.today() + timedelta(days=14))
    page.get_by_label('Conditions (optional)').fill('Matching visit before moving in.')
    journeys.click_button(page, 'Send offer')
    page.get_by_text('Offer sent to Leeds').wait_for()


def test_commissioner_refers_two_providers_offer_and_the_accepted_offer_is_placed(new_person, live_server):
    live_server.flask('registry', 'load-demo')
    (home_id, home_name), (other_id, other_name, other_org) = _two_settings_near_leeds(live_server)

    second_provider = new_person()
    journeys.register_provider(second_provider, live_server, 'sam@othercare.example', 'Sam Other')
    user_id = live_server.query("SELECT id FROM users WHERE email = 'sam@othercare.example'")[0][0]
    live_server.query("INSERT INTO memberships (user_id, organisation_id, role, created_at, updated_at) "
                      "VALUES (?, ?, 'owner', datetime('now'), datetime('now'))", (user_id, other_org))

    commissioner = new_person()
    journeys.sign_in(commissioner, 'commissioner@demo.example.org', DEMO_PASSWORD)
    commissioner.goto('/workspace/finder')
    commissioner.get_by_label("Child's age").fill('14')
    commissioner.get_by_label('Female', exact=True).check()
    commissioner.get_by_label('Home postcode').fill('LS1 4DY')
    commissioner.get_by_label('Maximum distance in miles').fill('40')
    _fill_date(commissioner, 'start_date', date.today() + timedelta(days=5))
    commissioner.get_by_label("Children's home (Children's homes)", exact=True).check()
    journeys.click_button(commissioner, 'Find placements')
    commissioner.locator(f'#setting-{home_id}').check()
    commissioner.locator(f'#setting-{other_id}').check()
    journeys.click_button(commissioner, 'Refer ticked settings')

    commissioner.get_by_role('heading', name='Send a referral').wait_for()
    assert_accessible(commissioner)
    assert 'Describe the child without identity' in commissioner.content()
    assert commissioner.get_by_label("Child's age").input_value() == '14'
    commissioner.get_by_label('Risk notes').fill('Date of birth 14/02/2012; goes missing at night.')
    commissioner.get_by_label('Education notes').fill('Year 9; has an education, health and care plan.')
    journeys.click_button(commissioner, 'Send referral')
    summary = commissioner.locator('.govuk-error-summary')
    summary.wait_for()
    assert 'Risk notes must not include a date of birth' in summary.inner_text()
    assert_accessible(commissioner)
    commissioner.get_by_label('Risk notes').fill('Goes missing at night; needs waking night staff.')
    journeys.click_button(commissioner, 'Send referral')
    commissioner.get_by_text(re.compile(r'Referral REF-\d+ sent to 2 settings')).wait_for()
    reference = re.search(r'REF-\d+', commissioner.locator('h1').inner_text()).group(0)
    referral_id = live_server.query('SELECT max(id) FROM referrals')[0][0]
    assert live_server.query('SELECT count(*) FROM referral_responses WHERE referral_id = ?', (referral_id,))[0][0] == 2

    provider = new_person()
    journeys.sign_in(provider, 'provider@demo.example.org', DEMO_PASSWORD)
    # a child is moving on: the provider records the vacancy it is about to offer
    provider.goto(f'/settings/{home_id}/vacancies')
    provider.get_by_label('Vacancies now').fill('1')
    journeys.click_button(provider, 'Save vacancies')
    provider.get_by_text(f'{home_name} now has 1 vacancy').wait_for()
    _respond_with_offer(provider, reference, home_name, '5450')
    _respond_with_offer(second_provider, reference, other_name, '6100.50')

    commissioner.goto(f'/placements/referrals/{referral_id}')
    assert_accessible(commissioner)
    table = commissioner.locator('#offer-comparison').inner_text()
    assert '£5,450' in table and '£6,100.50' in table and home_name in table and other_name in table
    commissioner.get_by_role('link', name=f'Accept offer from {home_name}').click()
    assert_accessible(commissioner)
    journeys.click_button(commissioner, 'Accept offer and record placement')
    commissioner.get_by_text(re.compile(r'Placement PL-\d+ recorded')).wait_for()
    assert home_name in commissioner.locator('#placement').inner_text()

    placed = live_server.query('SELECT setting_id, weekly_price_pence, home_authority_code FROM placements '
                               'WHERE referral_id = ?', (referral_id,))
    assert placed == [(home_id, 545000, 'E08000035')]
    statuses = dict(live_server.query('SELECT setting_id, status FROM referral_responses WHERE referral_id = ?',
                                      (referral_id,)))
    assert statuses == {home_id: 'accepted', other_id: 'not-selected'}
    assert live_server.query('SELECT vacancies FROM settings WHERE id = ?', (home_id,)) == [(0,)]
    assert reference in live_server.latest_email('provider@demo.example.org', 'referral-offer-accepted')
    body = live_server.latest_email('sam@othercare.example', 'referral-not-selected')
    assert reference in body
