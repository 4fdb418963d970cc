"""The capacity picture: who sees it, and that its figures add up."""

from __future__ import annotations

import pytest

from registry.accounts.models import Role
from registry.ofsted import capacity
from registry.ofsted.services import import_register
from registry.settings.taxonomy import Lot, ProvisionType
from tests.chart_svg import SVG, group, svgs
from tests.factories import make_user
from tests.registry.ofsted.conftest import AS_AT, make_organisation, make_setting, qualify, register_row


@pytest.fixture
def known_capacity(app_ctx, register_file):
    """Register: 2 homes in Westminster (4 + 3 places), 1 in Leeds (5), 1 suspended (not counted) and 1 supported
    accommodation in Westminster (6 places; counted as a provision type of its own). Directory: 2 listed homes in
    Westminster (4 places, 1 vacancy; 3 places, 2 vacancies), 1 unlisted home in Leeds (no qualification),
    1 listed fostering agency in Leeds."""
    import_register(register_file([
        register_row('SC100001', places='4'),
        register_row('SC100002', places='3'),
        register_row('SC100003', places='5', authority='Leeds', region='Yorkshire and The Humber'),
        register_row('SC100004', places='9', status='Suspended'),
        register_row('SC100005', places='6', provision_type='Supported Accommodation'),
        register_row('SC100006', places='', provision_type='Independent Fostering Agency', authority='Leeds'),
    ]), as_at=AS_AT)
    listed = make_organisation('Listed Homes Ltd')
    qualify(listed)
    qualify(listed, Lot.FOSTERING)
    make_setting(listed, urn='SC100001', places=4, vacancies=1)
    make_setting(listed, urn='SC100002', places=3, vacancies=2)
    make_setting(listed, urn='SC100006', places=10, vacancies=3, authority_code='E08000035',
                 provision_type=ProvisionType.INDEPENDENT_FOSTERING_AGENCY)
    make_setting(make_organisation('Unqualified Ltd'), urn='SC100003', places=5, vacancies=5,
                 authority_code='E08000035')


def _row(rows, key):
    return next(row for row in rows if row.key == key)


def test_capacity_figures_add_up_by_region_authority_and_type(app_ctx, known_capacity):
    london = _row(capacity.by_region(), 'London')
    assert (london.registered_settings, london.registered_places, london.listed_settings, london.listed_places,
            london.vacancies) == (3, 13, 2, 7, 3)
    yorkshire = _row(capacity.by_region(), 'Yorkshire and The Humber')
    assert (yorkshire.registered_settings, yorkshire.registered_places, yorkshire.listed_settings,
            yorkshire.listed_places, yorkshire.vacancies) == (2, 5, 1, 10, 3)

    leeds = _row(capacity.by_authority('Yorkshire and The Humber'), 'E08000035')
    assert (leeds.label, leeds.registered_places, leeds.listed_places) == ('Leeds', 5, 10)
    assert all(row.key != 'E09000033' for row in capacity.by_authority('Yorkshire and The Humber'))

    homes = _row(capacity.by_provision_type(), ProvisionType.CHILDRENS_HOME.value)
    assert (homes.registered_settings, homes.registered_places, homes.listed_places, homes.vacancies) == (3, 12, 7, 3)
    supported = _row(capacity.by_provision_type(), ProvisionType.SUPPORTED_ACCOMMODATION.value)
    assert (supported.registered_settings, supported.registered_places, supported.listed_places) == (1, 6, 0)
    totals = capacity.total(capacity.by_provision_type())
    assert (totals.registered_settings, totals.registered_places, totals.listed_places) == (5, 18, 17)


@pytest.mark.parametrize('role', [Role.COMMISSIONER, Role.ASSESSOR, Role.BOARD_MEMBER, Role.ADMIN])
def test_commissioner_and_board_can_see_the_capacity_picture(app_ctx, client, login_as, known_capacity, role):
    user = make_user(role)
    login_as(user)

    response = client.get('/capacity?region=London')

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="registry-chart" role="img"') == 3
    # Each chart is followed by its data table.
    for table_id in ('region', 'provision-type', 'authority'):
        assert page.index(f'id="chart-{table_id}-title"') < page.index(f'id="table-{table_id}"')
    assert 'Capacity by authority in London' in page
    assert '<title>Registered places (Ofsted): 13</title>' in page
    assert '<th scope="row" class="govuk-table__header">Westminster</th>' in page
    chart = page.split('class="registry-chart"')[1].split('</svg>')[0]
    assert 'https:' not in chart and '<script' not in chart


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get('/capacity')

    assert response.status_code == 302
    assert '/sign-in' in response.headers['Location']


def test_provider_cannot_see_the_capacity_picture(app_ctx, client, login_as):
    provider = make_user(Role.PROVIDER)
    login_as(provider)

    assert client.get('/capacity').status_code == 403
    assert client.get('/capacity/region.csv').status_code == 403


def test_commissioner_can_download_a_capacity_table_as_csv(app_ctx, client, login_as, known_capacity):
    commissioner = make_user(Role.COMMISSIONER)
    login_as(commissioner)

    response = client.get('/capacity/authority.csv?region=Yorkshire and The Humber')

    assert response.status_code == 200 and response.mimetype == 'text/csv'
    assert 'capacity-by-authority-yorkshire-and-the-humber.csv' in response.headers['Content-Disposition']
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == ('Local authority,Registered settings (Ofsted),Registered places (Ofsted),Listed settings,'
                        'Listed places,Vacancies')
    assert 'Leeds,2,5,1,10,3' in lines
    assert lines[-1].startswith('Total,2,5,1,10,3')
    assert client.get('/capacity/nonsense.csv').status_code == 404



def test_capacity_by_type_says_places_are_not_published_for_types_without_them(app_ctx, client, login_as,
                                                                                known_capacity):
    login_as(make_user(Role.COMMISSIONER))
    page = client.get('/capacity').get_data(as_text=True)

    table = page.split('id="table-provision-type"')[1].split('</table>')[0]
    line = table.split('Independent fostering agency</th>')[1].split('</tr>')[0]
    cells = [cell.split('>')[-1] for cell in line.split('</td>')[:-1]]
    assert cells[:2] == ['1', 'Not published']
    for label in ('Local authority fostering service', 'Parenting or specialist assessment service'):
        assert '>Not published<' in table.split(f'{label}</th>')[1].split('</tr>')[0]
    assert '<strong>18</strong>' in table.split('>Total</th>')[1]  # the places Ofsted publishes: 12 + 6
    after = page.split('id="table-provision-type"')[1].split('<h2')[0]
    assert 'Ofsted publishes no places for fostering agencies.' in after.split('</table>')[1]
    # the chart draws a registered-places bar only for the four types whose places Ofsted publishes
    chart = [svg for svg in svgs(page) if 'by provision type' in svg.find(f'{SVG}title').text][0]
    bars = [title.text for title in group(chart, 'bars').iter(f'{SVG}title')]
    assert sum(text.startswith('Registered places (Ofsted):') for text in bars) == 4

    lines = client.get('/capacity/provision-type.csv').get_data(as_text=True).splitlines()
    assert 'Independent fostering agency,1,not published,1,10,3' in lines
    assert 'Local authority fostering service,0,not published,0,0,0' in lines
    assert "Children's home,3,12,2,7,3" in lines
    assert 'Total,5,18,3,17,6' in lines
    assert lines[-1] == 'Note,Ofsted publishes no places for fostering agencies.'
