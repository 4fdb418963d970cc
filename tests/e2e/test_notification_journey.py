"""A commissioner told of a suspension: Leeds shortlists a home of a provider it accepted, the board suspends the
provider's qualification, and the commissioner sees the unread count, the notification and the flag on the
shortlist.

The demo data gives the Leeds commissioner and providers Leeds accepted. A board-level account is created with
``flask registry create-admin`` (administrators may suspend, as board members do) so this journey does not depend
on whether another journey already set up the demo board member's second factor.
"""

import re
from datetime import date, timedelta

import pytest

from tests.e2e import journeys
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = 'demo-password-2026'
LEEDS = 'E08000035'


def _accepted_home(server) -> tuple[int, str, str, str, int, str]:
    """A listed children's home, for 14-year-olds, of a provider Leeds accepted: id, name, postcode, sex accepted,
    the provider's qualification id and its name."""
    rows = server.query(
        "SELECT s.id, s.name, s.postcode, s.sex_accepted, q.id, COALESCE(NULLIF(o.trading_name, ''), o.legal_name) "
        "FROM settings s JOIN search_entries e ON e.id = s.id "
        "JOIN organisations o ON o.id = s.organisation_id "
        "JOIN local_applications la ON la.organisation_id = s.organisation_id AND la.authority_code = ? "
        "  AND la.status = 'accepted' AND la.lot = 'childrens-homes' "
        "JOIN qualifications q ON q.organisation_id = s.organisation_id AND q.lot = 'childrens-homes' "
        "  AND q.status = 'active' "
        "WHERE s.provision_type = 'childrens-home' AND s.age_min <= 14 AND s.age_max >= 14 "
        "ORDER BY s.id LIMIT 1", (LEEDS,))
    assert rows, 'the demo has no listed home of a provider Leeds accepted'
    return rows[0]


def _fill_date(page, field: str, value: date) -> None:
    page.locator(f'#{field}-day').fill(str(value.day))
    page.locator(f'#{field}-month').fill(str(value.month))
    page.locator(f'#{field}-year').fill(str(value.year))


def test_commissioner_is_told_of_a_suspension_and_sees_it_flagged_on_their_shortlist(new_person, live_server):
    live_server.flask('registry', 'load-demo')
    home_id, home_name, postcode, sex, qualification_id, provider_name = _accepted_home(live_server)

    commissioner = new_person()
    journeys.sign_in(commissioner, 'commissioner@demo.example.org', DEMO_PASSWORD)
    commissioner.get_by_role('heading', name='What needs your attention').wait_for()
    assert_accessible(commissioner)
    commissioner.goto('/workspace/finder')
    commissioner.get_by_label("Child's age").fill('14')
    commissioner.get_by_label('Male' if sex == 'male' else 'Female', exact=True).check()
    commissioner.get_by_label('Home postcode').fill(postcode)
    commissioner.get_by_label('Maximum distance in miles').fill('1')
    _fill_date(commissioner, 'start_date', date.today() + timedelta(days=5))
    commissioner.get_by_label("Children's home (Children's homes)", exact=True).check()
    journeys.click_button(commissioner, 'Find placements')
    commissioner.locator(f'#setting-{home_id}').check()
    commissioner.get_by_label('Name this shortlist').fill('JB 14 near home')
    journeys.click_button(commissioner, 'Save as shortlist')
    commissioner.get_by_role('heading', name='JB 14 near home').wait_for()
    shortlist_url = commissioner.url
    assert commissioner.locator('[data-unlisted]').count() == 0

    live_server.flask('registry', 'create-admin', '--email', 'suspender@board.example', '--name', 'Sue Spender',
                      '--password', journeys.PASSWORD)
    board = new_person()
    journeys.sign_in(board, 'suspender@board.example')
    board.wait_for_url('**/two-factor/set-up')
    journeys.set_up_second_factor(board)
    board.goto(f'/qualification/board/qualifications/{qualification_id}/suspend')
    assert_accessible(board)
    board.get_by_label('Reason').fill('Safeguarding concerns raised by the regulator')
    journeys.click_button(board, 'Confirm')
    board.get_by_text('The qualification is now suspended').wait_for()

    commissioner.goto('/your-attention')
    badge = commissioner.locator('.app-count')
    assert badge.inner_text().startswith('2')  # the suspension, and the shortlist it touches
    unread = commissioner.locator('#notifications').inner_text()
    assert f"{provider_name}: national qualification for Children's homes suspended" in unread
    commissioner.get_by_role('link', name='Notifications').first.click()
    commissioner.get_by_role('heading', name='Notifications', exact=True).wait_for()
    item = commissioner.locator('[data-kind="shortlist.listing_removed"]')
    assert f'{home_name} on your shortlist "JB 14 near home" is no longer listed' in item.inner_text()
    assert 'Safeguarding concerns' in commissioner.locator('[data-kind="qualification.suspended"]').inner_text()
    item.get_by_role('button', name=re.compile('^View')).click()
    commissioner.wait_for_url(shortlist_url)
    flag = commissioner.locator(f'[data-setting-id="{home_id}"] [data-unlisted]')
    assert flag.inner_text() == 'No longer listed: national qualification suspended'
    assert commissioner.locator('.app-count').inner_text().startswith('1')  # opening it marked it read
    email = live_server.latest_email('commissioner@demo.example.org', 'notify-qualification.suspended')
    assert f"{provider_name}'s national qualification for Children's homes was suspended" in email
