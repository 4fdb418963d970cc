"""The application workflow as data: statuses, the transition table and a pure lookup (no Flask)."""

from __future__ import annotations

import enum


class ApplicationStatus(enum.StrEnum):
    """Where an application to the national qualification stands."""

    DRAFT = 'draft'
    SUBMITTED = 'submitted'
    IN_REVIEW = 'in-review'
    CLARIFICATION_REQUESTED = 'clarification-requested'
    APPROVED = 'approved'
    REJECTED = 'rejected'
    WITHDRAWN = 'withdrawn'

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    ApplicationStatus.DRAFT: 'Draft',
    ApplicationStatus.SUBMITTED: 'Submitted',
    ApplicationStatus.IN_REVIEW: 'In review',
    ApplicationStatus.CLARIFICATION_REQUESTED: 'Clarification requested',
    ApplicationStatus.APPROVED: 'Approved',
    ApplicationStatus.REJECTED: 'Rejected',
    ApplicationStatus.WITHDRAWN: 'Withdrawn',
}


class ApplicationAction(enum.StrEnum):
    """What someone can do to an application."""

    SUBMIT = 'submit'
    START_REVIEW = 'start-review'
    REQUEST_CLARIFICATION = 'request-clarification'
    APPROVE = 'approve'
    REJECT = 'reject'
    WITHDRAW = 'withdraw'

    @property
    def verb(self) -> str:
        """The action in a sentence: "You cannot <verb> an application that is draft"."""
        return {
            'submit': 'submit',
            'start-review': 'start reviewing',
            'request-clarification': 'request clarification on',
            'approve': 'approve',
            'reject': 'reject',
            'withdraw': 'withdraw',
        }[self.value]


S, A = ApplicationStatus, ApplicationAction

#: Every allowed move: (from status, action) -> to status. Anything else is refused.
TRANSITIONS: dict[tuple[ApplicationStatus, ApplicationAction], ApplicationStatus] = {
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.CLARIFICATION_REQUESTED, A.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, A.START_REVIEW): S.IN_REVIEW,
    (S.IN_REVIEW, A.REQUEST_CLARIFICATION): S.CLARIFICATION_REQUESTED,
    (S.IN_REVIEW, A.APPROVE): S.APPROVED,
    (S.IN_REVIEW, A.REJECT): S.REJECTED,
    (S.DRAFT, A.WITHDRAW): S.WITHDRAWN,
    (S.SUBMITTED, A.WITHDRAW): S.WITHDRAWN,
    (S.IN_REVIEW, A.WITHDRAW): S.WITHDRAWN,
    (S.CLARIFICATION_REQUESTED, A.WITHDRAW): S.WITHDRAWN,
}

#: Statuses in which the provider may change answers and evidence.
EDITABLE_STATUSES = frozenset({S.DRAFT, S.CLARIFICATION_REQUESTED})
#: Statuses that count as the organisation's one open application.
OPEN_STATUSES = frozenset({S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.CLARIFICATION_REQUESTED})

del S, A


class TransitionRefused(ValueError):
    """Raised by :func:`next_status` for a move the table does not allow (the workflow re-raises it)."""


def next_status(current: ApplicationStatus | str, action: ApplicationAction | str) -> ApplicationStatus:
    """Return the status ``action`` leads to from ``current``, or raise :class:`TransitionRefused`."""
    try:
        status, act = ApplicationStatus(current), ApplicationAction(action)
    except ValueError as exc:
        raise TransitionRefused(f'Unknown status or action: {exc}') from None
    try:
        return TRANSITIONS[(status, act)]
    except KeyError:
        raise TransitionRefused(
            f'You cannot {act.verb} an application that is {status.label.lower()}') from None
