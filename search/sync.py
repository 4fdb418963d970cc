"""Keeping the index in step with the database: the index lock, the outbox drain, rebuilds that lose nothing, the
content check and its repair, and the worker loop.

Every write to the index, whoever makes it, goes in one order:

1. take the index lock (:func:`lock_index` bumps ``index_sync_state.version`` in the writer's transaction, so
   concurrent writers queue there);
2. read the entries from the database, after the lock, so they are the newest committed;
3. write them (on Elasticsearch, with that version: a late retry of an older write loses to a newer one);
4. mark the outbox rows processed and commit, which releases the lock.

So the last writer has always read last, and the index cannot be left holding an older state than the database
(issue 19: twenty concurrent vacancy changes left the index showing 18 where the database held 16, because
entries were built before the lock was taken).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import OperationalError

from registry.db import utcnow
from registry.extensions import db
from registry.indexing import ReindexRequest

from .entries import build_entries, entry_hash, unlisted_ids_sharing_urns
from .models import IndexSyncState
from .query import IndexWriteError, SearchUnavailableError

logger = logging.getLogger(__name__)

SYNC = IndexSyncState.__table__
LOCK_NAME = 'index'
#: A rebuild also replays requests processed up to this long before it started, in case the clock of the process
#: that processed them ran behind this one's (replaying one twice costs nothing).
REPLAY_MARGIN = timedelta(minutes=5)


def lock_index(deadline: float | None = None) -> int:
    """Take the index lock for the current transaction and return the next write version.

    On PostgreSQL the lock is the ``index_sync_state`` row (with ``lock_timeout`` set from ``deadline``, so an
    after-commit drain never waits long); on SQLite it is the database's write lock. Everything the session read
    before is expired, so entries built next come from the newest committed rows.
    """
    session = db.session
    if deadline is not None and session.get_bind().dialect.name == 'postgresql':
        milliseconds = max(1, int((deadline - time.monotonic()) * 1000))
        session.execute(db.text(f"SET LOCAL lock_timeout = '{milliseconds}ms'"))
    bump = update(SYNC).where(SYNC.c.name == LOCK_NAME).values(version=SYNC.c.version + 1).returning(SYNC.c.version)
    version = session.execute(bump).scalar()
    if version is None:  # a new database (the migration adds the row) or one emptied by tests
        session.execute(_insert_missing_row())
        version = session.execute(bump).scalar_one()
    session.expire_all()
    return int(version)


def _insert_missing_row():
    if db.session.get_bind().dialect.name == 'postgresql':
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(SYNC).values(name=LOCK_NAME, version=0).on_conflict_do_nothing()


@dataclass
class DrainReport:
    """What one drain did. ``unavailable`` holds the reason when the engine could not take any work."""

    indexed: int = 0
    removed: int = 0
    failed: int = 0
    requests: int = 0
    unavailable: str = ''


def _pending(limit: int, skip: set[int]) -> list[ReindexRequest]:
    statement = (select(ReindexRequest).where(ReindexRequest.processed_at.is_(None))
                 .order_by(ReindexRequest.id).limit(limit))
    if skip:
        statement = statement.where(ReindexRequest.id.not_in(sorted(skip)))
    if db.session.get_bind().dialect.name == 'postgresql':
        # Several workers can drain at once without handling the same rows.
        statement = statement.with_for_update(skip_locked=True)
    return db.session.scalars(statement).all()


def _write(target, setting_ids: set[int], version: int, deadline: float | None,
           index: str | None = None) -> tuple[int, int, dict[int, str]]:
    """Build the entries of ``setting_ids`` (the caller holds the lock) and write or remove them.

    Returns (indexed, removed, failures by setting id); raises :class:`SearchUnavailableError` if the engine took
    nothing.
    """
    setting_ids = set(setting_ids) | unlisted_ids_sharing_urns(setting_ids)
    entries = list(build_entries(setting_ids))
    gone = set(setting_ids) - {entry.id for entry in entries}
    extra = {'target': index} if index else {}
    failures: dict[int, str] = {}
    try:
        target.index(entries, version=version, deadline=deadline, **extra)
    except IndexWriteError as exc:
        failures.update(exc.failures)
    if gone:
        try:
            target.remove(gone, version=version, deadline=deadline, **extra)
        except IndexWriteError as exc:
            failures.update(exc.failures)
    indexed = sum(1 for entry in entries if entry.id not in failures)
    return indexed, len(gone - set(failures)), failures


def drain(limit: int = 500, target=None, deadline: float | None = None) -> DrainReport:
    """Index (or remove) the settings of pending reindex requests, mark them processed, record failures.

    :param limit: requests per batch; batches go on until none are pending, the deadline passes, or the engine is
        unavailable (then every request of the batch records the reason, and the rest wait for the next drain).
    :param target: the engine to write to (defaults to ``search.engine()``).
    :param deadline: a ``time.monotonic()`` time after which no batch starts and no request is sent (after-commit
        drains pass one; the worker and ``flask search sync`` do not).
    """
    from . import engine

    target = target or engine()
    report = DrainReport()
    failed: set[int] = set()
    while deadline is None or time.monotonic() < deadline:
        requests = _pending(limit, failed)
        if not requests:
            break
        by_setting: dict[int, list[int]] = {}
        for request in requests:
            by_setting.setdefault(request.setting_id, []).append(request.id)
        request_ids = [request.id for request in requests]
        try:
            version = lock_index(deadline)
            indexed, removed, failures = _write(target, set(by_setting), version, deadline)
        except SearchUnavailableError as exc:
            db.session.rollback()
            logger.warning('Search index unavailable; %d requests left pending: %s', len(request_ids), exc.reason)
            _record_failure(request_ids, exc.reason)
            report.failed += len(request_ids)
            report.unavailable = exc.reason
            break
        except OperationalError as exc:
            db.session.rollback()
            if deadline is None:
                raise
            # The lock was not free within the after-commit budget: the worker or the next drain takes them.
            logger.info('Index lock busy; %d requests left for the worker (%s)', len(request_ids), exc.orig)
            break
        except Exception:
            db.session.rollback()
            logger.exception('Batch reindex failed; retrying settings one at a time')
            failed |= _drain_one_by_one(target, by_setting, report, deadline)
            continue
        done = [rid for setting_id, rids in by_setting.items() if setting_id not in failures for rid in rids]
        _mark_processed(done)
        for setting_id, reason in failures.items():
            _set_error(by_setting.get(setting_id, []), reason)
            failed.update(by_setting.get(setting_id, []))
        db.session.commit()
        report.indexed += indexed
        report.removed += removed
        report.requests += len(done)
        report.failed += sum(len(by_setting.get(setting_id, [])) for setting_id in failures)
        if failures:
            logger.warning('Search index refused %d settings, e.g. %s', len(failures), next(iter(failures.items())))
    return report


def _mark_processed(request_ids: list[int]) -> None:
    if request_ids:
        db.session.execute(update(ReindexRequest).where(ReindexRequest.id.in_(request_ids))
                           .values(processed_at=utcnow(), attempts=ReindexRequest.attempts + 1, last_error=''))


def _set_error(request_ids: list[int], reason: str) -> None:
    if request_ids:
        db.session.execute(update(ReindexRequest).where(ReindexRequest.id.in_(request_ids))
                           .values(attempts=ReindexRequest.attempts + 1, last_error=reason[:2000]))


def _record_failure(request_ids: list[int], reason: str) -> None:
    """Record ``reason`` on requests in a transaction of its own (the failed one was rolled back)."""
    _set_error(request_ids, reason)
    db.session.commit()


def _drain_one_by_one(target, by_setting: dict[int, list[int]], report: DrainReport,
                      deadline: float | None) -> set[int]:
    """Process each setting alone so one bad row does not hold up the rest. Returns the failed request ids."""
    failures: set[int] = set()
    for setting_id, request_ids in by_setting.items():
        try:
            version = lock_index(deadline)
            indexed, removed, refused = _write(target, {setting_id}, version, deadline)
            if refused:
                raise IndexWriteError(refused)
            _mark_processed(request_ids)
            db.session.commit()
            report.indexed += indexed
            report.removed += removed
            report.requests += len(request_ids)
        except Exception as exc:
            db.session.rollback()
            failures.update(request_ids)
            report.failed += len(request_ids)
            reason = exc.reason if isinstance(exc, SearchUnavailableError) else f'{type(exc).__name__}: {exc}'
            logger.warning('Could not reindex setting %s: %s', setting_id, reason)
            _record_failure(request_ids, reason)
    return failures


def pending_count() -> int:
    """How many reindex requests are waiting."""
    from sqlalchemy import func

    return db.session.scalar(select(func.count()).select_from(ReindexRequest)
                             .where(ReindexRequest.processed_at.is_(None)))


def _claim_pending(request_ids: Iterable[int] | None = None) -> list[int]:
    """Pending request ids (of ``request_ids``, or all), skipping rows a drain has locked on PostgreSQL: that drain
    is waiting for the index lock and will process them itself (waiting for it here would deadlock)."""
    statement = select(ReindexRequest.id).where(ReindexRequest.processed_at.is_(None))
    if request_ids is not None:
        ids = sorted(set(request_ids))
        if not ids:
            return []
        statement = statement.where(ReindexRequest.id.in_(ids))
    if db.session.get_bind().dialect.name == 'postgresql':
        statement = statement.with_for_update(skip_locked=True)
    return list(db.session.scalars(statement))


@dataclass
class RebuildReport:
    """What ``flask search reindex`` did."""

    written: int = 0
    replayed: int = 0
    index: str = ''
    previous: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)


def rebuild(progress: Callable[[int], None] | None = None, target=None) -> RebuildReport:
    """Rebuild the index from the database without losing a change made meanwhile.

    The SQL engine rebuilds in one transaction holding the index lock, so drains wait and then write on top.
    Elasticsearch loads a new index beside the live one while drains go on writing to the live one; then, holding
    the lock, it replays into the new index every request processed since the rebuild began (and every one still
    pending), moves the alias, and only then lets drains go on. The replaced index is kept for rollback; a failed
    run deletes its unfinished index.
    """
    from . import engine

    target = target or engine()
    if getattr(target, 'builds_beside', False):
        return _rebuild_beside(target, progress)
    lock_index()
    pending = _claim_pending()
    written = target.reindex(build_entries(), progress=progress)  # commits, releasing the lock
    _mark_processed(_claim_pending(pending))
    db.session.commit()
    return RebuildReport(written=written)


def _rebuild_beside(target, progress) -> RebuildReport:
    report = RebuildReport()
    started = utcnow()
    first_version = lock_index()
    pending_at_start = _claim_pending()
    db.session.commit()
    report.index = target.create_index()
    try:
        report.written = target.load(report.index, build_entries(), version=first_version, progress=progress)
        version = lock_index()
        since = started - REPLAY_MARGIN
        replay = set(db.session.scalars(
            select(ReindexRequest.setting_id).where(or_(ReindexRequest.processed_at.is_(None),
                                                        ReindexRequest.processed_at >= since))))
        pending_now = _claim_pending()
        if replay:
            _indexed, _removed, failures = _write(target, replay, version, None, index=report.index)
            if failures:
                raise IndexWriteError(failures)
        report.replayed = len(replay)
        target.refresh_index(report.index)
        report.previous = target.point_alias(report.index)
        _mark_processed(_claim_pending({*pending_at_start, *pending_now}))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        try:
            target.drop_index(report.index)
        except Exception:
            logger.exception('Could not delete the unfinished index %s; "flask search prune" removes it later',
                             report.index)
        raise
    try:
        report.pruned = target.prune()
    except SearchUnavailableError as exc:
        logger.warning('Could not delete old indices: %s', exc.reason)
    return report


@dataclass
class Comparison:
    """How the index differs from the database: listed but missing, indexed but not listed, and indexed with
    different content (by :func:`search.entries.entry_hash`). ``pending`` are settings with changes still queued,
    whose differences the next drain will settle."""

    missing: set[int] = field(default_factory=set)
    extra: set[int] = field(default_factory=set)
    stale: set[int] = field(default_factory=set)
    pending: set[int] = field(default_factory=set)
    checked: int = 0

    @property
    def matches(self) -> bool:
        return not (self.missing or self.extra or self.stale)

    @property
    def differing(self) -> set[int]:
        return self.missing | self.extra | self.stale


def compare(target=None) -> Comparison:
    """Compare every entry's content in the index with what the database says it should be."""
    from . import engine

    target = target or engine()
    expected = {entry.id: entry_hash(entry) for entry in build_entries()}
    actual = target.hashes()
    pending = set(db.session.scalars(select(ReindexRequest.setting_id)
                                     .where(ReindexRequest.processed_at.is_(None))))
    return Comparison(
        missing=expected.keys() - actual.keys(), extra=actual.keys() - expected.keys(),
        stale={entry_id for entry_id, digest in expected.items() if entry_id in actual and actual[entry_id] != digest},
        pending=pending, checked=len(expected))


