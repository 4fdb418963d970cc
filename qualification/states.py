"""The three workflows as data: statuses, one transition table each and a pure lookup (no Flask).

Applications to the national qualification, qualifications themselves, and local applications to join an
authority's list each have exactly one table here; :mod:`qualification.workflow` applies them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class ApplicationStatus(enum.StrEnum):
    """Where an application to the national qualification stands."""

    DRAFT = 'draft'
    SUBMITTED = 'submitted'
    IN_REVIEW = 'in-review'
    CLARIFICATION_REQUESTED = 'clarification-requested'
    DECISION_PROPOSED = 'decision-proposed'
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
    ApplicationStatus.DECISION_PROPOSED: 'Decision proposed',
    ApplicationStatus.APPROVED: 'Approved',
    ApplicationStatus.REJECTED: 'Rejected',
    ApplicationStatus.WITHDRAWN: 'Withdrawn',
}


class ApplicationAction(enum.StrEnum):
    """What someone can do to an application."""

    SUBMIT = 'submit'
    START_REVIEW = 'start-review'
    REQUEST_CLARIFICATION = 'request-clarification'
    PROPOSE_DECISION = 'propose-decision'
    SEND_BACK = 'send-back'
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
            'propose-decision': 'propose a decision on',
            'send-back': 'send back for review',
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
    (S.IN_REVIEW, A.PROPOSE_DECISION): S.DECISION_PROPOSED,
    # a second board member signs off the proposal (approve or reject), or sends it back to the assessor
    (S.DECISION_PROPOSED, A.APPROVE): S.APPROVED,
    (S.DECISION_PROPOSED, A.REJECT): S.REJECTED,
    (S.DECISION_PROPOSED, A.SEND_BACK): S.IN_REVIEW,
    (S.DRAFT, A.WITHDRAW): S.WITHDRAWN,
    (S.SUBMITTED, A.WITHDRAW): S.WITHDRAWN,
    (S.IN_REVIEW, A.WITHDRAW): S.WITHDRAWN,
    (S.CLARIFICATION_REQUESTED, A.WITHDRAW): S.WITHDRAWN,
    (S.DECISION_PROPOSED, A.WITHDRAW): S.WITHDRAWN,
}

#: Statuses in which the provider may change answers and evidence.
EDITABLE_STATUSES = frozenset({S.DRAFT, S.CLARIFICATION_REQUESTED})
#: Statuses that count as the organisation's one open application.
OPEN_STATUSES = frozenset({S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.CLARIFICATION_REQUESTED, S.DECISION_PROPOSED})
#: Statuses in which the board may still decide (the compare-and-set in the decision services expects these).
DECIDABLE_STATUSES = frozenset({S.IN_REVIEW, S.DECISION_PROPOSED})

del S, A


class TransitionRefused(ValueError):
    """Raised by :func:`next_status` for a move the table does not allow (the workflow re-raises it)."""


def next_status(current: ApplicationStatus | str, action: ApplicationAction | str) -> ApplicationStatus:
    """Return the status ``action`` leads to from ``current``, or raise :class:`TransitionRefused`."""
    return APPLICATION_MACHINE.next_status(current, action)


# --- qualifications ------------------------------------------------------------------------------------------------

class QualificationStatus(enum.StrEnum):
    """Where a granted qualification stands."""

    ACTIVE = 'active'
    SUSPENDED = 'suspended'
    REVOKED = 'revoked'
    EXPIRED = 'expired'

    @property
    def label(self) -> str:
        return self.value.capitalize()


class QualificationAction(enum.StrEnum):
    """What the board (or the expiry job) can do to a qualification."""

    SUSPEND = 'suspend'
    REINSTATE = 'reinstate'
    REVOKE = 'revoke'
    EXPIRE = 'expire'
    RENEW = 'renew'

    @property
    def verb(self) -> str:
        return self.value


Q, QA = QualificationStatus, QualificationAction

#: Every allowed move of a qualification.
QUALIFICATION_TRANSITIONS: dict[tuple[QualificationStatus, QualificationAction], QualificationStatus] = {
    (Q.ACTIVE, QA.SUSPEND): Q.SUSPENDED,
    (Q.SUSPENDED, QA.REINSTATE): Q.ACTIVE,
    (Q.ACTIVE, QA.REVOKE): Q.REVOKED,
    (Q.SUSPENDED, QA.REVOKE): Q.REVOKED,
    (Q.ACTIVE, QA.EXPIRE): Q.EXPIRED,
    # the annual review passed: another 12 months
    (Q.ACTIVE, QA.RENEW): Q.ACTIVE,
}

del Q, QA


# --- local applications --------------------------------------------------------------------------------------------

class LocalApplicationStatus(enum.StrEnum):
    """Where a provider's application to join an authority's local list stands."""

    DRAFT = 'draft'
    SUBMITTED = 'submitted'
    ACCEPTED = 'accepted'
    DECLINED = 'declined'
    WITHDRAWN = 'withdrawn'

    @property
    def label(self) -> str:
        return self.value.capitalize()


class LocalApplicationAction(enum.StrEnum):
    """What a provider or the authority's commissioners can do to a local application."""

    SUBMIT = 'submit'
    ACCEPT = 'accept'
    DECLINE = 'decline'
    WITHDRAW = 'withdraw'

    @property
    def verb(self) -> str:
        return self.value


