"""Search operations: ``flask --app wsgi search reindex | sync | worker | check | rollback | prune | centroids``."""

from __future__ import annotations

import click
from sqlalchemy import func, select

from registry.extensions import db
from registry.indexing import ReindexRequest


@click.group('search')
def search_cli():
    """Directory search index: rebuild, drain, check, roll back."""


def _target():
    from . import engine

    return engine()


def _fail(reason: str) -> None:
    raise click.ClickException(reason)


@search_cli.command('reindex')
def reindex():
    """Rebuild the index from the database. Elasticsearch: a new index is loaded beside the live one, the changes
    made meanwhile are replayed into it, then the alias moves; the replaced index is kept for rollback. The only
    command that creates an index."""
    from .entries import listed_setting_ids
    from .query import IndexWriteError, SearchUnavailableError
    from .sync import rebuild

    target = _target()
    total = len(listed_setting_ids())
    try:
        with click.progressbar(length=total, label=f'Indexing {total} listed settings ({target.name})') as bar:
            report = rebuild(progress=bar.update, target=target)
    except (SearchUnavailableError, IndexWriteError) as exc:
        _fail(f'Reindex failed, nothing changed for searchers: {getattr(exc, "reason", exc)}')
    click.echo(f'Indexed {report.written} settings.')
    if report.index:
        click.echo(f'Replayed {report.replayed} settings changed during the rebuild into {report.index}, now live.')
        if report.previous:
            click.echo(f'Kept {", ".join(report.previous)} for "flask search rollback".')
        if report.pruned:
            click.echo(f'Deleted old indices: {", ".join(report.pruned)}.')


@search_cli.command('centroids')
def centroids():
    """Rewrite search/data's outcode and district centres from the postcode directory (after updating it)."""
    from .places import write_centroid_files

    outcodes, districts = write_centroid_files()
    click.echo(f'Wrote the centres of {outcodes} outcodes and {districts} districts')


@search_cli.command('sync')
@click.option('--limit', default=500, show_default=True, help='Requests handled per batch.')
def sync(limit: int):
    """Push pending changes to the index once, retrying any that failed before."""
    from .sync import drain, pending_count

    report = drain(limit=limit)
    click.echo(f'Processed {report.requests} requests: {report.indexed} indexed, {report.removed} removed, '
               f'{report.failed} failed.')
    if report.unavailable:
        _fail(f'The index is unavailable ({report.unavailable}); {pending_count()} requests are still pending')
    if report.failed:
        _fail(f'{pending_count()} requests are still pending; "flask search status" shows why')


@search_cli.command('worker')
@click.option('--interval', default=1.0, show_default=True, help='Seconds to wait when there is nothing to do.')
@click.option('--batch', default=500, show_default=True, help='Requests handled per batch.')
@click.option('--stop-after', type=float, default=None, help='Stop after this many seconds (default: run until '
                                                              'SIGTERM or Ctrl-C).')
def worker(interval: float, batch: int, stop_after: float | None):
    """Drain the outbox continuously: run one or more of these beside the web servers (and set
    REGISTRY_SEARCH_AFTER_COMMIT_SECONDS=0 to keep index writes off the request path entirely)."""
    from .sync import run_worker

    click.echo(f'Draining the reindex outbox into {_target().name} (every {interval:g} s when idle)...')
    report = run_worker(interval=interval, batch=batch, stop_after=stop_after)
    click.echo(f'Stopped after {report.drains} drains: {report.requests} requests processed, {report.failed} failed.')


def _list(label: str, ids: set[int], show: int) -> None:
    if ids:
        shown = ', '.join(str(i) for i in sorted(ids)[:show])
        more = f' and {len(ids) - show} more' if len(ids) > show else ''
        click.echo(f'{label}: {len(ids)}: {shown}{more}')


