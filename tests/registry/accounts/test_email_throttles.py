"""Nobody can use the service to flood an inbox: password resets, registration emails and invitations are limited."""

from __future__ import annotations

import pytest
from flask import url_for

from registry.accounts import services
from registry.accounts.models import Role
from registry.extensions import db
from tests.factories import make_user
from tests.registry.accounts.conftest import emails
from tests.registry.organisations.helpers import make_organisation


def reset(client, email, ip='203.0.113.20'):
    return client.post('/reset-password', data={'email': email}, environ_base={'REMOTE_ADDR': ip})


def test_twenty_five_reset_requests_for_one_person_send_three_emails_and_look_the_same(app_ctx, client):
    make_user(email='pat@example.org')
    pages = [reset(client, 'pat@example.org', ip=f'198.51.100.{n}') for n in range(25)]
    assert {page.status_code for page in pages} == {200}
    assert len({page.get_data(as_text=True).count('we have sent it a link') for page in pages}) == 1
    assert len(emails('reset-password', to='pat@example.org')) == app_ctx.config['PASSWORD_RESETS_PER_EMAIL_PER_HOUR']


def test_one_address_asking_for_many_resets_gets_429_with_retry_after(app_ctx, client, monkeypatch):
    monkeypatch.setitem(app_ctx.config, 'PASSWORD_RESETS_PER_ADDRESS_PER_HOUR', 4)
    for n in range(4):
        assert reset(client, f'someone{n}@example.org').status_code == 200
    refused = reset(client, 'someone-else@example.org')
    assert refused.status_code == 429
    assert int(refused.headers['Retry-After']) > 0
    assert 'too many requests to reset a password from your network' in refused.get_data(as_text=True)
    assert reset(client, 'someone-else@example.org', ip='198.51.100.99').status_code == 200


GOOD = {'full_name': 'Ada Provider', 'password': 'four unrelated words here',
        'confirm_password': 'four unrelated words here'}


def register(client, email, ip='203.0.113.30'):
    return client.post('/register', data={**GOOD, 'email': email}, environ_base={'REMOTE_ADDR': ip})


def test_one_address_registering_many_accounts_gets_429(app_ctx, client, monkeypatch):
    monkeypatch.setitem(app_ctx.config, 'REGISTRATIONS_PER_ADDRESS_PER_HOUR', 3)
    for n in range(3):
        assert register(client, f'new{n}@example.org').status_code == 302
    refused = register(client, 'new3@example.org')
    assert refused.status_code == 429
    assert int(refused.headers['Retry-After']) > 0
    assert 'too many attempts to create an account from your network' in refused.get_data(as_text=True)
    assert emails('verify-email', to='new3@example.org') == []
    assert register(client, 'new3@example.org', ip='198.51.100.3').status_code == 302


def test_registering_someone_elses_address_again_and_again_sends_them_few_emails(app_ctx, client):
    make_user(email='ada@example.org')
    for n in range(10):
        assert register(client, 'ada@example.org', ip=f'198.51.100.{n}').status_code == 302
    assert len(emails('register-existing-account', to='ada@example.org')) == \
        app_ctx.config['REGISTRATION_EMAILS_PER_EMAIL_PER_HOUR']


def test_an_administrator_cannot_send_invitations_without_limit(app_ctx, monkeypatch):
    monkeypatch.setitem(app_ctx.config, 'INVITATIONS_PER_SENDER_PER_HOUR', 3)
    admin = make_user(Role.ADMIN)
    for n in range(3):
        services.invite_staff_user(email=f'staff{n}@example.org', full_name=f'Staff {n}', role=Role.ASSESSOR,
                                   authority_code=None, actor=admin)
    with pytest.raises(services.AccountError, match='too many invitations in the last hour'):
        services.invite_staff_user(email='staff3@example.org', full_name='Staff 3', role=Role.ASSESSOR,
                                   authority_code=None, actor=admin)
    assert services.find_user_by_email('staff3@example.org') is None
    assert emails('staff-invite', to='staff3@example.org') == []


def test_a_colleague_invitation_cannot_be_sent_to_one_address_again_and_again(app_ctx, client, login_as):
    owner = make_user(Role.PROVIDER)
    organisation = make_organisation(owner)
    login_as(owner)
    url = url_for('organisations.manage_colleagues', organisation_id=organisation.id)
    limit = app_ctx.config['INVITATIONS_PER_EMAIL_PER_HOUR']
    for _ in range(limit):
        assert client.post(url, data={'email': 'jo@example.org', 'role': 'editor'}).status_code == 302
    refused = client.post(url, data={'email': 'jo@example.org', 'role': 'editor'})
    assert refused.status_code == 200
    body = refused.get_data(as_text=True)
    assert 'govuk-error-summary' in body and 'too many invitations in the last hour' in body
    assert len(emails('organisation_invitation', to='jo@example.org')) == limit
    db.session.remove()


def test_a_signed_in_unverified_user_cannot_resend_the_confirmation_without_limit(app_ctx, client, login_as):
    user = make_user(email='new@example.org', verified=False)
    login_as(user)
    limit = app_ctx.config['REGISTRATION_EMAILS_PER_EMAIL_PER_HOUR']
    for _ in range(limit):
        assert client.post('/verify-email').status_code == 302
    refused = client.post('/verify-email')
    assert refused.status_code == 429 and int(refused.headers['Retry-After']) > 0
    assert 'several emails to this address in the last hour' in refused.get_data(as_text=True)
    assert len(emails('verify-email', to='new@example.org')) == limit
