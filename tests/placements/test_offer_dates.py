"""The dates a provider may give an offer: from today, the last day not before the place is available, neither far
ahead (a mistyped year)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import url_for

from placements import services
from placements.models import Offer
from registry.extensions import db
from registry.templating import format_date
from tests.placements.conftest import offer, send


def _date(value: date) -> list[str]:
    return [str(value.day), str(value.month), str(value.year)]


def _offers() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Offer))


def _post_offer(world, client, login_as, available_from: date, valid_until: date):
    referral = send(world)
    response = next(r for r in referral.responses if r.setting_id == world.zephyr.id)
    login_as(world.aire_user)
    return client.post(url_for('placements.make_offer', referral_id=referral.id, response_id=response.id),
                       data={'weekly_price': '5400', 'available_from': _date(available_from),
                             'valid_until': _date(valid_until), 'conditions': ''})


def test_provider_cannot_offer_a_place_valid_until_a_mistyped_year(world, client, login_as):
    # "2062" for "2026" was accepted: an offer open for decades
    today = date.today()
    mistyped = today.replace(year=today.year + 36) if not (today.month == 2 and today.day == 29) \
        else today + timedelta(days=365 * 36)

    response = _post_offer(world, client, login_as, today, mistyped)

    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'govuk-error-summary' in page
    latest = today + timedelta(days=services.OFFER_AHEAD_DAYS)
    assert f'Offer valid until must be no more than 90 days ahead, {format_date(latest)} at the latest' in page
    assert _offers() == 0


def test_provider_can_offer_a_place_valid_for_exactly_90_days(world, client, login_as):
    today = date.today()

    response = _post_offer(world, client, login_as, today, today + timedelta(days=90))

    assert response.status_code == 302 and _offers() == 1


def test_provider_cannot_offer_a_place_that_runs_out_before_it_is_available(world, client, login_as):
    today = date.today()

    response = _post_offer(world, client, login_as, today + timedelta(days=20), today + timedelta(days=10))

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert (f'Offer valid until must be on or after the day the place is available, '
            f'{format_date(today + timedelta(days=20))}') in page
    assert _offers() == 0


def test_provider_cannot_offer_a_place_available_only_in_a_mistyped_year(world, client, login_as):
    today = date.today()

    response = _post_offer(world, client, login_as, today + timedelta(days=91), today + timedelta(days=91))

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'Available from must be no more than 90 days ahead' in page
    assert 'Offer valid until must be no more than 90 days ahead' in page
    assert _offers() == 0


def test_service_refuses_offer_dates_outside_the_horizon(world, app_ctx):
    referral = send(world)
    today = date.today()

    with pytest.raises(services.PlacementError, match='90 days ahead') as caught:
        offer(world, referral, world.zephyr, world.aire_user, available_from=today,
              valid_until=today + timedelta(days=91))
    assert caught.value.field == 'valid_until'
    with pytest.raises(services.PlacementError, match='on or after the day the place is available') as caught:
        offer(world, referral, world.zephyr, world.aire_user, available_from=today + timedelta(days=5),
              valid_until=today + timedelta(days=4))
    assert caught.value.field == 'valid_until'
    assert _offers() == 0
    made = offer(world, referral, world.zephyr, world.aire_user, available_from=today,
                 valid_until=today + timedelta(days=services.OFFER_AHEAD_DAYS))
    # every day of the longest offer can be accepted with a start inside it
    assert services.start_date_range(made, today) == (today, made.valid_until)
