"""Local lists: an authority, or a consortium of authorities, publishes local requirements per lot; qualified
providers join by answering them.

Three layers, each asking only its delta: the national qualification, then a consortium's requirements (one
acceptance counts for every member authority), then a member authority's own items on top. A provider applies to a
member authority only once every consortium of that authority with current requirements for the lot has accepted
it, so the authority's application asks only the authority's items and shows the consortium's answers as done.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

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

#: Local application statuses that stop the organisation applying again to the same owner and lot.
_LIVE = [LocalApplicationStatus.DRAFT, LocalApplicationStatus.SUBMITTED, LocalApplicationStatus.ACCEPTED]


def _owned_by(model, owner):
    """SQL condition: rows of ``model`` owned by ``owner`` (an authority code, or a consortium)."""
    if isinstance(owner, str):
        return model.authority_code == owner
    return model.consortium_id == owner.id


def _owner_fields(owner) -> dict:
    return {'authority_code': owner} if isinstance(owner, str) else {'consortium_id': owner.id}


def current_requirements(owner, lot) -> LocalRequirements | None:
    """The latest published version for an owner (authority code or consortium) and lot."""
    return db.session.scalar(select(LocalRequirements).where(_owned_by(LocalRequirements, owner),
                                                             LocalRequirements.lot == Lot(lot))
                             .order_by(LocalRequirements.version.desc()).limit(1))


def requirements_of(owner) -> list[LocalRequirements]:
    """Every version an owner (authority code or consortium) has published, newest first within each lot."""
    return list(db.session.scalars(select(LocalRequirements).where(_owned_by(LocalRequirements, owner))
                                   .order_by(LocalRequirements.lot, LocalRequirements.version.desc())))


def open_requirements(lots: list[str] | None = None) -> list[LocalRequirements]:
    """The current version of every authority's and consortium's requirements (optionally for some lots only)."""
    latest: dict[tuple, LocalRequirements] = {}
    for row in db.session.scalars(select(LocalRequirements)):
        key = (row.owner_key, Lot(row.lot).value)
        if key not in latest or latest[key].version < row.version:
            latest[key] = row
    rows = [row for row in latest.values() if row.closed_at is None
            and (lots is None or Lot(row.lot).value in lots)]
    return sorted(rows, key=lambda row: (row.consortium_id is None, row.owner.name, Lot(row.lot).value))


def consortium_layers(authority_code: str, lot) -> list[LocalRequirements]:
    """The current requirements, for the lot, of every consortium the authority belongs to (the middle layer)."""
    from consortia.models import ConsortiumMember

    consortium_ids = db.session.scalars(select(ConsortiumMember.consortium_id)
                                        .where(ConsortiumMember.authority_code == authority_code))
    layers = []
    for consortium_id in sorted(consortium_ids):
        current = db.session.scalar(select(LocalRequirements).where(
            LocalRequirements.consortium_id == consortium_id, LocalRequirements.lot == Lot(lot))
            .order_by(LocalRequirements.version.desc()).limit(1))
        if current is not None and current.closed_at is None:
            layers.append(current)
    return layers


def layers_below(organisation_id: int, requirements: LocalRequirements) -> list[tuple[LocalRequirements,
                                                                                       LocalApplication | None]]:
    """For an authority's requirements: each consortium layer beneath it with the organisation's accepted
    application there (None where the consortium has not accepted it yet). Empty for a consortium's own."""
    if requirements.is_consortium:
        return []
    return [(layer, db.session.scalar(select(LocalApplication).where(
        LocalApplication.organisation_id == organisation_id, LocalApplication.consortium_id == layer.consortium_id,
        LocalApplication.lot == Lot(requirements.lot), LocalApplication.status == LocalApplicationStatus.ACCEPTED)
        .order_by(LocalApplication.decided_at.desc()).limit(1)))
        for layer in consortium_layers(requirements.authority_code, requirements.lot)]


