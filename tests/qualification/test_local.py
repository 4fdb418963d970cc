"""Local lists: publishing versions, who may join, who may decide, and every invalid move refused."""

from __future__ import annotations

import itertools

import pytest
from flask import url_for
from sqlalchemy import func, select

from qualification import local
from qualification.models import LocalApplication, LocalApplicationStatus, LocalRequirements
from qualification.states import LOCAL_TRANSITIONS, LocalApplicationAction
from qualification.workflow import apply_local_transition
from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.db import unit_of_work
from registry.errors import DomainError, InvalidTransition, PermissionDenied
from registry.extensions import db
from tests.factories import make_user
from tests.qualification.board_helpers import make_qualification
from tests.qualification.conftest import make_member, make_organisation

WESTMINSTER, LEEDS = 'E09000033', 'E08000035'


def _publish(commissioner, **kwargs) -> LocalRequirements:
    data = {'questions': [{'text': 'Will you attend our forum?', 'type': 'yes-no'}], 'documents': ['Local protocol'],
            'price_schedule': [{'placement_type': 'Solo', 'weekly_price_pence': 520000}]}
    data.update(kwargs)
    return local.publish_requirements(commissioner.authority_code, 'childrens-homes', actor=commissioner, **data)


def _applied(organisation, provider, commissioner) -> LocalApplication:
    make_qualification(organisation)
    requirements = _publish(commissioner)
    return local.apply_locally(organisation, requirements, {'q1': 'yes'}, accepts_terms=True, actor=provider)


def test_publishing_again_creates_a_new_version_and_old_versions_never_change(app_ctx):
    commissioner = make_user(Role.COMMISSIONER, authority_code=WESTMINSTER)
    first = _publish(commissioner)
    second = _publish(commissioner, documents=['Local protocol', 'Fire risk assessment'])
    db.session.expire_all()
    assert (first.version, second.version) == (1, 2)
    assert db.session.get(LocalRequirements, first.id).documents == ['Local protocol']
    assert [item.id for item in local.open_requirements()] == [second.id]


def test_commissioner_cannot_publish_for_another_authority(app_ctx):
    commissioner = make_user(Role.COMMISSIONER, authority_code=LEEDS)
    with pytest.raises(PermissionDenied):
        local.publish_requirements(WESTMINSTER, 'fostering', questions=[], documents=['x'], price_schedule=[],
                                   actor=commissioner)


def test_provider_without_an_active_qualification_cannot_join_a_local_list(app_ctx, client, login_as, organisation,
                                                                           provider):
    requirements = _publish(make_user(Role.COMMISSIONER, authority_code=WESTMINSTER))
    with pytest.raises(PermissionDenied):
        local.apply_locally(organisation, requirements, {'q1': 'yes'}, accepts_terms=True, actor=provider)
    login_as(provider)
    url = url_for('qualification.apply_locally', organisation_id=organisation.id, requirements_id=requirements.id)
    assert client.post(url, data={'answer_q1': 'yes', 'accepts_terms': 'y'}).status_code == 403


def test_provider_must_answer_every_local_question(app_ctx, client, login_as, organisation, provider):
    make_qualification(organisation)
    requirements = _publish(make_user(Role.COMMISSIONER, authority_code=WESTMINSTER))
    login_as(provider)
    url = url_for('qualification.apply_locally', organisation_id=organisation.id, requirements_id=requirements.id)
    response = client.post(url, data={})
    assert response.status_code == 400
    assert 'Answer &#34;Will you attend our forum?&#34;' in response.get_data(as_text=True) or \
        'Will you attend our forum?' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(LocalApplication.id))) == 0
    with pytest.raises(DomainError):
        local.apply_locally(organisation, requirements, {'q1': 'yes'}, accepts_terms=False, actor=provider)


