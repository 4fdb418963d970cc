"""Qualify once: renewals and new lots start from the approved application; the assessor sees only what changed;
facts come from the organisation's record; a clarification can ask for several answers and a document."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from qualification import board, carry, services
from qualification.applications import Answer, Application, Evidence
from qualification.evidence import check_upload
from qualification.review import QuestionReview
from qualification.schemes import load_scheme
from qualification.states import ApplicationStatus
from registry.audit.models import AuditEvent
from registry.errors import DomainError
from registry.extensions import db
from tests.qualification.board_helpers import board_users, in_review, make_setting, mark_everything
from tests.qualification.conftest import PDF_BYTES

LOTS = ['childrens-homes']


def approved_application(organisation, provider, users, *, lots=LOTS, answers=None) -> Application:
    """An application taken through review, proposal and sign-off by the real services."""
    application = in_review(organisation, provider, users, lots=lots, answers=answers)
    mark_everything(application, users['assessor'])
    board.propose_decision(application, {lot: ('approve', 'Meets the scheme') for lot in lots},
                           actor=users['assessor'])
    board.sign_off(application, actor=users['member2'])
    assert application.status == ApplicationStatus.APPROVED
    return application


def pdf(name: str):
    return check_upload(io.BytesIO(PDF_BYTES + name.encode()), name, 10 * 1024 * 1024)


def answers_of(application) -> dict:
    return {answer.question_id: answer.value for answer in db.session.scalars(
        select(Answer).where(Answer.application_id == application.id))}


def confirm_everything(application, provider) -> None:
    for section_id in list(carry.sections_to_confirm(application)):
        services.confirm_section(application, section_id, actor=provider)


@pytest.fixture
def users(app_ctx):
    return board_users()


@pytest.fixture
def scheme():
    return load_scheme('2026.1')


def test_renewal_is_prefilled_from_the_approved_application(client, login_as, organisation, provider, users,
                                                            scheme):
    approved = approved_application(organisation, provider, users)
    renewal = services.start_application(organisation, LOTS, actor=provider)

    assert renewal.carried_forward_from_id == approved.id
    before, after = answers_of(approved), answers_of(renewal)
    typed = {qid for qid in before if qid not in carry.fact_values(organisation, scheme, LOTS)}
    assert typed and {qid: after[qid] for qid in typed} == {qid: before[qid] for qid in typed}
    # documents carry forward by reference to the same stored file
    old_docs = {item['question_id']: item['storage_key'] for item in approved.snapshot['evidence']}
    new_docs = {item.question_id: item.storage_key for item in renewal.evidence}
    assert new_docs == old_docs
    assert set(renewal.carried_sections) == {section.id for section in scheme.sections_for(LOTS)}

    login_as(provider)
    page = client.get(url_for('qualification.task_list', application_id=renewal.id)).get_data(as_text=True)
    approved_on = approved.decided_at.date()
    assert f'Carried forward from QA-{approved.id}, approved {approved_on.day} {approved_on:%B %Y}' in page
    assert 'Confirm or change' in page
    assert 'You have completed 0 of 9 sections. 9 sections are carried forward, ready for you to confirm or change' \
        in ' '.join(page.split())
    section = client.get(url_for('qualification.edit_section', application_id=renewal.id, section_id='insurance'))
    assert 'Confirm this section is unchanged' in section.get_data(as_text=True)

    # submitting before every carried section is confirmed is refused; one action confirms each section
    with pytest.raises(DomainError, match='Confirm each section carried forward'):
        services.submit(renewal, {'name': 'Pat', 'role': 'Director'}, actor=provider)
    response = client.post(url_for('qualification.confirm_section', application_id=renewal.id,
                                   section_id='insurance'))
    assert response.status_code == 302
    db.session.expire_all()
    renewal = db.session.get(Application, renewal.id)
    assert 'insurance' in renewal.confirmed_sections
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == 'application.confirm_section'))
    confirm_everything(renewal, provider)
    services.submit(renewal, {'name': 'Pat', 'role': 'Director'}, actor=provider)
    assert renewal.status == ApplicationStatus.SUBMITTED


def test_second_lot_reuses_the_organisation_level_answers(organisation, provider, users, scheme):
    approved = approved_application(organisation, provider, users)
    second = services.start_application(organisation, ['fostering'], actor=provider)

    assert second.carried_forward_from_id == approved.id
    carried = answers_of(second)
    shared = {question.id for section in scheme.sections_for(['fostering']) if section.id != 'fostering'
              for question in section.questions_for(['fostering']) if question.type != 'evidence'}
    organisation_level = {question.id for question in scheme.section('organisation').questions}
    before = answers_of(approved)
    for qid in (organisation_level | shared) - set(carry.fact_values(organisation, scheme, ['fostering'])):
        if qid in before:
            assert carried[qid] == before[qid], qid
    # the lot's own section starts empty, and the children's homes section does not come along
    assert not any(qid.startswith(('fos-', 'ch-')) for qid in carried)
    assert 'fostering' not in second.carried_sections and 'organisation' in second.carried_sections
    assert services.section_status(second, scheme, scheme.section('fostering')) == 'not-started'


def test_renewal_of_both_lots_after_a_second_lot_takes_each_answer_from_where_it_was_approved(organisation, provider,
                                                                                             users, scheme):
    homes = approved_application(organisation, provider, users)
    second = services.start_application(organisation, ['fostering'], actor=provider)
    for section in scheme.sections_for(['fostering']):
        if section.id in second.carried_sections:
            services.confirm_section(second, section.id, actor=provider)
    from tests.qualification.conftest import stored_answers

    services.save_answers(second, 'fostering', stored_answers(scheme, ['fostering'])['fostering'], actor=provider)
    services.submit(second, {'name': 'Pat', 'role': 'Director'}, actor=provider)
    board.assign(second, users['assessor'], actor=users['member'])
    board.carry_previous_marks(second, actor=users['assessor'])
    mark_everything(second, users['assessor'])
    board.propose_decision(second, {'fostering': ('approve', 'Meets the scheme')}, actor=users['assessor'])
    board.sign_off(second, actor=users['member2'])

    both = services.start_application(organisation, ['childrens-homes', 'fostering'], actor=provider)
    assert both.carried_forward_from_id == second.id
    values = answers_of(both)
    assert values['ch-homes-count'] == answers_of(homes)['ch-homes-count']
    assert values['fos-carers'] == answers_of(second)['fos-carers']
    assert {'childrens-homes', 'fostering'} <= set(both.carried_sections)
    confirm_everything(both, provider)
    services.submit(both, {'name': 'Pat', 'role': 'Director'}, actor=provider)
    board.assign(both, users['assessor'], actor=users['member'])
    view = board.renewal_view(both)
    assert view.changed == 0
    assert view.changes['ch-homes-count'].previous_id == homes.id
    assert view.changes['fos-carers'].previous_id == second.id
    board.carry_previous_marks(both, actor=users['assessor'])
    assert board.review_state(both).unmarked == []


def test_expired_insurance_certificate_is_flagged_and_blocks_until_replaced(client, login_as, organisation,
                                                                             provider, users, scheme):
    soon = (date.today() + timedelta(days=10)).isoformat()
    approved_application(organisation, provider, users, answers={'ins-pl-expiry': soon})
    renewal = services.start_application(organisation, LOTS, actor=provider)

    flags = carry.expiry_flags(renewal, scheme)
    assert [flag.question.id for flag in flags] == ['ins-certificates']
    assert flags[0].expires_on == date.fromisoformat(soon) and not flags[0].expired
    assert carry.expiry_flags(renewal, scheme, today=date.today() + timedelta(days=11))[0].expired
    login_as(provider)
    page = client.get(url_for('qualification.task_list', application_id=renewal.id)).get_data(as_text=True)
    assert 'Replace expired document' in page and 'within 30 days: upload a replacement' in page
    response = client.post(url_for('qualification.confirm_section', application_id=renewal.id,
                                   section_id='insurance'), follow_redirects=True)
    assert 'upload a replacement, before you confirm this section' in response.get_data(as_text=True)
    confirm_everything_but = [section for section in carry.sections_to_confirm(renewal) if section != 'insurance']
    for section_id in confirm_everything_but:
        services.confirm_section(renewal, section_id, actor=provider)
    with pytest.raises(DomainError):
        services.submit(renewal, {'name': 'Pat', 'role': 'Director'}, actor=provider)

    # the provider uploads the new certificate and the new expiry date: the old copy is replaced, not kept
    later = date.today() + timedelta(days=365)
    services.save_answers(renewal, 'insurance', {'ins-pl-expiry': later.isoformat()}, actor=provider,
                          uploads={'ins-certificates': [pdf('new-certificate.pdf')]})
    db.session.expire_all()
    renewal = db.session.get(Application, renewal.id)
    assert [item.filename for item in renewal.evidence_for('ins-certificates')] == ['new-certificate.pdf']
    assert carry.expiry_flags(renewal, scheme) == []
    services.submit(renewal, {'name': 'Pat', 'role': 'Director'}, actor=provider)
    assert renewal.status == ApplicationStatus.SUBMITTED


def test_safeguarding_policy_due_for_review_is_flagged(organisation, provider, users, scheme):
    reviewed = (date.today() - timedelta(days=350)).isoformat()
    approved_application(organisation, provider, users, answers={'sg-policy-reviewed': reviewed})
    renewal = services.start_application(organisation, LOTS, actor=provider)
    flags = carry.expiry_flags(renewal, scheme)
    assert [flag.question.id for flag in flags] == ['sg-policy']
    assert flags[0].expires_on == date.fromisoformat(reviewed) + timedelta(days=365)


def test_assessor_sees_what_changed_and_carries_marks_for_the_rest(client, login_as, organisation, provider, users,
                                                                    scheme):
    approved = approved_application(organisation, provider, users)
    renewal = services.start_application(organisation, LOTS, actor=provider)
    services.save_answers(renewal, 'workforce', {'wf-agency-percent': 42}, actor=provider)
    confirm_everything(renewal, provider)
    services.submit(renewal, {'name': 'Pat', 'role': 'Director'}, actor=provider)
    board.assign(renewal, users['assessor'], actor=users['member'])

    view = board.renewal_view(renewal)
    assert view.previous.id == approved.id
    assert not view.changes['wf-agency-percent'].unchanged
    assert view.changes['wf-agency-percent'].after == '42'
    assert view.changes['ins-el-amount'].unchanged and view.changes['ins-certificates'].unchanged
    assert view.changed == 1 and 'wf-agency-percent' not in view.carriable

    login_as(users['assessor'])
    overview = client.get(url_for('qualification.board_application', application_id=renewal.id))
    text = overview.get_data(as_text=True)
    assert f'Carry previous marks for the {len(view.carriable)} unchanged answers' in text
    section = client.get(url_for('qualification.board_review_section', application_id=renewal.id,
                                 section_id='workforce')).get_data(as_text=True)
    assert f'Changed since QA-{approved.id}' in section and 'Unchanged' in section
    assert 'Previous answer' in section and 'New answer' in section

    response = client.post(url_for('qualification.board_carry_previous_marks', application_id=renewal.id))
    assert response.status_code == 302
    marks = board.question_reviews(renewal)
    previous = board.question_reviews(approved)
    assert set(marks) == set(view.carriable)
    assert all(marks[qid].source == 'carried' and marks[qid].outcome == previous[qid].outcome for qid in marks)
    state = board.review_state(renewal)
    assert [question.id for question in state.unmarked] == ['wf-agency-percent']
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == 'application.carry_previous_marks'))
    assert event.one().actor_id == users['assessor'].id
    with pytest.raises(DomainError, match='no previous marks left'):
        board.carry_previous_marks(renewal, actor=users['assessor'])


def test_first_application_has_no_previous_marks_to_carry(organisation, provider, users):
    application = in_review(organisation, provider, users)
    assert board.renewal_view(application) is None
    with pytest.raises(DomainError, match='not carried forward'):
        board.carry_previous_marks(application, actor=users['assessor'])


def test_facts_come_from_the_organisations_record_without_a_row_cap(client, login_as, organisation, provider,
                                                                    users, scheme):
    for number in range(7):
        make_setting(organisation, name=f'Home {number}', urn=f'SC{700000 + number}')
    login_as(provider)
    client.post(url_for('qualification.start_application', organisation_id=organisation.id), data={'lots': LOTS})
    application = db.session.scalars(select(Application)).one()
    page = client.get(url_for('qualification.edit_section', application_id=application.id,
                              section_id='organisation')).get_data(as_text=True)
    assert organisation.legal_name in page and 'name="org-legal-name"' not in page
    assert 'name="org-legal-form"' not in page and 'Change your organisation’s details' in page
    assert '1 High Street' in page
    regulation = client.get(url_for('qualification.edit_section', application_id=application.id,
                                    section_id='regulation')).get_data(as_text=True)
    assert '7 regulated settings' in regulation and 'SC700006' in regulation and 'reg-urns__0__urn' not in regulation
    check = client.get(url_for('qualification.check_section', application_id=application.id,
                               section_id='organisation')).get_data(as_text=True)
    assert 'Change in your organisation’s details' in check
    assert url_for('organisations.edit_organisation', organisation_id=organisation.id) in check
    # a posted value cannot override the record
    services.save_answers(application, 'organisation', {'org-legal-name': 'Typed Ltd', 'org-insolvency': 'no'},
                          actor=provider)
    assert 'org-legal-name' not in answers_of(application)

    submitted = in_review_from(application, provider, users)
    snapshot = submitted.snapshot
    assert snapshot['answers']['org-legal-name'] == organisation.legal_name
    assert len(snapshot['answers']['reg-urns']) == 7
    assert snapshot['organisation']['legal_name'] == organisation.legal_name

    # the record changes after submission: the assessor is shown the difference
    organisation.legal_name = 'Renamed Care Ltd'
    db.session.commit()
    login_as(users['assessor'])
    overview = client.get(url_for('qualification.board_application', application_id=submitted.id))
    text = overview.get_data(as_text=True)
    assert 'The organisation’s record has changed since this application was submitted' in text
    assert 'Renamed Care Ltd' in text


def in_review_from(application, provider, users) -> Application:
    """Answer the rest of ``application`` validly, upload its evidence, submit it and assign it."""
    from tests.qualification.conftest import stored_answers

    scheme = load_scheme('2026.1')
    for section_id, values in stored_answers(scheme, application.lots).items():
        services.save_answers(application, section_id, values, actor=provider)
    for section in scheme.sections_for(application.lots):
        for question in section.questions_for(application.lots):
            if question.type == 'evidence' and question.required:
                services.upload_evidence(application, question.id, pdf(f'{question.id}.pdf'), actor=provider)
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    services.submit(application, {'name': 'Pat Provider', 'role': 'Director'}, actor=provider)
    board.assign(application, users['assessor'], actor=users['member'])
    return application


def test_clarification_flags_several_questions_and_collects_a_document(client, login_as, organisation, provider,
                                                                        users):
    application = in_review(organisation, provider, users)
    board.save_marks(application, {'ins-certificates': ('clarify', 'Upload the current employer’s liability '
                                                                   'certificate'),
                                   'wf-retention': ('clarify', 'Say how many staff left last year')},
                     actor=users['assessor'])
    login_as(users['assessor'])
    page = client.get(url_for('qualification.board_request_clarification', application_id=application.id))
    assert 'One request asks about all 2 questions' in page.get_data(as_text=True)
    assert 'Document requested' in page.get_data(as_text=True)
    response = client.post(url_for('qualification.board_request_clarification', application_id=application.id),
                           data={'message': 'Two things, please'})
    assert response.status_code == 302
    request = board.open_clarification(db.session.get(Application, application.id))
    assert set(request.questions) == {'ins-certificates', 'wf-retention'}

    login_as(provider)
    task_list = client.get(url_for('qualification.task_list', application_id=application.id)).get_data(as_text=True)
    assert 'Upload the current employer’s liability certificate' in task_list
    assert 'Upload the document asked for' in task_list
    assert 'Say how many staff left last year' in task_list
    page = client.get(url_for('qualification.edit_section', application_id=application.id,
                              section_id='insurance')).get_data(as_text=True)
    assert 'type="file"' in page and 'name="ins-el-amount"' not in page
    response = client.post(url_for('qualification.edit_section', application_id=application.id,
                                   section_id='insurance'),
                           data={'ins-certificates': (io.BytesIO(PDF_BYTES), 'el-certificate.pdf'),
                                 'save_and_continue': 'Save and continue'}, content_type='multipart/form-data')
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    response = client.post(url_for('qualification.edit_section', application_id=application.id,
                                   section_id='workforce'),
                           data={'wf-retention': 'Six of forty staff left; exit interviews led to a pay review.',
                                 'save_and_continue': 'Save and continue'})
    assert response.status_code == 302
    response = client.post(url_for('qualification.submit_application', application_id=application.id),
                           data={'name': 'Pat Provider', 'role': 'Director', 'confirm': 'y'})
    assert response.status_code == 302
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert application.status == ApplicationStatus.SUBMITTED
    assert 'el-certificate.pdf' in [item['filename'] for item in application.snapshot['evidence']]
    assert db.session.scalar(select(Evidence).where(Evidence.filename == 'el-certificate.pdf')) is not None
    # the board re-marks what it asked about
    assert not db.session.scalars(select(QuestionReview).where(
        QuestionReview.application_id == application.id,
        QuestionReview.question_id.in_(['ins-certificates', 'wf-retention']))).all()


def test_renewal_reminder_says_to_renew_from_the_approved_application(app_ctx, organisation):
    from qualification.qualifications import expire_due
    from registry.notifications.models import OutboxEmail
    from tests.qualification.board_helpers import make_qualification

    make_qualification(organisation, valid_from=date.today() - timedelta(days=340))
    expire_due()
    email = db.session.scalars(select(OutboxEmail).where(OutboxEmail.template == 'qualification-reminder')).one()
    assert 'Renew from your approved application' in email.body and 'Start a new application' not in email.body


def test_scheme_can_say_when_a_document_expires():
    from qualification.schemes import Expiry, SchemeError, parse_scheme
    from tests.qualification.test_schemes import GOOD_QUESTIONS, scheme_text

    expiring = GOOD_QUESTIONS + """
      - id: ins-certificate
        type: evidence
        label: Upload your certificate
        evidence: The certificate
        expires: {dates: [ins-el-expiry], after_days: 0}
"""
    scheme = parse_scheme(scheme_text(expiring).encode(), '9.1.yaml')
    question = scheme.questions['ins-certificate']
    assert question.expires == Expiry(('ins-el-expiry',), 0)
    assert carry.expiry_rule(scheme, question) == question.expires
    # tracking expiry does not change what the answer means: it still carries forward
    plain = parse_scheme(scheme_text(expiring.replace('        expires: {dates: [ins-el-expiry], after_days: 0}\n',
                                                      '')).encode(), '9.1.yaml')
    assert plain.questions['ins-certificate'].fingerprint == question.fingerprint
    with pytest.raises(SchemeError, match="expires: 'ins-el-amount' is not a date question"):
        parse_scheme(scheme_text(expiring.replace('[ins-el-expiry]', '[ins-el-amount]')).encode(), '9.1.yaml')
    with pytest.raises(SchemeError, match="'expires' applies only to an evidence question"):
        parse_scheme(scheme_text(GOOD_QUESTIONS.replace(
            "        rule: {auto: {min: 5000000}}", "        expires: {dates: [ins-el-expiry]}")).encode(), '9.1.yaml')
