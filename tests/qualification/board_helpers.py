"""Helpers for the board, qualification and local-list tests: a submitted application, board users, settings."""

from __future__ import annotations

import io
from datetime import date

from flask import url_for
from sqlalchemy import select

from qualification import board, services
from qualification.applications import Application
from qualification.board import add_months
from qualification.evidence import check_upload
from qualification.models import Qualification, QualificationStatus
from qualification.schemes import load_scheme
from registry.accounts.models import Role
from registry.extensions import db
from registry.settings.models import Setting
from registry.settings.taxonomy import Lot, ProvisionType
from tests.factories import make_user, register_with_ofsted
from tests.qualification import test_views as provider_journey
from tests.qualification.conftest import PDF_BYTES, stored_answers

LOTS = ['childrens-homes']

#: The issue's application: insolvency proceedings, £1 employer's liability cover, an inadequate Ofsted judgement
#: and no enhanced DBS checks. Everything else is a valid, passing answer.
FAILING_ANSWERS = {'org-insolvency': 'yes', 'ins-el-amount': 100, 'reg-lowest-judgement': 'inadequate',
                   'wf-dbs-enhanced': 'no'}
FAILING_QUESTIONS = sorted(FAILING_ANSWERS)


def completed_application(organisation, provider, *, lots=LOTS, answers: dict | None = None) -> Application:
    """Start, answer every section (valid answers unless ``answers`` says otherwise) and upload evidence, through
    the real services: ready to submit."""
    scheme = load_scheme('2026.1')
    application = services.start_application(organisation, list(lots), actor=provider)
    for section_id, values in stored_answers(scheme, lots).items():
        values.update({key: value for key, value in (answers or {}).items() if key in values})
        services.save_answers(application, section_id, values, actor=provider)
    for section in scheme.sections_for(lots):
        for question in section.questions_for(lots):
            if question.type == 'evidence' and question.required:
                upload = check_upload(io.BytesIO(PDF_BYTES), f'{question.id}.pdf', 10 * 1024 * 1024)
                services.upload_evidence(application, question.id, upload, actor=provider)
    db.session.expire_all()
    return db.session.get(Application, application.id)


def submitted_application(organisation, provider, *, lots=LOTS, answers: dict | None = None) -> Application:
    """A :func:`completed_application`, submitted through the real services."""
    application = completed_application(organisation, provider, lots=lots, answers=answers)
    services.submit(application, {'name': 'Pat Provider', 'role': 'Director'}, actor=provider)
    return application


def in_review(organisation, provider, users, **kwargs) -> Application:
    """A submitted application assigned to ``users['assessor']`` (so in review)."""
    application = submitted_application(organisation, provider, **kwargs)
    board.assign(application, users['assessor'], actor=users['member'])
    return application


def mark_everything(application, actor, outcome: str = 'pass', comment: str = '') -> None:
    """Accept the automatic marks, then give every question still unmarked ``outcome``."""
    board.accept_automatic_marks(application, actor=actor)
    rest = {question.id: (outcome, comment) for question in board.review_state(application).unmarked}
    if rest:
        board.save_marks(application, rest, actor=actor)


def submit_application_over_http(client, login_as, organisation, provider) -> Application:
    """The provider starts, completes (with evidence) and submits an application through HTTP."""
    scheme = load_scheme('2026.1')
    login_as(provider)
    application = provider_journey.start(client, organisation)
    for section in scheme.sections_for(LOTS):
        response = provider_journey.fill_section(client, application, section)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    response = client.post(url_for('qualification.submit_application', application_id=application.id),
                           data={'name': 'Pat Provider', 'role': 'Director', 'confirm': 'y'})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    return db.session.get(Application, application.id)


def board_users() -> dict:
    return {'assessor': make_user(Role.ASSESSOR), 'member': make_user(Role.BOARD_MEMBER),
            'member2': make_user(Role.BOARD_MEMBER), 'admin': make_user(Role.ADMIN)}


def make_setting(organisation, name='Oak House', urn='SC123456') -> Setting:
    setting = Setting(organisation_id=organisation.id, provision_type=ProvisionType.CHILDRENS_HOME, name=name,
                      urn=urn, address_line_1='1 Oak Lane', town='Leeds', postcode='LS1 1AA', easting=430000.0,
                      northing=433000.0, district_code='E08000035', authority_code='E08000035', places=4, age_min=8,
                      age_max=17)
    db.session.add(setting)
    db.session.flush()
    register_with_ofsted(setting)
    db.session.commit()
    return setting


def make_qualification(organisation, *, lot=Lot.CHILDRENS_HOMES, valid_from: date | None = None,
                       status=QualificationStatus.ACTIVE) -> Qualification:
    """A qualification row as an approval would create it (fixture set-up for lifecycle tests)."""
    valid_from = valid_from or date.today()
    qualification = Qualification(organisation_id=organisation.id, lot=lot, scheme_version='2026.1', status=status,
                                  valid_from=valid_from, valid_to=add_months(valid_from, 12),
                                  next_review_due=add_months(valid_from, 11))
    db.session.add(qualification)
    db.session.commit()
    return qualification


def application_status(application_id: int):
    db.session.expire_all()
    return db.session.scalar(select(Application.status).where(Application.id == application_id))


def mark_remaining_over_http(client, application, outcome: str = 'pass') -> None:
    """As the signed-in assessor: accept the automatic marks, then mark every other question, section by section."""
    from qualification.board_forms import _field_key

    response = client.post(url_for('qualification.board_accept_automatic_marks', application_id=application.id))
    assert response.status_code == 302
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    unmarked = board.review_state(application).unmarked
    for section_id in dict.fromkeys(question.section_id for question in unmarked):
        data = {f'outcome_{_field_key(question.id)}': outcome for question in unmarked
                if question.section_id == section_id}
        response = client.post(url_for('qualification.board_review_section', application_id=application.id,
                                       section_id=section_id), data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert not board.review_state(db.session.get(Application, application.id)).unmarked
