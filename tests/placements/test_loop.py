"""The whole loop through the pages: finder → referral → two providers respond → compare → accept → placement."""

from __future__ import annotations

from datetime import date, timedelta

from flask import url_for

from placements.models import Offer, Placement, Referral, ReferralResponse
from placements.states import PlacementStatus, ReferralStatus, ResponseStatus
from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.notifications.models import OutboxEmail
from registry.settings.models import Setting, VacancyChange
from tests.placements.conftest import NEEDS, offer, send
from tests.workspace.conftest import _finder_args
from workspace import services as workspace_services


def _date(value: date) -> list[str]:
    return [str(value.day), str(value.month), str(value.year)]


def _emails(template: str) -> list[OutboxEmail]:
    return list(db.session.scalars(db.select(OutboxEmail).where(OutboxEmail.template == template)
                                   .order_by(OutboxEmail.id)))


def _actions(referral) -> list[str]:
    return list(db.session.scalars(db.select(AuditEvent.action).where(
        AuditEvent.object_type == 'referrals', AuditEvent.object_id == str(referral.id)).order_by(AuditEvent.id)))


def _referral_form(world, **overrides) -> dict:
    today = date.today()
    data = {'settings': [world.zephyr.id, world.bradford_home.id], 'age': '12', 'sex': 'female',
            'provision_type': 'childrens-home', 'needs': NEEDS, 'children': '1',
            'start_date': _date(today + timedelta(days=7)), 'expected_duration_weeks': '26',
            'origin_postcode': 'LS1 4DY', 'origin_authority': '', 'max_distance': '20',
            'location_notes': 'Stay within reach of the current school.', 'education_notes': 'Year 7, EHC plan.',
            'risk_notes': 'Has gone missing twice this year.', 'other_notes': '',
            'response_deadline': _date(today + timedelta(days=2)), 'indicative_budget': '5,200'}
    data.update(overrides)
    return data


