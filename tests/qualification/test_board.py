"""Board review: refusals for every unauthorised actor, sign-off rules, and one decision under concurrency."""

from __future__ import annotations

import itertools
import threading

import pytest
from flask import url_for
from sqlalchemy import func, select

from qualification import board, services
from qualification.applications import Application
from qualification.models import Qualification
from qualification.review import LotDecision
from qualification.states import ApplicationStatus
from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.errors import DomainError, InvalidTransition, PermissionDenied
from registry.extensions import db
from tests.factories import make_user
from tests.qualification.board_helpers import application_status, board_users, in_review, mark_everything
from tests.qualification.conftest import make_member, make_organisation


def _application_in(status, organisation, provider) -> Application:
    application = services.start_application(organisation, ['childrens-homes'], actor=provider)
    application.status = status  # fixture set-up only: the services under test move it from here
    db.session.commit()
    return application


def _proposed(organisation, provider, users) -> Application:
    application = in_review(organisation, provider, users)
    mark_everything(application, users['assessor'])
    board.propose_decision(application, {'childrens-homes': ('approve', 'Meets the standard')},
                           actor=users['assessor'])
    return application


BOARD_GET_ROUTES = ['board_application', 'board_assign', 'board_review_section', 'board_request_clarification',
                    'board_propose_decision', 'board_sign_off']


def _url(endpoint, application):
    extra = {'section_id': 'organisation'} if endpoint == 'board_review_section' else {}
    return url_for(f'qualification.{endpoint}', application_id=application.id, **extra)


@pytest.mark.parametrize('who', ['anonymous', 'provider', 'other-provider', 'commissioner'])
@pytest.mark.parametrize('endpoint', BOARD_GET_ROUTES + ['board_start_review', 'board_queue'])
def test_people_outside_the_board_cannot_reach_board_pages(app_ctx, client, login_as, organisation, provider, who,
                                                           endpoint):
    application = _application_in(ApplicationStatus.SUBMITTED, organisation, provider)
    users = {'provider': provider, 'other-provider': make_member(make_organisation()),
             'commissioner': make_user(Role.COMMISSIONER)}
    if who != 'anonymous':
        login_as(users[who])
    url = url_for('qualification.board_queue') if endpoint == 'board_queue' else _url(endpoint, application)
    for method in ('get', 'post'):
        response = getattr(client, method)(url, data={})
        if who == 'anonymous':
            assert response.status_code in (302, 401, 405)
            if response.status_code == 302:
                assert '/sign-in' in response.headers['Location'] or 'login' in response.headers['Location']
        else:
            assert response.status_code in (403, 405), (method, response.status_code)
    assert application_status(application.id) == ApplicationStatus.SUBMITTED


def test_assessor_not_assigned_cannot_mark_clarify_or_propose(app_ctx, client, login_as, organisation, provider):
    users = board_users()
    application = _application_in(ApplicationStatus.SUBMITTED, organisation, provider)
    board.assign(application, users['assessor'], actor=users['member'])
    stranger = make_user(Role.ASSESSOR)
    login_as(stranger)
    for endpoint in ('board_request_clarification', 'board_propose_decision', 'board_start_review'):
        assert client.post(_url(endpoint, application), data={}).status_code == 403
    response = client.post(_url('board_review_section', application), data={'outcome_org_legal_name': 'pass'})
    assert response.status_code == 403
    assert application_status(application.id) == ApplicationStatus.IN_REVIEW


def test_proposer_and_assessor_cannot_sign_off_but_a_second_board_member_can(app_ctx, organisation, provider):
    users = board_users()
    application = _proposed(organisation, provider, users)
    with pytest.raises(PermissionDenied, match='second board member'):
        board.sign_off(application, actor=users['assessor'])
    # a board member who proposed is refused too
    other = make_organisation()
    application2 = in_review(other, make_member(other), users)
    mark_everything(application2, users['member'])
    board.propose_decision(application2, {'childrens-homes': ('reject', 'Insurance too low')}, actor=users['member'])
    with pytest.raises(PermissionDenied, match='You proposed this decision'):
        board.sign_off(application2, actor=users['member'])
    granted = board.sign_off(application, actor=users['member2'])
    assert [q.lot.value for q in granted] == ['childrens-homes']
    assert application_status(application.id) == ApplicationStatus.APPROVED
    rejected = board.sign_off(application2, actor=users['member2'])
    assert rejected == [] and application_status(application2.id) == ApplicationStatus.REJECTED


