"""The provider journey over HTTP: start, fill every section, upload evidence, check, submit; errors and access."""

from __future__ import annotations

import io
from datetime import date

import pytest
from flask import url_for
from sqlalchemy import func, select

from qualification.applications import Answer, Application, Evidence
from qualification.schemes import load_scheme
from qualification.states import ApplicationStatus
from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.notifications.models import OutboxEmail
from tests.factories import make_user
from tests.qualification.conftest import (
    PDF_BYTES,
    PNG_BYTES,
    encode,
    form_data_for,
    make_member,
    make_organisation,
    valid_value,
)

LOTS = ['childrens-homes']


@pytest.fixture
def scheme():
    return load_scheme('2026.1')


def start(client, organisation, lots=LOTS) -> Application:
    response = client.post(url_for('qualification.start_application', organisation_id=organisation.id),
                           data={'lots': lots})
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalars(select(Application).where(Application.organisation_id == organisation.id)).one()


def section_url(application, section_id):
    return url_for('qualification.edit_section', application_id=application.id, section_id=section_id)


def fill_section(client, application, section, lots=LOTS, overrides=None):
    data = form_data_for(section, lots, overrides)
    for question in section.questions_for(lots):
        if question.type == 'evidence':
            data[question.id] = (io.BytesIO(PDF_BYTES), f'{question.id}.pdf')
    return client.post(section_url(application, section.id), data=data, content_type='multipart/form-data')


def answers_count(application_id) -> int:
    return db.session.scalar(select(func.count(Answer.id)).where(Answer.application_id == application_id))


def test_provider_can_complete_and_submit_an_application_for_childrens_homes(client, login_as, organisation,
                                                                             provider, scheme):
    login_as(provider)
    application = start(client, organisation)
    task_list = client.get(url_for('qualification.task_list', application_id=application.id)).get_data(as_text=True)
    assert 'Not started' in task_list and 'Cannot start yet' in task_list
    assert 'Fostering' not in task_list  # the fostering section is for another lot

    sections = scheme.sections_for(LOTS)
    for section in sections:
        response = fill_section(client, application, section)
        assert response.status_code == 302, (section.id, response.get_data(as_text=True)[:3000])
        assert response.headers['Location'].endswith(f'/sections/{section.id}/check')
        check = client.get(response.headers['Location']).get_data(as_text=True)
        assert 'Check your answers' in check and 'Not answered' not in check

    task_list = client.get(url_for('qualification.task_list', application_id=application.id)).get_data(as_text=True)
    assert 'Cannot start yet' not in task_list and 'Not started' in task_list  # the submit task is now open

    db.session.expire_all()
    evidence = db.session.scalars(select(Evidence).where(Evidence.application_id == application.id)).all()
    assert {item.question_id for item in evidence} == {'fin-accounts', 'ins-certificates', 'reg-certificate',
                                                         'sg-policy', 'pol-complaints', 'qa-outcomes-report'}
    assert all(item.content_type == 'application/pdf' and len(item.sha256) == 64 for item in evidence)

    # the uploaded PDF comes back through the signed link
    download = client.get(url_for('qualification.download_evidence', evidence_id=evidence[0].id))
    assert download.status_code == 302
    served = client.get(download.headers['Location'])
    assert served.status_code == 200 and served.data == PDF_BYTES

    page = client.get(url_for('qualification.submit_application', application_id=application.id))
    assert 'Check your answers before submitting' in page.get_data(as_text=True)
    response = client.post(url_for('qualification.submit_application', application_id=application.id),
                           data={'name': 'Pat Provider', 'role': 'Director', 'confirm': 'y'})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    confirmation = client.get(response.headers['Location']).get_data(as_text=True)
    assert 'Application submitted' in confirmation and f'QA-{application.id}' in confirmation

    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert application.status == ApplicationStatus.SUBMITTED and application.submitted_at is not None
    snapshot = application.snapshot
    assert snapshot['scheme_sha256'] == scheme.sha256 and snapshot['lots'] == LOTS
    assert snapshot['answers']['ins-el-amount'] == 500000100
    assert snapshot['outcomes']['ins-el-amount'] == 'pass' and snapshot['outcomes']['org-legal-name'] == 'assessor'
    assert len(snapshot['evidence']) == 6 and snapshot['declaration']['name'] == 'Pat Provider'
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == 'application.submit'))
    assert db.session.scalar(select(OutboxEmail.template).where(OutboxEmail.to_address == organisation.contact_email)) \
        == 'application-submit'

    # frozen: further edits are refused and change nothing
    before = answers_count(application.id)
    organisation_section = scheme.section('organisation')
    response = fill_section(client, application, organisation_section,
                            overrides={'org-legal-name': 'Changed after submission Ltd'})
    assert response.status_code == 409
    assert 'can no longer change it' in response.get_data(as_text=True)
    db.session.expire_all()
    assert answers_count(application.id) == before
    assert db.session.get(Application, application.id).snapshot['answers']['org-legal-name'] != \
        'Changed after submission Ltd'
    snapshot_page = client.get(url_for('qualification.view_snapshot', application_id=application.id))
    assert snapshot_page.status_code == 200 and '£5,000,001' in snapshot_page.get_data(as_text=True)


