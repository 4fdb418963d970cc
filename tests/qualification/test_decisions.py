"""Decisions that follow the scheme: every question marked, failures block approval unless a board member
overrides with reasons, counts on the board's pages, and per-question feedback for a rejected provider."""

from __future__ import annotations

import re

import pytest
from flask import url_for
from sqlalchemy import func, select

from qualification import board, services
from qualification.applications import Application
from qualification.models import Qualification
from qualification.review import DecisionOverride, LotDecision, QuestionReview
from qualification.states import ApplicationStatus
from registry.audit.models import AuditEvent
from registry.errors import DomainError, PermissionDenied
from registry.extensions import db
from registry.notifications.models import OutboxEmail
from tests.qualification.board_helpers import (
    FAILING_ANSWERS,
    FAILING_QUESTIONS,
    application_status,
    board_users,
    in_review,
    mark_everything,
)

APPROVE = {'childrens-homes': ('approve', 'Meets the national standard')}
REJECT = {'childrens-homes': ('reject', 'Four mandatory requirements are not met')}
OVERRIDE_REASONS = 'Administration ended last week and new cover starts Monday; Ofsted re-inspection booked.'


@pytest.fixture
def users(app_ctx):
    return board_users()


@pytest.fixture
def failing(organisation, provider, users) -> Application:
    """The issue's application, submitted and assigned to the assessor."""
    return in_review(organisation, provider, users, answers=FAILING_ANSWERS)


def counts_on(page: str) -> dict[str, int]:
    return {name: int(value) for name, value in re.findall(r'data-count="([a-z-]+)">(\d+)', page)}


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_the_issues_failing_application_cannot_be_approved_without_a_recorded_override(failing, users):
    assert {question_id: failing.snapshot['outcomes'][question_id] for question_id in FAILING_QUESTIONS} == \
        dict.fromkeys(FAILING_QUESTIONS, 'fail')
    assessor, member, member2 = users['assessor'], users['member'], users['member2']

    # proposing with no question marked is refused, approve or reject
    for decision in (APPROVE, REJECT):
        with pytest.raises(DomainError, match=r'^\d+ questions have no outcome yet'):
            board.propose_decision(failing, decision, actor=assessor)
    assert application_status(failing.id) == ApplicationStatus.IN_REVIEW

    # every question marked (the automatic marks accepted, the rest passed): approval is still refused
    mark_everything(failing, assessor)
    with pytest.raises(DomainError, match='cannot be approved: 4 questions fail') as refused:
        board.propose_decision(failing, APPROVE, actor=assessor)
    assert 'Is the organisation subject to any administration' in str(refused.value)
    assert application_status(failing.id) == ApplicationStatus.IN_REVIEW
    assert db.session.scalar(select(func.count(LotDecision.id))) == 0

    # an assessor cannot override; a board member can, with reasons
    with pytest.raises(PermissionDenied, match='Only a board member'):
        board.record_override(failing, OVERRIDE_REASONS, actor=assessor)
    with pytest.raises(DomainError, match='Explain why'):
        board.record_override(failing, '  ', actor=member)
    override = board.record_override(failing, OVERRIDE_REASONS, actor=member)
    assert sorted(item['question_id'] for item in override.failures) == FAILING_QUESTIONS

    board.propose_decision(failing, APPROVE, actor=assessor)
    assert application_status(failing.id) == ApplicationStatus.DECISION_PROPOSED

    # the board member who recorded the override cannot sign off the approval that relies on it
    with pytest.raises(PermissionDenied, match='You recorded the override'):
        board.sign_off(failing, actor=member)
    granted = board.sign_off(failing, actor=member2)
    assert [qualification.lot.value for qualification in granted] == ['childrens-homes']
    assert application_status(failing.id) == ApplicationStatus.APPROVED

    # the override is in the audit trail: recorded, relied on at proposal and at sign-off, with its reasons
    assert {'application.override', 'application.propose_with_override', 'application.approve_with_override'} \
        <= set(actions())
    signed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == 'application.approve_with_override')
                                ).one()
    assert OVERRIDE_REASONS in signed.reason and signed.actor_id == member2.id
    assert signed.after['override_id'] == override.id


def test_failing_application_can_be_rejected_without_an_override(failing, users):
    mark_everything(failing, users['assessor'])
    board.propose_decision(failing, REJECT, actor=users['assessor'])
    assert board.sign_off(failing, actor=users['member']) == []
    assert application_status(failing.id) == ApplicationStatus.REJECTED
    assert db.session.scalar(select(func.count(Qualification.id))) == 0


