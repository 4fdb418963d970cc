"""A saved shortlist flags an entry whose setting is no longer listed, with the reason, for as long as it is not."""

from __future__ import annotations

import re
from datetime import date

from flask import url_for

from qualification.listing import unlisted_reasons
from qualification.qualifications import change_status
from registry.db import utcnow
from registry.extensions import db
from registry.ofsted.services import import_register
from tests.registry.ofsted.conftest import register_row, write_register


def _flags(client, shortlist) -> dict[str, str]:
    """Setting name → its flag, for each flagged entry on the shortlist page."""
    page = client.get(url_for('workspace.view_shortlist', shortlist_id=shortlist.id)).get_data(as_text=True)
    flags = {}
    for item in re.findall(r'<li class="govuk-!-margin-bottom-6" data-setting-id="\d+">(.*?)</li>', page, re.S):
        name = re.search(r'\d+\. ([^\n<]+)', item).group(1).strip()
        flag = re.search(r'data-unlisted>([^<]+)<', item)
        if flag:
            flags[name] = flag.group(1)
    return flags


def test_shortlist_flags_a_suspended_providers_home_until_it_is_reinstated(world, client, login_as):
    login_as(world.people['leeds_1'])
    assert _flags(client, world.shortlists['leeds']) == {}

    change_status(world.qualification, 'suspend', actor=world.people['board_member'], reason='Concerns')

    assert _flags(client, world.shortlists['leeds']) == {
        'Zephyr House': 'No longer listed: national qualification suspended'}

    change_status(world.qualification, 'reinstate', actor=world.people['board_member'], reason='Resolved')

    assert _flags(client, world.shortlists['leeds']) == {}


def test_shortlist_flags_a_home_whose_ofsted_registration_was_cancelled(world, client, login_as, tmp_path):
    rows = [register_row('SC100001', authority='Leeds', status='Cancelled'),
            register_row('SC100002', authority='Leeds')]
    import_register(write_register(tmp_path / 'april.csv', rows), as_at=date(2026, 4, 30))
    login_as(world.people['westminster'])

    assert _flags(client, world.shortlists['westminster']) == {
        'Zephyr House': 'No longer listed: Ofsted registration cancelled'}


def test_unlisted_reasons_name_why_each_setting_left_the_directory(world):
    world.other_home.suspended_at = utcnow()
    db.session.commit()
    change_status(world.qualification, 'revoke', actor=world.people['board_member'], reason='Fraud')

    assert unlisted_reasons([world.aire_home.id, world.other_home.id, 999999]) == {
        world.aire_home.id: 'national qualification revoked',
        world.other_home.id: 'setting suspended',
        999999: 'removed from the directory',
    }
