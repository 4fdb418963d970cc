"""Helpers for the board, qualification and local-list tests: a submitted application, board users, settings."""

from __future__ import annotations

from datetime import date

from flask import url_for
from sqlalchemy import select

from qualification.applications import Application
from qualification.board import add_months
from qualification.models import Qualification, QualificationStatus
from qualification.schemes import load_scheme
from registry.accounts.models import Role
from registry.extensions import db
from registry.settings.models import Setting
from registry.settings.taxonomy import Lot, ProvisionType
from tests.factories import make_user
from tests.qualification import test_views as provider_journey

LOTS = ['childrens-homes']


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
