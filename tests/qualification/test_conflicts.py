"""Conflicts of interest: declared and withdrawn (audited), then refused on every board action, in the service and
over HTTP, and shown in the queue."""

from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import func, select

from qualification import board, conflicts
from qualification.review import Review
from qualification.states import ApplicationStatus
from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.errors import DomainError, PermissionDenied
from registry.extensions import db
from tests.factories import make_user
from tests.qualification.board_helpers import (
    application_status,
    board_users,
    in_review,
    mark_everything,
)

REASON = 'I was a director of this company until 2025'


@pytest.fixture
def users(app_ctx):
    return board_users()


@pytest.fixture
def reviewing(organisation, provider, users):
    """An application in review, assigned to the assessor, with every question marked (one automatic fail)."""
    application = in_review(organisation, provider, users, answers={'ins-el-amount': 100})
    mark_everything(application, users['assessor'])
    return application


def proposed(application, users):
    board.record_override(application, 'New cover is in place from Monday; certificate seen.', actor=users['admin'])
    board.propose_decision(application, {'childrens-homes': ('approve', 'Meets it')}, actor=users['assessor'])
    return application


#: Every board action a board member could otherwise take: (needs a proposal first, the verb).
SERVICE_ACTIONS = {
    'assign': (False, lambda application, actor: board.assign(application, actor, actor=actor)),
    'start-review': (False, lambda application, actor: board.start_review(application, actor=actor)),
    'mark': (False, lambda application, actor: board.save_marks(application, {'org-legal-name': ('pass', '')},
                                                                actor=actor)),
    'accept-automatic-marks': (False, lambda application, actor: board.accept_automatic_marks(application,
                                                                                              actor=actor)),
    'request-clarification': (False, lambda application, actor: board.request_clarification(application, 'Why?',
                                                                                           actor=actor)),
    'propose': (False, lambda application, actor: board.propose_decision(
        application, {'childrens-homes': ('reject', 'Cover too low')}, actor=actor)),
    'override': (False, lambda application, actor: board.record_override(
        application, 'A good reason that is long enough', actor=actor)),
    'sign-off': (True, lambda application, actor: board.sign_off(application, actor=actor)),
    'send-back': (True, lambda application, actor: board.send_back(application, actor=actor, reason='Look again')),
}


@pytest.mark.parametrize('action', SERVICE_ACTIONS)
def test_board_member_with_a_conflict_is_refused_every_board_action_in_the_service(reviewing, users, action):
    member = users['member2']
    needs_proposal, verb = SERVICE_ACTIONS[action]
    if needs_proposal:
        proposed(reviewing, users)
    conflicts.declare(reviewing.organisation, REASON, actor=member)
    status = application_status(reviewing.id)
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    with pytest.raises(PermissionDenied, match='conflict of interest'):
        verb(reviewing, member)
    assert application_status(reviewing.id) == status
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events


def test_a_conflicted_assessor_cannot_be_assigned_and_declaring_unassigns_them(organisation, provider, users):
    application = in_review(organisation, provider, users)
    assessor = users['assessor']
    conflicts.declare(organisation, REASON, actor=assessor)
    db.session.expire_all()
    review = db.session.scalars(select(Review).where(Review.application_id == application.id)).one()
    assert review.assessor_id is None
    unassigned = db.session.scalars(select(AuditEvent).where(AuditEvent.action == 'application.unassign')).one()
    assert unassigned.object_id == str(application.id) and unassigned.before == {'assessor_id': assessor.id}
    with pytest.raises(PermissionDenied, match='has declared a conflict of interest'):
        board.assign(application, assessor, actor=users['member'])
    assert assessor not in board.assessors(organisation.id)
    assert assessor in board.assessors()


def test_declaring_and_withdrawing_are_audited_and_withdrawal_restores_taking_part(reviewing, users):
    member = users['member2']
    with pytest.raises(DomainError, match='Describe the conflict'):
        conflicts.declare(reviewing.organisation, ' ', actor=member)
    conflict = conflicts.declare(reviewing.organisation, REASON, actor=member)
    with pytest.raises(DomainError, match='already declared'):
        conflicts.declare(reviewing.organisation, REASON, actor=member)
    with pytest.raises(PermissionDenied):
        conflicts.withdraw(conflict, actor=users['member'])
    conflicts.withdraw(conflict, 'I sold the shares', actor=member)
    with pytest.raises(DomainError, match='already been withdrawn'):
        conflicts.withdraw(conflict, actor=member)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == 'conflicts_of_interest')
                                .order_by(AuditEvent.id)).all()
    assert [(event.action, event.actor_id, event.reason) for event in events] == [
        ('conflict.declare', member.id, REASON), ('conflict.withdraw', member.id, 'I sold the shares')]
    board.save_marks(reviewing, {'org-legal-name': ('pass', '')}, actor=member)  # allowed again


