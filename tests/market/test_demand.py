"""The anonymous demand log: what the finder and referrals write, and the figures counted from it."""

from __future__ import annotations

from datetime import date, timedelta

from flask import url_for
from sqlalchemy import select

from market import services
from market.models import DemandLog
from registry.extensions import db
from tests.market.conftest import BRADFORD, LEEDS, World, log, refresh


def _leeds_and_bradford():
    log(LEEDS, ['autism'], 0)
    log(LEEDS, ['autism', 'self-harm'], 0)
    log(LEEDS, ['self-harm'], 3)
    log(LEEDS, [], 2, provision=())
    log(LEEDS, ['autism'], None, kind='referral')
    log(LEEDS, ['autism'], 0, kind='referral')
    log(BRADFORD, ['autism'], 0)
    log(BRADFORD, ['autism'], 5)


def test_demand_counts_searches_referrals_and_unmet_shares(app_ctx):
    _leeds_and_bradford()
    refresh()
    leeds = services.demand_tables(services.resolve_area(LEEDS))
    summary = leeds[0].rows[0]
    assert (summary['searches'], summary['unmet'], summary['unmet_share']) == (4, 2, 50.0)
    # one referral said nothing of matches (sent without the finder's reasons): the share is of the other one
    assert (summary['referrals'], summary['referrals_unmet'], summary['referrals_unmet_share']) == (2, 1, 100.0)
    needs = {row['need']: row for row in leeds[1].rows}
    assert (needs['autism']['searches'], needs['autism']['unmet'], needs['autism']['unmet_share']) == (2, 2, 100.0)
    assert (needs['self-harm']['searches'], needs['self-harm']['unmet'], needs['self-harm']['unmet_share']) == \
        (2, 1, 50.0)
    assert [row['need'] for row in leeds[1].rows] == ['autism', 'self-harm']  # most often unmet first
    types = {row['label']: row for row in leeds[2].rows}
    assert types["Children's home"]['searches'] == 3 and types['Any type']['searches'] == 1

    region = services.demand_tables(services.resolve_area('Yorkshire and The Humber'))
    assert (region[0].rows[0]['searches'], region[0].rows[0]['unmet_share']) == (6, 50.0)
    autism = next(row for row in region[1].rows if row['need'] == 'autism')
    assert (autism['searches'], autism['unmet'], autism['unmet_share']) == (4, 3, 75.0)
    assert services.demand_tables(services.NATIONAL)[0].rows[0]['searches'] == 6


def test_refresh_counts_only_new_log_lines(app_ctx):
    _leeds_and_bradford()
    assert refresh()['demand log rows read'] == 8
    log(LEEDS, ['autism'], 0)
    assert refresh()['demand log rows read'] == 1
    assert refresh()['demand log rows read'] == 0
    summary = services.demand_tables(services.resolve_area(LEEDS))[0].rows[0]
    assert (summary['searches'], summary['unmet']) == (5, 3)


def test_the_log_holds_no_user_and_no_age(app_ctx):
    columns = set(DemandLog.__table__.columns.keys())
    assert columns == {'id', 'logged_on', 'kind', 'authority_code', 'age_band', 'provision_type', 'needs',
                       'max_distance_miles', 'matches'}


def test_a_referral_is_logged_anonymously_when_sent(world: World):
    from tests.placements.conftest import send

    send(world, world.zephyr)
    row = db.session.scalars(select(DemandLog)).one()
    assert (row.kind, row.authority_code, row.age_band, row.provision_type, row.needs, row.max_distance_miles) == \
        ('referral', LEEDS, '10-15', 'childrens-home', 'autism,emotional-behavioural', 20)
    assert row.matches is None  # sent without the finder's reasons
    assert row.logged_on == date.today()


def test_a_referral_from_the_finder_counts_the_settings_that_met_everything(world: World):
    from placements import services as placement_services
    from tests.placements.conftest import details

    met = [{'kind': 'distance', 'met': True, 'text': ''}, {'kind': 'needs', 'met': True, 'text': ''}]
    # needs are judged again against the referral's own (Abbey House meets them): the miss is the saved distance
    missed = [{'kind': 'distance', 'met': False, 'text': ''}, {'kind': 'needs', 'met': True, 'text': ''}]
    placement_services.send_referral(details(), [placement_services.Candidate(world.zephyr.id, met),
                                                 placement_services.Candidate(world.abbey.id, missed)],
                                     actor=world.leeds_officer)
    assert db.session.scalars(select(DemandLog.matches)).one() == 1


def test_finder_search_is_logged_once_not_again_for_its_other_pages(world: World, client, login_as):
    login_as(world.leeds_officer)
    start = date.today() + timedelta(days=3)
    args = {'age': '12', 'sex': 'female', 'needs': ['autism', 'emotional-behavioural'], 'postcode': 'LS1 4DY',
            'max_distance': '20', 'start_date': [str(start.day), str(start.month), str(start.year)],
            'placement': 'solo', 'provision_types': ['childrens-home']}
    assert client.get(url_for('workspace.finder', **args)).status_code == 200
    assert client.get(url_for('workspace.finder', page=2, **args)).status_code == 200
    row = db.session.scalars(select(DemandLog)).one()
    assert (row.kind, row.authority_code, row.age_band, row.needs, row.provision_type, row.max_distance_miles) == \
        ('search', LEEDS, '10-15', 'autism,emotional-behavioural', 'childrens-home', 20)
    # Zephyr, Abbey and Calder Lodge (Leeds) meet everything within 20 miles; so does Bradford Moor House
    assert row.matches == 4


def test_board_searches_are_not_demand(world: World, client, login_as, people):
    login_as(people['board'])
    start = date.today() + timedelta(days=3)
    client.get(url_for('workspace.finder', age='12', sex='female', postcode='LS1 4DY', max_distance='20',
                       start_date=[str(start.day), str(start.month), str(start.year)], placement='solo'))
    assert db.session.scalars(select(DemandLog)).all() == []


def test_demand_page_compares_regions_for_the_board_only(app_ctx, client, login_as, people):
    _leeds_and_bradford()
    refresh()
    login_as(people['leeds'])
    page = client.get(url_for('market.show_page', page='demand', area='')).get_data(as_text=True)
    assert 'Demand in England' in page and 'Demand by region' not in page
    assert client.get(url_for('market.download_table', page='demand', table_id='areas')).status_code == 404
    login_as(people['board'])
    page = client.get(url_for('market.show_page', page='demand')).get_data(as_text=True)
    assert 'Demand by region' in page
    csv_text = client.get(url_for('market.download_table', page='demand', table_id='areas')).get_data(as_text=True)
    # region, searches, with no full match, share, referrals, referrals' share with no full match
    assert 'Yorkshire and The Humber,6,3,50.0,2,100.0' in csv_text


def test_refresh_command_counts_new_lines(app, app_ctx):
    log(LEEDS, ['autism'], 0)
    result = app.test_cli_runner().invoke(args=['market', 'refresh'])
    assert result.exit_code == 0, result.output
    assert 'demand log rows read: 1' in result.output
    assert services.demand_tables(services.NATIONAL)[0].rows[0]['searches'] == 1
