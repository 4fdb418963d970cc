"""The board's pages read as a person expects: lots by name, counters that add up, labels that select."""

from __future__ import annotations

import re

from flask import url_for

from qualification import board
from tests.house_checks import problems
from tests.qualification.board_helpers import board_users, in_review, mark_everything


def _proposed(organisation, provider, users):
    application = in_review(organisation, provider, users)
    mark_everything(application, users['assessor'])
    board.propose_decision(application, {'childrens-homes': ('approve', 'Meets the standard')},
                           actor=users['assessor'])
    return application


def test_sign_off_options_are_selected_by_their_labels(app_ctx, client, login_as, organisation, provider):
    users = board_users()
    application = _proposed(organisation, provider, users)
    login_as(users['member2'])
    html = client.get(url_for('qualification.board_sign_off', application_id=application.id)).get_data(as_text=True)
    assert 'Sign off the proposed decision' in html
    assert problems(html) == []


def test_queue_names_lots_and_the_overview_counts_every_section_to_the_full_total(
        app_ctx, client, login_as, organisation, provider):
    users = board_users()
    application = in_review(organisation, provider, users)
    login_as(users['assessor'])
    queue = client.get(url_for('qualification.board_queue')).get_data(as_text=True)
    assert "Children's homes" in queue or 'Children&#39;s homes' in queue
    assert 'childrens-homes' not in re.sub(r'<(select|option)[^>]*>', '', queue)

    mark_everything(application, users['assessor'])
    overview = client.get(url_for('qualification.board_application', application_id=application.id))
    html = overview.get_data(as_text=True)
    assert problems(html) == []
    counters = re.findall(r'(\d+) of (\d+)', html.split('<h2 class="govuk-heading-m">Sections</h2>')[1])
    assert counters and all(done == total for done, total in counters), counters
