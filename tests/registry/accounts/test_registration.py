"""Registering a provider account and confirming the email address."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from registry.accounts.models import Role, User
from registry.extensions import db
from tests.factories import make_user
from tests.registry.accounts.conftest import emails, link_in

GOOD = {'full_name': 'Ada Provider', 'email': 'Ada@Example.org', 'password': 'four unrelated words here',
        'confirm_password': 'four unrelated words here'}


def page_text(response, email: str) -> str:
    """The page with the address and the per-request CSP nonce taken out."""
    return re.sub(r'nonce="[^"]+"', '', response.get_data(as_text=True).replace(email, 'X'))


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_visitor_can_register_and_is_asked_to_confirm_their_email(app_ctx, client):
    response = client.post('/register', data=GOOD)

    assert response.status_code == 302
    assert response.headers['Location'].endswith('/register/check-your-email')
    user = db.session.scalar(select(User))
    assert user.email == 'ada@example.org'
    assert user.role == Role.PROVIDER
    assert not user.is_verified
    assert user.password_hash.startswith('$argon2id$')
    [email] = emails('verify-email', to='ada@example.org')
    assert '/verify-email/' in email.body
    page = client.get('/register/check-your-email')
    assert b'Check your email' in page.data
    assert b'ada@example.org' in page.data
    assert not is_signed_in(client)  # the emailed link proves the address; then they sign in


@pytest.mark.parametrize(('changes', 'message'), [
    ({'full_name': '', 'email': '', 'password': '', 'confirm_password': ''}, b'Enter your full name'),
    ({'email': ''}, b'Enter your email address'),
    ({'email': 'not-an-email'}, b'Enter an email address in the correct format'),
    ({'password': 'too short', 'confirm_password': 'too short'}, b'Password must be 12 characters or more'),
    ({'password': 'password1234', 'confirm_password': 'password1234'}, b'Password is too common'),
    ({'password': 'ada@example.org', 'confirm_password': 'ada@example.org'}, b'Password must not be your email'),
    ({'confirm_password': 'something else entirely'}, b'Passwords must match'),
])
def test_visitor_cannot_register_with_bad_input(app_ctx, client, changes, message):
    response = client.post('/register', data={**GOOD, **changes})

    assert response.status_code == 200
    assert b'govuk-error-summary' in response.data
    assert b'There is a problem' in response.data
    assert message in response.data
    assert b'<title>Error: ' in response.data
    assert user_count() == 0
    assert emails('verify-email') == []


def test_registering_an_address_that_has_an_account_looks_the_same_and_emails_its_owner(app_ctx, client):
    make_user(email='ada@example.org', full_name='Ada Owner')
    fresh = app_ctx.test_client()
    new = fresh.post('/register', data={**GOOD, 'email': 'bea@example.org'})
    new_page = fresh.get(new.headers['Location'])

    taken = client.post('/register', data=GOOD)
    taken_page = client.get(taken.headers['Location'])

    # the visitor cannot tell a taken address from a new one
    assert (taken.status_code, taken.headers['Location']) == (new.status_code, new.headers['Location'])
    assert taken_page.status_code == new_page.status_code == 200
    assert page_text(taken_page, 'ada@example.org') == page_text(new_page, 'bea@example.org')
    assert b'An account already uses' not in taken.data + taken_page.data
    # nothing is created; the owner hears about it by email instead
    assert user_count() == 2
    assert emails('verify-email', to='ada@example.org') == []
    [notice] = emails('register-existing-account', to='ada@example.org')
    assert 'You already have an account' in notice.subject
    assert '/sign-in' in notice.body and '/reset-password' in notice.body


def register_and_sign_in(client) -> None:
    client.post('/register', data=GOOD)
    client.post('/sign-in', data={'email': GOOD['email'], 'password': GOOD['password']})


def is_signed_in(client) -> bool:
    with client.session_transaction() as session:
        return '_user_id' in session


def test_unverified_user_is_held_on_the_check_your_email_page(app_ctx, client):
    register_and_sign_in(client)

    for path in ('/', '/account', '/admin/users'):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers['Location'].endswith('/verify-email'), path
    assert client.get('/healthcheck').status_code == 200


def test_user_can_resend_the_confirmation_email(app_ctx, client):
    register_and_sign_in(client)

    response = client.post('/verify-email', follow_redirects=True)

    assert b'We have sent another email to ada@example.org' in response.data
    assert len(emails('verify-email')) == 2


def test_confirmation_link_works_once(app_ctx, client):
    client.post('/register', data=GOOD)
    link = link_in(emails('verify-email')[0])

    response = client.get(link)

    assert response.status_code == 302
    assert response.headers['Location'].endswith('/sign-in')
    user = db.session.scalar(select(User))
    db.session.refresh(user)
    assert user.is_verified
    client.post('/sign-in', data={'email': GOOD['email'], 'password': GOOD['password']})
    assert client.get('/account').status_code == 200
    again = client.get(link)
    assert again.status_code == 400
    assert b'already been used' in again.data


def test_tampered_confirmation_link_fails_clearly(app_ctx, client):
    client.post('/register', data=GOOD)
    link = link_in(emails('verify-email')[0])

    response = client.get(link[:-3] + ('AAA' if not link.endswith('AAA') else 'BBB'))

    assert response.status_code == 400
    assert b'There is a problem with this link' in response.data
    assert b'not valid' in response.data
    assert not db.session.scalar(select(User)).is_verified


def test_expired_confirmation_link_fails_clearly(app_ctx, client, monkeypatch):
    client.post('/register', data=GOOD)
    link = link_in(emails('verify-email')[0])
    hours = app_ctx.config['TOKEN_MAX_AGE_HOURS']
    monkeypatch.setattr(TimestampSigner, 'get_timestamp', lambda self: int(time.time()) + hours * 3600 + 60)

    response = client.get(link)

    assert response.status_code == 400
    assert b'expired' in response.data
    assert not db.session.scalar(select(User)).is_verified
