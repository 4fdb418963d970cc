"""Public pages render with GOV.UK Frontend's styles and scripts and pass axe-core."""

import pytest

from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e


def test_visitor_sees_styled_accessible_start_page(page, live_server):
    page.goto('/')
    assert page.locator('h1').inner_text().startswith("Children's Social Care Provider Registry")
    # GOV.UK Frontend's JavaScript ran (it marks the body) and its stylesheet loaded (the header is styled)
    assert 'govuk-frontend-supported' in page.locator('body').get_attribute('class')
    assert page.locator('.govuk-header').evaluate('el => getComputedStyle(el).backgroundColor') != 'rgba(0, 0, 0, 0)'
    assert_accessible(page)


def test_visitor_gets_a_gov_uk_page_not_found(page, live_server):
    response = page.goto('/no-such-page')
    assert response.status == 404
    assert page.locator('h1').inner_text() == 'Page not found'
    assert_accessible(page)
