"""Known directory data for search tests: real postcodes in Leeds, Bradford, Manchester, Newcastle, Westminster."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from qualification.models import LocalApplication, LocalApplicationStatus, Qualification, QualificationStatus
from registry.db import utcnow
from registry.extensions import db
from registry.geography.postcodes import lookup
from registry.organisations.models import LegalForm, Organisation, Sector
from registry.settings.models import Setting
from registry.settings.taxonomy import Judgement, Lot, ProvisionType, SexAccepted
from tests.factories import register_with_ofsted

LEEDS, BRADFORD, MANCHESTER, NEWCASTLE, WESTMINSTER = 'E08000035', 'E08000032', 'E08000003', 'E08000021', 'E09000033'
YORKSHIRE, NORTH_WEST, NORTH_EAST, LONDON = 'E12000003', 'E12000002', 'E12000001', 'E12000007'


def make_organisation(name: str) -> Organisation:
    organisation = Organisation(legal_name=name, legal_form=LegalForm.COMPANY_LIMITED_BY_SHARES, sector=Sector.PRIVATE,
                                address_line_1='1 High Street', town='Leeds', postcode='LS1 4DY',
                                contact_name='Alex Example', contact_email='alex@example.org',
                                contact_phone='0113 000 0000')
    db.session.add(organisation)
    db.session.flush()
    return organisation


def qualify(organisation: Organisation, lot: Lot, status: QualificationStatus = QualificationStatus.ACTIVE):
    today = date.today()
    db.session.add(Qualification(organisation_id=organisation.id, lot=lot, scheme_version='2025.1', status=status,
                                 valid_from=today - timedelta(days=30), valid_to=today + timedelta(days=335),
                                 next_review_due=today + timedelta(days=300)))


def make_setting(organisation: Organisation, name: str, provision_type: ProvisionType, postcode: str, *,
                 judgement: Judgement | None = None, needs=(), ages=(0, 17), sex=SexAccepted.ANY, vacancies=0,
                 description='', suspended=False) -> Setting:
    location = lookup(postcode)
    setting = Setting(
        organisation_id=organisation.id, provision_type=provision_type, name=name,
        address_line_1='2 Example Road', town=location.district_name, postcode=location.postcode,
        easting=location.easting, northing=location.northing, district_code=location.district_code,
        district_name=location.district_name, authority_code=location.authority_code, places=4,
        age_min=ages[0], age_max=ages[1], sex_accepted=sex, needs=list(needs), description=description,
        vacancies=vacancies, vacancies_confirmed_at=utcnow(), judgement=judgement,
        judgement_date=date(2025, 3, 1) if judgement else None,
        suspended_at=utcnow() if suspended else None,
    )
    db.session.add(setting)
    db.session.flush()
    register_with_ofsted(setting)
    return setting


@dataclass
class Directory:
    """The known settings, by a short name."""

    leeds_fostering: Setting
    oak_house: Setting
    willow_lodge: Setting
    riverside: Setting
    suspended_house: Setting
    pennine_assessment: Setting
    capital_fostering: Setting

    @property
    def listed_ids(self) -> set[int]:
        return {self.leeds_fostering.id, self.oak_house.id, self.willow_lodge.id, self.riverside.id,
                self.capital_fostering.id}


@pytest.fixture
def directory(app_ctx) -> Directory:
    """Five listed settings and two that must never be found (one suspended, one whose qualification is)."""
    brightwater = make_organisation('Brightwater Care Ltd')
    northern = make_organisation('Northern Lights Homes Ltd')
    pennine = make_organisation('Pennine Assessments Ltd')
    capital = make_organisation('Capital Families Ltd')
    qualify(brightwater, Lot.FOSTERING)
    qualify(northern, Lot.CHILDRENS_HOMES)
    qualify(pennine, Lot.ASSESSMENT, QualificationStatus.SUSPENDED)
    qualify(capital, Lot.FOSTERING)
    db.session.add(LocalApplication(organisation_id=capital.id, authority_code=WESTMINSTER, lot=Lot.FOSTERING,
                                    status=LocalApplicationStatus.ACCEPTED, decided_at=utcnow()))
    directory = Directory(
        leeds_fostering=make_setting(
            brightwater, 'Leeds Fostering Service', ProvisionType.INDEPENDENT_FOSTERING_AGENCY, 'LS1 4DY',
            judgement=Judgement.OUTSTANDING, needs=['sibling-groups', 'parent-and-child'], ages=(0, 18),
            vacancies=3, description='Foster carers across West Yorkshire offering long-term care & short breaks.'),
        oak_house=make_setting(
            northern, 'Oak House', ProvisionType.CHILDRENS_HOME, 'BD1 1HY', judgement=Judgement.GOOD,
            needs=['autism', 'emotional-behavioural'], ages=(8, 17), sex=SexAccepted.FEMALE, vacancies=1,
            description='A small home offering fostering-style family care for girls with autism.'),
        willow_lodge=make_setting(
            northern, 'Willow Lodge', ProvisionType.CHILDRENS_HOME, 'M1 1AE',
            judgement=Judgement.REQUIRES_IMPROVEMENT, needs=['emotional-behavioural', 'mental-health'],
            ages=(11, 17), description='Therapeutic residential care in the city centre.'),
        riverside=make_setting(
            northern, 'Riverside Home', ProvisionType.CHILDRENS_HOME, 'NE1 4ST', judgement=Judgement.INADEQUATE,
            needs=['emotional-behavioural'], ages=(12, 17), sex=SexAccepted.MALE, vacancies=2,
            description='Residential care near the river for boys.'),
        suspended_house=make_setting(
            northern, 'Suspended Fostering House', ProvisionType.CHILDRENS_HOME, 'LS6 2QB',
            judgement=Judgement.GOOD, vacancies=2, description='A fostering home that is suspended.',
            suspended=True),
        pennine_assessment=make_setting(
            pennine, 'Pennine Fostering Assessment', ProvisionType.ASSESSMENT_SERVICE, 'BD7 1DP', vacancies=1,
            description='Parenting assessments for fostering families.'),
        capital_fostering=make_setting(
            capital, 'Capital Fostering Westminster', ProvisionType.INDEPENDENT_FOSTERING_AGENCY, 'SW1A 2AA',
            judgement=Judgement.GOOD, needs=['unaccompanied-asylum-seeking', 'sibling-groups'], ages=(0, 18),
            vacancies=5, description='Foster families in central London.'),
    )
    db.session.commit()
    return directory


@pytest.fixture
def sql_engine(app_ctx, directory):
    """The SQL engine with the whole ``directory`` indexed (and committed, so other connections see it too)."""
    from search.entries import build_entries
    from search.sql_engine import SqlEngine

    engine = SqlEngine()
    engine.reindex(build_entries())
    db.session.commit()
    return engine


def elasticsearch_url() -> str:
    return os.environ.get('TEST_ELASTICSEARCH_URL') or os.environ.get('ELASTICSEARCH_URL') or ''


@pytest.fixture(params=['sql', 'elasticsearch'])
def engine(request, app_ctx):
    """Each engine in turn; Elasticsearch only when a reachable cluster is given (its own alias, deleted after)."""
    from search.sql_engine import SqlEngine

    if request.param == 'sql':
        yield SqlEngine()
        return
    url = elasticsearch_url()
    if not url:
        pytest.skip('Elasticsearch contract tests need TEST_ELASTICSEARCH_URL or ELASTICSEARCH_URL '
                    '(no cluster can be installed here)')
    from flask import current_app

    from search.es_engine import ElasticsearchEngine

    # Credentials and a CA certificate come from the usual REGISTRY_ELASTICSEARCH_* variables.
    alias = f'test-registry-{uuid.uuid4().hex[:8]}'
    config = {**current_app.config, 'ELASTICSEARCH_URL': url, 'SEARCH_INDEX_ALIAS': alias}
    es_engine = ElasticsearchEngine.from_config(config, refresh='wait_for')
    try:
        reachable = es_engine.client.ping()
    except Exception:  # any transport failure means "not reachable"
        reachable = False
    if not reachable:
        pytest.skip(f'Elasticsearch at {url} is not reachable; contract tests skipped')
    yield es_engine
    # Delete by exact name: clusters refuse wildcard deletes by default (action.destructive_requires_name).
    for index in es_engine.managed_indices():
        es_engine.client.indices.delete(index=index)
