"""``flask unlisted refresh``: bring the not-qualified entries in line with the imported Ofsted register."""

from __future__ import annotations

import click

from unlisted import bp


@bp.cli.command('refresh')
def refresh():
    """Run after ``flask import-ofsted``: active registrations of providers not on the national list become
    not-qualified entries (children's homes at authority level only); stopped ones leave search."""
    from registry.indexing import drain_everything
    from unlisted.services import refresh_from_register

    counts = refresh_from_register()
    drain_everything()
    click.echo(f'{counts["added"]} added, {counts["changed"]} changed, {counts["closed"]} closed.')
