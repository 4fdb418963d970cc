"""The whole journey over HTTP: apply with evidence, clarification, proposal, second sign-off, listing, local list."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from qualification.applications import Answer, Application
from qualification.listing import accepted_authority_codes, is_listed
from qualification.models import LocalApplication, LocalApplicationStatus, Qualification, QualificationStatus
from qualification.review import LotDecision, Review
from qualification.states import ApplicationStatus
from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.indexing import ReindexRequest
from registry.notifications.models import OutboxEmail
from tests.factories import make_user
from tests.qualification.board_helpers import (
    application_status,
    board_users,
    make_setting,
    mark_remaining_over_http,
    submit_application_over_http,
)


def test_provider_can_go_from_application_to_national_qualification_and_a_local_list(client, login_as, organisation,
                                                                                      provider):
    setting = make_setting(organisation)
    users = board_users()
    assessor, member, second = users['assessor'], users['member'], users['member2']
    commissioner = make_user(Role.COMMISSIONER, authority_code='E09000033')
    application = submit_application_over_http(client, login_as, organisation, provider)
    assert application.status == ApplicationStatus.SUBMITTED
    assert not is_listed(setting)

    # a board member assigns an assessor: the review starts
    login_as(member)
    queue = client.get(url_for('qualification.board_queue', assigned='unassigned')).get_data(as_text=True)
    assert f'QA-{application.id}' in queue and 'Unassigned' in queue
    response = client.post(url_for('qualification.board_assign', application_id=application.id),
                           data={'assessor_id': assessor.id})
    assert response.status_code == 302
    assert application_status(application.id) == ApplicationStatus.IN_REVIEW

    # the assessor sees answers, evidence links and the automatic marks (not pre-selected), and asks about one
    login_as(assessor)
    mine = client.get(url_for('qualification.board_queue', assigned='me')).get_data(as_text=True)
    assert f'QA-{application.id}' in mine
    page = client.get(url_for('qualification.board_review_section', application_id=application.id,
                              section_id='insurance')).get_data(as_text=True)
    assert 'Automatic mark' in page and '/qualification/evidence/' in page
    assert 'To qualify, the answer must be at least £5,000,000.' in page
    assert 'value="pass" checked' not in page
    response = client.post(url_for('qualification.board_review_section', application_id=application.id,
                                   section_id='organisation'),
                           data={'outcome_org_conflicts': 'clarify',
                                 'comment_org_conflicts': 'Say whether you also commission care'})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    response = client.post(url_for('qualification.board_request_clarification', application_id=application.id),
                           data={'message': 'One question needs a clearer answer'})
    assert response.status_code == 302
    assert application_status(application.id) == ApplicationStatus.CLARIFICATION_REQUESTED

    # the provider sees and changes only the flagged question
    login_as(provider)
    task_list = client.get(url_for('qualification.task_list', application_id=application.id)).get_data(as_text=True)
    assert 'Say whether you also commission care' in task_list and 'Insurance' not in task_list
    section = client.get(url_for('qualification.edit_section', application_id=application.id,
                                 section_id='organisation')).get_data(as_text=True)
    assert 'name="org-conflicts"' in section and 'name="org-insolvency"' not in section
    insurance_before = db.session.scalar(select(Answer.value).where(Answer.application_id == application.id,
                                                                    Answer.question_id == 'ins-el-amount'))
    response = client.post(url_for('qualification.edit_section', application_id=application.id,
                                   section_id='insurance'), data={'ins-el-amount': '1.00'})
    assert response.status_code == 302  # not flagged: nothing to edit there
    response = client.post(url_for('qualification.edit_section', application_id=application.id,
                                   section_id='organisation'),
                           data={'org-conflicts': 'None: we do not commission care',
                                 'save_and_continue': 'Save and continue'})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    values = db.session.get(Application, application.id).answer_values()
    assert values['org-conflicts'] == 'None: we do not commission care' and values['ins-el-amount'] == insurance_before
    response = client.post(url_for('qualification.submit_application', application_id=application.id),
                           data={'name': 'Pat Provider', 'role': 'Director', 'confirm': 'y'})
    assert response.status_code == 302
    assert application_status(application.id) == ApplicationStatus.SUBMITTED

    # the assessor reviews again and proposes approval
    login_as(assessor)
    assert client.post(url_for('qualification.board_start_review', application_id=application.id),
                       data={}).status_code == 302
    assert application_status(application.id) == ApplicationStatus.IN_REVIEW
    decision = {'outcome_childrens_homes': 'approve', 'reasons_childrens_homes': 'Meets every national requirement'}
    refused = client.post(url_for('qualification.board_propose_decision', application_id=application.id),
                          data=decision)
    assert refused.status_code == 409 and 'no outcome yet' in refused.get_data(as_text=True)
    assert application_status(application.id) == ApplicationStatus.IN_REVIEW
    mark_remaining_over_http(client, application)
    response = client.post(url_for('qualification.board_propose_decision', application_id=application.id),
                           data=decision)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert application_status(application.id) == ApplicationStatus.DECISION_PROPOSED

    # the assessor cannot sign off their own proposal
    refused = client.post(url_for('qualification.board_sign_off', application_id=application.id),
                          data={'decision': 'sign-off'})
    assert refused.status_code == 403
    assert 'a second board member must sign' in refused.get_data(as_text=True)
    assert application_status(application.id) == ApplicationStatus.DECISION_PROPOSED

    # a second board member signs off: the qualification is active and the setting is listed
    login_as(second)
    response = client.post(url_for('qualification.board_sign_off', application_id=application.id),
                           data={'decision': 'sign-off', 'comment': 'Agreed'})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert application_status(application.id) == ApplicationStatus.APPROVED
    review = db.session.scalars(select(Review).where(Review.application_id == application.id)).one()
    assert (review.assessor_id, review.proposed_by_id, review.signed_off_by_id) == (assessor.id, assessor.id, second.id)
    qualification = db.session.scalars(select(Qualification).where(
        Qualification.organisation_id == organisation.id)).one()
    assert qualification.status == QualificationStatus.ACTIVE and qualification.application_id == application.id
    assert (qualification.valid_to - qualification.valid_from).days in range(364, 366)
    assert is_listed(setting)
    assert setting.id in db.session.scalars(select(ReindexRequest.setting_id)).all()
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {'application.assign', 'application.mark', 'application.request-clarification',
            'application.accept_automatic_marks', 'application.propose-decision', 'application.approve',
            'qualification.grant'} <= actions
    assert len(db.session.scalars(select(LotDecision)).all()) == 1

    # the provider sees the decision and its reasons
    login_as(provider)
    snapshot = client.get(url_for('qualification.view_snapshot', application_id=application.id)).get_data(as_text=True)
    assert 'Meets every national requirement' in snapshot and 'Approved' in snapshot
    assert 'application-approve' in db.session.scalars(select(OutboxEmail.template)).all()

    # a commissioner publishes local requirements; the qualified provider joins by answering only those
    login_as(commissioner)
    response = client.post(url_for('qualification.publish_local_requirements'), data={
        'lot': 'childrens-homes', 'questions': 'yes/no: Will you attend our provider forum?\nDescribe your local links',
        'documents': 'Local safeguarding protocol', 'prices': 'Solo placement | 5200.00'})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    login_as(provider)
    page = client.get(url_for('qualification.organisation_qualifications', organisation_id=organisation.id))
    text = page.get_data(as_text=True)
    assert 'Westminster' in text and 'Active' in text
    requirements_link = text.split('/local/')[1].split('/apply')[0]
    response = client.post(url_for('qualification.apply_locally', organisation_id=organisation.id,
                                   requirements_id=int(requirements_link)),
                           data={'answer_q1': 'yes', 'answer_q2': 'We work with three local schools',
                                 'accepts_terms': 'y'})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    local_application = db.session.scalars(select(LocalApplication)).one()
    assert local_application.status == LocalApplicationStatus.SUBMITTED
    assert local_application.answers == {'q1': 'yes', 'q2': 'We work with three local schools'}

    # the authority accepts; the acceptance shows on the provider's page and as a public fact
    login_as(commissioner)
    response = client.post(url_for('qualification.local_application', local_application_id=local_application.id),
                           data={'decision': 'accept'})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert accepted_authority_codes(organisation.id) == ['E09000033']
    login_as(provider)
    page = client.get(url_for('qualification.organisation_qualifications', organisation_id=organisation.id))
    assert 'On local lists of' in page.get_data(as_text=True)
    assert 'Westminster' in page.get_data(as_text=True).split('On local lists of')[1]
