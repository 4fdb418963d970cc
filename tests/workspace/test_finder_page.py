"""The finder on a phone: once there are results they come first, the child's details behind a toggle."""

from __future__ import annotations

import re

from flask import url_for

from tests.house_checks import problems


def test_results_come_first_and_the_childs_details_wait_behind_a_toggle(known, client, login_as, finder_args):
    login_as(known.leeds_officer)
    blank = client.get(url_for('workspace.finder')).get_data(as_text=True)
    assert re.search(r'id="finder-criteria" data-registry-open-wide open', blank)   # nothing found yet: open

    html = client.get(url_for('workspace.finder', **finder_args())).get_data(as_text=True)
    assert problems(html) == [] and problems(blank) == []
    assert re.search(r'id="finder-criteria" data-registry-open-wide>', html)           # closed: results first
    assert 'Change the child' in html and 'id="results"' in html
    assert re.search(r'<a href="#results" class="govuk-skip-link"', html)

    wrong = client.get(url_for('workspace.finder', **finder_args(age='200'))).get_data(as_text=True)
    assert re.search(r'id="finder-criteria" data-registry-open-wide open', wrong)       # errors: open to fix them
