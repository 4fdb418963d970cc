"""The one notification service: tell people about an event, in the service and by email, as each prefers."""

from __future__ import annotations

import string
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from flask import current_app, render_template
from sqlalchemy import func, or_, select, update

from notifications.events import EVENTS, Event
from notifications.models import EmailFrequency, Notification, NotificationPreference
from registry.audit.services import record
from registry.db import unit_of_work, utcnow
from registry.errors import DomainError, PermissionDenied
from registry.extensions import db
from registry.notifications.services import emailed_in_transaction, queue_rendered
from registry.templating import LONDON

#: Notifications shown per page of the list.
PAGE_SIZE = 25


class _Blank(string.Formatter):
    """Missing context values read as empty rather than failing the change that is being announced."""

    def get_value(self, key, args, kwargs):
        value = kwargs.get(key, '') if isinstance(key, str) else super().get_value(key, args, kwargs)
        return '' if value is None else value


def _fill(template: str, context: dict[str, Any]) -> str:
    return ' '.join(_Blank().format(template, **context).split())


def event(kind: str) -> Event:
    """The declared event ``kind``; raises ``ValueError`` for an undeclared one."""
    try:
        return EVENTS[kind]
    except KeyError:
        raise ValueError(f'Unknown notification event {kind!r}; declare it with register_event') from None


def notify(event_kind: str, subject_object, recipients: Iterable, context: dict[str, Any] | None = None,
           ) -> list[Notification]:
    """Tell each recipient about an event, inside the caller's unit of work (no commit).

    Each person gets one notification in their list, and an email now or in tomorrow's digest as they prefer.
    One change emails a person once: someone already emailed in this transaction (a provider's contact told by the
    workflow's own email, a commissioner told of a suspension and of the shortlist it touches) is not emailed
    again; every notification is still listed.

    :param event_kind: a kind declared in :mod:`notifications.events`, e.g. ``qualification.suspended``.
    :param subject_object: what the event is about (any model with an ``id``).
    :param recipients: users; duplicates and deactivated accounts are dropped.
    :param context: values for the event's title and text; ``link`` (a path in the service) is kept as the link.
    :raises ValueError: for an undeclared event kind.
    """
    declared = event(event_kind)
    context = dict(context or {})
    people = {}
    for user in recipients:
        if user is not None and user.is_active_account and user.id not in people:
            people[user.id] = user
    if not people:
        return []
    preferences = dict(db.session.execute(
        select(NotificationPreference.user_id, NotificationPreference.email_frequency)
        .where(NotificationPreference.user_id.in_(list(people)))).all())
    title, body = _fill(declared.title, context)[:200], _fill(declared.body, context)
    link = str(context.get('link') or '')[:500]
    subject_type = getattr(subject_object, '__tablename__', type(subject_object).__name__.lower())
    now = utcnow()
    created = []
    for user in people.values():
        frequency = EmailFrequency(preferences.get(user.id, EmailFrequency.EACH))
        notification = Notification(user_id=user.id, kind=event_kind, subject_type=subject_type,
                                    subject_id=getattr(subject_object, 'id', None), title=title, body=body,
                                    link=link, created_at=now, email_frequency=frequency)
        if frequency == EmailFrequency.EACH:
            if not emailed_in_transaction(user.email):
                queue_rendered(user.email, f'notify-{event_kind}'[:60], title,
                               _render_email('email/notification.txt', user=user, notification=notification))
            notification.emailed_at = now
        db.session.add(notification)
        created.append(notification)
    db.session.flush()
    return created


def _render_email(template: str, **context) -> str:
    config = current_app.config
    return render_template(template, service_name=config['SERVICE_NAME'],
                           base_url=config['SERVER_BASE_URL'].rstrip('/'), **context)


# --- the list ------------------------------------------------------------------------------------------------------

def unread_count(user) -> int:
    """How many of the user's notifications are unread (for the header)."""
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def notifications_for(user, *, page: int = 1, unread_only: bool = False) -> tuple[list[Notification], int]:
    """A page of the user's notifications, newest first, and the total."""
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc())
                              .limit(PAGE_SIZE).offset((max(1, page) - 1) * PAGE_SIZE)).all()
    return list(rows), total


