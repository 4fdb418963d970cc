"""Sessions: a fresh one at sign-in, signing out and password changes end sessions, and the cookie's flags."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from registry.accounts.models import Role, User
from registry.app import create_app
from registry.extensions import db
from tests.factories import PASSWORD, make_user

SESSION_COOKIE = 'session'


@pytest.fixture
def provider(app):
    with app.app_context():
        user = make_user(Role.PROVIDER)
        email, user_id = user.email, user.id
        db.session.remove()
    return {'email': email, 'id': user_id}


def sign_in_with_form(client, email: str, password: str = PASSWORD, **kwargs):
    return client.post('/sign-in', data={'email': email, 'password': password}, **kwargs)


def session_cookie(client) -> str | None:
    cookie = client.get_cookie(SESSION_COOKIE)
    return cookie.value if cookie else None


def is_signed_in(client) -> bool:
    return client.get('/account').status_code == 200


def test_a_value_planted_before_sign_in_does_not_survive_it(client, provider):
    client.get('/sign-in')
    with client.session_transaction() as session:
        session['planted_by_attacker'] = 'fixation'
        session['_user_id'] = 'nobody'
    planted_cookie = session_cookie(client)
    response = sign_in_with_form(client, provider['email'])
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert 'planted_by_attacker' not in session
        assert session['_user_id'].startswith(f'{provider["id"]}:')
    assert session_cookie(client) != planted_cookie
    # the cookie the attacker knew is still anonymous
    other = client.application.test_client()
    other.set_cookie(SESSION_COOKIE, planted_cookie)
    assert not is_signed_in(other)


def test_signing_out_clears_the_session_in_the_browser(client, provider):
    sign_in_with_form(client, provider['email'])
    assert is_signed_in(client)
    response = client.post('/sign-out')
    assert response.status_code == 302
    assert not is_signed_in(client)
    with client.session_transaction() as session:
        assert '_user_id' not in session


def test_changing_password_ends_every_other_session_and_keeps_this_one(app, provider):
    laptop, phone = app.test_client(), app.test_client()
    sign_in_with_form(laptop, provider['email'])
    sign_in_with_form(phone, provider['email'])
    old_phone_cookie = session_cookie(phone)
    assert is_signed_in(laptop) and is_signed_in(phone)
    new = 'a brand new passphrase'
    response = laptop.post('/account/change-password', data={
        'current_password': PASSWORD, 'password': new, 'confirm_password': new})
    assert response.status_code == 302
    assert is_signed_in(laptop)
    assert not is_signed_in(phone)
    replay = app.test_client()
    replay.set_cookie(SESSION_COOKIE, old_phone_cookie)
    assert not is_signed_in(replay)


def test_deactivating_an_account_ends_its_sessions(app, provider):
    client = app.test_client()
    sign_in_with_form(client, provider['email'])
    assert is_signed_in(client)
    with app.test_request_context():
        from registry.accounts import services

        admin = make_user(Role.ADMIN)
        services.deactivate_user(db.session.get(User, provider['id']), actor=admin, reason='left the company')
        db.session.remove()
    assert not is_signed_in(client)


def test_a_session_cookie_copied_before_sign_out_is_worthless_after_sign_out(app, provider):
    """Signed cookie sessions are revoked server-side: signing out bumps ``session_version``."""
    client = app.test_client()
    sign_in_with_form(client, provider['email'])
    copied = session_cookie(client)
    client.post('/sign-out')
    thief = app.test_client()
    thief.set_cookie(SESSION_COOKIE, copied)
    assert not is_signed_in(thief)
    assert app.permanent_session_lifetime.total_seconds() <= 8 * 3600


def test_a_copied_session_cookie_stops_working_when_the_password_changes(app, provider):
    client = app.test_client()
    sign_in_with_form(client, provider['email'])
    thief = app.test_client()
    thief.set_cookie(SESSION_COOKIE, session_cookie(client))
    assert is_signed_in(thief)
    with app.test_request_context():
        from registry.accounts import services

        services.change_password(db.session.get(User, provider['id']), PASSWORD, 'another new passphrase')
        db.session.remove()
    assert not is_signed_in(thief)


def test_session_cookie_is_secure_http_only_and_same_site_by_default(app, app_config, provider):
    config = {key: value for key, value in app_config.items()
              if key not in {'SESSION_COOKIE_SECURE', 'REMEMBER_COOKIE_SECURE'}}
    secure_app = create_app(config)
    assert secure_app.config['SESSION_COOKIE_SECURE'] is True
    client = secure_app.test_client()
    response = client.post('/sign-in', data={'email': provider['email'], 'password': PASSWORD},
                           base_url='https://localhost')
    assert response.status_code == 302
    cookies = [value for value in response.headers.getlist('Set-Cookie') if value.startswith(f'{SESSION_COOKIE}=')]
    assert cookies, response.headers
    flags = {part.strip().lower() for part in cookies[0].split(';')[1:]}
    assert 'secure' in flags and 'httponly' in flags and 'samesite=lax' in flags
    assert 'Strict-Transport-Security' in response.headers
    with secure_app.app_context():
        db.session.remove()
        db.engine.dispose()
    with app.app_context():
        assert db.session.scalar(select(User.last_login_at).where(User.id == provider['id'])) is not None
