"""Searching on a phone and with a keyboard: the search box and results near the top at 375 px, a skip link into the
search box, filters behind a toggle, and map dots a keyboard can reach (on the demo data)."""

import pytest

from tests.e2e import journeys
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e

PHONE = {'width': 375, 'height': 812}
DESKTOP = {'width': 1280, 'height': 800}


@pytest.fixture(scope='module')
def demo(live_server):
    """The demo directory (loading it twice changes nothing), indexed before the first search."""
    live_server.flask('registry', 'load-demo')
    live_server.flask('search', 'sync')
    return live_server


def _top(page, selector: str) -> float:
    return page.locator(selector).first.evaluate('el => el.getBoundingClientRect().top + window.scrollY')


def test_on_a_phone_the_search_box_and_first_result_are_near_the_top(demo, page):
    page.set_viewport_size(PHONE)
    page.goto('/directory?postcode=LS1+4DY')
    journeys.wait_for_components(page)
    assert _top(page, '#q') < PHONE['height']                  # on the first screen (it was 3,100 px down)
    assert _top(page, '#result-list > li') < 2 * PHONE['height']  # the first result within two screens (3,400 px)
    # the filters wait behind their toggle, which opens them
    assert not page.locator('#provision_type').is_visible()
    page.locator('#filters > summary').click()
    assert page.locator('#provision_type').is_visible()
    assert_accessible(page)


def test_a_keyboard_user_reaches_the_search_box_in_two_key_presses(demo, page):
    page.set_viewport_size(PHONE)
    page.goto('/directory')
    journeys.wait_for_components(page)
    page.keyboard.press('Tab')
    assert page.evaluate('document.activeElement.textContent.trim()') == 'Skip to the search box'
    page.keyboard.press('Enter')
    assert page.evaluate('document.activeElement.id') == 'q'
    # without the skip link it is still close: count the Tab presses
    page.goto('/directory')
    journeys.wait_for_components(page)
    presses = 0
    while page.evaluate('document.activeElement.id') != 'q':
        page.keyboard.press('Tab')
        presses += 1
        assert presses <= 15, 'the search box is too many Tab presses away'


def test_on_a_desktop_the_filters_sit_open_beside_the_results(demo, page):
    page.set_viewport_size(DESKTOP)
    page.goto('/directory')
    journeys.wait_for_components(page)
    assert page.locator('#provision_type').is_visible()
    assert not page.locator('#filters > summary').is_visible()
    filters, results = page.locator('#filters').bounding_box(), page.locator('#result-list').bounding_box()
    assert filters['x'] + filters['width'] <= results['x']    # side by side, not stacked


def test_a_keyboard_user_can_follow_a_map_dot_to_its_result(demo, page):
    page.set_viewport_size(DESKTOP)
    page.goto('/directory?postcode=Leeds&radius=10')
    journeys.wait_for_components(page)
    page.get_by_text('Show these results on a map').click()
    journeys.tab_to(page, '.registry-map__link')
    href = page.evaluate('document.activeElement.getAttribute("href")')
    assert href.startswith('#result-')
    page.keyboard.press('Enter')
    page.wait_for_function(f'location.hash === "{href}"')
    assert page.locator(href).is_visible()
    assert page.locator(href).evaluate('el => el.getBoundingClientRect().top') < DESKTOP['height']
