"""Guessing passwords: the account locks after LOGIN_MAX_FAILURES, and one address is throttled with 429."""

from __future__ import annotations

from sqlalchemy import select

from registry.accounts.models import LoginAttempt, Role, User
from registry.extensions import db
from registry.notifications.models import OutboxEmail
from tests.factories import PASSWORD, make_user


def _post(client, email, password, ip='203.0.113.7'):
    return client.post('/sign-in', data={'email': email, 'password': password}, environ_base={'REMOTE_ADDR': ip})


def _make_provider(app):
    with app.app_context():
        user = make_user(Role.PROVIDER)
        result = (user.id, user.email)
        db.session.remove()
    return result


def test_repeated_wrong_passwords_lock_the_account_even_against_the_right_password(app, client):
    user_id, email = _make_provider(app)
    limit = app.config['LOGIN_MAX_FAILURES']
    for _ in range(limit):
        response = _post(client, email, 'wrong password guess')
        assert response.status_code == 200
        assert 'Enter a correct email address and password' in response.get_data(as_text=True)
    response = _post(client, email, PASSWORD)
    assert response.status_code == 200  # the form again, with the same message: it never says "locked"
    assert 'Enter a correct email address and password' in response.get_data(as_text=True)
    assert client.get('/account').status_code == 302
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.locked_until is not None
        assert db.session.scalars(select(OutboxEmail.template).where(OutboxEmail.to_address == email)).all() == [
            'account-locked']
        assert db.session.scalar(select(db.func.count(LoginAttempt.id)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(False))) == limit + 1


def test_one_address_trying_many_accounts_is_slowed_with_429_and_retry_after(app, client, monkeypatch):
    monkeypatch.setitem(app.config, 'LOGIN_MAX_FAILURES_PER_ADDRESS', 4)
    _user_id, email = _make_provider(app)
    for n in range(4):
        assert _post(client, f'guess{n}@example.org', 'not the password').status_code == 200
    throttled = _post(client, email, PASSWORD)
    assert throttled.status_code == 429
    assert 'too many attempts to sign in from your network' in throttled.get_data(as_text=True)
    assert int(throttled.headers['Retry-After']) >= 1
    assert client.get('/account').status_code == 302
    # another address is not affected
    other = app.test_client()
    assert _post(other, email, PASSWORD, ip='198.51.100.20').status_code == 302
    assert other.get('/account').status_code == 200
