"""Supply at each Ofsted release (snapshotted by the import hook) and ownership concentration, by hand."""

from __future__ import annotations

from datetime import date

import pytest
from flask import url_for
from sqlalchemy import select

from market import services
from market.models import OwnershipFigure, RegisterSnapshot
from market.supply import concentration, record_release
from registry.db import unit_of_work, utcnow
from registry.extensions import db
from registry.ofsted.services import import_register
from registry.settings.taxonomy import RegistrationStatus
from tests.market.conftest import BRADFORD, IFA, LEEDS, WESTMINSTER, refresh, register
from tests.registry.ofsted.conftest import register_row, write_register


def test_concentration_top_ten_share_and_hhi():
    owners = {f'Owner {n}': 1 for n in range(12)} | {'Large': 8}
    count, places, top, hhi = concentration(owners)
    # 13 owners, 20 places; the top ten hold 8 + 9 × 1 = 17
    assert (count, places, top) == (13, 20, 17)
    assert hhi == pytest.approx(12 * 5 ** 2 + 40 ** 2)  # shares 5% each and 40%: 300 + 1,600
    assert concentration({'Only': 7})[3] == 10_000
    assert concentration({}) == (0, 0, 0, 0.0)


@pytest.fixture
def registered(app_ctx):
    register('SC000001', 'Big Co', 6, LEEDS)
    register('SC000002', 'Big Co', 4, LEEDS)
    register('SC000003', 'Mid Ltd', 5, BRADFORD)
    register('SC000004', 'Small', 3, WESTMINSTER)
    register('SC000005', 'Gone Ltd', 50, LEEDS, status=RegistrationStatus.CANCELLED)  # not active: left out
    register('SC000006', 'Fostering Co', None, LEEDS, kind=IFA)  # no places published
    register('SC000007', '', 2, LEEDS)  # no owner: counted as supply, not in ownership
    register('SC000008', 'School Trust', 40, LEEDS, kind=None)  # a type the directory does not list
    db.session.commit()
    with unit_of_work():
        record_release(date(2026, 1, 5))


def test_release_counts_active_registrations_by_type_and_authority(registered):
    rows = {(row.provision_type, row.authority_code): (row.homes, row.places) for row in
            db.session.scalars(select(RegisterSnapshot).where(RegisterSnapshot.as_at == date(2026, 1, 5)))}
    assert rows == {('childrens-home', LEEDS): (3, 12), ('childrens-home', BRADFORD): (1, 5),
                    ('childrens-home', WESTMINSTER): (1, 3), ('independent-fostering-agency', LEEDS): (1, 0)}


def test_ownership_nationally_and_per_region(registered):
    figures = {(f.area_kind, f.area): f for f in db.session.scalars(select(OwnershipFigure))}
    england = figures[('national', '')]
    assert (england.owners, england.places, england.top10_places) == (3, 18, 18)
    assert england.hhi == pytest.approx((1000 / 18) ** 2 + (500 / 18) ** 2 + (300 / 18) ** 2, abs=0.01)  # 4,135.80
    yorkshire = figures[('region', 'Yorkshire and The Humber')]
    assert (yorkshire.owners, yorkshire.places) == (2, 15)
    assert yorkshire.hhi == pytest.approx((1000 / 15) ** 2 + (500 / 15) ** 2, abs=0.01)  # 5,555.56
    assert figures[('region', 'London')].hhi == 10_000


def test_each_import_adds_a_release_to_the_history(registered, tmp_path, client, login_as, people):
    path = write_register(tmp_path / 'register.csv', [
        register_row('SC000001', authority='Leeds', region='Yorkshire and The Humber', places='6', owner='Big Co'),
        register_row('SC000009', authority='Leeds', region='Yorkshire and The Humber', places='3', owner='New Ltd')])
    import_register(path, as_at=date(2026, 3, 31), accept_drop=True)
    history = services.supply_tables(services.resolve_area(LEEDS))[0]
    # a full release: providers missing from it are no longer registered, so Leeds now has SC000001 and SC000009
    assert [(row['as_at'], row['homes'], row['places']) for row in history.rows] == [
        ('2026-01-05', 4, 12), ('2026-03-31', 2, 9)]  # dated by the release, not the day it was imported
    types = {row['label']: row for row in services.supply_tables(services.resolve_area(LEEDS))[1].rows}
    assert (types["Children's home"]['places'], types["Children's home"]['change']) == (9, -3)

    login_as(people['leeds'])
    page = client.get(url_for('market.show_page', page='supply')).get_data(as_text=True)
    assert 'Registered settings and places at each Ofsted release: Leeds' in page
    text = client.get(url_for('market.download_table', page='supply', table_id='ownership')).get_data(as_text=True)
    assert 'England,2,9,100.0,' in text  # Big Co 6 and New 3: the others are missing from this release


def test_refresh_retakes_the_latest_release(registered):
    register('SC000010', 'Mid Ltd', 2, BRADFORD)
    db.session.commit()
    refresh()
    latest = db.session.scalar(select(RegisterSnapshot.as_at).order_by(RegisterSnapshot.as_at.desc()).limit(1))
    assert latest == utcnow().date()  # no import yet: the register as it stands today
    places = db.session.scalar(select(RegisterSnapshot.places).where(
        RegisterSnapshot.as_at == latest, RegisterSnapshot.authority_code == BRADFORD))
    assert places == 7


def test_owner_names_cannot_run_as_spreadsheet_formulas(app_ctx, client, login_as, people):
    register('SC000001', '=HYPERLINK("http://example.org")', 6, LEEDS)
    db.session.commit()
    refresh()
    login_as(people['board'])
    text = client.get(url_for('market.download_table', page='supply', table_id='owners')).get_data(as_text=True)
    assert '"\'=HYPERLINK(""http://example.org"")",1,6,100.0' in text
