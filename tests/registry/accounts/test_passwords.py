"""Password rules, reset by email, and change while signed in."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from registry.accounts import services
from registry.accounts.models import User
from registry.accounts.passwords import hash_password, verify_password
from registry.audit.models import AuditEvent
from registry.extensions import db
from tests.factories import PASSWORD, make_user
from tests.registry.accounts.conftest import emails, link_in
from tests.registry.accounts.test_sign_in import is_signed_in, sign_in

NEW_PASSWORD = 'a brand new passphrase'


def main_content(response) -> str:
    page = response.get_data(as_text=True)
    return page[page.index('<main'):page.index('</main>')]


@pytest.mark.parametrize('password', ['', 'eleven char', 'password1234', 'PASSWORD1234', 'aaaaaaaaaaaaaaaa',
                                      'pat@example.org', 'patpatpatpat@example.org'[9:]])
def test_weak_passwords_are_refused(password):
    with pytest.raises(services.AccountError):
        services.check_password_strength(password, email='pat@example.org')


def test_a_long_unusual_passphrase_is_accepted():
    services.check_password_strength('marmalade tractor lighthouse', email='pat@example.org')


def test_user_can_reset_a_forgotten_password_by_email(app_ctx, client):
    user = make_user(email='pat@example.org')

    response = client.post('/reset-password', data={'email': 'PAT@example.org'})
    assert b'we have sent it a link' in response.data
    link = link_in(emails('reset-password', to='pat@example.org')[0])
    assert client.get(link).status_code == 200
    saved = client.post(link, data={'password': NEW_PASSWORD, 'confirm_password': NEW_PASSWORD})

    assert saved.status_code == 302
    assert saved.headers['Location'].endswith('/sign-in')
    assert sign_in(client, 'pat@example.org', PASSWORD).status_code == 200
    assert sign_in(client, 'pat@example.org', NEW_PASSWORD).status_code == 302
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == 'user.reset_password')) is not None


def test_password_reset_link_works_only_once(app_ctx, client):
    make_user(email='pat@example.org')
    client.post('/reset-password', data={'email': 'pat@example.org'})
    link = link_in(emails('reset-password')[0])
    client.post(link, data={'password': NEW_PASSWORD, 'confirm_password': NEW_PASSWORD})

    again = client.post(link, data={'password': 'yet another passphrase', 'confirm_password': 'yet another passphrase'})

    assert again.status_code == 400
    assert b'already been used' in again.data
    assert sign_in(client, 'pat@example.org', NEW_PASSWORD).status_code == 302


def test_password_reset_for_an_unknown_email_looks_the_same_and_sends_nothing(app_ctx, client):
    make_user(email='pat@example.org')

    known = client.post('/reset-password', data={'email': 'pat@example.org'})
    unknown = client.post('/reset-password', data={'email': 'nobody@example.org'})

    assert known.status_code == unknown.status_code == 200
    assert (main_content(known).replace('pat@example.org', 'X')
            == main_content(unknown).replace('nobody@example.org', 'X'))
    assert [email.to_address for email in emails('reset-password')] == ['pat@example.org']


def test_password_reset_refuses_a_weak_new_password_and_keeps_the_link_usable(app_ctx, client):
    make_user(email='pat@example.org')
    client.post('/reset-password', data={'email': 'pat@example.org'})
    link = link_in(emails('reset-password')[0])

    response = client.post(link, data={'password': 'password1234', 'confirm_password': 'password1234'})

    assert response.status_code == 200
    assert b'govuk-error-summary' in response.data
    assert client.get(link).status_code == 200


def test_password_reset_unlocks_a_locked_account(app_ctx, client, monkeypatch):
    monkeypatch.setitem(app_ctx.config, 'LOGIN_MAX_FAILURES', 2)
    make_user(email='pat@example.org')
    for _ in range(2):
        sign_in(client, 'pat@example.org', 'not the password at all')
    client.post('/reset-password', data={'email': 'pat@example.org'})
    link = link_in(emails('reset-password')[0])

    client.post(link, data={'password': NEW_PASSWORD, 'confirm_password': NEW_PASSWORD})

    assert sign_in(client, 'pat@example.org', NEW_PASSWORD).status_code == 302


def test_changing_password_signs_out_other_sessions(app, app_ctx, client):
    make_user(email='pat@example.org')
    other_device = app.test_client()
    sign_in(client, 'pat@example.org')
    sign_in(other_device, 'pat@example.org')
    assert is_signed_in(other_device)

    response = client.post('/account/change-password', data={
        'current_password': PASSWORD, 'password': NEW_PASSWORD, 'confirm_password': NEW_PASSWORD})

    assert response.status_code == 302
    assert is_signed_in(client)
    assert not is_signed_in(other_device)
    assert sign_in(other_device, 'pat@example.org', NEW_PASSWORD).status_code == 302


def test_user_cannot_change_password_with_a_wrong_current_password(app_ctx, client, login_as):
    user = login_as(make_user(email='pat@example.org'))

    response = client.post('/account/change-password', data={
        'current_password': 'not my password', 'password': NEW_PASSWORD, 'confirm_password': NEW_PASSWORD})

    assert response.status_code == 200
    assert b'Your current password is not right' in response.data
    db.session.refresh(user)
    assert verify_password(user.password_hash, PASSWORD)


def test_sign_in_rehashes_a_password_made_with_weaker_settings(app_ctx, client, monkeypatch):
    user = make_user(email='pat@example.org')
    monkeypatch.setitem(app_ctx.config, 'PASSWORD_HASH_TIME_COST', 2)

    sign_in(client, 'pat@example.org')

    db.session.refresh(user)
    assert ',t=2,' in user.password_hash
    assert verify_password(user.password_hash, PASSWORD)


def test_account_page_shows_details_and_role(app_ctx, client, login_as):
    login_as(make_user(email='pat@example.org', full_name='Pat Provider'))

    page = client.get('/account').get_data(as_text=True)

    assert 'Pat Provider' in page
    assert 'pat@example.org' in page
    assert 'Provider' in page
    assert 'Change your password' in page
    assert 'Second factor' in page


def test_hash_password_uses_argon2id(app_ctx):
    assert hash_password('anything at all').startswith('$argon2id$')
    assert db.session.scalar(select(User)) is None
