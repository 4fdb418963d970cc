"""Operations commands: ``flask --app wsgi registry ...``."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from registry.extensions import db


@click.group('registry')
def registry_cli():
    """Registry operations: accounts, demo data, status."""


@registry_cli.command('create-admin')
@click.option('--email', required=True)
@click.option('--name', 'full_name', default='Registry administrator', show_default=True)
@click.password_option('--password', help='At least 12 characters.')
def create_admin(email: str, full_name: str, password: str):
    """Create a verified administrator account. They set up their second factor at first sign-in."""
    from registry.accounts.models import Role
    from registry.accounts.services import AccountError, create_user

    try:
        user = create_user(email=email, full_name=full_name, password=password, role=Role.ADMIN, verified=True)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f'Created administrator {user.email} (id {user.id}).')


@registry_cli.command('load-demo')
@click.option('--seed', default=2025, show_default=True, help='Random seed, so the demo is repeatable.')
def load_demo(seed: int):
    """Load believable demo organisations, settings and accounts across England (idempotent)."""
    from registry.demo import load_demo_data

    summary = load_demo_data(seed=seed, echo=click.echo)
    click.echo(summary)


@registry_cli.command('status')
def status():
    """Show what the registry holds and how it is configured."""
    from flask import current_app

    from registry.accounts.models import User
    from registry.geography.models import LocalAuthority
    from registry.notifications.models import OutboxEmail
    from registry.organisations.models import Organisation
    from registry.settings.models import Setting

    config = current_app.config
    click.echo(f"Database:        {db.engine.url.render_as_string(hide_password=True)}")
    click.echo(f"Search engine:   {config['SEARCH_ENGINE']}")
    click.echo(f"Document store:  {config['STORAGE_BACKEND']}")
    click.echo(f"Email:           {config['MAIL_BACKEND']}")
    for label, model in (('Local authorities', LocalAuthority), ('Users', User),
                         ('Organisations', Organisation), ('Settings', Setting)):
        count = db.session.scalar(select(func.count()).select_from(model))
        click.echo(f'{label + ":":<17}{count}')
    unsent = db.session.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.sent_at.is_(None)))
    click.echo(f"{'Unsent emails:':<17}{unsent}")


@registry_cli.command('send-emails')
def send_emails():
    """Deliver queued emails (a worker runs this on a schedule when email goes by SMTP)."""
    from registry.notifications.services import deliver_pending

    click.echo(f'Delivered {deliver_pending()} emails.')


@registry_cli.command('storage-check')
@click.option('--min-age-hours', default=24.0, show_default=True,
              help='Remove orphans and unfinished temporary files older than this.')
@click.option('--dry-run', is_flag=True, help='Report only; remove nothing.')
def storage_check(min_age_hours: float, dry_run: bool):
    """Find blobs no row refers to (and remove those older than a day) and rows whose blob is missing.

    Exits with status 1 when a row refers to a missing blob: that needs a person to look.
    """
    from datetime import timedelta

    from flask import current_app

    from registry.storage import check_storage

    age = None if dry_run else timedelta(hours=min_age_hours)
    report = check_storage(current_app._get_current_object(), remove_older_than=age)
    click.echo(f'Stored blobs:           {report.blobs}')
    click.echo(f'Referenced by rows:     {report.referenced}')
    click.echo(f'Orphans (no row):       {len(report.orphans)}')
    click.echo(f'Unfinished temporaries: {len(report.partials)}')
    for blob in [*report.orphans, *report.partials]:
        action = 'removed' if blob in report.removed else 'kept (younger than the limit)' if not dry_run else 'found'
        click.echo(f'  {blob.key}  {blob.size} bytes  {blob.modified_at:%Y-%m-%d %H:%M} UTC  {action}')
    click.echo(f'Removed:                {len(report.removed)}')
    click.echo(f'Rows with no blob:      {len(report.missing)}')
    for source, key in report.missing:
        click.echo(f'  {source}: {key}')
    if report.missing:
        raise SystemExit(1)


def register_cli(app: Flask) -> None:
    from registry.ofsted.cli import import_ofsted, seed_from_register

    registry_cli.add_command(import_ofsted)
    registry_cli.add_command(seed_from_register)
    app.cli.add_command(registry_cli)
