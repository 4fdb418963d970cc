"""Conflicts of interest: a board user declares one with an organisation and takes no part in its applications.

A declaration stays in force until its author withdraws it. While it is in force the board verbs in
:mod:`qualification.board` refuse that user on the organisation's applications (assignment, marking,
clarification, proposing, overriding, signing off), and the board pages answer 403.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text, select, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qualification.applications import Application
from qualification.review import Review
from qualification.states import OPEN_STATUSES
from registry.audit.services import record
from registry.db import UTCDateTime, unit_of_work, utcnow
from registry.errors import DomainError, PermissionDenied
from registry.extensions import db
from registry.permissions import is_board


class ConflictOfInterest(db.Model):
    """A board user's declared conflict of interest with a provider organisation."""

    __tablename__ = 'conflicts_of_interest'
    __table_args__ = (
        # one declaration in force per person and organisation
        Index('uq_conflicts_of_interest_in_force', 'user_id', 'organisation_id', unique=True,
              sqlite_where=text('withdrawn_at IS NULL'), postgresql_where=text('withdrawn_at IS NULL')),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('users.id', ondelete='CASCADE'), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey('organisations.id', ondelete='CASCADE'),
                                                 nullable=False, index=True)
    #: The declarer's words: the nature of the interest (a former employer, a relative, shares).
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_reason: Mapped[str] = mapped_column(Text, default='', nullable=False)

    user = relationship('User')
    organisation = relationship('Organisation')

    @property
    def in_force(self) -> bool:
        return self.withdrawn_at is None

    def __repr__(self) -> str:
        return f'<ConflictOfInterest user={self.user_id} org={self.organisation_id}>'


# --- reading -------------------------------------------------------------------------------------------------------

def conflict_with(user, organisation_id: int) -> ConflictOfInterest | None:
    """The declaration in force between ``user`` and the organisation, if any."""
    user_id = getattr(user, 'id', None)
    if user_id is None:
        return None
    return db.session.scalar(select(ConflictOfInterest).where(
        ConflictOfInterest.user_id == user_id, ConflictOfInterest.organisation_id == organisation_id,
        ConflictOfInterest.withdrawn_at.is_(None)))


def conflicted_organisation_ids(user) -> set[int]:
    """Organisations ``user`` has a declaration in force with (for the queue)."""
    user_id = getattr(user, 'id', None)
    if user_id is None:
        return set()
    return set(db.session.scalars(select(ConflictOfInterest.organisation_id).where(
        ConflictOfInterest.user_id == user_id, ConflictOfInterest.withdrawn_at.is_(None))))


def conflicted_user_ids(organisation_id: int) -> set[int]:
    """Board users who may not take part in the organisation's applications."""
    return set(db.session.scalars(select(ConflictOfInterest.user_id).where(
        ConflictOfInterest.organisation_id == organisation_id, ConflictOfInterest.withdrawn_at.is_(None))))


def declarations(user) -> list[ConflictOfInterest]:
    """Everything ``user`` has declared, in force first, newest first."""
    return list(db.session.scalars(select(ConflictOfInterest).where(ConflictOfInterest.user_id == user.id)
                                   .order_by(ConflictOfInterest.withdrawn_at.is_not(None),
                                             ConflictOfInterest.declared_at.desc(), ConflictOfInterest.id.desc())))


def refusal(user, organisation_id: int, organisation_name: str = '') -> str | None:
    """Why ``user`` may not act on the organisation's applications, or None."""
    if conflict_with(user, organisation_id) is None:
        return None
    name = organisation_name or 'this organisation'
    return (f'You have declared a conflict of interest with {name}, so you cannot take part in its applications. '
            'Withdraw the declaration first if it no longer applies')


def require_no_conflict(user, application: Application) -> None:
    """Raise :class:`PermissionDenied` when ``user`` has a conflict with the application's organisation."""
    organisation = application.organisation
    message = refusal(user, application.organisation_id, organisation.display_name if organisation else '')
    if message:
        raise PermissionDenied(message)


# --- verbs ---------------------------------------------------------------------------------------------------------

def declare(organisation, reason: str, *, actor) -> ConflictOfInterest:
    """Declare a conflict of interest with ``organisation``; the declarer leaves any of its open applications.

    :raises PermissionDenied: the actor is not on the national board.
    :raises DomainError: no reason, or a declaration is already in force.
    """
    if not (getattr(actor, 'is_authenticated', False) and is_board(actor)):
        raise PermissionDenied('Only national board staff declare conflicts of interest')
    reason = (reason or '').strip()
    if not reason:
        raise DomainError('Describe the conflict of interest')
    if conflict_with(actor, organisation.id) is not None:
        raise DomainError(f'You have already declared a conflict of interest with {organisation.display_name}')
    with unit_of_work():
        conflict = ConflictOfInterest(user_id=actor.id, organisation_id=organisation.id, reason=reason,
                                      declared_at=utcnow())
        db.session.add(conflict)
        db.session.flush()
        record('conflict.declare', conflict, actor=actor, reason=reason,
               after={'user_id': actor.id, 'organisation_id': organisation.id})
        assigned = db.session.scalars(
            select(Review).join(Application, Application.id == Review.application_id)
            .where(Application.organisation_id == organisation.id, Review.assessor_id == actor.id,
                   Application.status.in_(list(OPEN_STATUSES))))
        for review in assigned:
            review.assessor_id = None
            record('application.unassign', review.application, actor=actor,
                   reason='The assessor declared a conflict of interest with the organisation',
                   before={'assessor_id': actor.id}, after={'assessor_id': None})
    return conflict


def withdraw(conflict: ConflictOfInterest, reason: str = '', *, actor) -> ConflictOfInterest:
    """Withdraw one's own declaration, with an optional reason.

    :raises PermissionDenied: the actor did not make the declaration.
    :raises DomainError: it is already withdrawn.
    """
    if getattr(actor, 'id', None) != conflict.user_id:
        raise PermissionDenied('Only the person who declared a conflict of interest can withdraw it')
    if not conflict.in_force:
        raise DomainError('This declaration has already been withdrawn')
    with unit_of_work():
        conflict.withdrawn_at = utcnow()
        conflict.withdrawn_reason = (reason or '').strip()
        record('conflict.withdraw', conflict, actor=actor, reason=conflict.withdrawn_reason,
               before={'in_force': True}, after={'in_force': False})
    return conflict