def test_failing_application_is_refused_over_http_with_the_reason_in_the_error_summary(client, login_as, failing,
                                                                                      users):
    login_as(users['assessor'])
    url = url_for('qualification.board_propose_decision', application_id=failing.id)
    data = {'outcome_childrens_homes': 'approve', 'reasons_childrens_homes': 'Looks fine'}
    response = client.post(url, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'govuk-error-summary' in page and 'no outcome yet' in page
    mark_everything(failing, users['assessor'])
    page = client.post(url, data=data).get_data(as_text=True)
    assert 'cannot be approved: 4 questions fail' in page and 'record an override' in page
    # the override page is for board members only
    assert client.get(url_for('qualification.board_record_override', application_id=failing.id)).status_code == 403
    login_as(users['member'])
    override_url = url_for('qualification.board_record_override', application_id=failing.id)
    short = client.post(override_url, data={'reasons': 'ok'})
    assert short.status_code == 400 and 'between 20 and 4000 characters' in short.get_data(as_text=True)
    assert db.session.scalar(select(func.count(DecisionOverride.id))) == 0
    assert client.post(override_url, data={'reasons': OVERRIDE_REASONS}).status_code == 302
    login_as(users['assessor'])
    assert client.post(url, data=data).status_code == 302
    assert application_status(failing.id) == ApplicationStatus.DECISION_PROPOSED


def test_sign_off_shows_the_override_and_the_counts(client, login_as, failing, users):
    mark_everything(failing, users['assessor'])
    board.record_override(failing, OVERRIDE_REASONS, actor=users['member'])
    board.propose_decision(failing, APPROVE, actor=users['assessor'])
    login_as(users['member2'])
    page = client.get(url_for('qualification.board_sign_off', application_id=failing.id)).get_data(as_text=True)
    assert 'Override recorded by' in page and OVERRIDE_REASONS in page
    assert 'liability cover (per claim)' in page  # listed among what the override covers
    total = len(board.reviewable_questions(failing))
    assert counts_on(page) == {'passed': total - 4, 'failed': 4, 'clarify': 0, 'unmarked': 0, 'automatic-fails': 4}
    overview = client.get(url_for('qualification.board_application', application_id=failing.id)).get_data(
        as_text=True)
    assert 'Override recorded by' in overview and 'Propose with override' in overview  # the history table


def test_overview_shows_passed_failed_clarify_unmarked_and_automatic_fail_counts(client, login_as, failing, users):
    login_as(users['assessor'])
    url = url_for('qualification.board_application', application_id=failing.id)
    total = len(board.reviewable_questions(failing))
    assert total > 40
    assert counts_on(client.get(url).get_data(as_text=True)) == {
        'passed': 0, 'failed': 0, 'clarify': 0, 'unmarked': total, 'automatic-fails': 4}
    board.accept_automatic_marks(failing, actor=users['assessor'])
    automatic = {question_id for question_id, outcome in board.automatic_marks(failing).items()
                 if outcome in {'pass', 'fail'}}
    board.save_marks(failing, {'org-legal-name': ('clarify', 'Give the registered name'),
                               'ch-complex-needs': ('fail', 'No plan for complex needs')}, actor=users['assessor'])
    counts = counts_on(client.get(url).get_data(as_text=True))
    assert counts == {'passed': len(automatic) - 4, 'failed': 5, 'clarify': 1,
                      'unmarked': total - len(automatic) - 2, 'automatic-fails': 4}
    assert board.review_counts(failing).failed == 5


def test_accepting_automatic_marks_is_one_audited_action_that_keeps_the_assessors_own_marks(failing, users):
    assessor = users['assessor']
    board.save_marks(failing, {'ins-pl-amount': ('fail', 'The certificate shows less cover')}, actor=assessor)
    accepted = board.accept_automatic_marks(failing, actor=assessor)
    assert 'ins-pl-amount' not in accepted
    assert {question_id for question_id, outcome in accepted.items() if outcome == 'fail'} == set(FAILING_QUESTIONS)
    marks = board.question_reviews(failing)
    assert (marks['ins-pl-amount'].outcome, marks['ins-pl-amount'].source) == ('fail', 'assessor')
    assert marks['ins-el-amount'].source == 'automatic' and marks['ins-el-amount'].outcome == 'fail'
    assert 'at least £5,000,000' in marks['ins-el-amount'].comment
    assert marks['org-model-contract'].outcome == 'pass'
    assert 'org-legal-name' not in marks  # a question for the assessor's judgement stays unmarked
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == 'application.accept_automatic_marks')
                               ).one()
    assert event.actor_id == assessor.id and event.after == accepted
    with pytest.raises(DomainError, match='no automatic marks left'):
        board.accept_automatic_marks(failing, actor=assessor)


