"""Weekly price quartiles against hand-computed values; small cells and single-provider cells are suppressed."""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask import url_for

from market import services
from market.models import PriceFigure
from market.refresh import quantile
from qualification.local import publish_requirements
from registry.extensions import db
from registry.settings.taxonomy import Lot
from tests.market.conftest import BRADFORD, CH, IFA, LEEDS, WESTMINSTER, place, refresh


def test_quartiles_interpolate_between_ranks():
    assert quantile([1, 2, 3, 10], 0.5) == 2.5
    assert quantile([1, 2, 3, 10], 0.25) == 1.75
    assert quantile([1, 2, 3, 10], 0.75) == 4.75
    assert quantile([7], 0.25) == 7


@pytest.fixture
def priced(providers, people):
    a, b, c = providers
    # Leeds: five children's home placements with three providers, every one for a child with autism
    for pence, provider in ((4_000_00, a), (5_000_00, b), (6_000_00, a), (7_000_00, b), (10_000_00, c)):
        place(LEEDS, LEEDS, pence, provider, needs=('autism',))
    # Bradford (same region): two, too few to show on their own
    place(BRADFORD, LEEDS, 3_000_00, a)
    place(BRADFORD, BRADFORD, 8_000_00, b)
    # Westminster (London): four
    for provider in (a, b, c, a):
        place(WESTMINSTER, WESTMINSTER, 9_000_00, provider)
    # Leeds fostering: five placements, all with one provider
    for _ in range(5):
        place(LEEDS, LEEDS, 1_000_00, a, kind=IFA)
    db.session.commit()
    publish_requirements(LEEDS, Lot.CHILDRENS_HOMES, questions=[], documents=[],
                         price_schedule=[{'placement_type': "Children's home: solo placement",
                                          'weekly_price_pence': 5_500_00}], actor=people['leeds'])
    refresh()


def _cell(area_kind, area, kind=CH, need='', period='all', source='placement') -> PriceFigure:
    return db.session.query(PriceFigure).filter_by(area_kind=area_kind, area=area, provision_type=kind.value,
                                                   need=need, period=period, source=source).one()


def test_price_quartiles_match_hand_computed_values(priced):
    leeds = _cell('authority', LEEDS)
    assert (leeds.count, leeds.p25, leeds.median, leeds.p75) == (5, 5_000_00, 6_000_00, 7_000_00)
    # Yorkshire: 3,000 4,000 5,000 6,000 7,000 8,000 10,000
    region = _cell('region', 'Yorkshire and The Humber')
    assert (region.count, region.p25, region.median, region.p75) == (7, 4_500_00, 6_000_00, 7_500_00)
    # England adds London's four at 9,000: 11 prices
    national = _cell('national', '')
    assert (national.count, national.p25, national.median, national.p75) == (11, 5_500_00, 8_000_00, 9_000_00)
    # the quarter every placement started in holds the same figures
    assert _cell('authority', LEEDS, period='2026-Q2').median == 6_000_00
    # offers are counted separately (one per placement here)
    assert _cell('national', '', source='offer').median == 8_000_00


def test_cells_from_fewer_than_five_placements_are_suppressed(priced):
    bradford = _cell('authority', BRADFORD)
    assert bradford.count == 2 and bradford.suppressed and bradford.p25 is None and bradford.p75 is None
    london = _cell('region', 'London')
    assert london.count == 4 and london.median is None
    leeds_autism = _cell('region', 'Yorkshire and The Humber', need='autism')
    assert leeds_autism.count == 5 and leeds_autism.median == 6_000_00


def test_a_cell_with_a_single_provider_is_suppressed_however_many_placements(priced):
    fostering = _cell('authority', LEEDS, kind=IFA)
    assert fostering.count == 5 and fostering.providers == 1 and fostering.median is None


def test_authority_prices_sit_beside_region_england_and_the_published_schedule(priced):
    area = services.resolve_area(LEEDS)
    types = services.price_tables(area)[0]
    homes = next(row for row in types.rows if row['type'] == CH.value)
    assert homes['median'] == 6_000_00 and homes['region_median'] == 6_000_00
    assert homes['national_median'] == 8_000_00
    assert homes['schedule'] == 5_500_00 and homes['schedule_difference'] == 500_00
    fostering = next(row for row in types.rows if row['type'] == IFA.value)
    assert fostering['median'] == services.SUPPRESSED


def test_commissioner_sees_suppressed_cells_as_suppressed_on_the_page_and_in_csv(priced, client, login_as, people):
    login_as(people['bradford'])
    page = client.get(url_for('market.show_page', page='prices', area=BRADFORD)).get_data(as_text=True)
    table = page[page.index('id="table-types"'):]
    start = table.index('Children&#39;s home')
    homes = re.sub(r'<[^>]+>', '|', table[start:table.index('</tr>', start)])
    cells = [cell.strip() for cell in homes.split('|') if cell.strip()]
    # Bradford's own two prices are hidden; the region's (seven) and England's (eleven) medians sit beside them;
    # Bradford publishes no schedule
    assert cells == ['Children&#39;s home', '2', 'Suppressed', 'Suppressed', 'Suppressed', '£6,000', '£8,000', '–',
                     '–']
    response = client.get(url_for('market.download_table', page='prices', table_id='types', area=BRADFORD))
    assert response.mimetype == 'text/csv'
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:5] == ['Provision type', 'Placements', 'Lower quartile', 'Median', 'Upper quartile']
    homes = next(row for row in rows if row and row[0] == "Children's home")
    assert homes[1:5] == ['2', 'suppressed', 'suppressed', 'suppressed']
    source = next(row for row in rows if row and row[0] == 'Source')
    assert source[1].startswith(services.PRICE_SOURCE) and 'published price schedule' in source[1]


def test_leeds_price_page_shows_the_hand_computed_median(priced, client, login_as, people):
    login_as(people['leeds'])
    page = client.get(url_for('market.show_page', page='prices')).get_data(as_text=True)
    assert 'Weekly prices by provision type: Leeds' in page
    assert '£6,000' in page and '£5,500' in page and '£8,000' in page


def test_prices_are_rebuilt_only_when_a_placement_or_offer_was_added(priced, providers):
    assert refresh()['price cells'] == 0 and _cell('authority', LEEDS).median == 6_000_00
    place(LEEDS, LEEDS, 11_000_00, providers[2])
    db.session.commit()
    assert refresh()['price cells'] > 0
    # 4,000 5,000 6,000 7,000 10,000 11,000
    leeds = _cell('authority', LEEDS)
    assert (leeds.count, leeds.p25, leeds.median, leeds.p75) == (6, 5_250_00, 6_500_00, 9_250_00)
