"""The application state machine: the table, every pair outside it refused, every move audited."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from qualification import services
from qualification.applications import Application
from qualification.states import TRANSITIONS, ApplicationAction, ApplicationStatus, TransitionRefused, next_status
from qualification.workflow import apply_transition
from registry.audit.models import AuditEvent
from registry.db import unit_of_work
from registry.errors import InvalidTransition
from registry.extensions import db
from registry.indexing import ReindexRequest
from registry.notifications.models import OutboxEmail

ALL_PAIRS = list(itertools.product(ApplicationStatus, ApplicationAction))


def test_transition_table_matches_the_agreed_workflow():
    S, A = ApplicationStatus, ApplicationAction
    assert next_status(S.DRAFT, A.SUBMIT) == S.SUBMITTED
    assert next_status(S.SUBMITTED, A.START_REVIEW) == S.IN_REVIEW
    assert next_status(S.IN_REVIEW, A.REQUEST_CLARIFICATION) == S.CLARIFICATION_REQUESTED
    assert next_status(S.CLARIFICATION_REQUESTED, A.SUBMIT) == S.SUBMITTED
    assert next_status(S.IN_REVIEW, A.PROPOSE_DECISION) == S.DECISION_PROPOSED
    assert next_status(S.DECISION_PROPOSED, A.APPROVE) == S.APPROVED
    assert next_status(S.DECISION_PROPOSED, A.REJECT) == S.REJECTED
    assert next_status(S.DECISION_PROPOSED, A.SEND_BACK) == S.IN_REVIEW
    assert {status for (status, action) in TRANSITIONS if action == A.WITHDRAW} == {
        S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.CLARIFICATION_REQUESTED, S.DECISION_PROPOSED}


@pytest.mark.parametrize(('status', 'action'), [pair for pair in ALL_PAIRS if pair not in TRANSITIONS])
def test_pairs_outside_the_table_are_refused_by_the_pure_lookup(status, action):
    with pytest.raises(TransitionRefused, match=f'^You cannot {action.verb} an application that is '):
        next_status(status, action)


def test_refusal_message_is_clear():
    with pytest.raises(TransitionRefused) as caught:
        next_status(ApplicationStatus.DRAFT, ApplicationAction.APPROVE)
    assert str(caught.value) == 'You cannot approve an application that is draft'


def _application_in(status, organisation, actor) -> Application:
    application = services.start_application(organisation, ['childrens-homes'], actor=actor)
    application.status = status  # fixture set-up only: the workflow under test is what moves it from here
    db.session.commit()
    return application


@pytest.mark.parametrize(('status', 'action'), ALL_PAIRS)
def test_apply_transition_follows_the_table_for_every_status_and_action(app_ctx, organisation, provider, status,
                                                                       action):
    application = _application_in(status, organisation, provider)
    before_events = db.session.scalar(select(db.func.count(AuditEvent.id)))
    if (status, action) not in TRANSITIONS:
        with pytest.raises(InvalidTransition, match=f'^You cannot {action.verb} an application that is'):
            with unit_of_work():
                apply_transition(application, action, actor=provider)
        db.session.expire_all()
        assert db.session.get(Application, application.id).status == status
        assert db.session.scalar(select(db.func.count(AuditEvent.id))) == before_events
        return
    with unit_of_work():
        apply_transition(application, action, actor=provider, reason='because')
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert application.status == TRANSITIONS[(status, action)]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == f'application.{action.value}')).one()
    assert event.object_id == str(application.id) and event.actor_id == provider.id and event.reason == 'because'
    assert event.before == {'status': status.value} and event.after == {'status': application.status.value}
    templates = db.session.scalars(select(OutboxEmail.template)).all()
    if action in {ApplicationAction.PROPOSE_DECISION, ApplicationAction.SEND_BACK}:
        assert templates == []  # internal to the board: the provider hears only the signed-off decision
        return
    assert templates[-1] == f'application-{action.value}'
    stamp = {'submit': 'submitted_at', 'start-review': 'review_started_at',
             'request-clarification': 'clarification_requested_at', 'approve': 'decided_at',
             'reject': 'decided_at', 'withdraw': 'withdrawn_at'}[action.value]
    assert getattr(application, stamp) is not None


def test_approval_queues_a_reindex_of_the_organisations_settings(app_ctx, organisation, provider):
    from registry.settings.models import Setting
    from registry.settings.taxonomy import ProvisionType

    setting = Setting(organisation_id=organisation.id, provision_type=ProvisionType.CHILDRENS_HOME, name='Oak House',
                      urn='SC123456', address_line_1='1 Oak Lane', town='Leeds', postcode='LS1 1AA',
                      easting=430000.0, northing=433000.0, district_code='E08000035', authority_code='E08000035',
                      places=4, age_min=8, age_max=17)
    db.session.add(setting)
    db.session.commit()
    application = _application_in(ApplicationStatus.DECISION_PROPOSED, organisation, provider)
    services.transition(application, ApplicationAction.APPROVE, actor=provider)
    assert db.session.scalars(select(ReindexRequest.setting_id)).all() == [setting.id]


def test_a_failed_unit_of_work_leaves_no_audit_event_or_email(app_ctx, organisation, provider):
    application = _application_in(ApplicationStatus.DRAFT, organisation, provider)
    with pytest.raises(RuntimeError):
        with unit_of_work():
            apply_transition(application, ApplicationAction.WITHDRAW, actor=provider)
            raise RuntimeError('boom')
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == ApplicationStatus.DRAFT
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == 'application.withdraw')).all()
    assert not db.session.scalars(select(OutboxEmail)).all()
