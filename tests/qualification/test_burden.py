"""The burden targets of issue 14, measured by the same journeys as ``bench/burden.py`` (the real pages)."""

from __future__ import annotations

from bench.burden import organisation_level_sections, run_journeys
from tests.qualification.board_helpers import board_users, make_setting
from tests.qualification.conftest import valid_value


def test_renewal_and_second_lot_meet_the_burden_targets(client, login_as, organisation, provider):
    for number in range(7):
        make_setting(organisation, name=f'Home {number + 1}', urn=f'SC{800000 + number}')
    users = board_users()
    first, unchanged, certificate, second_lot = run_journeys(
        client, login_as, organisation, provider, users['assessor'], users['member'], users['member2'], valid_value)
    shared = organisation_level_sections()

    assert first.answer_fields > 30 and first.uploads >= 5
    # a renewal with nothing changed: no more than 12 page submissions and no answer typed again
    assert unchanged.submissions <= 12 and unchanged.answer_fields == 0 and unchanged.uploads == 0
    # replacing one insurance certificate: that upload and its expiry date, nothing else
    assert certificate.uploads == 1 and certificate.answer_fields == 1
    assert certificate.answer_fields_by_section == {'insurance': 1, **{
        section: 0 for section in certificate.answer_fields_by_section if section != 'insurance'}}
    # a second lot retypes no organisation-level answer: only its own section is filled in
    assert sum(count for section, count in second_lot.answer_fields_by_section.items() if section in shared) == 0
    assert second_lot.answer_fields_by_section['fostering'] > 0 and second_lot.uploads == 0
