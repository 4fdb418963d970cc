"""Form messages on the provider's and the board's pages name the field: too long, or a choice never offered."""

from __future__ import annotations

from html import unescape

import pytest
from flask import url_for

from qualification.applications import Application
from qualification.states import ApplicationStatus
from registry.extensions import db
from tests.qualification.board_helpers import board_users, completed_application, in_review, mark_everything
from tests.qualification.board_helpers import submitted_application as submitted


def _summary(response) -> str:
    """The error summary's list, as a person reads it."""
    body = unescape(response.get_data(as_text=True))
    assert 'There is a problem' in body
    return body.split('govuk-error-summary__list')[1].split('</ul>')[0]


def test_provider_cannot_submit_with_a_declaration_name_too_long_and_is_told_which(client, login_as, organisation,
                                                                                  provider):
    application = completed_application(organisation, provider)
    login_as(provider)

    response = client.post(url_for('qualification.submit_application', application_id=application.id),
                           data={'name': 'x' * 121, 'role': 'x' * 121, 'confirm': 'y'})

    # both used to say "Field cannot be longer than 120 characters."
    summary = _summary(response)
    assert 'Full name must be 120 characters or fewer' in summary
    assert 'Role must be 120 characters or fewer' in summary
    assert 'Field' not in summary
    db.session.expire_all()
    assert db.session.get(Application, application.id).status != ApplicationStatus.SUBMITTED


def test_assessor_cannot_propose_a_decision_with_reasons_too_long_and_is_told_which(client, login_as, organisation,
                                                                                   provider):
    users = board_users()
    application = in_review(organisation, provider, users)
    mark_everything(application, users['assessor'])
    login_as(users['assessor'])

    response = client.post(url_for('qualification.board_propose_decision', application_id=application.id),
                           data={'outcome_childrens_homes': 'approve', 'reasons_childrens_homes': 'x' * 4001})

    assert response.status_code == 400
    summary = _summary(response)
    assert "Reasons for Children's homes must be 4,000 characters or fewer" in summary
    assert 'Field' not in summary


@pytest.mark.parametrize('assessor_id', ['999999', 'not-a-number'])
def test_board_member_cannot_assign_an_assessor_not_offered_and_is_told_which_field(client, login_as, organisation,
                                                                                   provider, assessor_id):
    users = board_users()
    application = submitted(organisation, provider)
    login_as(users['member'])

    response = client.post(url_for('qualification.board_assign', application_id=application.id),
                           data={'assessor_id': assessor_id})

    assert response.status_code == 400
    # used to be WTForms' "Not a valid choice." or "Invalid Choice: could not coerce."
    summary = _summary(response)
    assert 'Select an assessor from the list' in summary
    assert 'valid choice' not in summary.lower() and 'coerce' not in summary
