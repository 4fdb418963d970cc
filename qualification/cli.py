"""``flask qualification ...``: the daily expiry and annual-review reminder job."""

from __future__ import annotations

from datetime import date

import click

from qualification import bp


@bp.cli.command('expire-due')
@click.option('--today', type=click.DateTime(formats=['%Y-%m-%d']), default=None,
              help='Run as if today were this date (YYYY-MM-DD); defaults to today.')
def expire_due_command(today):
    """Expire qualifications past their end date (delisting their settings) and send review reminders once."""
    from qualification.qualifications import expire_due

    day = today.date() if today else date.today()
    report = expire_due(day)
    click.echo(f'{day.isoformat()}: expired {len(report.expired)} qualification(s), '
               f'sent {len(report.reminded)} reminder(s).')