def test_commissioner_refers_providers_respond_and_the_accepted_offer_becomes_a_placement(world, client, login_as):
    finder = _finder_args(min_judgement='', max_distance='30')
    login_as(world.leeds_officer)

    # finder: tick two settings and refer them
    start = client.post(url_for('placements.start_referral', **finder),
                        data={'setting': [world.zephyr.id, world.bradford_home.id]})
    assert start.status_code == 302 and '/placements/referrals/new' in start.headers['Location']
    form_page = client.get(start.headers['Location'])
    page = form_page.get_data(as_text=True)
    assert form_page.status_code == 200
    assert 'Describe the child without identity' in page  # the visible warning
    assert 'Zephyr House' in page and 'Bradford Moor House' in page and 'Abbey House' not in page
    assert 'value="12"' in page and 'value="LS1 4DY"' in page  # prefilled from the search

    sent = client.post(start.headers['Location'], data=_referral_form(world))
    assert sent.status_code == 302, sent.get_data(as_text=True)
    referral = db.session.scalars(db.select(Referral)).one()
    assert sent.headers['Location'].endswith(f'/placements/referrals/{referral.id}')
    assert referral.authority_code == 'E08000035' and referral.age == 12 and referral.age_band == '10-15'
    assert referral.origin_label == 'LS1'  # only the district is kept
    assert referral.indicative_budget_pence == 520000
    responses = {response.setting_id: response for response in referral.responses}
    assert set(responses) == {world.zephyr.id, world.bradford_home.id}
    # the finder's reasons travel with each approached setting
    assert any(reason['kind'] == 'needs' for reason in responses[world.zephyr.id].finder_reasons)
    new_emails = _emails('referral-new')
    assert sorted(email.to_address for email in new_emails) == sorted([world.aire_user.email,
                                                                        world.pennine_user.email])
    assert all('missing' not in email.body and 'EHC' not in email.body for email in new_emails)  # no child details

    # Aire Valley offers from its inbox; Pennine declines
    login_as(world.aire_user)
    inbox = client.get(url_for('placements.inbox')).get_data(as_text=True)
    assert referral.reference in inbox and 'Zephyr House' in inbox
    provider_page = client.get(url_for('placements.view_referral', referral_id=referral.id)).get_data(as_text=True)
    assert 'Has gone missing twice this year.' in provider_page and 'Bradford Moor House' not in provider_page
    today = date.today()
    offered = client.post(url_for('placements.make_offer', referral_id=referral.id,
                                  response_id=responses[world.zephyr.id].id),
                          data={'weekly_price': '£5,450.50', 'available_from': _date(today + timedelta(days=3)),
                                'valid_until': _date(today + timedelta(days=10)),
                                'conditions': 'Matching visit before moving in.'})
    assert offered.status_code == 302
    login_as(world.pennine_user)
    declined = client.post(url_for('placements.decline', referral_id=referral.id,
                                   response_id=responses[world.bradford_home.id].id),
                           data={'reason': 'matching', 'notes': 'Current group is all older boys.'})
    assert declined.status_code == 302
    assert [email.to_address for email in _emails('referral-response')] == [world.leeds_officer.email] * 2

    # the commissioner compares: price against the schedule and the budget, Ofsted judgement, reasons
    login_as(world.leeds_officer)
    compare = client.get(url_for('placements.view_referral', referral_id=referral.id)).get_data(as_text=True)
    assert '£5,450.50' in compare
    assert "£450.50 (9%) above “Children's home: solo placement” (£5,000)" in compare.replace('&#39;', "'")
    assert '£250.50 over budget' in compare
    assert 'Good' in compare and 'Meets all 2 needs asked for' in compare
    assert 'Matching with the children already living here' in compare

    offer_row = db.session.scalars(db.select(Offer)).one()
    accept_url = url_for('placements.accept_offer', referral_id=referral.id, offer_id=offer_row.id)
    assert client.get(accept_url).status_code == 200
    accepted = client.post(accept_url, data={'start_date': _date(today + timedelta(days=7)),
                                             'planned_end_date': _date(today + timedelta(days=189))})
    assert accepted.status_code == 302
    placement = db.session.scalars(db.select(Placement)).one()
    assert accepted.headers['Location'].endswith(f'/placements/{placement.id}')
    assert (placement.home_authority_code, placement.host_authority_code) == ('E08000035', 'E08000035')
    assert placement.setting_id == world.zephyr.id and placement.weekly_price_pence == 545050
    assert placement.start_date == today + timedelta(days=7) and placement.status == PlacementStatus.ACTIVE
    assert 0 < placement.distance_miles < 5
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == ReferralStatus.PLACED
    assert db.session.get(Setting, world.zephyr.id).vacancies == 0
    assert db.session.scalars(db.select(VacancyChange.note)).one() == f'Placement {placement.reference} accepted'
    assert db.session.get(ReferralResponse, responses[world.zephyr.id].id).status == ResponseStatus.ACCEPTED
    assert db.session.get(ReferralResponse, responses[world.bradford_home.id].id).status == ResponseStatus.DECLINED
    accepted_email = _emails('referral-offer-accepted')
    assert [email.to_address for email in accepted_email] == [world.aire_user.email]
    assert f'/settings/{world.zephyr.id}/vacancies' in accepted_email[0].body  # asked to confirm vacancies
    assert _emails('placement-out-of-area') == []  # placed in its own area
    assert _actions(referral) == ['referral.send', 'referral.view', 'referral.offer', 'referral.decline',
                                  'referral.view', 'referral.place']
    page = client.get(accepted.headers['Location']).get_data(as_text=True)
    assert 'Zephyr House' in page and '£5,450.50' in page


def test_referral_from_a_shortlist_uses_its_saved_reasons(world, client, login_as, criteria):
    shortlist = workspace_services.create_shortlist('Friday', criteria(min_judgement=''), setting_ids=[
        world.zephyr.id, world.abbey.id], actor=world.leeds_officer)
    login_as(world.leeds_officer)
    url = url_for('placements.new_referral', shortlist=shortlist.id, setting=[world.abbey.id])

    page = client.get(url).get_data(as_text=True)
    assert 'Abbey House' in page and 'Zephyr House' not in page

    sent = client.post(url, data=_referral_form(world, settings=[world.abbey.id]))
    assert sent.status_code == 302
    response = db.session.scalars(db.select(ReferralResponse)).one()
    saved = next(entry for entry in shortlist.entries if entry.setting_id == world.abbey.id)
    assert response.setting_id == world.abbey.id and response.finder_reasons == saved.snapshot['reasons']


def test_other_responses_are_told_not_selected_when_an_offer_is_accepted(world, app_ctx):
    referral = send(world, world.zephyr, world.abbey, world.bradford_home)
    chosen = offer(world, referral, world.abbey, world.aire_user)
    offer(world, referral, world.zephyr, world.aire_user, pence=6_000_00)
    from placements import services

    services.accept_offer(chosen, start_date=chosen.available_from, planned_end_date=None, actor=world.leeds_officer)

    statuses = {response.setting_id: response.status for response in db.session.scalars(db.select(ReferralResponse))}
    assert statuses == {world.abbey.id: ResponseStatus.ACCEPTED, world.zephyr.id: ResponseStatus.NOT_SELECTED,
                        world.bradford_home.id: ResponseStatus.NOT_SELECTED}
    told = sorted(email.to_address for email in _emails('referral-not-selected'))
    assert told == sorted([world.aire_user.email, world.pennine_user.email])
    assert all('not selected' in email.body for email in _emails('referral-not-selected'))


