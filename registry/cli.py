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
    from registry.indexing import drain_everything

    summary = load_demo_data(seed=seed, echo=click.echo)
    drain_everything()
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
    from registry.notifications.models import EmailStatus

    for label, status in (('Unsent emails:', EmailStatus.PENDING), ('Dead emails:', EmailStatus.DEAD)):
        count = db.session.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.status == status))
        click.echo(f'{label:<17}{count}')


@registry_cli.command('send-emails')
@click.option('--batch-size', default=100, show_default=True, type=click.IntRange(1, 10000),
              help='Emails claimed at a time (a claim lasts MAIL_CLAIM_SECONDS).')
def send_emails(batch_size: int):
    """Queue what is due (daily digests), then deliver queued emails; safe to run twice at once (cron, a worker)."""
    from registry.notifications.services import deliver_pending, run_email_jobs

    for name, queued in run_email_jobs().items():
        click.echo(f'{name}: queued {queued} emails.')
    click.echo(f'Delivered {deliver_pending(batch_size)} emails.')


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


@registry_cli.command('check-public-text')
@click.option('--csv', 'csv_path', type=click.Path(dir_okay=False, writable=True),
              help='Also write the report to this CSV file (one row per finding).')
def check_public_text(csv_path: str | None):
    """Find children's homes whose name or description gives their address away, and re-index them.

    The directory withholds such text (not the listing) until the provider changes it; the setting page tells the
    provider why. Re-indexing replaces any entry built before the check existed.
    """
    import csv

    from registry.db import unit_of_work
    from registry.indexing import enqueue_settings
    from registry.organisations.models import Organisation
    from registry.settings.models import Setting
    from registry.settings.public_text import PUBLIC_TEXT_FIELDS, public_text_findings
    from registry.settings.taxonomy import PROVISION_TYPES

    confidential = [ptype.value for ptype, info in PROVISION_TYPES.items() if info.confidential_address]
    query = (select(Setting.id, Setting.name, Setting.description, Setting.address_line_1, Setting.address_line_2,
                    Setting.postcode, Setting.district_name, Organisation.legal_name)
             .join(Organisation, Organisation.id == Setting.organisation_id)
             .where(Setting.provision_type.in_(confidential)).order_by(Setting.id))
    checked, flagged = 0, []
    for row in db.session.execute(query.execution_options(yield_per=1000)):
        checked += 1
        findings = public_text_findings(row._asdict(), confidential=True)
        if findings:
            flagged.append((row, findings))
    fields = ' and '.join(label.lower() for label in PUBLIC_TEXT_FIELDS.values())
    click.echo(f"Checked the {fields} of {checked} children's homes.")
    if not flagged:
        click.echo('None gives its address away.')
    else:
        click.echo(f'{len(flagged)} give their address away; the directory withholds that text until the provider '
                   'changes it:')
        for row, findings in flagged:
            found = '; '.join(f'{finding.field}: ‘{finding.found}’ ({finding.label})' for finding in findings)
            click.echo(f'  setting {row.id}  {row.name} ({row.legal_name}, {row.district_name}): {found}')
        with unit_of_work():
            enqueue_settings([row.id for row, _findings in flagged], 'public text withheld')
        click.echo(f'Queued {len(flagged)} settings for re-indexing.')
    if csv_path:
        with open(csv_path, 'w', newline='', encoding='utf-8') as handle:
            writer = csv.writer(handle)
            writer.writerow(['setting_id', 'setting_name', 'organisation', 'field', 'kind', 'found'])
            for row, findings in flagged:
                for finding in findings:
                    writer.writerow([row.id, row.name, row.legal_name, finding.field, finding.kind, finding.found])
        click.echo(f'Report written to {csv_path}.')


def register_cli(app: Flask) -> None:
    from registry.ofsted.cli import import_ofsted, seed_from_register

    registry_cli.add_command(import_ofsted)
    registry_cli.add_command(seed_from_register)
    app.cli.add_command(registry_cli)
