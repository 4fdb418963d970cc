"""Administrators manage staff accounts; nobody else reaches these pages."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from registry.accounts.models import Role, User
from registry.audit.models import AuditEvent
from registry.extensions import db
from tests.factories import make_user
from tests.registry.accounts.conftest import emails, link_in
from tests.registry.accounts.test_sign_in import is_signed_in, sign_in

ADMIN_PAGES = ['/admin/users', '/admin/users/invite']
INVITE = {'full_name': 'Cora Commissioner', 'email': 'Cora@Council.example', 'role': 'commissioner',
          'authority_code': 'E08000025'}
PASSWORD = 'council passphrase for cora'


def audit_actions(user) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == 'users', AuditEvent.object_id == str(user.id)).order_by(AuditEvent.id)))


@pytest.mark.parametrize('path', ADMIN_PAGES)
def test_visitor_cannot_reach_admin_pages(app_ctx, client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert '/sign-in' in response.headers['Location']


@pytest.mark.parametrize('role', [Role.PROVIDER, Role.COMMISSIONER, Role.ASSESSOR, Role.BOARD_MEMBER])
def test_non_admin_cannot_reach_admin_pages(app_ctx, client, login_as, role):
    login_as(make_user(role, totp_secret=pyotp.random_base32() if role.needs_second_factor else None))
    target = make_user(Role.ASSESSOR)

    for path in [*ADMIN_PAGES, f'/admin/users/{target.id}', f'/admin/users/{target.id}/deactivate']:
        assert client.get(path).status_code == 403, path
    assert client.post(f'/admin/users/{target.id}/deactivate').status_code == 403
    db.session.refresh(target)
    assert target.is_active_account


def test_admin_can_list_users_filtered_by_role(app_ctx, client, login_as):
    login_as(make_user(Role.ADMIN, email='admin@example.org'))
    make_user(Role.COMMISSIONER, email='cora@council.example')
    make_user(Role.PROVIDER, email='pat@example.org')

    everyone = client.get('/admin/users').get_data(as_text=True)
    commissioners = client.get('/admin/users?role=commissioner').get_data(as_text=True)

    assert all(email in everyone for email in ('admin@example.org', 'cora@council.example', 'pat@example.org'))
    assert 'cora@council.example' in commissioners
    assert 'Westminster' in commissioners
    assert 'pat@example.org' not in commissioners
    assert 'admin@example.org</td>' not in commissioners


def test_admin_must_choose_an_authority_for_a_commissioner(app_ctx, client, login_as):
    login_as(make_user(Role.ADMIN))

    response = client.post('/admin/users/invite', data={**INVITE, 'authority_code': ''})

    assert response.status_code == 200
    assert b'govuk-error-summary' in response.data
    assert b'Select the local authority the commissioner works for' in response.data
    assert db.session.scalar(select(User).where(User.email == 'cora@council.example')) is None
    assert emails('staff-invite') == []


def test_admin_cannot_invite_with_an_unknown_authority(app_ctx, client, login_as):
    login_as(make_user(Role.ADMIN))

    response = client.post('/admin/users/invite', data={**INVITE, 'authority_code': 'E99999999'})

    assert b'Select the local authority the commissioner works for' in response.data
    assert db.session.scalar(select(User).where(User.email == 'cora@council.example')) is None


def test_invite_page_offers_all_153_authorities(app_ctx, client, login_as):
    login_as(make_user(Role.ADMIN))

    page = client.get('/admin/users/invite').get_data(as_text=True)

    assert page.count('<option value="E') == 153


def test_invited_commissioner_sets_a_password_from_the_email_and_signs_in(app, app_ctx, client, login_as):
    admin = login_as(make_user(Role.ADMIN))

    response = client.post('/admin/users/invite', data=INVITE)

    assert response.status_code == 302
    cora = db.session.scalar(select(User).where(User.email == 'cora@council.example'))
    assert cora.role == Role.COMMISSIONER
    assert cora.authority_code == 'E08000025'
    assert not cora.is_verified
    assert 'user.invite' in audit_actions(cora)
    assert db.session.scalar(select(AuditEvent.actor_id).where(AuditEvent.action == 'user.invite')) == admin.id
    [email] = emails('staff-invite', to='cora@council.example')
    assert 'Birmingham' in email.body
    invitee = app.test_client()
    assert sign_in(invitee, 'cora@council.example', 'anything at all here').status_code == 200

    set_password = invitee.post(link_in(email), data={'password': PASSWORD, 'confirm_password': PASSWORD})

    assert set_password.status_code == 302
    assert sign_in(invitee, 'cora@council.example', PASSWORD).status_code == 302
    account = invitee.get('/account')
    assert account.status_code == 200
    assert b'Birmingham' in account.data
    db.session.refresh(cora)
    assert cora.is_verified


def test_invited_board_member_must_set_up_a_second_factor(app, app_ctx, client, login_as):
    login_as(make_user(Role.ADMIN))
    client.post('/admin/users/invite', data={'full_name': 'Bo Board', 'email': 'bo@example.org',
                                             'role': 'board-member', 'authority_code': 'E08000025'})
    bo = db.session.scalar(select(User).where(User.email == 'bo@example.org'))
    assert bo.authority_code is None
    invitee = app.test_client()
    invitee.post(link_in(emails('staff-invite')[0]), data={'password': PASSWORD, 'confirm_password': PASSWORD})

    response = sign_in(invitee, 'bo@example.org', PASSWORD)

    assert response.headers['Location'].endswith('/account/two-factor/set-up')


def test_admin_can_deactivate_and_reactivate_a_user(app, app_ctx, client, login_as):
    login_as(make_user(Role.ADMIN))
    pat = make_user(Role.PROVIDER, email='pat@example.org')
    pats_browser = app.test_client()
    sign_in(pats_browser, 'pat@example.org')
    assert client.get(f'/admin/users/{pat.id}/deactivate').status_code == 200

    response = client.post(f'/admin/users/{pat.id}/deactivate', data={'reason': 'left the company'})

    assert response.status_code == 302
    db.session.refresh(pat)
    assert not pat.is_active_account
    assert not is_signed_in(pats_browser)
    assert sign_in(pats_browser, 'pat@example.org').status_code == 200
    client.post(f'/admin/users/{pat.id}/reactivate')
    db.session.refresh(pat)
    assert pat.is_active_account
    assert sign_in(pats_browser, 'pat@example.org').status_code == 302
    actions = [action for action in audit_actions(pat) if action != 'user.sign_in']
    assert actions[-2:] == ['user.deactivate', 'user.reactivate']
    assert db.session.scalar(select(AuditEvent.reason).where(AuditEvent.action == 'user.deactivate')) == \
        'left the company'


def test_admin_cannot_deactivate_themselves(app_ctx, client, login_as):
    admin = login_as(make_user(Role.ADMIN))

    response = client.post(f'/admin/users/{admin.id}/deactivate', follow_redirects=True)

    assert b'You cannot deactivate your own account' in response.data
    db.session.refresh(admin)
    assert admin.is_active_account


def test_admin_can_reset_a_users_second_factor(app, app_ctx, client, login_as):
    login_as(make_user(Role.ADMIN))
    secret = pyotp.random_base32()
    bo = make_user(Role.BOARD_MEMBER, email='bo@example.org', totp_secret=secret)

    response = client.post(f'/admin/users/{bo.id}/reset-second-factor', data={'reason': 'lost phone'})

    assert response.status_code == 302
    db.session.refresh(bo)
    assert bo.totp_secret is None
    assert 'user.reset_second_factor' in audit_actions(bo)
    bos_browser = app.test_client()
    assert sign_in(bos_browser, 'bo@example.org').headers['Location'].endswith('/account/two-factor/set-up')


def test_admin_sees_a_users_details(app_ctx, client, login_as):
    login_as(make_user(Role.ADMIN))
    cora = make_user(Role.COMMISSIONER, email='cora@council.example', full_name='Cora Commissioner')

    page = client.get(f'/admin/users/{cora.id}').get_data(as_text=True)

    assert 'Cora Commissioner' in page
    assert 'Westminster' in page
    assert 'Deactivate account' in page


def test_admin_navigation_links_to_users(app_ctx, client, login_as):
    login_as(make_user(Role.ADMIN))

    assert b'href="/admin/users"' in client.get('/account').data