def mark_read(notification: Notification, *, actor) -> Notification:
    """Mark one of the actor's notifications as read.

    :raises PermissionDenied: it is someone else's.
    """
    if notification.user_id != actor.id:
        raise PermissionDenied('That notification is not yours')
    if notification.read_at is None:
        with unit_of_work():
            notification.read_at = utcnow()
    return notification


def mark_all_read(*, actor) -> int:
    """Mark every unread notification of the actor as read; returns how many."""
    with unit_of_work():
        result = db.session.execute(
            update(Notification).where(Notification.user_id == actor.id, Notification.read_at.is_(None))
            .values(read_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount


# --- preferences ---------------------------------------------------------------------------------------------------

def preference_of(user) -> EmailFrequency:
    """The user's email preference (each email unless they chose otherwise)."""
    value = db.session.scalar(select(NotificationPreference.email_frequency)
                              .where(NotificationPreference.user_id == user.id))
    return EmailFrequency(value) if value else EmailFrequency.EACH


def set_preference(user, frequency: EmailFrequency | str, *, actor) -> EmailFrequency:
    """Choose each email or a daily digest; applies to notifications from now on.

    :raises PermissionDenied: someone else's preference.
    :raises DomainError: not a known choice.
    """
    if actor.id != user.id:
        raise PermissionDenied('You can only change your own email preferences')
    try:
        frequency = EmailFrequency(frequency)
    except ValueError:
        raise DomainError('Choose how you want to be emailed') from None
    before = preference_of(user)
    with unit_of_work():
        row = db.session.get(NotificationPreference, user.id)
        if row is None:
            row = NotificationPreference(user_id=user.id)
            db.session.add(row)
        row.email_frequency = frequency
        db.session.flush()
        record('notification_preference.update', user, actor=actor, object_type='user',
               before={'email_frequency': before.value}, after={'email_frequency': frequency.value})
    return frequency


# --- daily digests -------------------------------------------------------------------------------------------------

def send_digests(now: datetime | None = None) -> int:
    """Queue one digest email per person with notifications waiting for it, at most once per UK day.

    Nothing goes before ``NOTIFICATION_DIGEST_HOUR`` (UK time). Each person's day is claimed by a conditional
    UPDATE of their preference row in the same transaction as the email, so two runs at once send one digest.
    Returns how many digests were queued.
    """
    now = now or utcnow()
    local = now.astimezone(LONDON)
    if local.time() < time(hour=int(current_app.config['NOTIFICATION_DIGEST_HOUR'])):
        return 0
    today = local.date()
    waiting = db.session.scalars(
        select(Notification.user_id).join(NotificationPreference,
                                          NotificationPreference.user_id == Notification.user_id)
        .where(Notification.email_frequency == EmailFrequency.DAILY, Notification.emailed_at.is_(None),
               or_(NotificationPreference.last_digest_on.is_(None), NotificationPreference.last_digest_on < today))
        .distinct().order_by(Notification.user_id)).all()
    sent = 0
    for user_id in waiting:
        sent += _send_digest(user_id, today, now)
    return sent


def _send_digest(user_id: int, today: date, now: datetime) -> int:
    from registry.accounts.models import User

    with unit_of_work():
        claimed = db.session.execute(
            update(NotificationPreference).where(
                NotificationPreference.user_id == user_id,
                or_(NotificationPreference.last_digest_on.is_(None), NotificationPreference.last_digest_on < today))
            .values(last_digest_on=today).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            return 0
        items = db.session.scalars(select(Notification).where(
            Notification.user_id == user_id, Notification.email_frequency == EmailFrequency.DAILY,
            Notification.emailed_at.is_(None)).order_by(Notification.created_at, Notification.id)).all()
        user = db.session.get(User, user_id)
        if not items or user is None or not user.is_active_account:
            return 0
        count = len(items)
        queue_rendered(user.email, 'notify-digest',
                       f'{count} new notification{"s" if count != 1 else ""} from the registry',
                       _render_email('email/digest.txt', user=user, notifications=items, day=today))
        for item in items:
            item.emailed_at = now
    return 1
