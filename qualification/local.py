"""Local lists: an authority publishes its local requirements per lot; qualified providers join by answering them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from notifications import standing
from qualification import permissions
from qualification.models import LocalApplication, LocalApplicationStatus, LocalRequirements
from qualification.states import LOCAL_MACHINE, LocalApplicationAction, TransitionRefused
from qualification.workflow import apply_local_transition
from registry.audit.services import record
from registry.db import unit_of_work, utcnow
from registry.errors import DomainError, InvalidTransition, PermissionDenied
from registry.extensions import db
from registry.settings.taxonomy import Lot

#: Local application statuses that stop the organisation applying again to the same authority and lot.
_LIVE = [LocalApplicationStatus.DRAFT, LocalApplicationStatus.SUBMITTED, LocalApplicationStatus.ACCEPTED]


def current_requirements(authority_code: str, lot) -> LocalRequirements | None:
    """The latest published version for an authority and lot."""
    return db.session.scalar(select(LocalRequirements).where(
        LocalRequirements.authority_code == authority_code, LocalRequirements.lot == Lot(lot))
        .order_by(LocalRequirements.version.desc()).limit(1))


def requirements_of(authority_code: str) -> list[LocalRequirements]:
    """Every version an authority has published, newest first within each lot."""
    return list(db.session.scalars(select(LocalRequirements).where(LocalRequirements.authority_code == authority_code)
                                   .order_by(LocalRequirements.lot, LocalRequirements.version.desc())))


def open_requirements(lots: list[str] | None = None) -> list[LocalRequirements]:
    """The current version of every authority's requirements (optionally for some lots only), across England."""
    latest = (select(LocalRequirements.authority_code, LocalRequirements.lot,
                     func.max(LocalRequirements.version).label('version'))
              .group_by(LocalRequirements.authority_code, LocalRequirements.lot).subquery())
    query = select(LocalRequirements).join(latest, (LocalRequirements.authority_code == latest.c.authority_code)
                                           & (LocalRequirements.lot == latest.c.lot)
                                           & (LocalRequirements.version == latest.c.version))
    query = query.where(LocalRequirements.closed_at.is_(None)).order_by(LocalRequirements.authority_code)
    rows = list(db.session.scalars(query))
    if lots is not None:
        rows = [row for row in rows if Lot(row.lot).value in lots]
    return rows


def publish_requirements(authority_code: str, lot, *, questions: list[dict[str, str]], documents: list[str],
                         price_schedule: list[dict[str, Any]], actor) -> LocalRequirements:
    """Publish a new version of an authority's local requirements for a lot (published versions never change).

    :raises PermissionDenied: the actor is not a commissioner of this authority.
    :raises DomainError: a question, document or price row is malformed.
    """
    if not permissions.is_commissioner_of(actor, authority_code):
        raise PermissionDenied('Only commissioners of this authority can publish its local requirements')
    lot = Lot(lot)
    cleaned_questions = []
    for index, question in enumerate(questions, start=1):
        text, kind = (question.get('text') or '').strip(), question.get('type') or 'text'
        if not text:
            continue
        if kind not in {'text', 'yes-no'}:
            raise DomainError(f'Question {index}: choose text or yes/no')
        cleaned_questions.append({'id': f'q{len(cleaned_questions) + 1}', 'text': text, 'type': kind})
    cleaned_documents = [item.strip() for item in documents if item and item.strip()]
    cleaned_prices = []
    for row in price_schedule:
        placement, price = (row.get('placement_type') or '').strip(), row.get('weekly_price_pence')
        if not placement and price in (None, ''):
            continue
        if not placement or not isinstance(price, int) or price <= 0:
            raise DomainError('Each price row needs a placement type and a weekly price above £0')
        cleaned_prices.append({'placement_type': placement, 'weekly_price_pence': price})
    if not (cleaned_questions or cleaned_documents or cleaned_prices):
        raise DomainError('Add at least one local question, document or price')
    with unit_of_work():
        latest = current_requirements(authority_code, lot)
        requirements = LocalRequirements(authority_code=authority_code, lot=lot,
                                         version=(latest.version + 1) if latest else 1,
                                         questions=cleaned_questions, documents=cleaned_documents,
                                         price_schedule=cleaned_prices, published_by_id=actor.id,
                                         published_at=utcnow())
        db.session.add(requirements)
        db.session.flush()
        record('local_requirements.publish', requirements, actor=actor,
               after={'authority_code': authority_code, 'lot': lot, 'version': requirements.version,
                      'questions': cleaned_questions, 'documents': cleaned_documents,
                      'price_schedule': cleaned_prices})
        standing.requirements_published(requirements)
    return requirements


