"""The commissioner's comparison of offers and the market's count of full matches: the finder's reasons are judged
against the referral's own needs."""

from __future__ import annotations

from flask import url_for

from market.models import DemandLog
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


def _referral_logged_matches(world, client, shortlist_needs: list[str], referral_needs: list[str], criteria):
    shortlist = workspace_services.create_shortlist('Monday', criteria(needs=shortlist_needs, min_judgement=''),
                                                    setting_ids=[world.zephyr.id], actor=world.leeds_officer)
    url = url_for('placements.new_referral', shortlist=shortlist.id, setting=[world.zephyr.id])
    sent = client.post(url, data=_referral_form(world, settings=[world.zephyr.id], needs=referral_needs))
    assert sent.status_code == 302
    return db.session.scalars(db.select(DemandLog.matches).where(DemandLog.kind == 'referral')
                              .order_by(DemandLog.id.desc())).first()


def test_market_counts_a_referral_as_met_by_its_own_needs_not_the_shortlists(world, client, login_as, criteria):
    # The market's "no match meeting every requirement" used the reasons saved with the shortlist: a referral for
    # self-harm from a shortlist saved for no particular needs counted Zephyr House (no self-harm) as a full match.
    login_as(world.leeds_officer)

    assert _referral_logged_matches(world, client, [], ['self-harm'], criteria) == 0
    # and the other way round: saved for self-harm (not met), the referral asks for autism, which it meets
    assert _referral_logged_matches(world, client, ['self-harm'], ['autism'], criteria) == 1