def test_a_provider_who_never_answered_is_not_thanked_for_responding(world, app_ctx):
    # Every provider not selected was told "Thank you for responding", including those who never answered.
    referral = send(world, world.abbey, world.bradford_home)
    chosen = offer(world, referral, world.abbey, world.aire_user)
    from placements import services

    services.accept_offer(chosen, start_date=chosen.available_from, planned_end_date=None, actor=world.leeds_officer)

    email = next(email for email in _emails('referral-not-selected') if email.to_address == world.pennine_user.email)
    assert 'Thank you for responding' not in email.body
    assert referral.reference in email.body and 'was not selected' in email.body


def test_commissioner_can_close_a_referral_and_waiting_providers_are_told(world, client, login_as):
    referral = send(world)
    login_as(world.leeds_officer)

    response = client.post(url_for('placements.close_referral', referral_id=referral.id),
                           data={'reason': 'placed-elsewhere'})

    assert response.status_code == 302
    db.session.expire_all()
    closed = db.session.get(Referral, referral.id)
    assert closed.status == ReferralStatus.CLOSED and closed.closed_at is not None
    assert {r.status for r in closed.responses} == {ResponseStatus.CLOSED}
    assert len(_emails('referral-closed')) == 2
    # a closed referral takes no more offers
    login_as(world.aire_user)
    late = client.post(url_for('placements.make_offer', referral_id=referral.id,
                               response_id=closed.responses[0].id),
                       data={'weekly_price': '5000', 'available_from': _date(date.today()),
                             'valid_until': _date(date.today())})
    assert late.status_code == 400
    assert 'takes no more responses' in late.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Offer)) == 0


def test_commissioner_ends_a_placement_with_a_coded_reason(world, client, login_as):
    from placements import services

    referral = send(world)
    made = offer(world, referral, world.zephyr, world.aire_user, available_from=date.today())
    placement = services.accept_offer(made, start_date=date.today(), planned_end_date=None,
                                      actor=world.leeds_officer)
    login_as(world.leeds_officer)
    url = url_for('placements.end_placement', placement_id=placement.id)

    future = client.post(url, data={'reason': 'breakdown', 'ended_on': _date(date.today() + timedelta(days=3))})
    assert future.status_code == 400 and 'End date must be today or in the past' in future.get_data(as_text=True)
    missing = client.post(url, data={'ended_on': _date(date.today())})
    assert missing.status_code == 400 and 'Select why the placement ended' in missing.get_data(as_text=True)

    ended = client.post(url, data={'reason': 'breakdown', 'ended_on': _date(date.today())})

    assert ended.status_code == 302
    db.session.expire_all()
    placement = db.session.get(Placement, placement.id)
    assert placement.status == PlacementStatus.ENDED and placement.end_reason.value == 'breakdown'
    assert placement.ended_on == date.today()
    assert [email.to_address for email in _emails('placement-ended')] == [world.aire_user.email]
    again = client.post(url, data={'reason': 'planned', 'ended_on': _date(date.today())})
    assert again.status_code == 302
    assert db.session.get(Placement, placement.id).end_reason.value == 'breakdown'


def test_referral_form_errors_are_shown_in_an_error_summary_and_nothing_is_saved(world, client, login_as):
    login_as(world.leeds_officer)
    url = url_for('placements.new_referral', **_finder_args(min_judgement=''), setting=[world.zephyr.id])

    response = client.post(url, data=_referral_form(world, settings=[], age='', response_deadline=['', '', ''],
                                                     indicative_budget='lots'))

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'govuk-error-summary' in page
    for message in ('Select at least one setting to send the referral to', "Enter the child&#39;s age",
                    'Enter the date providers must respond by',
                    'Indicative weekly budget must be an amount in pounds'):
        assert message in page, message
    assert '(optional) must be' not in page  # the error names the field without its "(optional)"
    assert db.session.scalar(db.select(db.func.count()).select_from(Referral)) == 0


def test_offer_form_refuses_a_price_that_is_not_money(world, client, login_as):
    referral = send(world)
    login_as(world.aire_user)
    response = next(r for r in referral.responses if r.setting_id == world.zephyr.id)

    page = client.post(url_for('placements.make_offer', referral_id=referral.id, response_id=response.id),
                       data={'weekly_price': 'five grand', 'available_from': _date(date.today()),
                             'valid_until': _date(date.today() - timedelta(days=1))})

    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert 'Weekly price must be an amount in pounds' in text
    assert 'Offer valid until must be today or in the future' in text
    assert db.session.scalar(db.select(db.func.count()).select_from(Offer)) == 0


