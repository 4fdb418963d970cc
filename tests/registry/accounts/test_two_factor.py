"""The TOTP second factor that board and admin accounts must pass."""

from __future__ import annotations

import time

import pyotp
import pytest

from registry.accounts.models import Role
from registry.extensions import db
from tests.factories import make_user
from tests.registry.accounts.test_sign_in import sign_in


def setup_secret(client) -> str:
    with client.session_transaction() as session:
        return session['totp_setup_secret']


def test_board_member_without_a_secret_must_set_one_up_before_anything_else(app_ctx, client):
    make_user(Role.BOARD_MEMBER, email='bo@example.org')

    response = sign_in(client, 'bo@example.org')

    assert response.headers['Location'].endswith('/account/two-factor/set-up')
    for path in ('/', '/account', '/admin/users', '/sign-in/two-factor'):
        blocked = client.get(path)
        assert blocked.status_code == 302, path
        assert blocked.headers['Location'].endswith('/account/two-factor/set-up'), path
    page = client.get('/account/two-factor/set-up')
    assert page.status_code == 200
    secret = setup_secret(client)
    text = page.get_data(as_text=True)
    assert ' '.join(secret[i:i + 4] for i in range(0, len(secret), 4)) in text
    assert '<svg' in text
    assert client.get('/healthcheck').status_code == 200


def test_board_member_can_confirm_set_up_with_a_code_from_their_app(app_ctx, client):
    user = make_user(Role.BOARD_MEMBER, email='bo@example.org')
    sign_in(client, 'bo@example.org')
    client.get('/account/two-factor/set-up')
    secret = setup_secret(client)

    response = client.post('/account/two-factor/set-up', data={'code': pyotp.TOTP(secret).now()})

    assert response.status_code == 302
    db.session.refresh(user)
    assert user.totp_secret == secret
    assert user.totp_last_step is not None
    assert client.get('/account').status_code == 200


def test_board_member_cannot_set_up_with_a_wrong_code(app_ctx, client):
    user = make_user(Role.BOARD_MEMBER, email='bo@example.org')
    sign_in(client, 'bo@example.org')
    client.get('/account/two-factor/set-up')
    secret = setup_secret(client)
    wrong = str((int(pyotp.TOTP(secret).now()) + 1) % 1_000_000).zfill(6)

    response = client.post('/account/two-factor/set-up', data={'code': wrong})

    assert response.status_code == 200
    assert b'The security code is not right' in response.data
    db.session.refresh(user)
    assert user.totp_secret is None
    assert client.get('/account').status_code == 302


@pytest.mark.parametrize('role', [Role.ASSESSOR, Role.ADMIN])
def test_staff_with_a_secret_must_enter_a_code_after_their_password(app_ctx, client, role):
    secret = pyotp.random_base32()
    make_user(role, email='staff@example.org', totp_secret=secret)

    response = sign_in(client, 'staff@example.org', data={'next': '/account'})

    assert response.headers['Location'].endswith('/sign-in/two-factor')
    assert client.get('/account').headers['Location'].endswith('/sign-in/two-factor')
    assert client.get('/account/two-factor/set-up').headers['Location'].endswith('/sign-in/two-factor')
    entered = client.post('/sign-in/two-factor', data={'code': pyotp.TOTP(secret).now()})
    assert entered.headers['Location'].endswith('/account')
    assert client.get('/account').status_code == 200


def test_replayed_code_is_rejected(app_ctx, client):
    user = make_user(Role.BOARD_MEMBER, email='bo@example.org')
    sign_in(client, 'bo@example.org')
    client.get('/account/two-factor/set-up')
    secret = setup_secret(client)
    code = pyotp.TOTP(secret).now()
    client.post('/account/two-factor/set-up', data={'code': code})
    client.post('/sign-out')
    sign_in(client, 'bo@example.org')

    replay = client.post('/sign-in/two-factor', data={'code': code})

    assert replay.status_code == 200
    assert b'already been used' in replay.data
    assert client.get('/account').status_code == 302
    db.session.refresh(user)
    next_code = pyotp.TOTP(secret).at(int(time.time()) + 30)
    assert client.post('/sign-in/two-factor', data={'code': next_code}).status_code == 302
    assert client.get('/account').status_code == 200


def test_wrong_code_is_rejected(app_ctx, client):
    secret = pyotp.random_base32()
    make_user(Role.ADMIN, email='admin@example.org', totp_secret=secret)
    sign_in(client, 'admin@example.org')
    wrong = str((int(pyotp.TOTP(secret).now()) + 500_000) % 1_000_000).zfill(6)

    response = client.post('/sign-in/two-factor', data={'code': wrong})

    assert response.status_code == 200
    assert b'govuk-error-summary' in response.data
    assert client.get('/admin/users').status_code == 302


def test_provider_does_not_need_a_second_factor(app_ctx, client):
    make_user(Role.PROVIDER, email='pat@example.org')

    sign_in(client, 'pat@example.org')

    assert client.get('/account').status_code == 200


def test_repeated_wrong_codes_lock_the_account_and_end_the_sign_in(app_ctx, client, monkeypatch):
    monkeypatch.setitem(app_ctx.config, 'TOTP_MAX_FAILURES', 3)
    secret = pyotp.random_base32()
    user = make_user(Role.ASSESSOR, email='asa@example.org', totp_secret=secret)
    sign_in(client, 'asa@example.org')
    wrong = str((int(pyotp.TOTP(secret).now()) + 500_000) % 1_000_000).zfill(6)

    client.post('/sign-in/two-factor', data={'code': wrong})
    client.post('/sign-in/two-factor', data={'code': wrong})
    locked = client.post('/sign-in/two-factor', data={'code': wrong})

    assert locked.headers['Location'].endswith('/sign-in')
    db.session.refresh(user)
    assert user.is_locked()
    assert client.get('/account').headers['Location'].startswith('/sign-in')
    assert sign_in(client, 'asa@example.org').status_code == 200


def test_provider_who_chose_a_second_factor_is_asked_for_a_code(app_ctx, client, login_as):
    user = login_as(make_user(Role.PROVIDER, email='pat@example.org'))
    assert b'Set up a second factor' in client.get('/account').data
    client.get('/account/two-factor/set-up')
    secret = setup_secret(client)
    client.post('/account/two-factor/set-up', data={'code': pyotp.TOTP(secret).now()})
    db.session.refresh(user)
    assert user.has_second_factor
    client.post('/sign-out')

    response = sign_in(client, 'pat@example.org')

    assert response.headers['Location'].endswith('/sign-in/two-factor')
    assert client.get('/account').status_code == 302
