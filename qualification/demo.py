"""Demo data for the board's scheme publishing: version 2026.2 (supported accommodation) published as the board
would publish it. Registered with :func:`registry.demo.register_demo_step` by the app factory."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import select

from qualification.applications import SchemeVersion
from qualification.scheme_publishing import publish, upload_draft
from qualification.schemes import SCHEMES_DIR
from registry.accounts.models import Role, User
from registry.extensions import db

#: Scheme versions shipped with the service for the board to publish (not read directly by the loader).
BOARD_SCHEMES_DIR: Path = SCHEMES_DIR / 'board'
DEMO_VERSION = '2026.2'


def load(_rng: random.Random, echo: Callable[[str], None]) -> str:
    """Upload and publish 2026.2 through the board's own functions, in effect from today."""
    recorded = db.session.get(SchemeVersion, DEMO_VERSION)
    if recorded is not None and recorded.is_published:
        return f'Scheme version {DEMO_VERSION} is already published.'
    board_member = db.session.scalars(select(User).where(User.role == Role.BOARD_MEMBER).order_by(User.id)).first()
    if board_member is None:
        return 'No board member account: scheme version 2026.2 was not published.'
    echo(f'Publishing scheme version {DEMO_VERSION} (supported accommodation)…')
    path = BOARD_SCHEMES_DIR / f'{DEMO_VERSION}.yaml'
    recorded = upload_draft(path.read_bytes(), path.name, actor=board_member)
    publish(recorded, effective_from=date.today(), actor=board_member,
            reason='Adds supported accommodation for 16 and 17 year olds as a lot')
    return (f'Published scheme version {DEMO_VERSION} (adds supported accommodation) as {board_member.email}, '
            'in effect from today.')
