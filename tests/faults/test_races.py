"""Requests that race each other on a real threaded server: nobody gets an error page.

- the first save of a section sent twice at once (two tabs, two colleagues): both inserting the same answer rows
  used to trip the unique constraint; now the loser retries and the last save wins, whole;
- a board member signing off while another sends the decision back: one wins, the other is told so with 409.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from qualification import board, services
from qualification.applications import Answer, Application
from qualification.review import LotDecision
from qualification.schemes import load_scheme
from qualification.states import ApplicationStatus
from registry.extensions import db
from tests.live import ThreadedServer, run_together, signed_in
from tests.qualification.board_helpers import board_users, in_review, mark_everything
from tests.qualification.conftest import form_data_for, make_member, make_organisation

LOTS = ['childrens-homes']


def _draft(app):
    with app.test_request_context():
        organisation = make_organisation()
        colleagues = [make_member(organisation), make_member(organisation)]
        application = services.start_application(organisation, LOTS, actor=colleagues[0])
        result = application.id, [user.id for user in colleagues]
        db.session.remove()
    return result


def _answers(app, application_id) -> dict[str, object]:
    with app.app_context():
        rows = db.session.execute(select(Answer.question_id, Answer.value)
                                  .where(Answer.application_id == application_id)).all()
        db.session.remove()
    return dict(rows)


@pytest.mark.parametrize('trial', range(3))
def test_the_first_save_of_a_section_sent_at_once_from_two_places_never_fails(app, trial):
    scheme = load_scheme('2026.1')
    section = scheme.section('organisation')
    application_id, colleague_ids = _draft(app)
    submissions = []
    for n in range(4):
        data = form_data_for(section, LOTS)
        data['org-conflicts'] = f'Conflicts declared from tab {n}'
        data['save_and_return'] = 'Save and come back later'
        submissions.append(data)
    with ThreadedServer(app) as server:
        sessions = [signed_in(app, server.url, colleague_ids[n % 2]) for n in range(4)]
        url = f'{server.url}/qualification/applications/{application_id}/sections/organisation'
        responses = run_together([
            lambda http=http, data=data: http.post(url, data=data, allow_redirects=False, timeout=60)
            for http, data in zip(sessions, submissions, strict=True)])
    statuses = [getattr(response, 'status_code', response) for response in responses]
    assert all(status in (302, 409) for status in statuses), statuses
    assert statuses.count(302) >= 1
    saved = _answers(app, application_id)
    # the last save won, whole: every answer comes from one submission
    winners = [data for data in submissions if saved.get('org-conflicts') == data['org-conflicts']]
    assert len(winners) == 1, saved.get('org-conflicts')


def _proposed(app) -> tuple[int, dict[str, int]]:
    with app.test_request_context():
        organisation = make_organisation()
        provider = make_member(organisation)
        users = board_users()
        application = in_review(organisation, provider, users)
        mark_everything(application, users['assessor'])
        board.propose_decision(application, {'childrens-homes': ('approve', 'Meets the standard')},
                               actor=users['assessor'])
        result = application.id, {name: user.id for name, user in users.items()}
        db.session.remove()
    return result


@pytest.mark.parametrize('trial', range(6))
def test_sign_off_racing_send_back_leaves_one_outcome_and_tells_the_loser_with_409(app, trial):
    application_id, users = _proposed(app)
    with ThreadedServer(app) as server:
        url = f'{server.url}/qualification/board/applications/{application_id}/sign-off'
        signer, sender = signed_in(app, server.url, users['member2']), signed_in(app, server.url, users['admin'])
        responses = run_together([
            lambda: signer.post(url, data={'decision': 'sign-off', 'comment': ''}, allow_redirects=False, timeout=60),
            lambda: sender.post(url, data={'decision': 'send-back', 'comment': 'Check the insurance certificate'},
                                allow_redirects=False, timeout=60)])
    statuses = sorted(getattr(response, 'status_code', response) for response in responses)
    assert statuses == [302, 409], statuses
    loser = next(response for response in responses if response.status_code == 409)
    assert 'This application has already been decided' in loser.text
    with app.app_context():
        status = db.session.scalar(select(Application.status).where(Application.id == application_id))
        decisions = db.session.scalar(select(func.count(LotDecision.id))
                                      .where(LotDecision.application_id == application_id))
        db.session.remove()
    winner = 'sign-off' if responses[0].status_code == 302 else 'send-back'
    if winner == 'sign-off':
        assert status == ApplicationStatus.APPROVED and decisions == 1
    else:
        assert status == ApplicationStatus.IN_REVIEW and decisions == 0


def test_a_signed_in_user_who_loses_a_race_on_a_unique_constraint_gets_the_409_page_not_a_crash(app, monkeypatch):
    """Starting an application twice at once (a double click): the loser's insert trips the unique constraint.

    The rollback expires the signed-in user; the 409 page's header reads that user, which used to raise
    DetachedInstanceError and answer a bare "Internal Server Error".
    """
    with app.test_request_context():
        organisation = make_organisation()
        provider_id = make_member(organisation).id
        organisation_id = organisation.id
        db.session.remove()
    # both requests pass the "already open?" check, as they do when they arrive together
    monkeypatch.setattr(services, 'open_application', lambda organisation_id: None)
    with ThreadedServer(app) as server:
        http = signed_in(app, server.url, provider_id)
        url = f'{server.url}/qualification/organisations/{organisation_id}/apply'
        first = http.post(url, data={'lots': LOTS}, allow_redirects=False, timeout=60)
        second = http.post(url, data={'lots': LOTS}, allow_redirects=False, timeout=60)
    assert first.status_code == 302
    assert second.status_code == 409, second.text[:300]
    assert 'govuk-header' in second.text and 'Sign out' in second.text
