"""The referral, response and placement workflows as data: statuses, coded reasons and one transition table each.

Pure Python (no Flask, no database), so every allowed and refused move is testable on its own;
:mod:`placements.workflow` applies them.
"""

from __future__ import annotations

import enum

from registry.errors import InvalidTransition


class ReferralStatus(enum.StrEnum):
    """A referral is open until a placement is made from it or the commissioner closes it."""

    OPEN = 'open'
    PLACED = 'placed'
    CLOSED = 'closed'

    @property
    def label(self) -> str:
        return {'open': 'Open', 'placed': 'Placed', 'closed': 'Closed without a placement'}[self.value]


class ReferralAction(enum.StrEnum):
    PLACE = 'place'
    CLOSE = 'close'


class ResponseStatus(enum.StrEnum):
    """Where one approached setting stands on a referral."""

    AWAITING = 'awaiting'
    OFFERED = 'offered'
    DECLINED = 'declined'
    ACCEPTED = 'accepted'
    NOT_SELECTED = 'not-selected'
    CLOSED = 'closed'

    @property
    def label(self) -> str:
        return {'awaiting': 'Awaiting response', 'offered': 'Offer made', 'declined': 'Declined',
                'accepted': 'Offer accepted', 'not-selected': 'Not selected',
                'closed': 'Referral closed'}[self.value]

    @property
    def tag_colour(self) -> str:
        return {'awaiting': 'yellow', 'offered': 'blue', 'declined': 'grey', 'accepted': 'green',
                'not-selected': 'grey', 'closed': 'grey'}[self.value]


class ResponseAction(enum.StrEnum):
    OFFER = 'offer'
    DECLINE = 'decline'
    ACCEPT = 'accept'
    NOT_SELECT = 'not-select'
    CLOSE = 'close'


class PlacementStatus(enum.StrEnum):
    ACTIVE = 'active'
    ENDED = 'ended'

    @property
    def label(self) -> str:
        return {'active': 'Active', 'ended': 'Ended'}[self.value]


class PlacementAction(enum.StrEnum):
    END = 'end'


class DeclineReason(enum.StrEnum):
    """Why a provider declined: coded, so declines can be counted."""

    NO_VACANCY = 'no-vacancy'
    CANNOT_MEET_NEEDS = 'cannot-meet-needs'
    LOCATION = 'location'
    MATCHING = 'matching'
    OTHER = 'other'

    @property
    def label(self) -> str:
        return {'no-vacancy': 'No vacancy', 'cannot-meet-needs': 'Cannot meet the child’s needs',
                'location': 'Location is not suitable', 'matching': 'Matching with the children already living here',
                'other': 'Another reason'}[self.value]


class CloseReason(enum.StrEnum):
    """Why a commissioner closed a referral without a placement."""

    NO_SUITABLE_OFFER = 'no-suitable-offer'
    PLACED_ELSEWHERE = 'placed-elsewhere'
    NO_LONGER_NEEDED = 'no-longer-needed'

    @property
    def label(self) -> str:
        return {'no-suitable-offer': 'No suitable offer',
                'placed-elsewhere': 'Placed elsewhere (in-house or outside the registry)',
                'no-longer-needed': 'A placement is no longer needed'}[self.value]


class EndReason(enum.StrEnum):
    """Why a placement ended."""

    PLANNED = 'planned'
    BREAKDOWN = 'breakdown'
    MOVED = 'moved'

    @property
    def label(self) -> str:
        return {'planned': 'Planned ending', 'breakdown': 'Placement breakdown (unplanned)',
                'moved': 'Child moved to another placement'}[self.value]


R, RA = ReferralStatus, ReferralAction
S, SA = ResponseStatus, ResponseAction
P, PA = PlacementStatus, PlacementAction

#: Every allowed move: (from status, action) -> to status. Anything else is refused.
REFERRAL_TRANSITIONS: dict[tuple[ReferralStatus, ReferralAction], ReferralStatus] = {
    (R.OPEN, RA.PLACE): R.PLACED,
    (R.OPEN, RA.CLOSE): R.CLOSED,
}

RESPONSE_TRANSITIONS: dict[tuple[ResponseStatus, ResponseAction], ResponseStatus] = {
    (S.AWAITING, SA.OFFER): S.OFFERED,
    (S.AWAITING, SA.DECLINE): S.DECLINED,
    (S.OFFERED, SA.ACCEPT): S.ACCEPTED,
    # another offer was accepted: the rest are told they were not selected
    (S.AWAITING, SA.NOT_SELECT): S.NOT_SELECTED,
    (S.OFFERED, SA.NOT_SELECT): S.NOT_SELECTED,
    # the commissioner closed the referral without a placement
    (S.AWAITING, SA.CLOSE): S.CLOSED,
    (S.OFFERED, SA.CLOSE): S.CLOSED,
}

PLACEMENT_TRANSITIONS: dict[tuple[PlacementStatus, PlacementAction], PlacementStatus] = {
    (P.ACTIVE, PA.END): P.ENDED,
}

#: The refusal for each action, keyed by (action class, action): ``ReferralAction.CLOSE`` and ``ResponseAction.CLOSE``
#: are both the string "close", so keyed by the action alone one overwrote the other.
_MESSAGES = {(type(action), action): message for action, message in (
    (ReferralAction.PLACE, 'This referral is {status}: a placement can only be made from an open referral'),
    (ReferralAction.CLOSE, 'This referral is already {status}'),
    (ResponseAction.OFFER, 'You cannot make an offer: the response is already “{status}”'),
    (ResponseAction.DECLINE, 'You cannot decline: the response is already “{status}”'),
    (ResponseAction.ACCEPT, 'This offer cannot be accepted: it is “{status}”'),
    (ResponseAction.NOT_SELECT, 'This response is already “{status}”'),
    (ResponseAction.CLOSE, 'This response is already “{status}”'),
    (PlacementAction.END, 'This placement has already ended'),
)}


def next_status(table: dict, status, action):
    """The status ``action`` leads to from ``status``.

    :raises InvalidTransition: the table has no such move (the message is safe to show).
    """
    try:
        return table[(status, action)]
    except KeyError:
        label = getattr(status, 'label', str(status)).lower()
        raise InvalidTransition(_MESSAGES[(type(action), action)].format(status=label)) from None
