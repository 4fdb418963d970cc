"""Distances the finder can stand behind: exact where the service holds the setting's location, approximate ("somewhere
in Leeds") where it holds only the authority, as for a register children's home whose address Ofsted redacts."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from flask import url_for

from tests.register_market import LEEDS, add_leeds_register_market
from unlisted import services as unlisted_services
from workspace import services


@pytest.fixture
def register_market(known):
    """Beside the known qualified homes: a Leeds children's home from the register (address redacted, so placed at
    Leeds' centre), a fostering agency whose postcode cannot be found (also at the centre) and one at LS2 8BH."""
    return add_leeds_register_market()


def _distance(match) -> str:
    return next(reason.text for reason in match.reasons if reason.kind == 'distance')


def _matches(criteria):
    child = services.child_from_criteria(criteria(postcode='LS6 1AA', min_judgement='', needs=[]))
    return {match.entry.name: match for match in services.find_placements(child, LEEDS)}


def test_finder_gives_a_register_childrens_home_only_an_approximate_distance(register_market, criteria):
    matches = _matches(criteria)
    home = _distance(matches["Children's home"])
    assert home.startswith('Somewhere in Leeds: about 1 mile from LS6 1AA')
    assert home == ('Somewhere in Leeds: about 1 mile from LS6 1AA to the centre of Leeds (Ofsted does not publish '
                    'its address) (within 20)')
    assert _distance(matches['Lost Fostering']).startswith('Somewhere in Leeds: about')
    assert '(its postcode could not be found)' in _distance(matches['Lost Fostering'])
    # the service holds these locations: distances stay exact
    assert _distance(matches['Found Fostering']) == '1.6 miles from LS6 1AA (within 20)'
    assert _distance(matches['Zephyr House']) == '1.1 miles from LS6 1AA (within 20)'


def test_finder_page_shows_a_register_childrens_home_as_somewhere_in_the_authority(register_market, known, client,
                                                                                   login_as, finder_args):
    login_as(known.leeds_officer)
    page = client.get(url_for('workspace.finder', **finder_args(postcode='LS6 1AA', min_judgement='', needs=[])))
    text = page.get_data(as_text=True)
    home_id = register_market['SC500001'].id + unlisted_services.UNLISTED_ID_OFFSET
    home = text.split(f'data-setting-id="{home_id}"')[1].split('</li>\n        \n')[0].split('data-setting-id')[0]
    assert 'Somewhere in Leeds: about 1 mile from LS6 1AA' in home and '1.1 miles' not in home
    zephyr = text.split(f'data-setting-id="{known.fresh.id}"')[1].split('data-setting-id')[0]
    assert '1.1 miles from LS6 1AA (within 20)' in zephyr


def test_shortlist_page_and_exports_say_the_distance_is_approximate(register_market, known, criteria, client,
                                                                    login_as):
    home = register_market['SC500001']
    shortlist = services.create_shortlist(
        'AB', criteria(postcode='LS6 1AA', min_judgement='', needs=[]), actor=known.leeds_officer,
        setting_ids=[known.fresh.id, home.id + unlisted_services.UNLISTED_ID_OFFSET])
    saved = {entry.snapshot['setting_name']: entry.snapshot for entry in shortlist.entries}
    assert (saved["Children's home"]['distance_miles'], saved["Children's home"]['distance_approximate']) == (1, True)
    assert (saved['Zephyr House']['distance_miles'], saved['Zephyr House']['distance_approximate']) == (1.1, False)
    login_as(known.leeds_officer)

    page = client.get(url_for('workspace.view_shortlist', shortlist_id=shortlist.id)).get_data(as_text=True)
    home_id = home.id + unlisted_services.UNLISTED_ID_OFFSET
    home_block = page.split(f'data-setting-id="{home_id}"')[1].split('data-setting-id')[0]
    assert 'Somewhere in Leeds: about 1 mile from LS6 1AA' in home_block and '1.1 miles' not in home_block

    rows = list(csv.reader(io.StringIO(client.get(url_for('workspace.export_csv', shortlist_id=shortlist.id))
                                       .get_data(as_text=True))))
    column = rows[0].index('Distance (miles)')
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name['Zephyr House'][column] == '1.1'
    assert by_name["Children's home"][column] == 'About 1 (somewhere in Leeds)'
    assert 'Somewhere in Leeds: about 1 mile' in by_name["Children's home"][rows[0].index('Reasons')]

    workbook = openpyxl.load_workbook(io.BytesIO(client.get(url_for('workspace.export_xlsx',
                                                                    shortlist_id=shortlist.id)).data))
    sheet = workbook['Results']
    cells = {row[1]: row[column] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert cells == {'Zephyr House': 1.1, "Children's home": 'About 1 (somewhere in Leeds)'}
