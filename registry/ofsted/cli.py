"""``flask registry import-ofsted FILE`` and ``flask registry seed-from-register``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


class _ClickProgress:
    """Adapts ``progress(done, total)`` callbacks to a click progress bar opened once the total is known."""

    def __init__(self, label: str):
        self.label = label
        self.bar = None
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.command('import-ofsted')
@click.argument('file', type=click.Path(exists=True, dir_okay=False))
@click.option('--as-at', 'as_at', type=click.DateTime(formats=['%Y-%m-%d']), default=None,
              help='The date the release describes (YYYY-MM-DD), when its title rows do not say.')
@click.option('--historical', is_flag=True,
              help='Record a release older than the latest imported for its history only; the register is '
                   'not changed.')
@click.option('--accept-drop', is_flag=True,
              help='Import even though the release would mark more than the allowed share '
                   '(OFSTED_MAX_DROP_SHARE, 10%) of registered providers as gone.')
@with_appcontext
def import_ofsted(file: str, as_at, historical: bool, accept_drop: bool):
    """Import Ofsted's provider-level register (CSV, XLSX or ODS as published) and update settings from it.

    Each release is a snapshot: providers missing from it are marked no longer registered and their settings
    leave the directory (the board reviews them). Releases must be imported oldest first; an older one is
    refused unless --historical.
    """
    from registry.ofsted.services import OfstedImportError, import_register

    progress = _ClickProgress('Importing Ofsted register')
    try:
        summary = import_register(file, progress=progress, as_at=as_at.date() if as_at else None,
                                  historical=historical, accept_drop=accept_drop)
    except OfstedImportError as exc:
        raise click.ClickException(f'{exc}. Nothing was imported.') from None
    finally:
        progress.close()
    for line in summary.lines():
        click.echo(line)


@click.command('seed-from-register')
@click.option('--sample', type=int, default=None,
              help='Only this many owner organisations (chosen at random with --seed); all when omitted.')
@click.option('--seed', default=2025, show_default=True, help='Random seed, so a sample is repeatable.')
@with_appcontext
def seed_from_register(sample: int | None, seed: int):
    """Build demo organisations and settings from the imported Ofsted register (idempotent)."""
    from registry.ofsted.demo import build_directory_from_register

    progress = _ClickProgress('Creating settings')
    try:
        summary = build_directory_from_register(sample=sample, seed=seed, progress=progress)
    finally:
        progress.close()
    click.echo(summary)
