"""Qualification lifecycle: suspend, reinstate, revoke with reasons; the expiry job; every invalid move refused."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from flask import url_for
from sqlalchemy import func, select

from qualification import qualifications
from qualification.listing import is_listed
from qualification.models import Qualification, QualificationReminder, QualificationStatus
from qualification.states import QUALIFICATION_TRANSITIONS, QualificationAction
from qualification.workflow import apply_qualification_transition
from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.db import unit_of_work
from registry.errors import InvalidTransition
from registry.extensions import db
from registry.indexing import ReindexRequest
from registry.notifications.models import OutboxEmail
from tests.factories import make_user
from tests.qualification.board_helpers import make_qualification, make_setting
from tests.qualification.conftest import make_member, make_organisation


@pytest.mark.parametrize(('status', 'action'), list(itertools.product(QualificationStatus, QualificationAction)))
def test_qualification_moves_follow_the_table_exactly(app_ctx, organisation, status, action):
    qualification = make_qualification(organisation, status=status)
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    if (status, action) not in QUALIFICATION_TRANSITIONS:
        with pytest.raises(InvalidTransition, match=f'^You cannot {action.value} a qualification that is '):
            with unit_of_work():
                apply_qualification_transition(qualification, action, actor=None, reason='x')
        db.session.expire_all()
        assert db.session.get(Qualification, qualification.id).status == status
        assert db.session.scalar(select(func.count(AuditEvent.id))) == events
        return
    with unit_of_work():
        apply_qualification_transition(qualification, action, actor=None, reason='because')
    db.session.expire_all()
    assert db.session.get(Qualification, qualification.id).status == QUALIFICATION_TRANSITIONS[(status, action)]
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)) == \
        f'qualification.{action.value}'
    assert db.session.scalar(select(OutboxEmail.template)) == f'qualification-{action.value}'


def test_board_member_can_suspend_and_reinstate_a_qualification_and_the_setting_is_delisted_meanwhile(
        app_ctx, client, login_as, organisation, provider):
    setting = make_setting(organisation)
    qualification = make_qualification(organisation)
    member = make_user(Role.BOARD_MEMBER)
    assert is_listed(setting)
    login_as(member)
    url = url_for('qualification.board_change_qualification', qualification_id=qualification.id, action='suspend')
    response = client.post(url, data={'reason': ''})
    assert response.status_code == 400 and 'Enter the reason' in response.get_data(as_text=True)
    assert client.post(url, data={'reason': 'Safeguarding concern under investigation'}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Qualification, qualification.id).status == QualificationStatus.SUSPENDED
    assert not is_listed(setting)
    assert setting.id in db.session.scalars(select(ReindexRequest.setting_id)).all()
    # suspending again is refused with a clear message, changing nothing
    response = client.post(url, data={'reason': 'again'})
    assert response.status_code == 409 and 'You cannot suspend a qualification that is suspended' in \
        response.get_data(as_text=True)
    client.post(url_for('qualification.board_change_qualification', qualification_id=qualification.id,
                        action='reinstate'), data={'reason': 'Investigation closed'})
    db.session.expire_all()
    assert is_listed(setting)
    login_as(provider)
    page = client.get(url_for('qualification.organisation_qualifications', organisation_id=organisation.id))
    assert 'Active' in page.get_data(as_text=True) and 'Investigation closed' in page.get_data(as_text=True)


@pytest.mark.parametrize('role', [Role.ASSESSOR, Role.PROVIDER, Role.COMMISSIONER])
def test_people_other_than_board_members_cannot_change_a_qualification(app_ctx, client, login_as, organisation, role):
    qualification = make_qualification(organisation)
    login_as(make_member(organisation) if role == Role.PROVIDER else make_user(role))
    for action in ('suspend', 'reinstate', 'revoke'):
        url = url_for('qualification.board_change_qualification', qualification_id=qualification.id, action=action)
        assert client.post(url, data={'reason': 'no'}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Qualification, qualification.id).status == QualificationStatus.ACTIVE


def test_provider_of_another_organisation_cannot_see_its_qualifications(app_ctx, client, login_as, organisation):
    make_qualification(organisation)
    login_as(make_member(make_organisation()))
    assert client.get(url_for('qualification.organisation_qualifications',
                              organisation_id=organisation.id)).status_code == 403


def test_expire_due_expires_delists_and_sends_each_reminder_once(app, app_ctx, organisation):
    setting = make_setting(organisation)
    start = date(2026, 1, 10)
    qualification = make_qualification(organisation, valid_from=start)
    valid_to = qualification.valid_to
    runner = app.test_cli_runner()

    def run(day: date) -> str:
        result = runner.invoke(args=['qualification', 'expire-due', '--today', day.isoformat()])
        assert result.exit_code == 0, result.output
        return result.output

    assert 'sent 0 reminder' in run(valid_to - timedelta(days=61))
    assert 'sent 1 reminder' in run(valid_to - timedelta(days=60))
    assert 'sent 0 reminder' in run(valid_to - timedelta(days=59))  # idempotent
    assert 'sent 1 reminder' in run(valid_to - timedelta(days=20))
    assert 'sent 0 reminder' in run(valid_to - timedelta(days=20))
    assert 'sent 1 reminder' in run(valid_to - timedelta(days=7))
    assert 'sent 0 reminder' in run(valid_to)
    db.session.expire_all()
    assert sorted(db.session.scalars(select(QualificationReminder.days_before))) == [7, 30, 60]
    assert db.session.scalar(select(func.count(OutboxEmail.id)).where(
        OutboxEmail.template == 'qualification-reminder')) == 3
    assert is_listed(setting, today=valid_to)

    output = run(valid_to + timedelta(days=1))
    assert 'expired 1 qualification' in output
    assert 'expired 0 qualification' in run(valid_to + timedelta(days=1))
    db.session.expire_all()
    assert db.session.get(Qualification, qualification.id).status == QualificationStatus.EXPIRED
    assert not is_listed(setting, today=valid_to - timedelta(days=1))  # expired status delists on any day
    assert setting.id in db.session.scalars(select(ReindexRequest.setting_id)).all()
    assert db.session.scalar(select(AuditEvent.actor_id).where(AuditEvent.action == 'qualification.expire')) is None


def test_change_status_refuses_a_blank_reason(app_ctx, organisation):
    qualification = make_qualification(organisation)
    with pytest.raises(Exception, match='Enter the reason'):
        qualifications.change_status(qualification, 'revoke', actor=make_user(Role.ADMIN), reason=' ')