def publish_requirements(owner, lot, *, questions: list[dict[str, str]], documents: list[str],
                         price_schedule: list[dict[str, Any]], actor) -> LocalRequirements:
    """Publish a new version of an owner's local requirements for a lot (published versions never change).

    :param owner: an authority code, or a :class:`consortia.models.Consortium`.
    :raises PermissionDenied: the actor is not a commissioner of this authority (or has no role in the consortium).
    :raises DomainError: a question, document or price row is malformed.
    """
    if not permissions.can_act_for_owner(actor, owner):
        raise PermissionDenied('Only commissioners of this authority (or consortium) can publish its local '
                               'requirements')
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
        latest = current_requirements(owner, lot)
        requirements = LocalRequirements(**_owner_fields(owner), lot=lot,
                                         version=(latest.version + 1) if latest else 1,
                                         questions=cleaned_questions, documents=cleaned_documents,
                                         price_schedule=cleaned_prices, published_by_id=actor.id,
                                         published_at=utcnow())
        db.session.add(requirements)
        db.session.flush()
        record('local_requirements.publish', requirements, actor=actor,
               after={**_owner_fields(owner), 'lot': lot, 'version': requirements.version,
                      'questions': cleaned_questions, 'documents': cleaned_documents,
                      'price_schedule': cleaned_prices})
        standing.requirements_published(requirements)
    return requirements


def live_application(organisation_id: int, owner, lot) -> LocalApplication | None:
    return db.session.scalar(select(LocalApplication).where(
        LocalApplication.organisation_id == organisation_id, _owned_by(LocalApplication, owner),
        LocalApplication.lot == Lot(lot), LocalApplication.status.in_(_LIVE)).limit(1))


def _owner_of(requirements: LocalRequirements):
    return requirements.consortium if requirements.is_consortium else requirements.authority_code


def apply_locally(organisation, requirements: LocalRequirements, answers: dict[str, str], *, accepts_terms: bool,
                  actor) -> LocalApplication:
    """Join an authority's or consortium's list by answering only its local items; submitted at once.

    :raises PermissionDenied: the actor is not a member, or the organisation is not qualified for the lot.
    :raises DomainError: an answer is missing, the organisation already applied or is on the list, or (for a member
        authority) a consortium of the authority has not accepted it yet.
    """
    if not permissions.can_apply_locally(actor, organisation.id, requirements.lot):
        raise PermissionDenied('Only members of an organisation qualified for this lot can join the local list')
    owner = _owner_of(requirements)
    current = current_requirements(owner, requirements.lot)
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
    if live_application(organisation.id, owner, requirements.lot) is not None:
        raise DomainError(f'{organisation.display_name} has already applied to this list')
    missing = [layer.owner.name for layer, accepted in layers_below(organisation.id, requirements) if accepted is None]
    if missing:
        raise DomainError(f'{requirements.owner.name} asks only for its own items on top of '
                          f'{" and ".join(missing)}: join {" and ".join(missing)}\'s list first')
    with unit_of_work():
        local_application = LocalApplication(organisation_id=organisation.id, **_owner_fields(owner),
                                             lot=requirements.lot,
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

    :raises PermissionDenied: the actor is not a commissioner of the application's authority (or consortium).
    :raises InvalidTransition: the application is not waiting for a decision.
    """
    if not permissions.can_decide_local_application(actor, local_application):
        raise PermissionDenied('Only commissioners of this authority (or consortium) can decide this application')
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


def local_applications_for(owner) -> list[LocalApplication]:
    """Applications to an owner's lists (an authority code, or a consortium), newest first."""
    return list(db.session.scalars(select(LocalApplication).where(_owned_by(LocalApplication, owner))
                                   .order_by(LocalApplication.submitted_at.desc())))


def local_applications_of(organisation_id: int) -> list[LocalApplication]:
    return list(db.session.scalars(select(LocalApplication).where(
        LocalApplication.organisation_id == organisation_id).order_by(LocalApplication.created_at.desc())))