def test_provider_can_save_a_section_and_come_back_later_with_partial_answers(client, login_as, organisation,
                                                                               provider, scheme):
    login_as(provider)
    application = start(client, organisation)
    response = client.post(section_url(application, 'insurance'),
                           data={'ins-el-amount': '£5,000,000.50', 'save_and_return': 'Save and come back later'})
    assert response.status_code == 302
    assert response.headers['Location'].endswith(f'/applications/{application.id}')
    stored = db.session.scalars(select(Answer).where(Answer.application_id == application.id)).all()
    assert [(answer.question_id, answer.value) for answer in stored] == [('ins-el-amount', 500000050)]
    page = client.get(url_for('qualification.task_list', application_id=application.id)).get_data(as_text=True)
    assert 'In progress' in page
    form = client.get(section_url(application, 'insurance')).get_data(as_text=True)
    assert 'value="5000000.50"' in form


def test_follow_up_question_is_required_only_when_triggered(client, login_as, organisation, provider, scheme):
    login_as(provider)
    application = start(client, organisation)
    section = scheme.section('organisation')
    # "no" to having a parent: the ultimate owner question is not required and not stored
    response = fill_section(client, application, section, overrides={'org-has-parent': 'no',
                                                                     'org-ultimate-owner': 'Should be dropped'})
    assert response.status_code == 302
    values = db.session.get(Application, application.id).answer_values()
    assert 'org-ultimate-owner' not in values
    # "yes" with no owner given: the follow-up is now required
    data = form_data_for(section, LOTS, {'org-has-parent': 'yes'})
    data.pop('org-ultimate-owner', None)
    response = client.post(section_url(application, 'organisation'), data=data)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'There is a problem' in body and 'Enter your answer to ‘Name the ultimate owner' in body


def test_negative_net_assets_need_the_parent_guarantee_follow_up(client, login_as, organisation, provider, scheme):
    login_as(provider)
    application = start(client, organisation)
    section = scheme.section('financial')
    data = form_data_for(section, LOTS, {'fin-net-assets': -2_500_000})
    data.pop('fin-parent-guarantee', None)
    data['fin-accounts'] = (io.BytesIO(PDF_BYTES), 'accounts.pdf')
    response = client.post(section_url(application, 'financial'), data=data, content_type='multipart/form-data')
    assert response.status_code == 400
    assert 'Select your answer to ‘Will a parent company or investor guarantee your obligations' in \
        response.get_data(as_text=True)
    assert answers_count(application.id) == 0
    assert db.session.scalar(select(func.count(Evidence.id))) == 0


