"""The market demo step fills every page: a register with earlier releases, a demand log and refreshed figures."""

from __future__ import annotations

import random

from flask import url_for
from sqlalchemy import func, select

from market import services
from market.demo import EARLIER_RELEASES, load
from market.models import DemandLog
from placements.demo import load as load_placements
from registry.db import unit_of_work
from registry.extensions import db
from tests.market.conftest import LEEDS, World


def test_demo_populates_every_market_page(world: World, client, login_as):
    with unit_of_work():
        load_placements(random.Random(1), lambda _line: None, count=300)
    with unit_of_work():
        summary = load(random.Random(2), lambda _line: None)
    assert 'earlier releases made up' in summary
    searches = db.session.scalar(select(func.count()).select_from(DemandLog).where(DemandLog.kind == 'search'))
    assert searches >= 300 * 2

    england = services.NATIONAL
    demand = services.demand_tables(england, compare=True)
    assert demand[0].rows[0]['searches'] == searches and 0 < demand[0].rows[0]['unmet_share'] < 100
    assert demand[1].rows and demand[3].rows
    prices = services.price_tables(england)
    homes = next(row for row in prices[0].rows if row['type'] == 'childrens-home')
    assert isinstance(homes['median'], int) and 4_000_00 <= homes['median'] <= 8_000_00
    assert prices[1].rows and prices[4].rows
    distance = services.distance_tables(england, compare=True)
    assert distance[0].rows[0]['placements'] > 0 and distance[-1].rows
    supply = services.supply_tables(england)
    assert len(supply[0].rows) == EARLIER_RELEASES + 1
    assert supply[2].rows[0]['hhi'] > 0 and len(supply[3].rows) == 10

    login_as(world.leeds_officer)
    for page in ('demand', 'prices', 'distance', 'supply'):
        html = client.get(url_for('market.show_page', page=page)).get_data(as_text=True)
        assert '<svg' in html and 'No figures yet' not in html.split('id="heading-types"')[0], page
    assert client.get(url_for('market.show_pack', code=LEEDS)).status_code == 200
