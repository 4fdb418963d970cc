"""Counters that limit how fast anyone can do something (sign in, ask for emails), shared by every process.

Each counter is one row, changed by a single ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement on
both SQLite and PostgreSQL, so concurrent requests can never lose a count (no read-modify-write). Two kinds:

- :func:`hit` counts events in a fixed window: "at most 3 reset emails to one address an hour";
- :func:`admit` lets the first ``free`` attempts in a window through and then slows the rest down, one attempt
  per slot of 1, 2, 4 ... seconds (up to a maximum): attempts made before the slot opens are refused, with the
  seconds to wait, and not counted, so a flood cannot keep a whole network (a school, an office behind one
  address) locked out; it can only make everyone there wait a little.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, case, literal, null, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import UTCDateTime, utcnow
from registry.extensions import db


class ThrottleCounter(db.Model):
    """How often something keyed (an address, an email address, a user) happened in the current window."""

    __tablename__ = 'throttle_counters'

    #: What is counted and for whom, e.g. ``sign-in:203.0.113.7`` or ``reset-email:ada@example.org``.
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    hits: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: With :func:`admit`: no attempt is let through before this time.
    next_allowed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f'<ThrottleCounter {self.key} {self.hits}>'


@dataclass(frozen=True)
class Verdict:
    """Whether an attempt may go ahead, and if not how many seconds to wait."""

    allowed: bool
    retry_after: int = 0


def _insert(dialect_name: str):
    return (postgresql if dialect_name == 'postgresql' else sqlite).insert(ThrottleCounter.__table__)


def _run(statement, session):
    """Execute in ``session``'s transaction, or else on a connection of its own committed at once."""
    if session is not None:
        return session.execute(statement).one_or_none()
    with db.engine.begin() as connection:
        return connection.execute(statement).one_or_none()


def hit(key: str, window: timedelta, *, now: datetime | None = None, session=None) -> int:
    """Count one event against ``key`` and return how many there have been in the current window, this one included.

    A window starts at the first event after the previous one ended. Atomic: concurrent calls each get their own
    number.

    :param session: count inside this session's transaction (rolled back with it); by default the count is
        committed at once on a connection of its own, whatever happens to the caller's transaction.
    """
    key = key[:300]
    now = now or utcnow()
    table = ThrottleCounter.__table__
    expired = table.c.window_started_at < literal(now - window, UTCDateTime)
    statement = _insert(db.engine.dialect.name).values(key=key, window_started_at=now, hits=1)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={'hits': case((expired, 1), else_=table.c.hits + 1),
              'window_started_at': case((expired, literal(now, UTCDateTime)), else_=table.c.window_started_at),
              'next_allowed_at': case((expired, null()), else_=table.c.next_allowed_at)},
    ).returning(table.c.hits)
    return int(_run(statement, session)[0])


def over_limit(key: str, limit: int, window: timedelta, *, session=None) -> bool:
    """Count one event and say whether it goes beyond ``limit`` in the window."""
    return hit(key, window, session=session) > int(limit)


def admit(key: str, *, free: int, window: timedelta, max_delay: float, now: datetime | None = None) -> Verdict:
    """Let attempts through at full speed until ``free`` have been made in the window, then one per slot.

    Once ``free`` attempts have counted, each admitted attempt opens the next slot 1, 2, 4 ... seconds later (at
    most ``max_delay``); an attempt before the slot opens is refused with the seconds to wait and is not counted.
    Every admitted attempt counts as a failure until :func:`forgive` says it succeeded.
    """
    now = now or utcnow()
    count = hit(key, window, now=now)
    if count < free:
        return Verdict(True)
    delay = min(float(max_delay), 2.0 ** min(count - free, 30))
    table = ThrottleCounter.__table__
    with db.engine.begin() as connection:
        claimed = connection.execute(
            update(table).where(table.c.key == key, or_(table.c.next_allowed_at.is_(None),
                                                        table.c.next_allowed_at <= literal(now, UTCDateTime)))
            .values(next_allowed_at=literal(now + timedelta(seconds=delay), UTCDateTime)))
        if claimed.rowcount == 1:
            return Verdict(True)
        # refused attempts do not count: they must not push the next slot further away
        connection.execute(update(table).where(table.c.key == key)
                           .values(hits=case((table.c.hits > 0, table.c.hits - 1), else_=0)))
        opens = connection.execute(select(table.c.next_allowed_at).where(table.c.key == key)).scalar()
    # measured from now, not from when this attempt arrived (it may have waited for the database meanwhile)
    wait = min(float(max_delay), (opens - utcnow()).total_seconds()) if opens is not None else 1
    return Verdict(False, max(1, math.ceil(wait)))


def forgive(key: str, *, session=None) -> None:
    """An admitted attempt succeeded: it no longer counts against ``key`` (in ``session``'s transaction if given)."""
    table = ThrottleCounter.__table__
    statement = (update(table).where(table.c.key == key)
                 .values(hits=case((table.c.hits > 0, table.c.hits - 1), else_=0)))
    if session is not None:
        session.execute(statement)
        return
    with db.engine.begin() as connection:
        connection.execute(statement)


#: Window of the invitation limits.
INVITATION_WINDOW = timedelta(hours=1)


def invitation_refusal(sender_id: int, email: str) -> str | None:
    """Count an invitation (inside the caller's transaction, so only invitations actually sent count) and say why
    it may not be sent, or None. Limits: ``INVITATIONS_PER_SENDER_PER_HOUR`` and ``INVITATIONS_PER_EMAIL_PER_HOUR``.
    """
    from flask import current_app

    config = current_app.config
    if over_limit(f'invite-sender:{sender_id}', config['INVITATIONS_PER_SENDER_PER_HOUR'], INVITATION_WINDOW,
                  session=db.session):
        return 'You have sent too many invitations in the last hour. Try again later.'
    if over_limit(f'invite-email:{email.strip().lower()}', config['INVITATIONS_PER_EMAIL_PER_HOUR'], INVITATION_WINDOW,
                  session=db.session):
        return 'This address has been sent too many invitations in the last hour. Try again later.'
    return None