BAD_INPUTS = [
    ('organisation', 'org-insolvency', 'maybe', 'Select one of the options shown', None),
    ('financial', 'fin-turnover', 'lots', 'must be an amount of money in pounds', None),
    ('financial', 'fin-turnover', '12.345', 'must be an amount of money in pounds', None),
    ('financial', 'fin-turnover', '-5', 'must be £0 or more', None),
    # no upper bound in the scheme: a number this long used to be saved (as infinity on SQLite, breaking the
    # section's pages for good) or to crash the save
    ('financial', 'fin-turnover', '9' * 400, 'must be less than £1,000,000,000,000', None),
    ('financial', 'fin-turnover', '9' * 5000, 'must be less than £1,000,000,000,000', None),
    ('financial', 'fin-net-assets', '-' + '9' * 400, 'must be more than -£1,000,000,000,000', None),
    ('financial', 'fin-largest-customer', '9' * 400 + '.5', 'must be between 0 and 100', None),
    ('financial', 'fin-largest-customer', '101', 'must be between 0 and 100', None),
    ('financial', 'fin-largest-customer', 'ten', 'must be a number', None),
    ('financial', 'fin-year-end', ['31', '2', '2025'], 'must be a real date', None),
    ('financial', 'fin-year-end', ['1', '', '2025'], 'must include a month', None),
    ('financial', 'fin-year-end', ['1', '1', '2999'], 'must be today or in the past', None),
    ('quality', 'qa-outcomes-measured', ['made-up'], 'Select only the options shown', None),
    ('quality', 'qa-system', 'short', 'must be 20 characters or more', None),
    ('workforce', 'wf-qualifications__0__count', 'many', '‘Number of staff’ must be a number', 'rows'),
    ('workforce', 'wf-qualifications__1__role', 'Deputy', 'Enter ‘Qualification’ in row 2', 'rows'),
    ('financial', 'fin-accounts', 'missing-file', 'Upload a file for ‘Upload your latest statutory accounts’', 'file'),
]


@pytest.mark.parametrize(('section_id', 'field', 'value', 'message', 'kind'), BAD_INPUTS)
def test_provider_cannot_save_a_section_with_bad_input(client, login_as, organisation, provider, scheme,
                                                       section_id, field, value, message, kind):
    login_as(provider)
    application = start(client, organisation)
    section = scheme.section(section_id)
    data = form_data_for(section, LOTS)
    for question in section.questions_for(LOTS):
        if question.type == 'evidence' and not (kind == 'file' and question.id == field):
            data[question.id] = (io.BytesIO(PDF_BYTES), f'{question.id}.pdf')
    if kind != 'file':
        data[field] = value
    response = client.post(section_url(application, section_id), data=data, content_type='multipart/form-data')
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'govuk-error-summary' in body and 'There is a problem' in body
    assert message in body
    assert answers_count(application.id) == 0
    assert db.session.scalar(select(func.count(Evidence.id))) == 0


def test_evidence_whose_content_does_not_match_its_name_is_rejected(client, login_as, organisation, provider):
    login_as(provider)
    application = start(client, organisation)
    response = client.post(section_url(application, 'policies'),
                           data={'pol-complaints': (io.BytesIO(PNG_BYTES), 'complaints.pdf'),
                                 'save_and_return': 'Save and come back later'},
                           content_type='multipart/form-data')
    assert response.status_code == 400
    assert 'is not a real PDF: its content is a PNG image' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Evidence.id))) == 0


def test_evidence_of_an_unlisted_type_is_rejected(client, login_as, organisation, provider):
    login_as(provider)
    application = start(client, organisation)
    response = client.post(section_url(application, 'policies'),
                           data={'pol-complaints': (io.BytesIO(b'#!/bin/sh\nrm -rf /'), 'policy.sh'),
                                 'save_and_return': 'Save and come back later'},
                           content_type='multipart/form-data')
    assert response.status_code == 400
    assert 'must be a PDF, DOCX, XLSX, ODT, PNG or JPEG' in response.get_data(as_text=True)


def test_evidence_over_the_size_limit_is_rejected_with_a_form_error(app, client, login_as, organisation, provider,
                                                                    monkeypatch):
    login_as(provider)
    application = start(client, organisation)
    monkeypatch.setitem(app.config, 'MAX_UPLOAD_MB', 1)
    big = PDF_BYTES + b'0' * (1024 * 1024 + 10)
    response = client.post(section_url(application, 'policies'),
                           data={'pol-complaints': (io.BytesIO(big), 'big.pdf'),
                                 'save_and_return': 'Save and come back later'},
                           content_type='multipart/form-data')
    assert response.status_code == 400
    assert 'must be smaller than 1MB' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Evidence.id))) == 0


def test_request_bodies_beyond_max_content_length_get_413(app, client, login_as, organisation, provider,
                                                          monkeypatch):
    login_as(provider)
    application = start(client, organisation)
    assert app.config['MAX_CONTENT_LENGTH'] == (app.config['MAX_UPLOAD_MB'] + 1) * 1024 * 1024
    monkeypatch.setitem(app.config, 'MAX_CONTENT_LENGTH', 64 * 1024)
    response = client.post(section_url(application, 'policies'),
                           data={'pol-complaints': (io.BytesIO(PDF_BYTES + b'0' * 100_000), 'big.pdf')},
                           content_type='multipart/form-data')
    assert response.status_code == 413


