"""The commissioner's comparison of offers: the finder's reasons are judged against the referral's own needs."""

from __future__ import annotations

from flask import url_for

from placements import queries
from placements.models import Referral
from registry.extensions import db
from tests.placements.conftest import offer
from tests.placements.test_loop import _referral_form
from workspace import services as workspace_services


def _reasons_cell(page: str, setting_name: str) -> str:
    row = page[page.index('id="offer-comparison"'):]
    row = row[row.index(setting_name):]
    return row[:row.index('</tr>')]


def test_comparison_judges_a_shortlisted_setting_against_the_needs_the_referral_asked_for(world, client, login_as,
                                                                                         criteria):
    # The shortlist was saved for no particular needs; the referral asked for self-harm, which Zephyr House does
    # not say it meets. The comparison said "Met: No particular needs asked for".
    shortlist = workspace_services.create_shortlist('Monday', criteria(needs=[], min_judgement=''),
                                                    setting_ids=[world.zephyr.id], actor=world.leeds_officer)
    login_as(world.leeds_officer)
    url = url_for('placements.new_referral', shortlist=shortlist.id, setting=[world.zephyr.id])
    sent = client.post(url, data=_referral_form(world, settings=[world.zephyr.id], needs=['self-harm']))
    assert sent.status_code == 302
    referral = db.session.scalars(db.select(Referral)).one()
    offer(world, referral, world.zephyr, world.aire_user)

    login_as(world.leeds_officer)
    page = client.get(url_for('placements.view_referral', referral_id=referral.id)).get_data(as_text=True)

    cell = _reasons_cell(page, 'Zephyr House')
    assert 'No particular needs asked for' not in cell
    assert 'Not met' in cell and 'Meets 0 of 1 needs: missing self-harm' in cell


def test_comparison_keeps_the_saved_vacancy_and_judgement_reasons(world, app_ctx, criteria):
    shortlist = workspace_services.create_shortlist('Tuesday', criteria(needs=[], min_judgement=''),
                                                    setting_ids=[world.zephyr.id], actor=world.leeds_officer)
    saved = next(entry for entry in shortlist.entries if entry.setting_id == world.zephyr.id).snapshot['reasons']
    from placements import services
    from tests.placements.conftest import details

    referral = services.send_referral(details(needs=['autism', 'sibling-groups'], children=2),
                                      list(services.candidates_from_shortlist(shortlist).values()),
                                      actor=world.leeds_officer)

    row = queries.comparison(referral)[0]
    kinds = [reason['kind'] for reason in row.reasons]
    assert kinds[:3] == ['distance', 'needs', 'siblings']
    assert next(r for r in row.reasons if r['kind'] == 'needs')['text'] == 'Meets the need asked for'
    assert next(r for r in row.reasons if r['kind'] == 'siblings')['met'] is False
    for kind in ('vacancies', 'judgement'):
        assert [r for r in row.reasons if r['kind'] == kind] == [r for r in saved if r['kind'] == kind]