def repair(setting_ids: Iterable[int], target=None) -> tuple[int, int]:
    """Write the current entries of ``setting_ids`` (and remove those no longer listed), under the index lock.

    :raises IndexWriteError: if the engine refused some of them.
    """
    from . import engine

    target = target or engine()
    ids = set(setting_ids)
    if not ids:
        return 0, 0
    version = lock_index()
    try:
        indexed, removed, failures = _write(target, ids, version, None)
        if failures:
            raise IndexWriteError(failures)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return indexed, removed


def rollback_index(target=None) -> tuple[str, str]:
    """Move the alias back to the previous index (under the index lock). Returns (from, to).

    The previous index lacks the changes made since it was replaced: ``flask search rollback`` repairs it from the
    database straight after (:func:`compare`, :func:`repair`).
    """
    from . import engine

    target = target or engine()
    previous = target.previous_index()
    if previous is None:
        raise LookupError('There is no previous index to roll back to (it may have been pruned)')
    live = target.live_indices()
    lock_index()
    target.point_alias(previous)
    db.session.commit()
    return (live[-1] if live else ''), previous


@dataclass
class WorkerReport:
    """What one run of ``flask search worker`` did."""

    drains: int = 0
    requests: int = 0
    failed: int = 0


def run_worker(*, interval: float = 1.0, batch: int = 500, stop_after: float | None = None,
               stop: threading.Event | None = None, max_backoff: float = 60.0) -> WorkerReport:
    """Drain the outbox until stopped (SIGTERM, SIGINT, ``stop`` or ``stop_after`` seconds).

    Drains straight away while there is work, waits ``interval`` when there is none, and backs off (doubling, up to
    ``max_backoff``) while the engine is unavailable, so a down cluster is not hammered.
    """
    stop = stop or threading.Event()
    ends = None if stop_after is None else time.monotonic() + stop_after
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda *_args: stop.set())
    report, backoff = WorkerReport(), interval
    try:
        while not stop.is_set() and (ends is None or time.monotonic() < ends):
            try:
                drained = drain(limit=batch)
            except Exception:
                db.session.rollback()
                logger.exception('Draining the reindex outbox failed')
                drained = DrainReport(unavailable='error')
            report.drains += 1
            report.requests += drained.requests
            report.failed += drained.failed
            if drained.unavailable:
                wait, backoff = backoff, min(backoff * 2, max_backoff)
            else:
                backoff = interval
                wait = 0 if drained.requests else interval
            if ends is not None:
                wait = min(wait, max(0.0, ends - time.monotonic()))
            if wait:
                stop.wait(wait)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        db.session.remove()
    return report