def live_application(organisation_id: int, authority_code: str, lot) -> LocalApplication | None:
    return db.session.scalar(select(LocalApplication).where(
        LocalApplication.organisation_id == organisation_id, LocalApplication.authority_code == authority_code,
        LocalApplication.lot == Lot(lot), LocalApplication.status.in_(_LIVE)).limit(1))


def apply_locally(organisation, requirements: LocalRequirements, answers: dict[str, str], *, accepts_terms: bool,
                  actor) -> LocalApplication:
    """Join an authority's list by answering only its local items; submitted at once.

    :raises PermissionDenied: the actor is not a member, or the organisation is not qualified for the lot.
    :raises DomainError: an answer is missing, or the organisation already applied or is on the list.
    """
    if not permissions.can_apply_locally(actor, organisation.id, requirements.lot):
        raise PermissionDenied('Only members of an organisation qualified for this lot can join the local list')
    current = current_requirements(requirements.authority_code, requirements.lot)
    if current is None or current.id != requirements.id or requirements.closed_at is not None:
        raise DomainError('These requirements have been replaced by a newer version; apply to the current one')
    cleaned = {}
    for question in requirements.questions:
        value = (answers.get(question['id']) or '').strip()
        if not value or (question['type'] == 'yes-no' and value not in {'yes', 'no'}):
            raise DomainError(f'Answer "{question["text"]}"')
        cleaned[question['id']] = value
    if (requirements.documents or requirements.price_schedule) and not accepts_terms:
        raise DomainError('Confirm that you accept the price schedule and hold the documents listed')
    if live_application(organisation.id, requirements.authority_code, requirements.lot) is not None:
        raise DomainError(f'{organisation.display_name} has already applied to this list')
    with unit_of_work():
        local_application = LocalApplication(organisation_id=organisation.id,
                                             authority_code=requirements.authority_code, lot=requirements.lot,
                                             status=LocalApplicationStatus.DRAFT, requirements_id=requirements.id,
                                             answers=cleaned, accepts_terms='yes' if accepts_terms else 'no')
        db.session.add(local_application)
        db.session.flush()
        record('local_application.start', local_application, actor=actor,
               after={'requirements_id': requirements.id, 'version': requirements.version, 'answers': cleaned})
        apply_local_transition(local_application, LocalApplicationAction.SUBMIT, actor=actor)
        standing.local_application_submitted(local_application)
    return local_application


def decide(local_application: LocalApplication, accept: bool, *, actor, reason: str) -> LocalApplication:
    """The authority accepts or declines a local application (compare-and-set, so one decision only).

    :raises PermissionDenied: the actor is not a commissioner of the application's authority.
    :raises InvalidTransition: the application is not waiting for a decision.
    """
    if not permissions.can_decide_local_application(actor, local_application):
        raise PermissionDenied('Only commissioners of this authority can decide this application')
    action = LocalApplicationAction.ACCEPT if accept else LocalApplicationAction.DECLINE
    if not accept and not (reason or '').strip():
        raise DomainError('Give the reason the provider will see')
    try:
        new = LOCAL_MACHINE.next_status(local_application.status, action)
    except TransitionRefused as exc:
        raise InvalidTransition(str(exc)) from None
    with unit_of_work():
        result = db.session.execute(
            update(LocalApplication).where(LocalApplication.id == local_application.id,
                                           LocalApplication.status == LocalApplicationStatus(local_application.status))
            .values(status=new).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise InvalidTransition('This application has already been decided')
        local_application.decided_by_id = actor.id
        local_application.decision_reason = (reason or '').strip()
        apply_local_transition(local_application, action, actor=actor, reason=(reason or '').strip())
    return local_application


def withdraw(local_application: LocalApplication, *, actor, reason: str = '') -> LocalApplication:
    """A member of the organisation withdraws its local application (or leaves the list).

    :raises PermissionDenied: the actor is not a member of the organisation.
    """
    if not permissions.is_member(actor, local_application.organisation_id):
        raise PermissionDenied('Only members of the organisation can withdraw its application')
    with unit_of_work():
        apply_local_transition(local_application, LocalApplicationAction.WITHDRAW, actor=actor, reason=reason)
    return local_application


def local_applications_for_authority(authority_code: str) -> list[LocalApplication]:
    return list(db.session.scalars(select(LocalApplication).where(LocalApplication.authority_code == authority_code)
                                   .order_by(LocalApplication.submitted_at.desc())))


def local_applications_of(organisation_id: int) -> list[LocalApplication]:
    return list(db.session.scalars(select(LocalApplication).where(
        LocalApplication.organisation_id == organisation_id).order_by(LocalApplication.created_at.desc())))
