"""Fixtures for account tests: reading emails, following their links, fresh per-request login state."""

from __future__ import annotations

import re

import pytest
from flask import g, request_started
from sqlalchemy import select

from registry.extensions import db
from registry.notifications.models import OutboxEmail


@pytest.fixture(autouse=True)
def _fresh_login_per_request(app):
    """Forget the cached user at the start of each request.

    ``app_ctx`` keeps one application context open, and test-client requests reuse it, so Flask-Login's
    ``g._login_user`` would otherwise carry over from one request (or one client) to the next.
    """

    def forget(sender, **extra):
        g.pop('_login_user', None)

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)


def emails(template: str, to: str | None = None) -> list[OutboxEmail]:
    """Queued emails made from ``template`` (optionally to one address), oldest first."""
    query = select(OutboxEmail).where(OutboxEmail.template == template).order_by(OutboxEmail.id)
    if to:
        query = query.where(OutboxEmail.to_address == to)
    return list(db.session.scalars(query))


def link_in(email: OutboxEmail) -> str:
    """The path of the first service link in an email body, ready for the test client."""
    match = re.search(r'https?://[^/\s]+(/\S+)', email.body)
    assert match, email.body
    return match.group(1)
