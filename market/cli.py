"""``flask market refresh``: rebuild the pre-aggregated tables the market pages read (run it from cron)."""

from __future__ import annotations

import time

import click

from market import bp


@bp.cli.command('refresh')
@click.option('--full', is_flag=True, help='Rebuild prices and flows even if no placement or offer was added.')
def refresh_command(full):
    """Count new demand log rows, rebuild prices and flows, and snapshot the register's latest release."""
    from market.refresh import refresh_all
    from registry.db import unit_of_work

    started = time.perf_counter()
    with unit_of_work():
        done = refresh_all(force=full)
    click.echo(', '.join(f'{name}: {count}' for name, count in done.items())
               + f' ({time.perf_counter() - started:.1f} s)')
