"""Organisation verbs: register, edit, invite colleagues, accept invitations, manage members.

Each public function is one transaction that writes an audit event.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import url_for
from sqlalchemy import func

from registry import throttle
from registry.accounts.models import Role, User
from registry.audit.services import changes, record
from registry.db import unit_of_work, utcnow
from registry.errors import DomainError, PermissionDenied
from registry.extensions import db
from registry.indexing import enqueue_organisation
from registry.notifications.services import queue_email
from registry.organisations import permissions
from registry.organisations.models import Invitation, LegalForm, MemberRole, Membership, Organisation, Sector

#: The fields a provider edits, in form order.
ORGANISATION_FIELDS = (
    'legal_name', 'trading_name', 'legal_form', 'company_number', 'charity_number', 'sector',
    'address_line_1', 'address_line_2', 'town', 'postcode', 'contact_name', 'contact_email', 'contact_phone',
    'website',
)

#: The numbers only one organisation may hold (the database has a unique index on each), as messages name them.
REGISTERED_NUMBERS = {'company_number': 'Companies House number', 'charity_number': 'charity number'}

#: How long an emailed invitation link works.
INVITATION_LIFETIME = timedelta(days=14)


class InvitationError(DomainError):
    """An invitation link cannot be used (unknown, used, expired, or meant for someone else)."""


class NumberTakenError(DomainError):
    """A Companies House or charity number is already held by another organisation.

    :attr errors: each refused field with its message, to show on that field of the form.
    """

    def __init__(self, errors: dict[str, str]):
        super().__init__(' '.join(errors.values()))
        self.errors = errors


def _clean(data: dict) -> dict:
    """Keep the editable fields, with enums as enums and text stripped."""
    cleaned = {}
    for field in ORGANISATION_FIELDS:
        value = data.get(field)
        if field == 'legal_form':
            value = LegalForm(value)
        elif field == 'sector':
            value = Sector(value)
        else:
            value = (value or '').strip()
        cleaned[field] = value
    return cleaned


def _refuse_numbers_held_elsewhere(values: dict, *, actor, organisation_id: int | None = None) -> None:
    """Refuse a Companies House or charity number that an organisation other than ``organisation_id`` holds.

    Someone who is not a member of the holder is not told which organisation it is (an organisation that is not
    listed in the directory is not public), only that it is registered and how to join it: by invitation. A member
    is told its name (after a double click, the organisation they have just registered).

    :raises NumberTakenError: naming each number that is taken.
    """
    errors = {}
    for field, label in REGISTERED_NUMBERS.items():
        number = values.get(field)
        if not number:
            continue
        query = db.select(Organisation).where(getattr(Organisation, field) == number)
        if organisation_id is not None:
            query = query.where(Organisation.id != organisation_id)
        holder = db.session.scalars(query.order_by(Organisation.id).limit(1)).first()
        if holder is None:
            continue
        if permissions.membership_of(actor, holder) is not None:
            errors[field] = f'You are already a member of {holder.display_name}, which has this {label}' + (
                '. Find it in Your organisations instead of registering it again' if organisation_id is None else '')
        else:
            errors[field] = f'An organisation with this {label} is already registered. Check the number, or ' \
                            'ask someone at that organisation to invite you to join it'
    if errors:
        raise NumberTakenError(errors)


def create_organisation(data: dict, *, actor) -> Organisation:
    """Register an organisation; the provider who registers it becomes its first owner.

    Two requests at once with one number (a double click) both pass the check; the database's unique index
    refuses the second, whose transaction is rolled back whole (answered 409).

    :param data: the fields in :data:`ORGANISATION_FIELDS`.
    :raises PermissionDenied: if ``actor`` is not a provider.
    :raises NumberTakenError: if another organisation holds its Companies House or charity number.
    """
    if not permissions.can_create_organisation(actor):
        raise PermissionDenied('Only provider accounts can register an organisation')
    values = _clean(data)
    _refuse_numbers_held_elsewhere(values, actor=actor)
    with unit_of_work():
        organisation = Organisation(**values)
        db.session.add(organisation)
        db.session.flush()
        db.session.add(Membership(user_id=actor.id, organisation_id=organisation.id, role=MemberRole.OWNER))
        record('organisation.create', organisation, actor=actor, after=values)
    return organisation


def update_organisation(organisation: Organisation, data: dict, *, actor) -> Organisation:
    """Change an organisation's details, recording the changed fields before and after.

    :raises PermissionDenied: if ``actor`` is not a member.
    :raises NumberTakenError: if the Companies House or charity number changes to one another organisation holds.
    """
    if not permissions.can_edit_organisation(actor, organisation):
        raise PermissionDenied('You cannot change this organisation')
    values = _clean(data)
    before, after = changes(organisation, list(ORGANISATION_FIELDS), values)
    if not after:
        return organisation
    _refuse_numbers_held_elsewhere(after, actor=actor, organisation_id=organisation.id)
    with unit_of_work():
        for field, value in after.items():
            setattr(organisation, field, value)
        record('organisation.update', organisation, actor=actor, before=before, after=after)
        # the directory shows the organisation's name on every setting
        enqueue_organisation(organisation.id, 'organisation updated')
    return organisation


def hash_token(token: str) -> str:
    """The sha256 stored in place of an invitation token."""
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


def invite_colleague(organisation: Organisation, email: str, role: MemberRole | str, *, actor,
                     message: str = '') -> Invitation:
    """Invite someone by email to join ``organisation``; the link works once, for 14 days.

    :raises PermissionDenied: if ``actor`` is not an owner.
    :raises DomainError: if the person is already a member, or too many invitations were sent this hour (by the
        actor, or to the address).
    """
    if not permissions.can_manage_members(actor, organisation):
        raise PermissionDenied('Only owners can invite colleagues')
    email = email.strip().lower()
    role = MemberRole(role)
    already = db.session.scalar(
        db.select(Membership).join(Membership.user)
        .where(Membership.organisation_id == organisation.id, func.lower(User.email) == email))
    if already is not None:
        raise DomainError(f'{email} is already a member of {organisation.display_name}')
    token = secrets.token_urlsafe(32)
    with unit_of_work():
        refusal = throttle.invitation_refusal(actor.id, email)
        if refusal:
            raise DomainError(refusal)
        invitation = Invitation(organisation_id=organisation.id, email=email, role=role,
                                token_hash=hash_token(token), invited_by_id=actor.id,
                                expires_at=utcnow() + INVITATION_LIFETIME, message=message.strip())
        db.session.add(invitation)
        record('organisation.invite', organisation, actor=actor, after={'email': email, 'role': role})
        queue_email(email, 'organisation_invitation', f'Join {organisation.display_name} on the registry',
                    organisation=organisation, inviter=actor, role=role, message=invitation.message,
                    path=url_for('organisations.accept_invitation', token=token, _external=False),
                    expires_at=invitation.expires_at)
    return invitation


def find_invitation(token: str) -> Invitation:
    """The usable invitation for ``token``.

    :raises InvitationError: if the link is unknown, already used or expired.
    """
    invitation = db.session.scalar(db.select(Invitation).where(Invitation.token_hash == hash_token(token)))
    if invitation is None:
        raise InvitationError('This invitation link is not valid. Ask your colleague to invite you again')
    if invitation.accepted_at is not None:
        raise InvitationError('This invitation has already been used. Each invitation link works once')
    if invitation.expires_at <= utcnow():
        raise InvitationError('This invitation has expired. Ask your colleague to invite you again')
    return invitation


def accept_invitation(token: str, *, user) -> Membership:
    """Join the organisation an invitation is for, as the signed-in provider it was sent to.

    :raises InvitationError: if the link cannot be used by this user.
    """
    invitation = find_invitation(token)
    if not getattr(user, 'is_authenticated', False) or user.role != Role.PROVIDER:
        raise InvitationError('Only provider accounts can join an organisation')
    if user.email.lower() != invitation.email.lower():
        raise InvitationError('This invitation was sent to a different email address. '
                              'Sign in with the account for the address it was sent to')
    existing = db.session.scalar(db.select(Membership).where(
        Membership.user_id == user.id, Membership.organisation_id == invitation.organisation_id))
    if existing is not None:
        raise InvitationError('You are already a member of this organisation')
    with unit_of_work():
        invitation.accepted_at = utcnow()
        membership = Membership(user_id=user.id, organisation_id=invitation.organisation_id, role=invitation.role)
        db.session.add(membership)
        record('organisation.member_join', invitation.organisation, actor=user,
               after={'user_id': user.id, 'email': user.email, 'role': invitation.role})
    return membership


def _owner_count(organisation_id: int) -> int:
    return db.session.scalar(db.select(func.count(Membership.id)).where(
        Membership.organisation_id == organisation_id, Membership.role == MemberRole.OWNER))


def remove_member(membership: Membership, *, actor) -> None:
    """Remove a colleague from an organisation; the last owner can never be removed.

    :raises PermissionDenied: if ``actor`` is not an owner.
    :raises DomainError: if this is the last owner.
    """
    organisation = membership.organisation
    if not permissions.can_manage_members(actor, organisation):
        raise PermissionDenied('Only owners can remove colleagues')
    if membership.role == MemberRole.OWNER and _owner_count(organisation.id) <= 1:
        raise DomainError('You cannot remove the last owner. Make another colleague an owner first')
    with unit_of_work():
        record('organisation.member_remove', organisation, actor=actor,
               before={'user_id': membership.user_id, 'email': membership.user.email, 'role': membership.role})
        db.session.delete(membership)


def change_member_role(membership: Membership, role: MemberRole | str, *, actor) -> Membership:
    """Make a colleague an owner or an editor; an organisation always keeps at least one owner.

    :raises PermissionDenied: if ``actor`` is not an owner.
    :raises DomainError: if this would leave no owner.
    """
    organisation = membership.organisation
    role = MemberRole(role)
    if not permissions.can_manage_members(actor, organisation):
        raise PermissionDenied('Only owners can change colleagues’ roles')
    if role == membership.role:
        return membership
    if membership.role == MemberRole.OWNER and _owner_count(organisation.id) <= 1:
        raise DomainError('You cannot change the role of the last owner. Make another colleague an owner first')
    with unit_of_work():
        record('organisation.member_role', organisation, actor=actor,
               before={'user_id': membership.user_id, 'role': membership.role},
               after={'user_id': membership.user_id, 'role': role})
        membership.role = role
    return membership
