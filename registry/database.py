"""Database connections that fail fast: timeouts, pre-ping and recognising an unavailable database.

A database that refuses connections fails quickly on its own. One that accepts connections but never answers
(a hung server, a network that swallows packets) would hold every worker thread for ever, so each PostgreSQL
connection carries a client-side deadline on every round trip as well as the server's ``statement_timeout``; a
connection that misses it is closed, SQLAlchemy throws the pool's other connections away, and the next request
connects afresh, so the service recovers by itself once the database answers again.
"""

from __future__ import annotations

import psycopg
from flask import Flask
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

#: Seconds the client waits beyond the server's statement timeout before deciding the server is not answering.
CLIENT_GRACE_SECONDS = 2


class _NotRaised(Exception):
    """Stands in for psycopg's internal timeout exception should a later version rename it."""


#: What psycopg's wait raises when its timeout passes (psycopg 3.3 names it ``errors._WaitTimeout``).
_WAIT_TIMEOUT = getattr(psycopg.errors, '_WaitTimeout', _NotRaised)


class DeadlineConnection(psycopg.Connection):
    """A psycopg connection whose every round trip to the server has a deadline.

    psycopg waits for the server without limit; a server that stops answering mid-conversation would hang the
    thread. Past the deadline the connection is closed (it is in an unknown state) and an ``OperationalError``
    is raised, which SQLAlchemy treats as a disconnect.
    """

    #: Seconds one round trip may take; set per engine by :func:`init_app`.
    deadline: float | None = None

    def wait(self, gen, interval=0.1, timeout=None):
        if timeout is not None or self.deadline is None:
            return super().wait(gen, interval=interval, timeout=timeout)  # psycopg's own timed waits, untouched
        try:
            return super().wait(gen, interval=interval, timeout=self.deadline)
        except _WAIT_TIMEOUT:
            self.pgconn.finish()
            raise psycopg.OperationalError(f'the database did not answer within {self.deadline:g} seconds') from None


def engine_options(config) -> dict:
    """SQLAlchemy engine options for the configured database: timeouts and pre-ping, merged under any given."""
    url = config['SQLALCHEMY_DATABASE_URI']
    options = dict(config.get('SQLALCHEMY_ENGINE_OPTIONS') or {})
    connect_args = dict(options.get('connect_args') or {})
    if url.startswith('postgresql'):
        statement_ms = int(float(config['DATABASE_STATEMENT_TIMEOUT']) * 1000)
        connect_args.setdefault('connect_timeout', max(2, int(config['DATABASE_CONNECT_TIMEOUT'])))
        connect_args.setdefault('options', f'-c statement_timeout={statement_ms}')
        options.setdefault('pool_pre_ping', bool(config['DATABASE_POOL_PRE_PING']))
        options.setdefault('pool_timeout', float(config['DATABASE_POOL_TIMEOUT']))
    elif url.startswith('sqlite'):
        # the driver's timeout is SQLite's busy timeout, in seconds
        connect_args.setdefault('timeout', float(config['SQLITE_BUSY_TIMEOUT']))
    options['connect_args'] = connect_args
    return options


def init_app(app: Flask) -> None:
    """Give the app's engine its per-database connection behaviour (call after ``db.init_app``)."""
    from registry.extensions import db

    with app.app_context():
        engine = db.engine
    if engine.dialect.name == 'postgresql':
        deadline = float(app.config['DATABASE_STATEMENT_TIMEOUT']) + CLIENT_GRACE_SECONDS

        @event.listens_for(engine, 'do_connect')
        def _connect(_dialect, _record, cargs, cparams):
            connection = DeadlineConnection.connect(*cargs, **cparams)
            connection.deadline = deadline
            return connection

    elif engine.dialect.name == 'sqlite':
        busy_ms = int(float(app.config['SQLITE_BUSY_TIMEOUT']) * 1000)

        @event.listens_for(engine, 'connect')
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute('PRAGMA foreign_keys=ON')
            cursor.execute('PRAGMA journal_mode=WAL')
            cursor.execute(f'PRAGMA busy_timeout={busy_ms}')
            # Read pages through a memory map, not one pread() syscall per page: the default 2 MB page cache
            # made each directory search re-read most of the search index (14,000 preads a request at 10k).
            cursor.execute('PRAGMA mmap_size=1073741824')
            cursor.close()


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot serve now (down, unreachable, too slow or busy).

    Conflicts between transactions (serialization failures, deadlocks) are not unavailability: they are
    answered 409 by the caller.
    """
    if isinstance(error, (sa_exc.TimeoutError, sa_exc.DisconnectionError)):
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.OperationalError):
        return not is_conflict(error)
    return False


def is_conflict(error: BaseException) -> bool:
    """Whether ``error`` is a transaction losing a race: a unique constraint, a serialization failure, a deadlock."""
    orig = getattr(error, 'orig', None)
    if isinstance(error, sa_exc.IntegrityError):
        return isinstance(orig, psycopg.errors.UniqueViolation) or 'UNIQUE constraint failed' in str(orig)
    return isinstance(orig, (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected))
