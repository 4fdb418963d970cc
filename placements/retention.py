"""Retention: child details are deleted a set time after a referral closes; anonymised facts stay for statistics.

"Closed" means placed or closed without a placement. What is deleted: the exact age, where the child lives
(district label and grid reference), the four free-text notes, and the providers' decline notes and offer
conditions (they may describe the child). What stays: authority, age band, sex, needs, provision type, dates,
prices, outcomes and distances (on responses and placements). Audit events never held the details.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import select, update

from placements.models import Offer, Referral, ReferralResponse
from placements.states import ReferralStatus
from registry.audit.services import record
from registry.db import unit_of_work, utcnow
from registry.extensions import db

BATCH_SIZE = 500


def subtract_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` earlier (the last day of the month when that day does not exist)."""
    import calendar

    total = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def due_for_deletion(now: datetime, months: int) -> list[int]:
    """Ids of referrals closed at least ``months`` ago whose child details are still held."""
    cutoff = subtract_months(now, months)
    return list(db.session.scalars(
        select(Referral.id).where(Referral.status.in_([ReferralStatus.PLACED, ReferralStatus.CLOSED]),
                                  Referral.closed_at <= cutoff, Referral.details_deleted_at.is_(None))
        .order_by(Referral.id)))


def delete_child_details(now: datetime | None = None, months: int = 12) -> int:
    """Delete the child details of every referral closed ``months`` or more ago; returns how many referrals.

    Works in batches, one transaction each, with one audit event per referral (facts only).
    """
    now = now or utcnow()
    ids = due_for_deletion(now, months)
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start:start + BATCH_SIZE]
        with unit_of_work():
            db.session.execute(
                update(Referral).where(Referral.id.in_(batch), Referral.details_deleted_at.is_(None))
                .values(age=None, origin_label='', origin_easting=None, origin_northing=None, location_notes='',
                        education_notes='', risk_notes='', other_notes='', details_deleted_at=now)
                .execution_options(synchronize_session=False))
            db.session.execute(update(ReferralResponse).where(ReferralResponse.referral_id.in_(batch))
                               .values(decline_notes='').execution_options(synchronize_session=False))
            db.session.execute(update(Offer).where(Offer.referral_id.in_(batch))
                               .values(conditions='').execution_options(synchronize_session=False))
            for referral_id in batch:
                referral = SimpleNamespace(id=referral_id, __tablename__='referrals')
                record('referral.delete_child_details', referral,
                       reason=f'Retention: child details deleted {months} months after the referral closed',
                       after={'referral_id': referral_id, 'retention_months': months})
    db.session.expire_all()
    return len(ids)
