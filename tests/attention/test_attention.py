"""What needs your attention: each role's landing page lists its own work, and nobody else's."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import url_for

from notifications.services import notify
from qualification import board, services
from qualification.models import LocalApplication, LocalApplicationStatus
from qualification.states import ApplicationStatus
from registry.accounts.models import Role
from registry.accounts.services import invite_staff_user
from registry.db import utcnow
from registry.extensions import db
from registry.organisations.models import MemberRole, Membership
from tests.factories import make_user
from tests.notifications.conftest import BRADFORD, LEEDS, make_organisation, member, shortlist
from tests.qualification.board_helpers import (
    board_users,
    in_review,
    make_qualification,
    make_setting,
    mark_everything,
    submitted_application,
)


def _section(page: str, section_id: str) -> str:
    """The text of one section of the page ('' when the page leaves it out)."""
    match = re.search(rf'<section id="{section_id}">(.*?)</section>', page, re.S)
    return re.sub(r'\s+', ' ', re.sub(r'<[^>]+>', ' ', match.group(1))) if match else ''


@pytest.fixture
def users(app_ctx):
    return board_users()


def test_provider_sees_applications_with_next_steps_clarifications_expiries_and_stale_vacancies(
        app_ctx, client, login_as, users):
    approved_org = make_organisation('Aire Valley Homes Ltd', 'contact@aire.example')
    waiting_org = make_organisation('Calder Fostering Ltd', 'contact@calder.example')
    db.session.commit()
    provider = member(approved_org, 'Ada Owner')
    # the same person belongs to both organisations
    db.session.add(Membership(user_id=provider.id, organisation_id=waiting_org.id, role=MemberRole.OWNER))
    db.session.commit()
    approved = in_review(approved_org, provider, users)
    mark_everything(approved, users['assessor'])
    board.propose_decision(approved, {'childrens-homes': ('approve', 'Meets the standard')}, actor=users['assessor'])
    board.sign_off(approved, actor=users['member'])
    # fixture set-up: the cover the provider declared runs out in 20 days
    approved.snapshot = {**approved.snapshot, 'answers': {**approved.snapshot['answers'],
                                                          'ins-el-expiry': (date.today() + timedelta(days=20))
                                                          .isoformat()}}
    waiting = services.start_application(waiting_org, ['childrens-homes'], actor=provider)
    waiting.status, waiting.clarification_requested_at = ApplicationStatus.CLARIFICATION_REQUESTED, utcnow()
    make_qualification(waiting_org, valid_from=date.today() - timedelta(days=340))
    stale, fresh = make_setting(approved_org, 'Oak House', 'SC123456'), make_setting(approved_org, 'Elm House',
                                                                                     'SC123457')
    stale.vacancies_confirmed_at = utcnow() - timedelta(days=10)
    fresh.vacancies_confirmed_at = utcnow() - timedelta(days=1)
    db.session.commit()
    outsider = make_organisation('Other Care Ltd', 'contact@other.example')
    db.session.commit()
    services.start_application(outsider, ['childrens-homes'], actor=member(outsider, 'Olly Other'))
    login_as(provider)

    page = client.get(url_for('attention.index')).get_data(as_text=True)

    assert 'What needs your attention' in page
    assert _section(page, 'clarifications').count('Calder Fostering Ltd: application') == 1
    applications = _section(page, 'applications')
    assert "Calder Fostering Ltd: application" in applications
    assert "Answer the board's questions and submit again" in applications.replace('&#39;', "'")
    assert 'Aire Valley Homes Ltd' not in applications  # approved: nothing to do
    assert 'Other Care Ltd' not in page
    expiring = _section(page, 'expiring')
    assert "Calder Fostering Ltd: National qualification for Children's homes" in expiring.replace('&#39;', "'")
    assert "Aire Valley Homes Ltd: Your employer's liability cover" in expiring.replace('&#39;', "'")
    vacancies = _section(page, 'vacancies')
    assert 'Oak House' in vacancies and 'Elm House' not in vacancies


def test_commissioner_sees_pending_local_applications_unread_notifications_and_recent_shortlists(
        app_ctx, client, login_as):
    provider_org = make_organisation('Aire Valley Homes Ltd', 'contact@aire.example')
    ours = LocalApplication(organisation_id=provider_org.id, authority_code=LEEDS, lot='childrens-homes',
                            status=LocalApplicationStatus.SUBMITTED, submitted_at=utcnow())
    db.session.add_all([ours, LocalApplication(organisation_id=provider_org.id, authority_code=BRADFORD,
                                               lot='fostering', status=LocalApplicationStatus.SUBMITTED,
                                               submitted_at=utcnow())])
    db.session.commit()
    officer = make_user(Role.COMMISSIONER, authority_code=LEEDS)
    saved = shortlist(officer, [], 'Girl, 12, Leeds')
    notify('local_application.submitted', ours, [officer], {'organisation': 'Aire Valley Homes Ltd',
                                                            'list_name': 'your local list',
                                                            'lot': "Children's homes"})
    db.session.commit()
    login_as(officer)

    page = client.get(url_for('attention.index')).get_data(as_text=True)

    pending = _section(page, 'pending-local')
    assert 'Aire Valley Homes Ltd' in pending and "Children's homes" in pending.replace('&#39;', "'")
    assert 'Fostering' not in pending  # Bradford's application is Bradford's
    assert 'Aire Valley Homes Ltd applied to join your local list' in _section(page, 'notifications')
    assert saved.name in _section(page, 'shortlists')


def test_assessor_sees_assigned_applications_and_the_unassigned_queue(app_ctx, client, login_as, users):
    first, second = (make_organisation(f'{name} Ltd', f'contact@{name.lower()}.example') for name in ('Alpha', 'Beta'))
    db.session.commit()
    in_review(first, member(first, 'Al Alpha'), users)
    submitted_application(second, member(second, 'Bea Beta'))
    login_as(users['assessor'])

    page = client.get(url_for('attention.index')).get_data(as_text=True)

    assert 'Alpha Ltd' in _section(page, 'assigned') and 'Beta Ltd' not in _section(page, 'assigned')
    assert 'Beta Ltd' in _section(page, 'review-queue') and 'Alpha Ltd' not in _section(page, 'review-queue')
    assert _section(page, 'sign-offs') == ''


def test_board_member_sees_decisions_waiting_for_sign_off(app_ctx, client, login_as, users):
    organisation = make_organisation('Alpha Ltd', 'contact@alpha.example')
    db.session.commit()
    application = in_review(organisation, member(organisation, 'Al Alpha'), users)
    mark_everything(application, users['assessor'])
    board.propose_decision(application, {'childrens-homes': ('approve', 'Meets the standard')},
                           actor=users['assessor'])
    login_as(users['member'])

    page = client.get(url_for('attention.index')).get_data(as_text=True)

    assert 'Alpha Ltd' in _section(page, 'sign-offs')


def test_admin_sees_invitations_not_yet_accepted(app_ctx, client, login_as):
    admin = make_user(Role.ADMIN)
    invite_staff_user(email='new.officer@leeds.example', full_name='New Officer', role=Role.COMMISSIONER,
                      authority_code=LEEDS, actor=admin)
    make_user(Role.COMMISSIONER, full_name='Settled Officer')
    login_as(admin)

    page = client.get(url_for('attention.index')).get_data(as_text=True)

    invitations = _section(page, 'invitations')
    assert 'New Officer (new.officer@leeds.example), Commissioner' in invitations
    assert 'Settled Officer' not in invitations


def test_someone_with_nothing_to_do_is_told_so(app_ctx, client, login_as):
    login_as(make_user(Role.COMMISSIONER, authority_code=LEEDS))

    page = client.get(url_for('attention.index')).get_data(as_text=True)

    assert 'Nothing needs your attention right now.' in page