@pytest.mark.parametrize('who', ['anonymous', 'other-commissioner', 'other-provider', 'assessor', 'owner'])
def test_only_the_authoritys_commissioners_can_decide_a_local_application(app_ctx, client, login_as, organisation,
                                                                         provider, who):
    commissioner = make_user(Role.COMMISSIONER, authority_code=WESTMINSTER)
    item = _applied(organisation, provider, commissioner)
    actors = {'other-commissioner': make_user(Role.COMMISSIONER, authority_code=LEEDS),
              'other-provider': make_member(make_organisation()), 'assessor': make_user(Role.ASSESSOR),
              'owner': provider}
    if who != 'anonymous':
        login_as(actors[who])
    url = url_for('qualification.local_application', local_application_id=item.id)
    response = client.post(url, data={'decision': 'accept'})
    assert response.status_code in ((302, 401) if who == 'anonymous' else (403,))
    if who in {'other-commissioner', 'other-provider'}:
        assert client.get(url).status_code == 403
    db.session.expire_all()
    assert db.session.get(LocalApplication, item.id).status == LocalApplicationStatus.SUBMITTED


@pytest.mark.parametrize('who', ['provider', 'other-commissioner', 'assessor'])
def test_non_commissioners_cannot_reach_local_requirement_pages(app_ctx, client, login_as, provider, who):
    actor = {'provider': provider, 'other-commissioner': None, 'assessor': make_user(Role.ASSESSOR)}[who]
    if actor is None:
        return  # any commissioner reaches their own authority's page: nothing to refuse
    login_as(actor)
    assert client.get(url_for('qualification.local_requirements')).status_code == 403
    assert client.post(url_for('qualification.publish_local_requirements'),
                       data={'lot': 'fostering', 'documents': 'x'}).status_code == 403


def test_commissioner_can_decline_with_a_reason_and_the_provider_sees_it(app_ctx, client, login_as, organisation,
                                                                         provider):
    commissioner = make_user(Role.COMMISSIONER, authority_code=WESTMINSTER)
    item = _applied(organisation, provider, commissioner)
    login_as(commissioner)
    url = url_for('qualification.local_application', local_application_id=item.id)
    assert client.post(url, data={'decision': 'decline'}).status_code == 400  # reason required
    assert client.post(url, data={'decision': 'decline', 'reason': 'Our list is full for 2026'}).status_code == 302
    login_as(provider)
    page = client.get(url).get_data(as_text=True)
    assert 'Declined' in page and 'Our list is full for 2026' in page
    with pytest.raises(InvalidTransition, match='already been decided|cannot accept'):
        local.decide(item, True, actor=commissioner, reason='')


def test_provider_cannot_apply_twice_to_the_same_list(app_ctx, organisation, provider):
    commissioner = make_user(Role.COMMISSIONER, authority_code=WESTMINSTER)
    item = _applied(organisation, provider, commissioner)
    with pytest.raises(DomainError, match='already applied'):
        local.apply_locally(organisation, item.requirements, {'q1': 'yes'}, accepts_terms=True, actor=provider)


@pytest.mark.parametrize(('status', 'action'), list(itertools.product(LocalApplicationStatus, LocalApplicationAction)))
def test_local_application_moves_follow_the_table_exactly(app_ctx, organisation, provider, status, action):
    commissioner = make_user(Role.COMMISSIONER, authority_code=WESTMINSTER)
    item = _applied(organisation, provider, commissioner)
    item.status = status  # fixture set-up only
    db.session.commit()
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    if (status, action) not in LOCAL_TRANSITIONS:
        with pytest.raises(InvalidTransition, match=f'^You cannot {action.value} a local application that is '):
            with unit_of_work():
                apply_local_transition(item, action, actor=commissioner)
        db.session.expire_all()
        assert db.session.get(LocalApplication, item.id).status == status
        assert db.session.scalar(select(func.count(AuditEvent.id))) == events
        return
    with unit_of_work():
        apply_local_transition(item, action, actor=commissioner, reason='because')
    db.session.expire_all()
    assert db.session.get(LocalApplication, item.id).status == LOCAL_TRANSITIONS[(status, action)]
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events + 1
