"""Out-of-area and far-from-home shares and the flow table, against hand counts."""

from __future__ import annotations

import pytest
from flask import url_for

from market import services
from registry.extensions import db
from tests.market.conftest import BRADFORD, DERBYSHIRE, LEEDS, place, refresh


@pytest.fixture
def placed(providers):
    a, b, _c = providers
    place(LEEDS, LEEDS, 5_000_00, a, miles=5.0)
    place(LEEDS, BRADFORD, 5_000_00, a, miles=12.0)
    place(LEEDS, BRADFORD, 5_000_00, b, miles=20.0)  # exactly 20 miles is not "more than 20"
    place(LEEDS, DERBYSHIRE, 5_000_00, b, miles=41.0)
    place(LEEDS, DERBYSHIRE, 5_000_00, b, miles=None)  # distance unknown: out of area, not in the distance share
    place(BRADFORD, LEEDS, 5_000_00, a, miles=8.0)
    db.session.commit()
    refresh()


def test_leeds_out_of_area_and_far_shares(placed):
    tables = {table.id: table for table in services.distance_tables(services.resolve_area(LEEDS))}
    summary = tables['summary'].rows[0]
    assert (summary['placements'], summary['outside'], summary['outside_share']) == (5, 4, 80.0)
    assert (summary['far'], summary['far_share'], summary['average_miles']) == (1, 25.0, 19.5)
    destinations = [(row['label'], row['placements'], row['far']) for row in tables['destinations'].rows]
    assert destinations == [('Bradford', 2, 0), ('Derbyshire', 2, 1), ('Leeds', 1, 0)]
    assert [(row['label'], row['placements']) for row in tables['arrivals'].rows] == [('Bradford', 1)]


def test_regional_and_national_shares(placed):
    region = services.distance_tables(services.resolve_area('Yorkshire and The Humber'))[0].rows[0]
    # six placements, five outside their home authority; five distances known, one over 20 miles
    assert (region['placements'], region['outside'], region['outside_share'], region['far_share']) == \
        (6, 5, 83.3, 20.0)
    regions = {row['label']: row for row in services.distance_tables(services.NATIONAL)[2].rows}
    assert regions['Yorkshire and The Humber']['placements'] == 6 and regions['London']['placements'] == 0


def test_board_sees_every_flow_commissioners_only_their_own(placed, client, login_as, people):
    login_as(people['board'])
    text = client.get(url_for('market.download_table', page='distance', table_id='flows')).get_data(as_text=True)
    lines = text.splitlines()
    assert lines[0] == 'Placing (home) authority,Host authority,Placements,More than 20 miles,Average miles'
    assert lines[1:4] == ['Leeds,Bradford,2,0,16.0', 'Leeds,Derbyshire,2,1,41.0', 'Bradford,Leeds,1,0,8.0']
    login_as(people['leeds'])
    assert client.get(url_for('market.download_table', page='distance', table_id='flows')).status_code == 404
    assert client.get(url_for('market.show_page', page='distance', area=BRADFORD)).status_code == 403
    page = client.get(url_for('market.show_page', page='distance')).get_data(as_text=True)
    assert 'Where Leeds places children (host authority)' in page and '80.0%' in page