L, LA = LocalApplicationStatus, LocalApplicationAction

#: Every allowed move of a local application.
LOCAL_TRANSITIONS: dict[tuple[LocalApplicationStatus, LocalApplicationAction], LocalApplicationStatus] = {
    (L.DRAFT, LA.SUBMIT): L.SUBMITTED,
    (L.SUBMITTED, LA.ACCEPT): L.ACCEPTED,
    (L.SUBMITTED, LA.DECLINE): L.DECLINED,
    (L.DRAFT, LA.WITHDRAW): L.WITHDRAWN,
    (L.SUBMITTED, LA.WITHDRAW): L.WITHDRAWN,
    # a provider leaves a list it was accepted onto
    (L.ACCEPTED, LA.WITHDRAW): L.WITHDRAWN,
}

del L, LA


# --- scheme versions -----------------------------------------------------------------------------------------------

class SchemeVersionStatus(enum.StrEnum):
    """A scheme version uploaded by the board is a draft until published; a published version never changes."""

    DRAFT = 'draft'
    PUBLISHED = 'published'

    @property
    def label(self) -> str:
        return self.value.capitalize()


class SchemeVersionAction(enum.StrEnum):
    PUBLISH = 'publish'

    @property
    def verb(self) -> str:
        return self.value


#: Every allowed move of a scheme version: publishing is final (a change is published as a newer version).
SCHEME_TRANSITIONS: dict[tuple[SchemeVersionStatus, SchemeVersionAction], SchemeVersionStatus] = {
    (SchemeVersionStatus.DRAFT, SchemeVersionAction.PUBLISH): SchemeVersionStatus.PUBLISHED,
}


# --- one lookup for every machine ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Machine:
    """One workflow: its status and action enums, its table, and the noun used in refusals."""

    name: str
    noun: str
    statuses: type[enum.StrEnum]
    actions: type[enum.StrEnum]
    transitions: Mapping

    def next_status(self, current, action):
        """Return the status ``action`` leads to from ``current``, or raise :class:`TransitionRefused`."""
        try:
            status, act = self.statuses(current), self.actions(action)
        except ValueError as exc:
            raise TransitionRefused(f'Unknown status or action: {exc}') from None
        try:
            return self.transitions[(status, act)]
        except KeyError:
            label = getattr(status, 'label', status.value)
            raise TransitionRefused(f'You cannot {act.verb} {self.noun} that is {label.lower()}') from None


APPLICATION_MACHINE = Machine('application', 'an application', ApplicationStatus, ApplicationAction, TRANSITIONS)
QUALIFICATION_MACHINE = Machine('qualification', 'a qualification', QualificationStatus, QualificationAction,
                                QUALIFICATION_TRANSITIONS)
LOCAL_MACHINE = Machine('local_application', 'a local application', LocalApplicationStatus,
                        LocalApplicationAction, LOCAL_TRANSITIONS)
SCHEME_MACHINE = Machine('scheme_version', 'a scheme version', SchemeVersionStatus, SchemeVersionAction,
                         SCHEME_TRANSITIONS)
