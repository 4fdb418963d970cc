"""Signing in and out: throttling, lock-out, session fixation, safe redirects and CSRF."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select

from registry.accounts.models import LoginAttempt, Role
from registry.app import create_app
from registry.extensions import db
from tests.factories import PASSWORD, make_user
from tests.registry.accounts.conftest import emails


def sign_in(client, email, password=PASSWORD, **kwargs):
    return client.post('/sign-in', data={'email': email, 'password': password, **kwargs.pop('data', {})}, **kwargs)


def is_signed_in(client) -> bool:
    return client.get('/account').status_code == 200


def error_text(response) -> str:
    match = re.search(r'govuk-error-summary__list">\s*<li>\s*<a[^>]*>([^<]+)</a>', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return match.group(1).strip()


def test_provider_can_sign_in_with_the_right_password(app_ctx, client):
    user = make_user(Role.PROVIDER, email='pat@example.org')

    response = sign_in(client, 'Pat@Example.org ')

    assert response.status_code == 302
    assert response.headers['Location'] in {'/your-attention', 'http://localhost/your-attention'}
    assert is_signed_in(client)
    db.session.refresh(user)
    assert user.last_login_at is not None
    assert db.session.scalar(select(LoginAttempt.succeeded)) is True


def test_visitor_cannot_sign_in_with_a_wrong_password_and_the_message_does_not_reveal_the_account(app_ctx, client):
    make_user(email='pat@example.org')

    wrong_password = sign_in(client, 'pat@example.org', 'not the password at all')
    unknown_email = sign_in(client, 'nobody@example.org', 'not the password at all')

    assert wrong_password.status_code == unknown_email.status_code == 200
    assert error_text(wrong_password) == error_text(unknown_email)
    assert not is_signed_in(client)
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 2


def test_account_locks_after_too_many_failures_and_the_owner_is_told(app_ctx, client, monkeypatch):
    monkeypatch.setitem(app_ctx.config, 'LOGIN_MAX_FAILURES', 3)
    user = make_user(email='pat@example.org')

    for _ in range(3):
        sign_in(client, 'pat@example.org', 'not the password at all')

    db.session.refresh(user)
    assert user.is_locked()
    [email] = emails('account-locked', to='pat@example.org')
    assert 'locked' in email.body
    response = sign_in(client, 'pat@example.org')
    assert response.status_code == 200
    assert b'govuk-error-summary' in response.data
    assert not is_signed_in(client)


def test_successful_sign_in_resets_the_failure_count(app_ctx, client, monkeypatch):
    monkeypatch.setitem(app_ctx.config, 'LOGIN_MAX_FAILURES', 3)
    user = make_user(email='pat@example.org')
    sign_in(client, 'pat@example.org', 'not the password at all')
    sign_in(client, 'pat@example.org', 'not the password at all')

    sign_in(client, 'pat@example.org')

    db.session.refresh(user)
    assert user.failed_logins == 0
    assert not user.is_locked()


def test_address_with_too_many_failures_is_slowed_down_but_not_locked_out(app_ctx, client, monkeypatch):
    monkeypatch.setitem(app_ctx.config, 'LOGIN_MAX_FAILURES_PER_ADDRESS', 3)
    make_user(email='pat@example.org')
    attacker = {'REMOTE_ADDR': '203.0.113.9'}
    for n in range(3):
        guess = sign_in(client, f'guess{n}@example.org', 'wrong password guess', environ_base=attacker)
        assert guess.status_code == 200

    refused = sign_in(client, 'pat@example.org', environ_base=attacker)

    assert refused.status_code == 429
    assert b'too many attempts to sign in from your network' in refused.data
    wait = int(refused.headers['Retry-After'])
    assert 1 <= wait <= app_ctx.config['LOGIN_ADDRESS_MAX_DELAY']
    assert f'Wait {wait} seconds'.encode() in refused.data
    assert not is_signed_in(client)
    assert sign_in(client, 'pat@example.org', environ_base={'REMOTE_ADDR': '198.51.100.7'}).status_code == 302
    # someone else behind the same address gets in once the slot opens: slowed down, never locked out
    time.sleep(wait)
    assert sign_in(app_ctx.test_client(), 'pat@example.org', environ_base=attacker).status_code == 302


def test_sign_in_starts_a_new_session(app_ctx, client):
    make_user(email='pat@example.org')
    with client.session_transaction() as session:
        session['planted'] = 'by an attacker'
    before = client.get_cookie('session').value

    sign_in(client, 'pat@example.org')

    with client.session_transaction() as session:
        assert 'planted' not in session
        assert session['_user_id']
    assert client.get_cookie('session').value != before


@pytest.mark.parametrize('target', ['https://evil.example', '//evil.example/path', '/\\evil.example',
                                    'javascript:alert(1)'])
def test_sign_in_ignores_an_off_site_next(app_ctx, client, target):
    make_user(email='pat@example.org')

    response = sign_in(client, 'pat@example.org', data={'next': target})

    assert response.headers['Location'] in {'/your-attention', 'http://localhost/your-attention'}


def test_sign_in_returns_to_a_same_site_next(app_ctx, client):
    make_user(email='pat@example.org')
    page = client.get('/sign-in?next=/account')
    assert b'value="/account"' in page.data

    response = sign_in(client, 'pat@example.org', data={'next': '/account'})

    assert response.headers['Location'].endswith('/account')


def test_login_required_page_sends_visitor_to_sign_in_and_back(app_ctx, client):
    make_user(email='pat@example.org')
    response = client.get('/account')
    assert response.status_code == 302
    assert '/sign-in' in response.headers['Location']
    assert 'next=%2Faccount' in response.headers['Location']


def test_user_can_sign_out_with_post_and_get_only_asks_to_confirm(app_ctx, client, login_as):
    login_as(make_user())

    confirm = client.get('/sign-out')
    assert confirm.status_code == 200
    assert b'<form method="post"' in confirm.data
    assert is_signed_in(client)

    response = client.post('/sign-out')
    assert response.status_code == 302
    assert not is_signed_in(client)


def test_deactivated_user_cannot_sign_in(app_ctx, client):
    user = make_user(email='pat@example.org')
    user.is_active_account = False
    db.session.commit()

    assert sign_in(client, 'pat@example.org').status_code == 200
    assert not is_signed_in(client)


def test_sign_in_without_a_csrf_token_is_rejected(app, app_config):
    csrf_app = create_app({**app_config, 'WTF_CSRF_ENABLED': True})
    with csrf_app.app_context():
        make_user(email='pat@example.org')
    csrf_client = csrf_app.test_client()

    refused = csrf_client.post('/sign-in', data={'email': 'pat@example.org', 'password': PASSWORD})
    assert refused.status_code == 400

    page = csrf_client.get('/sign-in').get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    accepted = csrf_client.post('/sign-in', data={'email': 'pat@example.org', 'password': PASSWORD,
                                                  'csrf_token': token})
    assert accepted.status_code == 302
    with csrf_app.app_context():
        db.engine.dispose()