def test_hostile_filename_is_sanitised_and_the_file_stored_under_a_random_key(app, client, login_as, organisation,
                                                                               provider):
    login_as(provider)
    application = start(client, organisation)
    response = client.post(section_url(application, 'policies'),
                           data={'pol-complaints': (io.BytesIO(PDF_BYTES), '../../etc/passwd.pdf'),
                                 'save_and_return': 'Save and come back later'},
                           content_type='multipart/form-data')
    assert response.status_code == 302
    evidence = db.session.scalars(select(Evidence)).one()
    assert evidence.filename == 'passwd.pdf'
    assert 'passwd' not in evidence.storage_key and '..' not in evidence.storage_key
    assert len(evidence.storage_key.rsplit('/', 1)[1]) >= 32
    from pathlib import Path
    assert (Path(app.config['STORAGE_LOCAL_DIR']) / evidence.storage_key).read_bytes() == PDF_BYTES


def test_provider_can_remove_evidence_from_a_draft(app, client, login_as, organisation, provider):
    login_as(provider)
    application = start(client, organisation)
    client.post(section_url(application, 'policies'),
                data={'pol-complaints': (io.BytesIO(PDF_BYTES), 'complaints.pdf'),
                      'save_and_return': 'Save and come back later'}, content_type='multipart/form-data')
    evidence = db.session.scalars(select(Evidence)).one()
    page = client.get(section_url(application, 'policies')).get_data(as_text=True)
    assert 'complaints.pdf' in page and url_for('qualification.remove_evidence', evidence_id=evidence.id) in page
    key = evidence.storage_key
    response = client.post(url_for('qualification.remove_evidence', evidence_id=evidence.id))
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Evidence.id))) == 0
    from pathlib import Path
    assert not (Path(app.config['STORAGE_LOCAL_DIR']) / key).exists()


def test_another_organisations_provider_gets_403_on_every_application_url(client, login_as, organisation,
                                                                          provider, scheme):
    login_as(provider)
    application = start(client, organisation)
    client.post(section_url(application, 'policies'),
                data={'pol-complaints': (io.BytesIO(PDF_BYTES), 'complaints.pdf'),
                      'save_and_return': 'Save and come back later'}, content_type='multipart/form-data')
    evidence = db.session.scalars(select(Evidence)).one()
    outsider = make_member(make_organisation())
    login_as(outsider)
    app_id = application.id
    gets = [
        url_for('qualification.task_list', application_id=app_id),
        url_for('qualification.edit_section', application_id=app_id, section_id='organisation'),
        url_for('qualification.check_section', application_id=app_id, section_id='organisation'),
        url_for('qualification.submit_application', application_id=app_id),
        url_for('qualification.submitted', application_id=app_id),
        url_for('qualification.view_snapshot', application_id=app_id),
        url_for('qualification.withdraw_application', application_id=app_id),
        url_for('qualification.download_evidence', evidence_id=evidence.id),
        url_for('qualification.start_application', organisation_id=organisation.id),
    ]
    for url in gets:
        assert client.get(url).status_code == 403, url
    posts = [
        (url_for('qualification.edit_section', application_id=app_id, section_id='organisation'),
         form_data_for(scheme.section('organisation'), LOTS)),
        (url_for('qualification.submit_application', application_id=app_id),
         {'name': 'X', 'role': 'Y', 'confirm': 'y'}),
        (url_for('qualification.withdraw_application', application_id=app_id), {}),
        (url_for('qualification.remove_evidence', evidence_id=evidence.id), {}),
        (url_for('qualification.start_application', organisation_id=organisation.id), {'lots': ['fostering']}),
    ]
    for url, data in posts:
        assert client.post(url, data=data).status_code == 403, url
    db.session.expire_all()
    assert db.session.get(Application, app_id).status == ApplicationStatus.DRAFT
    assert answers_count(app_id) == 0 and db.session.scalar(select(func.count(Evidence.id))) == 1


