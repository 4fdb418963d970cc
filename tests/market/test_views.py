"""Who may see what, every page and CSV answering, and the sufficiency pack with each figure's source and date."""

from __future__ import annotations

import csv
import io

import pytest
from flask import url_for

from registry.extensions import db
from tests.chart_svg import SVG, group, svgs
from tests.market.conftest import BRADFORD, IFA, LEEDS, WESTMINSTER, log, place, refresh, register

PAGES = ('demand', 'prices', 'distance', 'supply')


@pytest.fixture
def market(providers, people):
    a, b, c = providers
    for pence, provider in ((4_000_00, a), (5_000_00, b), (6_000_00, c), (7_000_00, a), (8_000_00, b)):
        place(LEEDS, BRADFORD, pence, provider, miles=30.0, needs=('autism',))
    place(BRADFORD, BRADFORD, 6_500_00, a)
    register('SC000001', 'Big Co', 6, LEEDS)
    register('SC000002', 'Mid Ltd', 4, BRADFORD)
    register('SC000003', 'Fostering Co', None, LEEDS, kind=IFA)  # Ofsted publishes no places for agencies
    db.session.commit()
    log(LEEDS, ['autism'], 0)
    log(LEEDS, ['autism'], 2)
    log(BRADFORD, ['self-harm'], 0)
    refresh()


def test_providers_and_the_public_see_no_market_page(market, client, login_as, people):
    for page in PAGES:
        response = client.get(url_for('market.show_page', page=page))
        assert response.status_code == 302 and '/sign-in' in response.location
    assert client.get(url_for('market.show_pack', code=LEEDS)).status_code == 302
    login_as(people['provider'])
    assert client.get(url_for('market.index')).status_code == 403
    for page in PAGES:
        assert client.get(url_for('market.show_page', page=page, area='')).status_code == 403
        assert client.get(url_for('market.download_table', page=page, table_id='summary')).status_code == 403
    assert client.get(url_for('market.show_pack', code=LEEDS)).status_code == 403


def test_commissioner_sees_own_authority_in_detail_and_others_only_in_aggregate(market, client, login_as, people):
    login_as(people['leeds'])
    for page in PAGES:
        for area in (LEEDS, '', 'London', 'Yorkshire and The Humber'):
            assert client.get(url_for('market.show_page', page=page, area=area)).status_code == 200, (page, area)
        assert client.get(url_for('market.show_page', page=page, area=BRADFORD)).status_code == 403
        assert client.get(url_for('market.download_table', page=page, table_id='types',
                                  area=WESTMINSTER)).status_code == 403
    assert client.get(url_for('market.show_pack', code=LEEDS)).status_code == 200
    assert client.get(url_for('market.show_pack', code=BRADFORD)).status_code == 403
    assert client.get(url_for('market.download_pack', code=BRADFORD)).status_code == 403
    # the area picker offers England, the regions and Leeds, never another authority
    page = client.get(url_for('market.show_page', page='demand')).get_data(as_text=True)
    assert f'value="{LEEDS}"' in page and f'value="{BRADFORD}"' not in page
    # no table with a line per authority
    region = client.get(url_for('market.show_page', page='demand', area='Yorkshire and The Humber'))
    assert 'Demand by local authority' not in region.get_data(as_text=True)


def test_board_sees_every_authority(market, client, login_as, people):
    login_as(people['board'])
    for page in PAGES:
        assert client.get(url_for('market.show_page', page=page, area=BRADFORD)).status_code == 200
    region = client.get(url_for('market.show_page', page='demand', area='Yorkshire and The Humber'))
    assert 'Demand by local authority' in region.get_data(as_text=True)
    assert client.get(url_for('market.show_pack', code=BRADFORD)).status_code == 200


def test_unknown_areas_tables_and_types_are_not_found(market, client, login_as, people):
    login_as(people['board'])
    assert client.get(url_for('market.show_page', page='demand', area='Atlantis')).status_code == 404
    assert client.get(url_for('market.download_table', page='demand', table_id='nothing')).status_code == 404
    assert client.get(url_for('market.show_page', page='prices', type='castle')).status_code == 404
    assert client.get(url_for('market.show_pack', code='E99999999')).status_code == 404
    assert client.get(url_for('market.show_pack', code='London')).status_code == 404


def test_every_table_of_every_page_downloads_as_csv_with_source_and_date(market, client, login_as, people):
    login_as(people['board'])
    for page in PAGES:
        html = client.get(url_for('market.show_page', page=page, area=LEEDS)).get_data(as_text=True)
        links = [part.split('"')[0] for part in html.split(f'href="/market/{page}/')[1:]]
        assert links, page
        for link in links:
            response = client.get(f'/market/{page}/{link}'.replace('&amp;', '&'))
            assert response.status_code == 200 and response.mimetype == 'text/csv', link
            assert 'attachment' in response.headers['Content-Disposition']
            rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
            assert rows[-2][0] == 'Source' or rows[-3][0] == 'Source', link