def test_board_member_can_send_a_decision_back_and_it_is_proposed_again(app_ctx, organisation, provider):
    users = board_users()
    application = _proposed(organisation, provider, users)
    with pytest.raises(DomainError, match='Explain why'):
        board.send_back(application, actor=users['member2'], reason='')
    board.send_back(application, actor=users['member2'], reason='Check the insurance certificate')
    assert application_status(application.id) == ApplicationStatus.IN_REVIEW
    assert db.session.scalar(select(func.count(LotDecision.id))) == 0


@pytest.mark.parametrize(('status', 'verb'), [
    (status, verb) for status, verb in itertools.product(ApplicationStatus, ['clarify', 'propose', 'sign_off'])
    if not (status == ApplicationStatus.IN_REVIEW and verb in {'clarify', 'propose'})
    and not (status == ApplicationStatus.DECISION_PROPOSED and verb == 'sign_off')])
def test_board_verbs_are_refused_from_every_other_status(app_ctx, organisation, provider, status, verb):
    users = board_users()
    application = _application_in(ApplicationStatus.SUBMITTED, organisation, provider)
    board.assign(application, users['assessor'], actor=users['member'])
    application.status = status
    db.session.commit()
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    with pytest.raises((InvalidTransition, DomainError)):
        if verb == 'clarify':
            board.request_clarification(application, 'x', actor=users['assessor'])
        elif verb == 'propose':
            board.propose_decision(application, {'childrens-homes': ('approve', 'ok')}, actor=users['assessor'])
        else:
            board.sign_off(application, actor=users['member2'])
    assert application_status(application.id) == status
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events
    assert not db.session.scalars(select(Qualification)).all()


@pytest.mark.parametrize('verb', ['propose', 'sign_off'])
def test_two_board_members_deciding_at_once_leave_exactly_one_decision(app, app_ctx, organisation, provider, verb):
    users = board_users()
    application = in_review(organisation, provider, users)
    mark_everything(application, users['assessor'])
    if verb == 'sign_off':
        board.propose_decision(application, {'childrens-homes': ('approve', 'Meets it')}, actor=users['assessor'])
        actors = [users['member'].id, users['member2'].id]
    else:
        actors = [users['assessor'].id, users['member'].id]
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def decide(index: int, actor_id: int, outcome: str) -> None:
        with app.app_context():
            try:
                actor = db.session.get(type(users['member']), actor_id)
                target = db.session.get(Application, application.id)
                barrier.wait(timeout=10)
                if verb == 'propose':
                    board.propose_decision(target, {'childrens-homes': (outcome, f'{outcome} by {actor_id}')},
                                           actor=actor)
                else:
                    board.sign_off(target, actor=actor)
                results[index] = 'ok'
            except InvalidTransition as exc:
                results[index] = str(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=decide, args=(i, actor, outcome))
               for i, (actor, outcome) in enumerate(zip(actors, ['approve', 'reject'], strict=True))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results, key=str) == ['This application has already been decided', 'ok']
    db.session.expire_all()
    assert db.session.scalar(select(func.count(LotDecision.id))) == 1
    expected = ApplicationStatus.DECISION_PROPOSED if verb == 'propose' else ApplicationStatus.APPROVED
    assert application_status(application.id) == expected
    action = 'application.propose-decision' if verb == 'propose' else 'application.approve'
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action)) == 1
    if verb == 'sign_off':
        assert db.session.scalar(select(func.count(Qualification.id))) == 1
