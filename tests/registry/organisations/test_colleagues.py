"""Inviting colleagues, accepting invitations and managing members."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.db import utcnow
from registry.extensions import db
from registry.notifications.models import OutboxEmail
from registry.organisations.models import Invitation, MemberRole, Membership
from tests.factories import make_user
from tests.registry.organisations.helpers import make_organisation

LINK = re.compile(r'https?://\S+(/organisations/invitations/[A-Za-z0-9_\-]+)')


def _invite(client, organisation, email, role='editor') -> str:
    """Send an invitation through the colleagues page and return the path from the email."""
    response = client.post(f'/organisations/{organisation.id}/colleagues',
                           data={'email': email, 'role': role, 'message': 'Welcome aboard'})
    assert response.status_code == 302
    email_row = db.session.scalars(db.select(OutboxEmail).where(OutboxEmail.to_address == email.lower())).one()
    return LINK.search(email_row.body).group(1)


def _membership(user, organisation):
    return db.session.scalar(db.select(Membership).where(Membership.user_id == user.id,
                                                         Membership.organisation_id == organisation.id))


def test_owner_can_invite_a_colleague_who_accepts_the_emailed_link(app_ctx, client, login_as):
    owner = make_user(Role.PROVIDER)
    organisation = make_organisation(owner)
    colleague = make_user(Role.PROVIDER, email='colleague@example.org')
    login_as(owner)

    path = _invite(client, organisation, 'Colleague@Example.org')

    invitation = db.session.scalars(db.select(Invitation)).one()
    token = path.rsplit('/', 1)[1]
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in invitation.token_hash
    assert timedelta(days=13, hours=23) < invitation.expires_at - utcnow() <= timedelta(days=14)
    assert invitation.email == 'colleague@example.org'

    login_as(colleague)
    page = client.get(path)
    assert page.status_code == 200
    assert 'Join Bright Futures' in page.get_data(as_text=True)
    response = client.post(path)

    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    assert response.headers['Location'].endswith(f'/organisations/{organisation.id}')
    assert _membership(colleague, organisation).role == MemberRole.EDITOR
    db.session.refresh(invitation)
    assert invitation.accepted_at is not None
    assert db.session.scalars(db.select(AuditEvent.action).where(
        AuditEvent.action == 'organisation.member_join')).all() == ['organisation.member_join']
    assert client.get(f'/organisations/{organisation.id}').status_code == 200


def test_invited_user_cannot_reuse_an_invitation_link(app_ctx, client, login_as):
    owner = make_user(Role.PROVIDER)
    organisation = make_organisation(owner)
    colleague = make_user(Role.PROVIDER, email='colleague@example.org')
    login_as(owner)
    path = _invite(client, organisation, 'colleague@example.org')
    login_as(colleague)
    client.post(path)
    client.post(f'/organisations/{organisation.id}/colleagues/{_membership(colleague, organisation).id}/remove')
    login_as(owner)
    client.post(f'/organisations/{organisation.id}/colleagues/{_membership(colleague, organisation).id}/remove')
    assert _membership(colleague, organisation) is None

    login_as(colleague)
    response = client.post(path)

    assert response.status_code == 400
    assert 'already been used' in response.get_data(as_text=True)
    assert _membership(colleague, organisation) is None


def test_provider_cannot_accept_an_invitation_sent_to_another_email(app_ctx, client, login_as):
    owner = make_user(Role.PROVIDER)
    organisation = make_organisation(owner)
    intruder = make_user(Role.PROVIDER, email='intruder@example.org')
    login_as(owner)
    path = _invite(client, organisation, 'colleague@example.org')

    login_as(intruder)
    response = client.post(path)

    assert response.status_code == 400
    assert 'sent to a different email address' in response.get_data(as_text=True)
    assert _membership(intruder, organisation) is None
    assert db.session.scalars(db.select(Invitation)).one().accepted_at is None


def test_commissioner_cannot_accept_an_invitation(app_ctx, client, login_as):
    owner = make_user(Role.PROVIDER)
    organisation = make_organisation(owner)
    login_as(owner)
    path = _invite(client, organisation, 'la@example.org')

    login_as(make_user(Role.COMMISSIONER, email='la@example.org'))
    response = client.post(path)

    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count(Membership.id))) == 1


def test_invited_user_cannot_accept_an_expired_invitation(app_ctx, client, login_as):
    owner = make_user(Role.PROVIDER)
    organisation = make_organisation(owner)
    colleague = make_user(Role.PROVIDER, email='colleague@example.org')
    login_as(owner)
    path = _invite(client, organisation, 'colleague@example.org')
    invitation = db.session.scalars(db.select(Invitation)).one()
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    login_as(colleague)
    assert client.get(path).status_code == 400
    response = client.post(path)

    assert response.status_code == 400
    assert 'This invitation has expired' in response.get_data(as_text=True)
    assert _membership(colleague, organisation) is None


def test_anyone_cannot_use_an_unknown_invitation_token(app_ctx, client, login_as):
    login_as(make_user(Role.PROVIDER))

    response = client.get('/organisations/invitations/not-a-real-token')

    assert response.status_code == 400
    assert 'not valid' in response.get_data(as_text=True)


def test_anonymous_user_is_sent_to_sign_in_by_an_invitation_link(app_ctx, client):
    response = client.get('/organisations/invitations/some-token')

    assert response.status_code == 302
    assert '/sign-in' in response.headers['Location']


def test_owner_cannot_invite_someone_who_is_already_a_member(app_ctx, client, login_as):
    owner = make_user(Role.PROVIDER, email='owner@example.org')
    organisation = make_organisation(owner)
    login_as(owner)

    response = client.post(f'/organisations/{organisation.id}/colleagues',
                           data={'email': 'OWNER@example.org', 'role': 'editor'})

    assert response.status_code == 200
    assert 'is already a member' in response.get_data(as_text=True)
    assert db.session.scalars(db.select(Invitation)).all() == []
    assert db.session.scalars(db.select(OutboxEmail)).all() == []


def test_owner_cannot_invite_with_an_invalid_email(app_ctx, client, login_as):
    owner = make_user(Role.PROVIDER)
    organisation = make_organisation(owner)
    login_as(owner)

    response = client.post(f'/organisations/{organisation.id}/colleagues', data={'email': 'nope', 'role': 'editor'})

    assert response.status_code == 200
    assert 'There is a problem' in response.get_data(as_text=True)
    assert db.session.scalars(db.select(Invitation)).all() == []


def test_owner_cannot_remove_the_last_owner(app_ctx, client, login_as):
    owner = make_user(Role.PROVIDER)
    organisation = make_organisation(owner)
    membership = _membership(owner, organisation)
    login_as(owner)

    response = client.post(f'/organisations/{organisation.id}/colleagues/{membership.id}/remove',
                           follow_redirects=True)

    assert 'You cannot remove the last owner' in response.get_data(as_text=True)
    assert _membership(owner, organisation) is not None
    demote = client.post(f'/organisations/{organisation.id}/colleagues/{membership.id}/role',
                         data={'role': 'editor'}, follow_redirects=True)
    assert 'You cannot change the role of the last owner' in demote.get_data(as_text=True)
    db.session.refresh(membership)
    assert membership.role == MemberRole.OWNER


def test_owner_can_promote_an_editor_and_then_leave(app_ctx, client, login_as):
    owner = make_user(Role.PROVIDER)
    organisation = make_organisation(owner)
    editor = make_user(Role.PROVIDER)
    db.session.add(Membership(user_id=editor.id, organisation_id=organisation.id, role=MemberRole.EDITOR))
    db.session.commit()
    login_as(owner)

    client.post(f'/organisations/{organisation.id}/colleagues/{_membership(editor, organisation).id}/role',
                data={'role': 'owner'})
    response = client.post(f'/organisations/{organisation.id}/colleagues/{_membership(owner, organisation).id}/remove')

    assert response.status_code == 302
    assert response.headers['Location'].endswith('/organisations/')
    db.session.expire_all()
    assert _membership(editor, organisation).role == MemberRole.OWNER
    assert _membership(owner, organisation) is None
    actions = db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ['organisation.member_role', 'organisation.member_remove']


def test_editor_cannot_manage_colleagues(app_ctx, client, login_as):
    owner = make_user(Role.PROVIDER)
    organisation = make_organisation(owner)
    editor = make_user(Role.PROVIDER)
    db.session.add(Membership(user_id=editor.id, organisation_id=organisation.id, role=MemberRole.EDITOR))
    db.session.commit()
    owner_membership = _membership(owner, organisation)
    login_as(editor)

    assert client.get(f'/organisations/{organisation.id}').status_code == 200
    assert client.get(f'/organisations/{organisation.id}/colleagues').status_code == 403
    assert client.post(f'/organisations/{organisation.id}/colleagues',
                       data={'email': 'x@example.org', 'role': 'owner'}).status_code == 403
    assert client.post(f'/organisations/{organisation.id}/colleagues/{owner_membership.id}/remove').status_code == 403
    assert _membership(owner, organisation) is not None
    assert db.session.scalars(db.select(Invitation)).all() == []