def test_sufficiency_pack_holds_each_section_with_sources_and_dates(market, client, login_as, people):
    login_as(people['leeds'])
    page = client.get(url_for('market.show_pack', code=LEEDS)).get_data(as_text=True)
    for heading in ('Demand', 'Supply', 'Vacancies', 'Prices', 'Distance'):
        assert f'>{heading}</h2>' in page
    rows = list(csv.reader(io.StringIO(client.get(url_for('market.download_pack', code=LEEDS))
                                       .get_data(as_text=True))))
    assert rows[0] == ['Section', 'Figure', 'Value', 'Region', 'England', 'Source', 'As at']
    figures = {row[1]: row for row in rows[1:] if len(row) == 7}
    searches = figures['Placement finder searches']
    assert searches[2:5] == ['2', '3', '3'] and searches[5].startswith('Registry demand log') and searches[6]
    assert figures['Share of searches with no match meeting every requirement'][2:5] == ['50.0', '66.7', '66.7']
    homes = figures["Children's home: median weekly price of our placements (5 placements)"]
    # Leeds' five; Yorkshire's six (with Bradford's 6,500): 4,000 5,000 6,000 6,500 7,000 8,000
    assert homes[2:5] == ['6000.00', '6250.00', '6250.00']
    assert figures["Children's home: registered places"][2:5] == ['6', '10', '10']
    assert figures['Share placed outside the authority'][2:5] == ['100.0', '83.3', '83.3']
    assert figures['Share placed more than 20 miles from home'][2:5] == ['100.0', '83.3', '83.3']
    assert all(row[5] and row[6] for row in figures.values())


def test_sufficiency_pack_says_places_are_not_published_for_fostering_agencies(market, client, login_as, people):
    login_as(people['leeds'])
    rows = list(csv.reader(io.StringIO(client.get(url_for('market.download_pack', code=LEEDS))
                                       .get_data(as_text=True))))
    figures = {row[1]: row for row in rows[1:] if len(row) == 7}
    assert figures['Independent fostering agency: registered settings'][2:5] == ['1', '1', '1']
    assert figures['Independent fostering agency: registered places'][2:5] == ['not published'] * 3
    assert any(row[:1] == ['Note'] and 'Ofsted publishes no places for fostering agencies' in row[1] for row in rows)
    page = client.get(url_for('market.show_pack', code=LEEDS)).get_data(as_text=True)
    line = page.split('Independent fostering agency: registered places</th>')[1].split('</tr>')[0]
    assert line.count('Not published') == 3 and '>0<' not in line
    assert 'Ofsted publishes no places for fostering agencies' in page


def test_supply_by_type_says_places_are_not_published_for_types_without_them(market, client, login_as, people):
    login_as(people['leeds'])
    page = client.get(url_for('market.show_page', page='supply', area=LEEDS)).get_data(as_text=True)
    table = page.split('id="table-types"')[1].split('</table>')[0]
    line = table.split('Independent fostering agency</th>')[1].split('</tr>')[0]
    cells = [cell.split('>')[-1] for cell in line.split('</td>')[:-1]]
    # registered settings, registered places, change since last release: a count, then nothing Ofsted publishes
    assert cells[:3] == ['1', 'Not published', '–']
    assert 'Children&#39;s home</th>' in table and 'Ofsted publishes no places for fostering agencies' in page
    rows = list(csv.reader(io.StringIO(client.get(url_for('market.download_table', page='supply', table_id='types',
                                                          area=LEEDS)).get_data(as_text=True))))
    by_type = {row[0]: row for row in rows[1:] if len(row) > 2}
    assert by_type['Independent fostering agency'][1:4] == ['1', 'not published', '']
    assert by_type["Children's home"][1:3] == ['1', '6']
    assert any(row[:1] == ['Note'] and 'fostering agencies' in row[1] for row in rows)


def test_market_pages_draw_their_charts_with_a_legend_line_each(market, client, login_as, people):
    login_as(people['board'])

    supply = client.get(url_for('market.show_page', page='supply', area=LEEDS)).get_data(as_text=True)
    charts = svgs(supply)
    assert len(charts) == supply.count('class="market-chart"') >= 2
    places = next(svg for svg in charts if svg.find(f'{SVG}title').text.startswith('Registered and listed places'))
    legend = group(places, 'legend').findall(f'{SVG}text')
    assert [text.text for text in legend] == ['Registered places', 'Listed places', 'Vacancies']
    assert len({text.get('y') for text in legend}) == 3, 'legend entries share a line'
    assert '<title>Registered places: 6</title>' in supply

    prices = client.get(url_for('market.show_page', page='prices', area=LEEDS)).get_data(as_text=True)
    ranges = group(svgs(prices)[0], 'bars')
    assert ranges.findall(f'{SVG}rect') and len(ranges.findall(f'{SVG}line')) == len(ranges.findall(f'{SVG}rect'))