def test_automatic_marks_are_shown_but_never_pre_selected(client, login_as, failing, users):
    login_as(users['assessor'])
    url = url_for('qualification.board_review_section', application_id=failing.id, section_id='insurance')
    page = client.get(url).get_data(as_text=True)
    assert 'checked' not in page.split('<form')[1]
    board.accept_automatic_marks(failing, actor=users['assessor'])
    page = client.get(url).get_data(as_text=True)
    assert 'value="fail" checked' in page and 'value="pass" checked' in page


def test_an_assessor_passing_an_automatically_failed_question_does_not_clear_the_failure(failing, users):
    assessor = users['assessor']
    mark_everything(failing, assessor)
    board.save_marks(failing, {question_id: ('pass', '') for question_id in FAILING_QUESTIONS}, actor=assessor)
    state = board.review_state(failing)
    assert state.counts.failed == 0 and state.counts.automatic_fails == 4
    with pytest.raises(DomainError, match='cannot be approved: 4 questions fail'):
        board.propose_decision(failing, APPROVE, actor=assessor)


def test_a_question_marked_fail_blocks_approval_even_when_every_automatic_rule_passes(organisation, provider,
                                                                                       users):
    application = in_review(organisation, provider, users)
    mark_everything(application, users['assessor'])
    assert board.review_counts(application).automatic_fails == 0
    board.save_marks(application, {'sg-risk-management': ('fail', 'No risk assessment process')},
                     actor=users['assessor'])
    with pytest.raises(DomainError, match='1 question fails'):
        board.propose_decision(application, APPROVE, actor=users['assessor'])


def test_questions_still_marked_clarify_block_approval_but_not_rejection(organisation, provider, users):
    application = in_review(organisation, provider, users)
    mark_everything(application, users['assessor'])
    board.save_marks(application, {'qa-system': ('clarify', 'Which visits are independent?')},
                     actor=users['assessor'])
    with pytest.raises(DomainError, match='still marked "Ask for clarification"'):
        board.propose_decision(application, APPROVE, actor=users['assessor'])
    board.propose_decision(application, {'childrens-homes': ('reject', 'Not enough evidence')},
                           actor=users['assessor'])
    assert application_status(application.id) == ApplicationStatus.DECISION_PROPOSED


def test_a_failure_blocks_only_the_lots_its_question_applies_to(organisation, provider, users):
    application = in_review(organisation, provider, users, lots=['childrens-homes', 'fostering'],
                            answers={'fos-out-of-hours': 'no'})
    mark_everything(application, users['assessor'])
    with pytest.raises(DomainError, match='Fostering cannot be approved: 1 question fails'):
        board.propose_decision(application, {'childrens-homes': ('approve', 'Meets it'),
                                             'fostering': ('approve', 'Meets it')}, actor=users['assessor'])
    board.propose_decision(application, {'childrens-homes': ('approve', 'Meets it'),
                                         'fostering': ('reject', 'No out-of-hours support')}, actor=users['assessor'])
    granted = board.sign_off(application, actor=users['member'])
    assert [qualification.lot.value for qualification in granted] == ['childrens-homes']


def test_an_override_covers_only_the_failures_it_listed(failing, users):
    mark_everything(failing, users['assessor'])
    board.record_override(failing, OVERRIDE_REASONS, actor=users['member'])
    board.save_marks(failing, {'sg-risk-management': ('fail', 'No risk assessment process')},
                     actor=users['assessor'])
    with pytest.raises(DomainError, match='cannot be approved: 5 questions fail'):
        board.propose_decision(failing, APPROVE, actor=users['assessor'])
    # a new override, listing all five, replaces the first
    board.record_override(failing, OVERRIDE_REASONS + ' Risk process reviewed in person.', actor=users['member2'])
    assert db.session.scalar(select(func.count(DecisionOverride.id)).where(DecisionOverride.voided_at.is_(None))) == 1
    board.propose_decision(failing, APPROVE, actor=users['assessor'])
    with pytest.raises(PermissionDenied, match='You recorded the override'):
        board.sign_off(failing, actor=users['member2'])
    board.sign_off(failing, actor=users['member'])
    assert application_status(failing.id) == ApplicationStatus.APPROVED


