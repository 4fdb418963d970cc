"""The transition tables: every listed move is allowed, every other (status, action) pair is refused."""

from __future__ import annotations

import itertools

import pytest

from placements.states import (
    PLACEMENT_TRANSITIONS,
    REFERRAL_TRANSITIONS,
    RESPONSE_TRANSITIONS,
    PlacementAction,
    PlacementStatus,
    ReferralAction,
    ReferralStatus,
    ResponseAction,
    ResponseStatus,
    next_status,
)
from registry.errors import InvalidTransition

TABLES = [(REFERRAL_TRANSITIONS, ReferralStatus, ReferralAction),
          (RESPONSE_TRANSITIONS, ResponseStatus, ResponseAction),
          (PLACEMENT_TRANSITIONS, PlacementStatus, PlacementAction)]
PAIRS = [(table, status, action) for table, statuses, actions in TABLES
         for status, action in itertools.product(statuses, actions)]


@pytest.mark.parametrize('table, status, action', PAIRS, ids=[f'{s.value}-{a.value}' for _t, s, a in PAIRS])
def test_every_move_not_in_the_table_is_refused(table, status, action):
    if (status, action) in table:
        assert next_status(table, status, action) == table[(status, action)]
    else:
        with pytest.raises(InvalidTransition):
            next_status(table, status, action)


def test_only_an_open_referral_can_be_placed_or_closed():
    assert {status for status, _action in REFERRAL_TRANSITIONS} == {ReferralStatus.OPEN}


def test_an_offer_can_be_accepted_only_once_made():
    assert [status for (status, action) in RESPONSE_TRANSITIONS if action == ResponseAction.ACCEPT] == [
        ResponseStatus.OFFERED]


def test_closing_a_closed_referral_says_the_referral_is_closed():
    # It said "This response is already “closed without a placement”": the referral's and the response's "close"
    # are the same string, so one refusal overwrote the other.
    with pytest.raises(InvalidTransition) as caught:
        next_status(REFERRAL_TRANSITIONS, ReferralStatus.CLOSED, ReferralAction.CLOSE)
    assert str(caught.value) == 'This referral is already closed without a placement'
    with pytest.raises(InvalidTransition) as caught:
        next_status(RESPONSE_TRANSITIONS, ResponseStatus.DECLINED, ResponseAction.CLOSE)
    assert str(caught.value) == 'This response is already “declined”'
