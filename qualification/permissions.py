"""Who may do what to applications and evidence: pure predicates used by views and re-checked by services."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from qualification.applications import Application, Evidence
from qualification.models import Qualification, QualificationStatus
from qualification.states import ApplicationStatus
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


def _board_without_conflict(user, organisation_id: int) -> bool:
    from qualification.conflicts import conflict_with

    return is_board(user) and conflict_with(user, organisation_id) is None


def can_view_application(user, application: Application) -> bool:
    """Members of the owning organisation, and the national board (unless they declared a conflict of interest)."""
    return is_member(user, application.organisation_id) or _board_without_conflict(user, application.organisation_id)


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
    """Owning organisation's members and the board; commissioners only evidence of an approved application of an
    organisation that holds an active qualification (never drafts or applications still under review)."""
    organisation_id = evidence.application.organisation_id
    if is_member(user, organisation_id) or _board_without_conflict(user, organisation_id):
        return True
    return is_commissioner_reader(user) and evidence_is_public_to_commissioners(evidence)


def is_commissioner_reader(user) -> bool:
    return getattr(user, 'is_authenticated', False) and user.role == Role.COMMISSIONER


def evidence_is_public_to_commissioners(evidence: Evidence) -> bool:
    """Evidence of an approved application, while its organisation holds an active qualification."""
    return (evidence.application.status == ApplicationStatus.APPROVED
            and holds_active_qualification(evidence.application.organisation_id))


# --- board review, qualifications and local lists -------------------------------------------------------------------

_SENIOR = {Role.BOARD_MEMBER, Role.ADMIN}


def _signed_in(user) -> bool:
    return user is not None and getattr(user, 'is_authenticated', False)


def can_use_board(user) -> bool:
    """Assessors, board members and administrators reach the board workspace."""
    return _signed_in(user) and is_board(user)


def can_assign(user, review, assessor=None) -> bool:
    """Board members and admins assign anyone; an assessor may take an unassigned application for themselves."""
    if not can_use_board(user):
        return False
    if user.role in _SENIOR:
        return True
    unassigned = review is None or review.assessor_id is None
    return unassigned and (assessor is None or assessor.id == user.id)


def can_assess(user, review) -> bool:
    """Mark questions, ask for clarification and propose a decision: the assigned assessor, or a board member."""
    if not can_use_board(user):
        return False
    if user.role in _SENIOR:
        return True
    return review is not None and review.assessor_id == user.id


def sign_off_refusal(user, review) -> str | None:
    """Why ``user`` may not sign off the proposed decision, or None if they may."""
    if not _signed_in(user):
        return 'Only a board member can sign off a decision'
    # the proposer and the assessor hear why, before the general role rule
    if review is not None and review.proposed_by_id == user.id:
        return 'You proposed this decision, so a second board member must sign it off'
    if review is not None and review.assessor_id == user.id:
        return 'You are the assessor of this application, so a second board member must sign off the decision'
    if user.role not in _SENIOR:
        return 'Only a board member can sign off a decision'
    return None


def can_sign_off(user, review) -> bool:
    return sign_off_refusal(user, review) is None


def can_override(user) -> bool:
    """Recording an override (approval despite failures) is for board members (and admins), never assessors."""
    return _signed_in(user) and user.role in _SENIOR


def can_publish_schemes(user) -> bool:
    """Uploading and publishing scheme versions is the national board's decision: board members only."""
    return _signed_in(user) and user.role == Role.BOARD_MEMBER


def can_change_qualification(user) -> bool:
    """Suspending, reinstating and revoking qualifications is for board members and admins."""
    return _signed_in(user) and user.role in _SENIOR


def can_view_organisation_qualifications(user, organisation_id: int) -> bool:
    return is_member(user, organisation_id) or can_use_board(user)


def is_commissioner_of(user, authority_code: str) -> bool:
    """A commissioner of exactly this authority."""
    return (_signed_in(user) and user.role == Role.COMMISSIONER and bool(user.authority_code)
            and user.authority_code == authority_code)


def holds_active_qualification_for(organisation_id: int, lot, today: date | None = None) -> bool:
    today = today or date.today()
    return db.session.scalar(select(Qualification.id).where(
        Qualification.organisation_id == organisation_id, Qualification.lot == lot,
        Qualification.status == QualificationStatus.ACTIVE,
        Qualification.valid_from <= today, Qualification.valid_to >= today).limit(1)) is not None


def can_apply_locally(user, organisation_id: int, lot) -> bool:
    """A member of an organisation holding an active qualification for the lot."""
    return is_member(user, organisation_id) and holds_active_qualification_for(organisation_id, lot)


def can_view_local_application(user, local_application) -> bool:
    return (is_member(user, local_application.organisation_id)
            or is_commissioner_of(user, local_application.authority_code) or can_use_board(user))


def can_decide_local_application(user, local_application) -> bool:
    return is_commissioner_of(user, local_application.authority_code)