@search_cli.command('check')
@click.option('--show', default=20, show_default=True, help='How many ids to list of each kind.')
@click.option('--repair', is_flag=True, help='Rewrite every entry that differs (under the index lock).')
def check(show: int, repair: bool):
    """Compare every entry's content in the index with the database; exit 1 if they differ (and were not
    repaired)."""
    from .query import IndexWriteError, SearchUnavailableError
    from .sync import compare
    from .sync import repair as rewrite

    try:
        comparison = compare()
    except SearchUnavailableError as exc:
        _fail(f'Cannot read the index: {exc.reason}')
    if comparison.matches:
        click.echo(f'The index matches the database ({comparison.checked} entries compared by content).')
        return
    _list('Missing from the index (listed)', comparison.missing, show)
    _list('In the index but not listed', comparison.extra, show)
    _list('In the index with different content', comparison.stale, show)
    waiting = comparison.differing & comparison.pending
    if waiting:
        click.echo(f'{len(waiting)} of these have changes still queued; the next drain writes them.')
    if not repair:
        click.echo('Run "flask search check --repair" to rewrite them, or "flask search reindex" to rebuild.')
        raise SystemExit(1)
    try:
        indexed, removed = rewrite(comparison.differing)
    except (SearchUnavailableError, IndexWriteError) as exc:
        _fail(f'Repair failed: {getattr(exc, "reason", exc)}')
    click.echo(f'Repaired: {indexed} written, {removed} removed.')


@search_cli.command('rollback')
def rollback():
    """Elasticsearch: move the alias back to the previous index, then repair it from the database."""
    from .query import SearchUnavailableError
    from .sync import compare, repair, rollback_index

    target = _target()
    if not getattr(target, 'builds_beside', False):
        _fail('Only the Elasticsearch engine keeps a previous index; the SQL engine rebuilds in place')
    try:
        left, now = rollback_index(target)
        comparison = compare(target)
        indexed, removed = repair(comparison.differing, target)
    except (SearchUnavailableError, LookupError) as exc:
        _fail(str(getattr(exc, 'reason', exc)))
    click.echo(f'The alias {target.alias} now points at {now} (was {left}); brought up to date: {indexed} written, '
               f'{removed} removed.')


@search_cli.command('prune')
def prune():
    """Elasticsearch: delete replaced indices older than REGISTRY_ELASTICSEARCH_KEEP_PREVIOUS_HOURS, and builds
    that never went live."""
    target = _target()
    if not getattr(target, 'builds_beside', False):
        _fail('Only the Elasticsearch engine keeps old indices')
    dropped = target.prune()
    click.echo(f'Deleted {len(dropped)} old indices' + (f': {", ".join(dropped)}.' if dropped else '.'))


@search_cli.command('status')
def status():
    """The engine, the index, and the outbox: pending and failing requests with their last error."""
    from .query import SearchUnavailableError

    target = _target()
    click.echo(f'Engine: {target.name}')
    if getattr(target, 'builds_beside', False):
        click.echo(f'Alias: {target.alias}')
        try:
            info = target.client.info()
            click.echo(f"Server: Elasticsearch {info['version']['number']}")
            click.echo(f'Live index: {", ".join(target.live_indices()) or "none (run flask search reindex)"}')
        except SearchUnavailableError as exc:
            click.echo(f'Server: unavailable ({exc.reason})')
        except Exception as exc:  # the client's own errors, before our wrapper
            from .es_engine import describe_failure

            click.echo(f'Server: unavailable ({describe_failure(exc)})')
    pending = select(ReindexRequest).where(ReindexRequest.processed_at.is_(None))
    count = db.session.scalar(select(func.count()).select_from(pending.subquery()))
    failing = db.session.scalars(pending.where(ReindexRequest.last_error != '').order_by(ReindexRequest.id)
                                 .limit(10)).all()
    click.echo(f'Pending requests: {count}')
    for request in failing:
        click.echo(f'  request {request.id} (setting {request.setting_id}, {request.attempts} attempts): '
                   f'{request.last_error}')
