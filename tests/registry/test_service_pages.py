"""Pages every service needs: feedback that reaches someone, an accessibility statement a person can act on."""

from __future__ import annotations

import re

from tests.house_checks import problems


def test_the_beta_banner_leads_to_the_configured_feedback_address(app, client):
    home = client.get('/').get_data(as_text=True)
    banner = home.split('govuk-phase-banner__text')[1].split('</div>')[0]
    link = re.search(r'href="([^"]+)"', banner).group(1)
    page = client.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'href="mailto:{app.config["SUPPORT_EMAIL"]}' in html
    assert problems(html) == []
    assert 'Contact and feedback' in home[home.index('<footer'):]  # and the footer names it too


def test_the_accessibility_statement_says_how_to_report_a_problem_and_who_enforces(app, client):
    html = client.get('/accessibility').get_data(as_text=True)
    for heading in ('Feedback and contact information', 'Reporting accessibility problems with this service',
                    'Enforcement procedure', 'Compliance status'):
        assert f'>{heading}</h2>' in html, heading
    assert f'mailto:{app.config["SUPPORT_EMAIL"]}' in html
    assert 'Equality Advisory and Support Service' in html
    assert problems(html) == []
