"""Known data for the workspace: a Leeds commissioner and settings at real postcodes around Leeds and beyond."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

import search
from qualification.models import LocalApplication, LocalApplicationStatus, Qualification, QualificationStatus
from registry.accounts.models import Role
from registry.db import utcnow
from registry.extensions import db
from registry.geography.postcodes import lookup
from registry.organisations.models import LegalForm, Organisation, Sector
from registry.settings.models import Setting
from registry.settings.taxonomy import Judgement, Lot, ProvisionType, SexAccepted
from tests.factories import make_user, register_with_ofsted

LEEDS, BRADFORD, WESTMINSTER = 'E08000035', 'E08000032', 'E09000033'


def make_organisation(name: str) -> Organisation:
    organisation = Organisation(legal_name=name, legal_form=LegalForm.COMPANY_LIMITED_BY_SHARES, sector=Sector.PRIVATE,
                                address_line_1='1 High Street', town='Leeds', postcode='LS1 4DY',
                                contact_name='Alex Example', contact_email='alex@example.org',
                                contact_phone='0113 000 0000')
    db.session.add(organisation)
    db.session.flush()
    return organisation


def qualify(organisation: Organisation, lot: Lot, valid_days: int = 335) -> Qualification:
    today = date.today()
    qualification = Qualification(organisation_id=organisation.id, lot=lot, scheme_version='2026.1',
                                  status=QualificationStatus.ACTIVE, valid_from=today - timedelta(days=30),
                                  valid_to=today + timedelta(days=valid_days),
                                  next_review_due=today + timedelta(days=valid_days - 30))
    db.session.add(qualification)
    return qualification


def make_setting(organisation: Organisation, name: str, postcode: str, *,
                 provision_type: ProvisionType = ProvisionType.CHILDRENS_HOME, judgement: Judgement | None = None,
                 needs=(), ages=(8, 17), sex=SexAccepted.ANY, vacancies=1, confirmed_days_ago: float | None = 1,
                 places: int = 4) -> Setting:
    location = lookup(postcode)
    setting = Setting(
        organisation_id=organisation.id, provision_type=provision_type, name=name,
        address_line_1='2 Example Road', town=location.district_name, postcode=location.postcode,
        easting=location.easting, northing=location.northing, district_code=location.district_code,
        district_name=location.district_name, authority_code=location.authority_code, places=places,
        age_min=ages[0], age_max=ages[1], sex_accepted=sex, needs=list(needs), description='',
        vacancies=vacancies, judgement=judgement, judgement_date=date(2025, 3, 1) if judgement else None,
        vacancies_confirmed_at=None if confirmed_days_ago is None else utcnow() - timedelta(days=confirmed_days_ago),
    )
    db.session.add(setting)
    db.session.flush()
    register_with_ofsted(setting)
    return setting


def reindex() -> None:
    search.engine().reindex(search.build_entries())


@dataclass
class Known:
    """The known settings and people, by a short name."""

    fresh: Setting
    stale: Setting
    short_of_needs: Setting
    below_minimum: Setting
    no_vacancy: Setting
    bradford: Setting
    manchester: Setting
    siblings_home: Setting
    aire: Organisation
    pennine: Organisation
    leeds_officer: object
    leeds_colleague: object
    westminster_officer: object


@pytest.fixture
def known(app_ctx) -> Known:
    """Children's homes around Leeds for a 12-year-old girl with autism and emotional needs."""
    aire = make_organisation('Aire Valley Homes Ltd')
    pennine = make_organisation('Pennine Care Ltd')
    qualify(aire, Lot.CHILDRENS_HOMES)
    qualify(pennine, Lot.CHILDRENS_HOMES, valid_days=40)
    db.session.add(LocalApplication(organisation_id=aire.id, authority_code=LEEDS, lot=Lot.CHILDRENS_HOMES,
                                    status=LocalApplicationStatus.ACCEPTED, decided_at=utcnow()))
    db.session.add(LocalApplication(organisation_id=pennine.id, authority_code=LEEDS, lot=Lot.CHILDRENS_HOMES,
                                    status=LocalApplicationStatus.SUBMITTED))
    both = ['autism', 'emotional-behavioural']
    known = Known(
        # Identical but for the name and the age of the vacancy confirmation: the stale one sorts first by name.
        fresh=make_setting(aire, 'Zephyr House', 'LS6 2QB', judgement=Judgement.GOOD, needs=both, vacancies=2,
                           confirmed_days_ago=2),
        stale=make_setting(aire, 'Abbey House', 'LS6 2QB', judgement=Judgement.GOOD, needs=both, vacancies=2,
                           confirmed_days_ago=10),
        short_of_needs=make_setting(aire, 'Kirkstall Lodge', 'LS6 2QB', judgement=Judgement.OUTSTANDING,
                                    needs=['emotional-behavioural'], vacancies=1),
        below_minimum=make_setting(aire, 'Headingley Home', 'LS6 2QB', judgement=Judgement.REQUIRES_IMPROVEMENT,
                                   needs=both, vacancies=1),
        no_vacancy=make_setting(aire, 'Chapel Allerton House', 'LS6 2QB', judgement=Judgement.GOOD, needs=both,
                                vacancies=0),
        bradford=make_setting(pennine, 'Bradford Moor House', 'BD1 1HY', judgement=Judgement.GOOD, needs=both,
                              vacancies=1),
        manchester=make_setting(pennine, 'Piccadilly House', 'M1 1AE', judgement=Judgement.OUTSTANDING, needs=both,
                                vacancies=3),
        siblings_home=make_setting(pennine, 'Roundhay Siblings Home', 'LS6 2QB', judgement=Judgement.GOOD,
                                   needs=[*both, 'sibling-groups'], vacancies=3),
        aire=aire, pennine=pennine,
        leeds_officer=None, leeds_colleague=None, westminster_officer=None,
    )
    db.session.commit()
    reindex()
    known.leeds_officer = make_user(Role.COMMISSIONER, authority_code=LEEDS, full_name='Lee Officer')
    known.leeds_colleague = make_user(Role.COMMISSIONER, authority_code=LEEDS, full_name='Col League')
    known.westminster_officer = make_user(Role.COMMISSIONER, authority_code=WESTMINSTER, full_name='West Officer')
    return known


def _finder_args(**overrides) -> dict:
    """Finder query-string arguments for the known child: 12, female, autism and emotional needs, from LS1 4DY."""
    start = date.today() + timedelta(days=1)
    args = {'age': '12', 'sex': 'female', 'needs': ['autism', 'emotional-behavioural'], 'postcode': 'LS1 4DY',
            'authority': '', 'max_distance': '20', 'start_date': [str(start.day), str(start.month), str(start.year)],
            'placement': 'solo', 'children': '', 'min_judgement': 'good', 'provision_types': []}
    args.update(overrides)
    return args


def _criteria(**overrides) -> dict:
    """The same child as finder criteria (what the finder form produces)."""
    values = {'age': 12, 'sex': 'female', 'needs': ['autism', 'emotional-behavioural'], 'postcode': 'LS1 4DY',
              'authority': '', 'max_distance_miles': 20, 'start_date': (date.today() + timedelta(days=1)).isoformat(),
              'placement': 'solo', 'children': 1, 'min_judgement': 'good', 'provision_types': []}
    values.update(overrides)
    return values


@pytest.fixture
def finder_args():
    """Build finder query-string arguments for the known child, with overrides."""
    return _finder_args


@pytest.fixture
def criteria():
    """Build finder criteria for the known child, with overrides."""
    return _criteria
