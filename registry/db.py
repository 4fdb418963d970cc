"""Database helpers: UTC time, timestamps, enum columns, bulk inserts, the unit of work and loading by id."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps

from flask import abort
from sqlalchemy import DateTime, Enum, Insert, TypeDecorator, insert
from sqlalchemy.orm import Mapped, mapped_column

from registry.extensions import db


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError('naive datetimes are not accepted; use registry.db.utcnow()')
            value = value.astimezone(UTC)
            if dialect.name == 'sqlite':
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def enum_column(enum_cls: type[enum.Enum], name: str, **kwargs) -> Mapped:
    """A string column holding an enum's values, with a CHECK constraint listing them.

    Stored as plain strings (not a native ENUM type) so that adding a value is a small migration
    on both SQLite and PostgreSQL.
    """
    length = max(len(member.value) for member in enum_cls)
    column_type = Enum(enum_cls, name=name, native_enum=False, create_constraint=True, length=max(length, 20),
                       values_callable=lambda members: [member.value for member in members],
                       validate_strings=True)
    return mapped_column(column_type, **kwargs)


class TimestampMixin:
    """``created_at`` and ``updated_at``, maintained by the ORM."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


def bulk_insert(model) -> Insert:
    """An ORM INSERT for many rows (``session.execute(bulk_insert(Model), rows)``) that sends them in one batch.

    The ORM leaves a ``None`` out of a row's parameters, so rows with and without a value in some column cannot
    share a statement: it sends one executemany per run of alike rows and, with RETURNING, joins the results
    one run at a time (quadratic). Writing NULLs out makes every row alike. A key whose value is ``None`` is
    stored as NULL, not as the column's default: leave the key out to get the default.
    """
    return insert(model).execution_options(render_nulls=True)


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit once on success, roll back on any error: each service verb is one transaction.

    Work registered with :func:`after_commit` (sending queued email, draining the search outbox)
    runs only once the commit has succeeded, and is forgotten on rollback.
    """
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        db.session.info.pop('after_commit', None)
        raise
    for callback in db.session.info.pop('after_commit', {}).values():
        callback()


def after_commit(key: str, callback: Callable[[], None]) -> None:
    """Run ``callback`` once after the current unit of work commits (deduplicated by ``key``)."""
    db.session.info.setdefault('after_commit', {})[key] = callback


def retry_on_conflict(service: Callable) -> Callable:
    """Run a service verb once more when it lost a race with a concurrent one (a unique constraint or a row
    changed under it), against what the winner committed; a second loss is raised (and answered 409).

    For verbs whose last write should simply win, such as saving a form twice at once from two tabs. The verb
    must start from fresh reads (the rollback expires every loaded object) and clean up after itself on error.
    """

    @wraps(service)
    def wrapped(*args, **kwargs):
        from sqlalchemy.exc import IntegrityError
        from sqlalchemy.orm.exc import StaleDataError

        from registry.database import is_conflict

        try:
            return service(*args, **kwargs)
        except (IntegrityError, StaleDataError) as exc:
            if not (isinstance(exc, StaleDataError) or is_conflict(exc)):
                raise
            db.session.rollback()
            return service(*args, **kwargs)

    return wrapped


def get_or_404(model, ident):
    """Load a row by primary key or answer 404 (ids no integer column can hold are simply not found)."""
    from registry.inputs import MAX_DB_INT

    if isinstance(ident, int) and not 0 < ident <= MAX_DB_INT:
        abort(404)
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj
