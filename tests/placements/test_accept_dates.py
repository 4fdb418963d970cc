"""The start date a placement can be recorded with when an offer is accepted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import url_for

from placements import services
from placements.models import Placement
from registry.extensions import db
from registry.settings.models import Setting
from registry.templating import format_date
from tests.placements.conftest import offer, send


def _date(value: date) -> list[str]:
    return [str(value.day), str(value.month), str(value.year)]


def _placements() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Placement))


def test_commissioner_cannot_record_a_start_date_years_after_the_offer_runs_out(world, client, login_as):
    # A start date of 1 January 2031 was accepted and the vacancy taken today.
    referral = send(world)
    today = date.today()
    made = offer(world, referral, world.zephyr, world.aire_user, available_from=today + timedelta(days=5),
                 valid_until=today + timedelta(days=10))
    login_as(world.leeds_officer)
    url = url_for('placements.accept_offer', referral_id=referral.id, offer_id=made.id)

    response = client.post(url, data={'start_date': ['1', '1', '2031'], 'planned_end_date': ['', '', '']})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'govuk-error-summary' in page
    assert (f'Start date must be between {format_date(today + timedelta(days=5))} (when the place is available) '
            f'and {format_date(today + timedelta(days=10))} (the last day of the offer)') in page
    assert _placements() == 0
    db.session.expire_all()
    assert db.session.get(Setting, world.zephyr.id).vacancies == 1


def test_accept_page_states_the_allowed_range_and_starts_within_it(world, client, login_as):
    today = date.today()
    # the referral asked for a start after the offer runs out: the suggested date is the offer's last day
    referral = send(world, start_date=today + timedelta(days=60), response_deadline=today + timedelta(days=2))
    made = offer(world, referral, world.zephyr, world.aire_user, available_from=today + timedelta(days=5),
                 valid_until=today + timedelta(days=10))
    login_as(world.leeds_officer)

    page = client.get(url_for('placements.accept_offer', referral_id=referral.id,
                              offer_id=made.id)).get_data(as_text=True)

    last = today + timedelta(days=10)
    assert f'Between {format_date(today + timedelta(days=5))} and {format_date(last)}' in page
    assert f'value="{last.day}"' in page and f'value="{last.year}"' in page


def test_service_accepts_a_start_date_up_to_the_offers_last_day_and_not_after(world, app_ctx):
    referral = send(world)
    today = date.today()
    made = offer(world, referral, world.zephyr, world.aire_user, available_from=today + timedelta(days=5),
                 valid_until=today + timedelta(days=10))

    with pytest.raises(services.PlacementError) as caught:
        services.accept_offer(made, start_date=today + timedelta(days=11), planned_end_date=None,
                              actor=world.leeds_officer)
    assert caught.value.field == 'start_date'
    assert _placements() == 0
    placement = services.accept_offer(made, start_date=today + timedelta(days=10), planned_end_date=None,
                                      actor=world.leeds_officer)
    assert placement.start_date == today + timedelta(days=10)


def test_an_offer_valid_for_years_still_limits_the_start_to_six_months_ahead(world, app_ctx):
    referral = send(world)
    today = date.today()
    made = offer(world, referral, world.zephyr, world.aire_user, available_from=today)
    made.valid_until = today + timedelta(days=2000)  # made before offers were limited to 90 days ahead
    db.session.flush()

    assert services.start_date_range(made, today) == (today, today + timedelta(days=services.START_AHEAD_DAYS))
    with pytest.raises(services.PlacementError, match='up to 6 months ahead'):
        services.accept_offer(made, start_date=today + timedelta(days=services.START_AHEAD_DAYS + 1),
                              planned_end_date=None, actor=world.leeds_officer)


def test_a_placement_already_begun_can_be_recorded_up_to_four_weeks_back(world, app_ctx):
    referral = send(world)
    sent = date.today()
    made = offer(world, referral, world.zephyr, world.aire_user, available_from=sent,
                 valid_until=sent + timedelta(days=60))
    later = datetime.combine(sent + timedelta(days=40), datetime.min.time(), tzinfo=UTC)

    earliest, _latest = services.start_date_range(made, later.date())
    assert earliest == later.date() - timedelta(days=services.START_BACKDATE_DAYS)
    with pytest.raises(services.PlacementError, match='up to 28 days after it started'):
        services.accept_offer(made, start_date=sent, planned_end_date=None, actor=world.leeds_officer, now=later)
    placement = services.accept_offer(made, start_date=earliest, planned_end_date=None, actor=world.leeds_officer,
                                      now=later)
    assert placement.start_date == earliest
