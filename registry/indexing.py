"""The reindex outbox: the transaction that changes a setting or qualification also records what to re-index.

The registry and qualification packages write here; the search package drains it. Keeping the
table in the core lets data flow one way: nothing outside ``search`` imports ``search``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import UTCDateTime, after_commit, utcnow
from registry.extensions import db


class ReindexRequest(db.Model):
    """One setting to re-index (or remove from the index, if it is no longer listed)."""

    __tablename__ = 'reindex_requests'
    __table_args__ = (Index('ix_reindex_requests_pending', 'processed_at', 'id'),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: No foreign key: a deleted setting must still be removed from the index.
    setting_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    reason: Mapped[str] = mapped_column(String(80), default='', nullable=False)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_error: Mapped[str] = mapped_column(Text, default='', nullable=False)


#: Set by the search package at start-up: drains pending requests after a commit (within a short time limit).
_drainer: Callable[[], None] | None = None
#: Set by the search package at start-up: drains every pending request, however long it takes.
_full_drainer: Callable[[], object] | None = None


def set_drainer(drainer: Callable[[], None] | None, full_drainer: Callable[[], object] | None = None) -> None:
    """Register the functions that push pending requests to the search index: after commit, and all at once."""
    global _drainer, _full_drainer
    _drainer = drainer
    _full_drainer = full_drainer


def drain_everything() -> None:
    """Index every pending request now, without the after-commit time limit.

    For bulk loads run from the command line (the demo): the after-commit drain stops after a couple of
    seconds, which would leave a freshly loaded directory half indexed until the next write or worker run.
    """
    if _full_drainer is not None:
        _full_drainer()


def enqueue_settings(setting_ids: Iterable[int], reason: str = '') -> None:
    """Queue settings for re-indexing inside the current transaction."""
    ids = sorted(set(setting_ids))
    for setting_id in ids:
        db.session.add(ReindexRequest(setting_id=setting_id, reason=reason[:80]))
    if ids and _drainer is not None:
        after_commit('drain-reindex', _drainer)


def enqueue_organisation(organisation_id: int, reason: str = '') -> None:
    """Queue every setting of an organisation (a qualification change affects them all)."""
    from registry.settings.models import Setting

    db.session.flush()
    ids = db.session.scalars(select(Setting.id).where(Setting.organisation_id == organisation_id)).all()
    enqueue_settings(ids, reason)


__all__ = ['ReindexRequest', 'drain_everything', 'enqueue_organisation', 'enqueue_settings', 'set_drainer']
