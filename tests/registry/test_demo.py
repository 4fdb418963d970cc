"""The demo loader builds a believable national registry from Ofsted's register, once, and never exposes a home."""

from __future__ import annotations

import csv

from sqlalchemy import func, select

from qualification.listing import listed_settings_query
from qualification.models import LocalApplication, LocalApplicationStatus, Qualification
from registry.accounts.models import Role, User
from registry.accounts.passwords import verify_password
from registry.audit.models import AuditEvent
from registry.demo import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    GEOCODED_FILE,
    HOME_NAME_FIRST,
    HOME_NAME_SECOND,
    REGISTER_FILE,
    load_demo_data,
)
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.indexing import ReindexRequest
from registry.organisations.models import Membership, Organisation
from registry.settings.models import Setting, VacancyChange
from registry.settings.taxonomy import NEEDS, ProvisionType

COUNTED = (User, Organisation, Membership, Setting, VacancyChange, Qualification, LocalApplication, ReindexRequest,
           AuditEvent)


def _counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in COUNTED}


def _quiet(_message: str) -> None:
    pass


def test_loading_the_demo_twice_changes_nothing_the_second_time(app_ctx):
    first_summary = load_demo_data(echo=_quiet)
    after_first = _counts()
    second_summary = load_demo_data(echo=_quiet)

    assert 'Loaded' in first_summary and DEMO_PASSWORD in first_summary
    assert 'already loaded' in second_summary
    assert _counts() == after_first
    assert 300 <= after_first['Setting'] <= 650
    # every setting, and every market entry (settings outside the national list), was queued for the index
    from unlisted.models import UnlistedSetting
    from unlisted.services import UNLISTED_ID_OFFSET

    queued = set(db.session.scalars(select(ReindexRequest.setting_id)))
    market_ids = {UNLISTED_ID_OFFSET + entry_id for entry_id in db.session.scalars(select(UnlistedSetting.id))}
    assert queued == set(db.session.scalars(select(Setting.id))) | market_ids and market_ids
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == 'demo.load')) == 1


def test_demo_spans_every_region_with_listed_settings_fictional_homes_and_working_accounts(app_ctx):
    # One test for everything a loaded demo promises: each load reads 20-odd postcode files, so it is not cheap.
    load_demo_data(echo=_quiet)
    _every_region_has_listed_settings_of_every_kind()
    _demo_accounts_sign_in_with_the_printed_password()
    _no_demo_childrens_home_has_a_real_ofsted_address()
    _most_demo_children_are_placed_in_or_near_their_own_authority()


def _every_region_has_listed_settings_of_every_kind():
    regions = {la.region_name for la in db.session.scalars(select(LocalAuthority))}
    assert len(regions) == 9
    listed = db.session.scalars(listed_settings_query()).all()
    listed_regions = {setting.authority.region_name for setting in listed}
    assert listed_regions == regions
    assert {setting.provision_type for setting in listed} >= {
        ProvisionType.CHILDRENS_HOME, ProvisionType.INDEPENDENT_FOSTERING_AGENCY,
        ProvisionType.RESIDENTIAL_FAMILY_CENTRE}
    total = db.session.scalar(select(func.count()).select_from(Setting))
    assert len(listed) < total, 'some organisations are not qualified yet, so some settings are unlisted'

    settings = db.session.scalars(select(Setting)).all()
    assert all(set(setting.needs) <= NEEDS.keys() and setting.needs for setting in settings)
    assert all(setting.age_min <= setting.age_max and setting.vacancies <= setting.places for setting in settings)
    ages = [setting.vacancies_age_days() for setting in settings if setting.vacancies_confirmed_at]
    assert any(age > 7 for age in ages) and any(age < 2 for age in ages), 'some vacancy records are stale'
    assert any(setting.judgement is not None for setting in settings)

    accepted = db.session.scalars(select(LocalApplication).where(
        LocalApplication.status == LocalApplicationStatus.ACCEPTED)).all()
    assert 'E08000035' in {application.authority_code for application in accepted}


def _demo_accounts_sign_in_with_the_printed_password():
    for email, _name, role, authority_code in DEMO_ACCOUNTS:
        user = db.session.scalar(select(User).where(User.email == email))
        assert user.role == role and user.is_verified
        assert user.authority_code == authority_code
        assert verify_password(user.password_hash, DEMO_PASSWORD)
    provider = db.session.scalar(select(User).where(User.role == Role.PROVIDER))
    (membership,) = provider.memberships
    assert membership.organisation.settings, 'the demo provider runs some settings'


def _no_demo_childrens_home_has_a_real_ofsted_address():
    with open(GEOCODED_FILE, encoding='utf-8') as handle:
        published_postcodes = {row['Postcode'].strip().upper() for row in csv.DictReader(handle)}
    with open(REGISTER_FILE, encoding='utf-8') as handle:
        published_streets = {row['Address 1'].strip().lower() for row in csv.DictReader(handle)} - {'redacted'}
    fictional_names = {f'{first} {second}' for first in HOME_NAME_FIRST for second in HOME_NAME_SECOND}

    homes = db.session.scalars(select(Setting).where(Setting.provision_type.in_(
        [ProvisionType.CHILDRENS_HOME, ProvisionType.SECURE_CHILDRENS_HOME]))).all()
    assert len(homes) >= 100
    for home in homes:
        assert home.confidential_address
        assert home.name in fictional_names
        assert home.postcode not in published_postcodes
        assert home.address_line_1.lower() not in published_streets
        assert 'made up' in home.description
        assert 'REDACTED' not in (home.address_line_1, home.town, home.postcode)


def _most_demo_children_are_placed_in_or_near_their_own_authority():
    # The market's distance page shows every demo visitor these shares: they must look like England's (DfE: about
    # 4 in 10 looked-after children outside their authority, more from children's homes; about 1 in 6 over 20 miles).
    from market.services import NATIONAL, distance_tables

    summary, types, regions = distance_tables(NATIONAL)[:3]
    england = summary.rows[0]
    assert england['placements'] >= 1500
    assert 30 <= england['outside_share'] <= 50 and 12 <= england['far_share'] <= 25, england
    assert len(regions.rows) == 9 and all(20 <= row['outside_share'] <= 65 for row in regions.rows), regions.rows
    assert len({round(row['outside_share'] / 5) for row in regions.rows}) > 2, 'the regions differ'
    by_type = {row['label']: row for row in types.rows}
    homes, fostering = by_type[ProvisionType.CHILDRENS_HOME.label], by_type[
        ProvisionType.INDEPENDENT_FOSTERING_AGENCY.label]
    assert 35 <= homes['outside_share'] <= 55 and fostering['outside_share'] < homes['outside_share']
    assert fostering['far_share'] < homes['far_share']


def test_a_package_demo_step_runs_once_after_the_core_demo_even_on_an_existing_demo(app_ctx):
    from flask import current_app

    from registry.demo import register_demo_step

    load_demo_data(echo=_quiet)
    calls = []

    def add_a_note(rng, echo):
        calls.append(rng.random())
        setting = db.session.scalars(select(Setting).order_by(Setting.id)).first()
        setting.description += ' Demo step ran.'
        return 'Added a note to one setting.'

    steps = current_app.extensions.setdefault('demo_steps', [])
    register_demo_step(current_app, 'note', add_a_note)
    try:
        first = load_demo_data(echo=_quiet)
        second = load_demo_data(echo=_quiet)
    finally:
        steps.pop()

    assert first == 'Added a note to one setting.'
    assert 'already loaded' in second
    assert len(calls) == 1
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == 'demo.load.note')) == 1
