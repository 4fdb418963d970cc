"""The board's review of an application: assignment, per-question outcomes, clarifications and per-lot decisions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import UTCDateTime, utcnow
from registry.extensions import db

#: What an assessor can record against one question.
QUESTION_OUTCOMES = (('pass', 'Pass'), ('fail', 'Fail'), ('clarify', 'Ask for clarification'))
#: What can be proposed for one lot.
LOT_OUTCOMES = (('approve', 'Approve'), ('reject', 'Reject'))
#: Where a question's outcome came from: the assessor's own judgement, or the automatic rule's mark accepted
#: explicitly by the assessor (:func:`qualification.board.accept_automatic_marks`), or the previous application's
#: mark carried for an unchanged answer (:func:`qualification.board.carry_previous_marks`).
MARK_SOURCES = ('assessor', 'automatic', 'carried')


class Review(db.Model):
    """One application's review: who is assessing it, who proposed the decision, who signed it off."""

    __tablename__ = 'application_reviews'

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey('applications.id', ondelete='CASCADE'), nullable=False,
                                                unique=True)
    assessor_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'), index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    application = relationship('Application')
    assessor = relationship('User', foreign_keys=[assessor_id])
    proposed_by = relationship('User', foreign_keys=[proposed_by_id])
    signed_off_by = relationship('User', foreign_keys=[signed_off_by_id])


class QuestionReview(db.Model):
    """An assessor's outcome and comment on one question of one application."""

    __tablename__ = 'question_reviews'
    __table_args__ = (UniqueConstraint('application_id', 'question_id', name='uq_question_reviews_question'),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey('applications.id', ondelete='CASCADE'), nullable=False)
    question_id: Mapped[str] = mapped_column(String(80), nullable=False)
    #: ``pass``, ``fail`` or ``clarify``.
    outcome: Mapped[str] = mapped_column(String(10), nullable=False)
    comment: Mapped[str] = mapped_column(Text, default='', nullable=False)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: One of :data:`MARK_SOURCES`.
    source: Mapped[str] = mapped_column(String(10), default='assessor', server_default='assessor', nullable=False)


class ClarificationRequest(db.Model):
    """One round of clarification: the questions the provider may change, and the assessor's comments on them."""

    __tablename__ = 'clarification_requests'

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey('applications.id', ondelete='CASCADE'), nullable=False,
                                                index=True)
    #: ``{question id: the assessor's comment}``
    questions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, nullable=False)
    message: Mapped[str] = mapped_column(Text, default='', nullable=False)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LotDecision(db.Model):
    """The proposed (then signed-off) outcome for one lot, with reasons the provider sees."""

    __tablename__ = 'lot_decisions'
    __table_args__ = (UniqueConstraint('application_id', 'lot', name='uq_lot_decisions_lot'),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey('applications.id', ondelete='CASCADE'), nullable=False)
    lot: Mapped[str] = mapped_column(String(40), nullable=False)
    #: ``approve`` or ``reject``.
    outcome: Mapped[str] = mapped_column(String(10), nullable=False)
    reasons: Mapped[str] = mapped_column(Text, default='', nullable=False)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class DecisionOverride(db.Model):
    """A board member's recorded decision to allow approval despite the failures listed, with reasons.

    It covers exactly the failures it lists: a failure that appears later needs a new override. A resubmission
    after clarification voids it, because the answers it judged have changed.
    """

    __tablename__ = 'decision_overrides'

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey('applications.id', ondelete='CASCADE'), nullable=False,
                                                index=True)
    reasons: Mapped[str] = mapped_column(Text, nullable=False)
    #: ``[{'question_id': ..., 'label': ..., 'automatic': bool, 'marked': bool}]`` as they stood when recorded.
    failures: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list, nullable=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recorded_by = relationship('User')

    def covers(self, failures) -> bool:
        """Whether every one of ``failures`` (objects with a question id ``key``) was listed when it was recorded."""
        listed = {item['question_id'] for item in self.failures}
        return all(failure.key in listed for failure in failures)