@pytest.mark.parametrize('role', [Role.ASSESSOR, Role.BOARD_MEMBER, Role.ADMIN])
def test_board_can_read_but_not_edit_an_application(client, login_as, organisation, provider, scheme, role):
    login_as(provider)
    application = start(client, organisation)
    client.post(section_url(application, 'policies'),
                data={'pol-complaints': (io.BytesIO(PDF_BYTES), 'complaints.pdf'),
                      'save_and_return': 'Save and come back later'}, content_type='multipart/form-data')
    evidence = db.session.scalars(select(Evidence)).one()
    login_as(make_user(role))
    assert client.get(url_for('qualification.view_snapshot', application_id=application.id)).status_code == 200
    assert client.get(url_for('qualification.download_evidence', evidence_id=evidence.id)).status_code == 302
    assert client.get(section_url(application, 'organisation')).status_code == 403
    assert client.post(section_url(application, 'organisation'),
                       data=form_data_for(scheme.section('organisation'), LOTS)).status_code == 403


def test_commissioner_cannot_read_a_drafts_evidence_even_once_the_organisation_is_qualified(client, login_as,
                                                                                            organisation, provider):
    from qualification.models import Qualification

    login_as(provider)
    application = start(client, organisation)
    client.post(section_url(application, 'policies'),
                data={'pol-complaints': (io.BytesIO(PDF_BYTES), 'complaints.pdf'),
                      'save_and_return': 'Save and come back later'}, content_type='multipart/form-data')
    evidence = db.session.scalars(select(Evidence)).one()
    login_as(make_user(Role.COMMISSIONER))
    url = url_for('qualification.download_evidence', evidence_id=evidence.id)
    assert client.get(url).status_code == 403
    assert client.get(url_for('qualification.view_snapshot', application_id=application.id)).status_code == 403
    today = date.today()
    db.session.add(Qualification(organisation_id=organisation.id, lot='childrens-homes', scheme_version='2026.1',
                                 valid_from=today, valid_to=today.replace(year=today.year + 1),
                                 next_review_due=today.replace(year=today.year + 1)))
    db.session.commit()
    # only evidence of approved applications reaches commissioners (tests/security/test_evidence_access.py)
    assert client.get(url).status_code == 403


def test_signed_out_visitor_is_sent_to_sign_in(client, organisation):
    response = client.get(url_for('qualification.index'))
    assert response.status_code == 302 and '/sign-in' in response.headers['Location']


def test_provider_cannot_start_a_second_open_application(client, login_as, organisation, provider):
    login_as(provider)
    application = start(client, organisation)
    response = client.get(url_for('qualification.start_application', organisation_id=organisation.id))
    assert response.status_code == 302
    assert response.headers['Location'].endswith(f'/applications/{application.id}')


def test_choosing_no_lot_shows_an_error(client, login_as, organisation, provider):
    login_as(provider)
    response = client.post(url_for('qualification.start_application', organisation_id=organisation.id), data={})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'There is a problem' in body and 'Select at least one service to qualify for' in body
    assert db.session.scalar(select(func.count(Application.id))) == 0


def test_provider_can_withdraw_a_draft(client, login_as, organisation, provider):
    login_as(provider)
    application = start(client, organisation)
    response = client.post(url_for('qualification.withdraw_application', application_id=application.id),
                           data={'reason': 'Not ready'})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == ApplicationStatus.WITHDRAWN


def test_valid_value_helper_matches_every_question_type(scheme):
    # guards the journey helper itself: every question type gets a value (evidence is uploaded instead)
    for question in scheme.questions.values():
        assert (valid_value(question) is None) == (question.type == 'evidence'), question.id
        assert encode(question, valid_value(question)) or question.type == 'evidence'


def test_every_section_page_renders_for_every_lot_with_follow_ups_revealed_in_place(client, login_as, organisation,
                                                                                    provider, scheme):
    login_as(provider)
    application = start(client, organisation, lots=['childrens-homes', 'fostering', 'assessment-services'])
    for section in scheme.sections:
        response = client.get(section_url(application, section.id))
        assert response.status_code == 200, section.id
        body = response.get_data(as_text=True)
        for question in section.questions:
            assert question.label.replace("'", '&#39;') in body, question.id
    body = client.get(section_url(application, 'organisation')).get_data(as_text=True)
    # the ultimate-owner follow-up sits in the conditional reveal of the "Yes" radio
    assert 'data-aria-controls="conditional-org-has-parent"' in body
    assert body.index('conditional-org-has-parent"') < body.index('name="org-ultimate-owner"')
