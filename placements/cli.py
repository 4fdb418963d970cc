"""``flask placements ...``: the scheduled jobs (deadline reminders, retention)."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app

from placements import bp


def _moment(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value else None


@bp.cli.command('send-reminders')
@click.option('--now', type=click.DateTime(formats=['%Y-%m-%dT%H:%M', '%Y-%m-%d']), default=None,
              help='Run as if it were this UTC time (YYYY-MM-DD or YYYY-MM-DDTHH:MM); defaults to now.')
def send_reminders_command(now):
    """Remind providers of referrals whose response deadline is within REFERRAL_REMINDER_HOURS (once each)."""
    from placements.services import send_deadline_reminders

    hours = int(current_app.config['REFERRAL_REMINDER_HOURS'])
    count = send_deadline_reminders(_moment(now), hours=hours)
    click.echo(f'Sent {count} deadline reminder(s) for responses due within {hours} hours.')


@bp.cli.command('delete-child-details')
@click.option('--now', type=click.DateTime(formats=['%Y-%m-%dT%H:%M', '%Y-%m-%d']), default=None,
              help='Run as if it were this UTC time; defaults to now.')
def delete_child_details_command(now):
    """Delete child details from referrals closed REFERRAL_RETENTION_MONTHS or more ago (keeps anonymised facts)."""
    from placements.retention import delete_child_details

    months = int(current_app.config['REFERRAL_RETENTION_MONTHS'])
    count = delete_child_details(_moment(now), months=months)
    click.echo(f'Deleted child details from {count} referral(s) closed {months} or more months ago.')
