"""Search operations: ``flask --app wsgi search reindex | sync | check``."""

from __future__ import annotations

import click
from sqlalchemy import func, select, update

from registry.db import utcnow
from registry.extensions import db
from registry.indexing import ReindexRequest


@click.group('search')
def search_cli():
    """Directory search index: rebuild, sync and check."""


@search_cli.command('reindex')
def reindex():
    """Rebuild the index from the database (Elasticsearch: a new index, then the alias is swapped)."""
    from . import engine
    from .entries import build_entries, listed_setting_ids

    target = engine()
    # Requests queued before the rebuild starts are covered by it.
    covered_up_to = db.session.scalar(select(func.max(ReindexRequest.id))) or 0
    total = len(listed_setting_ids())
    with click.progressbar(length=total, label=f'Indexing {total} listed settings ({target.name})') as bar:
        written = target.reindex(build_entries(), progress=bar.update)
    db.session.execute(update(ReindexRequest).where(ReindexRequest.id <= covered_up_to,
                                                    ReindexRequest.processed_at.is_(None))
                       .values(processed_at=utcnow()))
    db.session.commit()
    click.echo(f'Indexed {written} settings.')


@search_cli.command('sync')
@click.option('--limit', default=500, show_default=True, help='Requests handled per batch.')
def sync(limit: int):
    """Push pending changes to the index, retrying any that failed before."""
    from . import drain, pending_count

    report = drain(limit=limit)
    click.echo(f'Processed {report.requests} requests: {report.indexed} indexed, {report.removed} removed, '
               f'{report.failed} failed.')
    if report.failed:
        raise click.ClickException(f'{pending_count()} requests are still pending; see the log for errors')


@search_cli.command('check')
@click.option('--show', default=20, show_default=True, help='How many ids to list of each kind.')
def check(show: int):
    """Compare the index with the listed settings; exit 1 if they differ."""
    from . import check as compare

    missing, extra = compare()
    if not missing and not extra:
        click.echo('The index matches the database.')
        return
    for label, ids in (('Missing from the index (listed)', missing), ('In the index but not listed', extra)):
        if ids:
            shown = ', '.join(str(i) for i in sorted(ids)[:show])
            more = f' and {len(ids) - show} more' if len(ids) > show else ''
            click.echo(f'{label}: {len(ids)}: {shown}{more}')
    click.echo('Run "flask search reindex" to rebuild the index.')
    raise SystemExit(1)
