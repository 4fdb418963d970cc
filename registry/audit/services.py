"""Writing audit events: called inside a service's unit of work, never committing itself."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from registry.audit.models import AuditEvent
from registry.extensions import db


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(item) for item in value]
    if hasattr(value, 'isoformat'):
        return value.isoformat()
    if hasattr(value, 'value') and not isinstance(value, int | float | str | bool):
        return value.value  # enums
    if value is None or isinstance(value, int | float | str | bool):
        return value
    return str(value)


def record(action: str, obj: Any, *, actor=None, reason: str = '', before: dict | None = None,
           after: dict | None = None, object_type: str | None = None) -> AuditEvent:
    """Add an audit event for ``obj`` to the current transaction and return it.

    :param action: a dotted verb, for example ``setting.update``.
    :param obj: the object acted on; it must already have an id (flush first).
    :param actor: the user who acted, or None for the system.
    """
    if obj is not None and getattr(obj, 'id', None) is None:
        db.session.flush()
    event = AuditEvent(
        actor_id=getattr(actor, 'id', None),
        action=action,
        object_type=object_type or (getattr(obj, '__tablename__', None) or type(obj).__name__.lower()),
        object_id=str(getattr(obj, 'id', '') if obj is not None else ''),
        reason=reason or '',
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        ip_address=(request.remote_addr or '') if has_request_context() else '',
    )
    db.session.add(event)
    return event


def changes(obj: Any, fields: list[str], new_values: dict[str, Any]) -> tuple[dict, dict]:
    """Return (before, after) dicts holding only the fields whose values differ."""
    before, after = {}, {}
    for field in fields:
        old, new = getattr(obj, field), new_values.get(field, getattr(obj, field))
        if old != new:
            before[field], after[field] = old, new
    return before, after


def events_for(obj: Any, object_type: str | None = None) -> list[AuditEvent]:
    """Audit events about one object, newest first."""
    kind = object_type or getattr(obj, '__tablename__', type(obj).__name__.lower())
    return list(db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.object_type == kind, AuditEvent.object_id == str(obj.id))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    ))
