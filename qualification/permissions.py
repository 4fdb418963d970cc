"""Who may do what to applications and evidence: pure predicates used by views and re-checked by services."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from qualification.applications import Application, Evidence
from qualification.models import Qualification, QualificationStatus
from registry.accounts.models import Role
from registry.extensions import db
from registry.organisations.models import Membership
from registry.permissions import is_board


def is_member(user, organisation_id: int) -> bool:
    """Whether ``user`` is a provider-side member of the organisation."""
    if user is None or not getattr(user, 'is_authenticated', False) or user.role != Role.PROVIDER:
        return False
    return db.session.scalar(select(Membership.id).where(
        Membership.user_id == user.id, Membership.organisation_id == organisation_id)) is not None


def can_start_application(user, organisation) -> bool:
    return is_member(user, organisation.id)


def can_view_application(user, application: Application) -> bool:
    """Members of the owning organisation and the national board."""
    return is_member(user, application.organisation_id) or is_board(user)


def can_edit_application(user, application: Application) -> bool:
    """Only members of the owning organisation change answers (the status decides whether editing is open)."""
    return is_member(user, application.organisation_id)


def holds_active_qualification(organisation_id: int, today: date | None = None) -> bool:
    today = today or date.today()
    return db.session.scalar(select(Qualification.id).where(
        Qualification.organisation_id == organisation_id,
        Qualification.status == QualificationStatus.ACTIVE,
        Qualification.valid_from <= today, Qualification.valid_to >= today).limit(1)) is not None


def can_read_evidence(user, evidence: Evidence) -> bool:
    """Owning organisation's members, the board, and commissioners once the organisation is qualified."""
    organisation_id = evidence.application.organisation_id
    if is_member(user, organisation_id) or is_board(user):
        return True
    return (getattr(user, 'is_authenticated', False) and user.role == Role.COMMISSIONER
            and holds_active_qualification(organisation_id))