def test_resubmission_after_clarification_voids_the_override(failing, users, provider):
    assessor = users['assessor']
    mark_everything(failing, assessor)
    board.record_override(failing, OVERRIDE_REASONS, actor=users['member'])
    board.save_marks(failing, {'org-legal-name': ('clarify', 'Give the registered name')}, actor=assessor)
    board.request_clarification(failing, 'One question', actor=assessor)
    services.save_answers(failing, 'organisation', {'org-legal-name': 'Test Care Limited'}, actor=provider)
    services.submit(failing, {'name': 'Pat Provider', 'role': 'Director'}, actor=provider)
    assert board.active_override(failing) is None
    assert 'application.override_void' in actions()
    board.start_review(failing, actor=assessor)
    board.save_marks(failing, {'org-legal-name': ('pass', '')}, actor=assessor)
    with pytest.raises(DomainError, match='cannot be approved'):
        board.propose_decision(failing, APPROVE, actor=assessor)


def test_sign_off_refuses_a_decision_proposed_before_the_checks_existed(client, login_as, failing, users):
    """A proposal already waiting (made with no marks) is refused at sign-off: send it back instead."""
    failing.status = ApplicationStatus.DECISION_PROPOSED  # fixture set-up: how such proposals were left
    db.session.add(LotDecision(application_id=failing.id, lot='childrens-homes', outcome='approve',
                               reasons='Looks fine', proposed_by_id=users['assessor'].id))
    db.session.commit()
    login_as(users['member'])
    url = url_for('qualification.board_sign_off', application_id=failing.id)
    page = client.get(url).get_data(as_text=True)
    assert 'id="sign-off-blocked"' in page and 'no outcome yet' in page and 'Send it back' in page
    response = client.post(url, data={'decision': 'sign-off'})
    assert response.status_code == 409 and 'govuk-error-summary' in response.get_data(as_text=True)
    with pytest.raises(DomainError, match='no outcome yet'):
        board.sign_off(failing, actor=users['member'])
    # marks recorded since (as the old flow allowed) still leave the failures standing
    for question in board.reviewable_questions(failing):
        db.session.add(QuestionReview(application_id=failing.id, question_id=question.id, outcome='pass',
                                      reviewer_id=users['assessor'].id))
    db.session.commit()
    with pytest.raises(DomainError, match='cannot be approved: 4 questions fail'):
        board.sign_off(failing, actor=users['member'])
    assert application_status(failing.id) == ApplicationStatus.DECISION_PROPOSED
    assert db.session.scalar(select(func.count(Qualification.id))) == 0
    board.send_back(failing, actor=users['member'], reason='Decide again under the scheme')
    assert application_status(failing.id) == ApplicationStatus.IN_REVIEW


def test_rejected_provider_sees_per_question_feedback_on_its_page_and_in_the_email(client, login_as, failing, users,
                                                                                   provider, organisation):
    assessor = users['assessor']
    mark_everything(failing, assessor)
    board.save_marks(failing, {'qa-system': ('clarify', 'Say who carries out the independent visits')},
                     actor=assessor)
    board.propose_decision(failing, REJECT, actor=assessor)
    login_as(provider)
    url = url_for('qualification.view_snapshot', application_id=failing.id)
    assert 'Feedback on your answers' not in client.get(url).get_data(as_text=True)  # internal until signed off
    board.sign_off(failing, actor=users['member'])
    page = client.get(url).get_data(as_text=True)
    feedback = page.split('id="feedback"')[1]
    assert sorted(re.findall(r'data-question="([a-z0-9-]+)"', feedback)) == sorted(FAILING_QUESTIONS + ['qa-system'])
    assert 'To qualify, the answer must be at least £5,000,000.' in feedback and '£1' in feedback
    assert 'Say who carries out the independent visits' in feedback and 'Needs clarification' in feedback
    email = db.session.scalars(select(OutboxEmail).where(OutboxEmail.template == 'application-reject')).one()
    assert email.to_address == organisation.contact_email
    assert 'Feedback on your answers (5 questions)' in email.body
    assert "Employer's liability cover (per claim)" in email.body and 'Your answer: £1' in email.body
    assert 'To qualify, the answer must be Yes.' in email.body  # enhanced DBS checks
    assert 'Say who carries out the independent visits' in email.body