def test_providers_and_commissioners_cannot_declare_conflicts(app_ctx, organisation, provider):
    for user in (provider, make_user(Role.COMMISSIONER)):
        with pytest.raises(PermissionDenied):
            conflicts.declare(organisation, REASON, actor=user)


BOARD_PAGES = ['board_application', 'board_assign', 'board_start_review', 'board_accept_automatic_marks',
               'board_review_section', 'board_request_clarification', 'board_propose_decision',
               'board_record_override', 'board_sign_off']


@pytest.mark.parametrize('endpoint', BOARD_PAGES)
def test_conflicted_board_member_gets_403_with_the_reason_on_every_page_of_the_application(client, login_as,
                                                                                        reviewing, users, endpoint):
    member = users['member2']
    conflicts.declare(reviewing.organisation, REASON, actor=member)
    login_as(member)
    extra = {'section_id': 'organisation'} if endpoint == 'board_review_section' else {}
    url = url_for(f'qualification.{endpoint}', application_id=reviewing.id, **extra)
    for method in ('get', 'post'):
        response = getattr(client, method)(url, data={'outcome_org_legal_name': 'pass', 'assessor_id': member.id,
                                                      'reasons': 'A good reason that is long enough'})
        if response.status_code == 405:
            continue
        assert response.status_code == 403, (method, response.status_code)
        assert 'declared a conflict of interest with' in response.get_data(as_text=True)
    assert application_status(reviewing.id) == ApplicationStatus.IN_REVIEW


def test_queue_shows_the_conflict_and_the_assign_page_leaves_the_conflicted_out(client, login_as, reviewing, users):
    conflicts.declare(reviewing.organisation, REASON, actor=users['assessor'])
    login_as(users['assessor'])
    queue = client.get(url_for('qualification.board_queue')).get_data(as_text=True)
    assert f'data-conflict="{reviewing.id}"' in queue and 'Your conflict of interest' in queue
    assert f'href="/qualification/board/applications/{reviewing.id}"' not in queue
    login_as(users['member'])
    queue = client.get(url_for('qualification.board_queue')).get_data(as_text=True)
    assert 'data-conflict' not in queue
    page = client.get(url_for('qualification.board_assign', application_id=reviewing.id)).get_data(as_text=True)
    assert users['assessor'].full_name not in page and users['member2'].full_name in page


def test_board_user_declares_and_withdraws_over_http(client, login_as, reviewing, users):
    member = users['member2']
    login_as(member)
    url = url_for('qualification.board_conflicts')
    page = client.get(url, query_string={'organisation_id': reviewing.organisation_id}).get_data(as_text=True)
    assert f'<option selected value="{reviewing.organisation_id}">' in page or \
        f'value="{reviewing.organisation_id}" selected' in page
    missing = client.post(url, data={'organisation_id': reviewing.organisation_id, 'reason': ''})
    assert missing.status_code == 400 and 'Describe the conflict of interest' in missing.get_data(as_text=True)
    assert 'govuk-error-summary' in missing.get_data(as_text=True)
    response = client.post(url, data={'organisation_id': reviewing.organisation_id, 'reason': REASON})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert REASON in page and 'In force' in page
    conflict = conflicts.conflict_with(member, reviewing.organisation_id)
    assert client.get(url_for('qualification.board_application', application_id=reviewing.id)).status_code == 403
    withdraw = url_for('qualification.board_withdraw_conflict', conflict_id=conflict.id)
    login_as(users['member'])
    assert client.post(withdraw, data={}).status_code == 403  # not theirs
    login_as(member)
    assert client.post(withdraw, data={'reason': 'No longer a director'}).status_code == 302
    assert conflicts.conflict_with(member, reviewing.organisation_id) is None
    assert client.get(url_for('qualification.board_application', application_id=reviewing.id)).status_code == 200


def test_conflicted_board_member_cannot_read_the_submitted_answers_or_evidence(client, login_as, reviewing, users):
    member = users['member2']
    login_as(member)
    snapshot = url_for('qualification.view_snapshot', application_id=reviewing.id)
    evidence = url_for('qualification.download_evidence', evidence_id=reviewing.evidence[0].id)
    assert client.get(snapshot).status_code == 200 and client.get(evidence).status_code == 302
    conflicts.declare(reviewing.organisation, REASON, actor=member)
    assert client.get(snapshot).status_code == 403
    assert client.get(evidence).status_code == 403
