"""``flask registry create-admin``."""

from __future__ import annotations

from sqlalchemy import select

from registry.accounts.models import Role, User
from registry.extensions import db


def test_operator_can_create_an_admin_from_the_command_line(app, app_ctx):
    result = app.test_cli_runner().invoke(args=['registry', 'create-admin', '--email', 'Boss@Example.org',
                                                '--name', 'Boss Person', '--password', 'a long admin passphrase'])

    assert result.exit_code == 0, result.output
    assert 'Created administrator boss@example.org' in result.output
    user = db.session.scalar(select(User).where(User.email == 'boss@example.org'))
    assert user.role == Role.ADMIN
    assert user.is_verified
    assert not user.has_second_factor


def test_operator_cannot_create_an_admin_with_a_weak_password(app, app_ctx):
    result = app.test_cli_runner().invoke(args=['registry', 'create-admin', '--email', 'boss@example.org',
                                                '--password', 'short'])

    assert result.exit_code != 0
    assert '12 characters' in result.output
    assert db.session.scalar(select(User)) is None


def test_operator_cannot_create_a_second_account_with_the_same_email(app, app_ctx):
    runner = app.test_cli_runner()
    args = ['registry', 'create-admin', '--email', 'boss@example.org', '--password', 'a long admin passphrase']
    runner.invoke(args=args)

    result = runner.invoke(args=args)

    assert result.exit_code != 0
    assert 'already uses this email' in result.output