def test_referral_form_needs_a_known_home_postcode_or_an_authority_in_england(world, client, login_as):
    login_as(world.leeds_officer)
    url = url_for('placements.new_referral', **_finder_args(min_judgement=''), setting=[world.zephyr.id])

    for overrides, message in (({'origin_postcode': '', 'origin_authority': ''},
                                'Enter the child&#39;s home postcode or choose their home local authority'),
                               ({'origin_postcode': '', 'origin_authority': 'W06000015'},
                                'Choose a local authority in England'),
                               ({'origin_postcode': 'ZZ99 9ZZ'}, 'ZZ99 9ZZ')):
        response = client.post(url, data=_referral_form(world, settings=[world.zephyr.id], **overrides))
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and 'govuk-error-summary' in page and message in page, overrides
    assert db.session.scalar(db.select(db.func.count()).select_from(Referral)) == 0

    sent = client.post(url, data=_referral_form(world, settings=[world.zephyr.id], origin_postcode='',
                                                     origin_authority='E08000035'))
    assert sent.status_code == 302
    assert db.session.scalars(db.select(Referral)).one().origin_label == 'Leeds'


def test_closing_a_referral_twice_says_the_referral_is_already_closed(world, client, login_as):
    referral = send(world)
    login_as(world.leeds_officer)
    url = url_for('placements.close_referral', referral_id=referral.id)
    assert client.post(url, data={'reason': 'placed-elsewhere'}).status_code == 302

    again = client.post(url, data={'reason': 'no-longer-needed'}, follow_redirects=True)

    page = again.get_data(as_text=True)
    assert 'This referral is already closed without a placement' in page
    assert 'This response is already' not in page
    assert db.session.get(Referral, referral.id).close_reason.value == 'placed-elsewhere'


def test_provider_sees_that_a_closed_referral_takes_no_offer_instead_of_the_form(world, client, login_as):
    # The offer form was shown after the referral was closed; the refusal came only on submitting it.
    referral = send(world)
    response = next(r for r in referral.responses if r.setting_id == world.zephyr.id)
    login_as(world.leeds_officer)
    client.post(url_for('placements.close_referral', referral_id=referral.id), data={'reason': 'placed-elsewhere'})
    login_as(world.aire_user)

    for endpoint in ('placements.make_offer', 'placements.decline'):
        page = client.get(url_for(endpoint, referral_id=referral.id, response_id=response.id))
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        assert 'This referral is closed without a placement: it takes no more responses' in text, endpoint
        assert '<form method="post"' not in text and 'name="weekly_price"' not in text, endpoint


def test_provider_who_has_offered_sees_that_instead_of_a_second_offer_form(world, client, login_as):
    referral = send(world)
    offer(world, referral, world.zephyr, world.aire_user)
    response = next(r for r in referral.responses if r.setting_id == world.zephyr.id)
    login_as(world.aire_user)

    text = client.get(url_for('placements.make_offer', referral_id=referral.id,
                              response_id=response.id)).get_data(as_text=True)

    assert 'You have already responded to this referral: offer made' in text and 'name="weekly_price"' not in text


def test_offer_form_states_the_limit_for_a_price_too_large(world, client, login_as):
    # 99,999,999 was refused as "must be an amount in pounds", which it is.
    referral = send(world)
    login_as(world.aire_user)
    response = next(r for r in referral.responses if r.setting_id == world.zephyr.id)
    url = url_for('placements.make_offer', referral_id=referral.id, response_id=response.id)
    dates = {'available_from': _date(date.today()), 'valid_until': _date(date.today())}

    for typed in ('99,999,999', '£100,000.01', '1000000'):
        page = client.post(url, data={'weekly_price': typed, **dates})
        text = page.get_data(as_text=True)
        assert page.status_code == 400, typed
        assert 'Weekly price must be £100,000 or less' in text and 'must be an amount in pounds' not in text, typed
    assert db.session.scalar(db.select(db.func.count()).select_from(Offer)) == 0
    assert client.post(url, data={'weekly_price': '£100,000', **dates}).status_code == 302


def test_referral_form_states_the_limit_for_a_budget_too_large(world, client, login_as):
    login_as(world.leeds_officer)
    url = url_for('placements.new_referral', **_finder_args(min_judgement=''), setting=[world.zephyr.id])

    page = client.post(url, data=_referral_form(world, settings=[world.zephyr.id], indicative_budget='12,345,678'))

    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert 'Indicative weekly budget must be £999,999.99 or less' in text
    assert db.session.scalar(db.select(db.func.count()).select_from(Referral)) == 0
