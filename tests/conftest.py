"""Shared fixtures: a real database (SQLite by default, PostgreSQL with TEST_DATABASE_URL), migrated once.

Each test starts from an empty database holding only the reference data that migrations load
(the 153 local authorities). Services really commit; rows are deleted after every test.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import flask_migrate
import pytest
from flask import g, has_app_context
from sqlalchemy import text

from registry.app import create_app
from registry.extensions import db

#: Tables that migrations fill with reference data; never emptied between tests.
REFERENCE_TABLES = {'local_authorities', 'alembic_version'}


def _database_url(tmp_dir: Path) -> str:
    """SQLite in this session's own temporary folder, or ``TEST_DATABASE_URL``. Under pytest-xdist each worker
    gets its own PostgreSQL database, named after the given one (``test_gw0``, ``test_gw1``...), created if missing."""
    url = os.environ.get('TEST_DATABASE_URL', '')
    if not url:
        return f'sqlite:///{tmp_dir / "test.sqlite"}'
    worker = os.environ.get('PYTEST_XDIST_WORKER')
    if worker:
        url = _worker_database(url, worker)
    return url


def _worker_database(url: str, worker: str) -> str:
    """``url`` with the database ``<its name>_<worker>``, created on the same server when it does not exist."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from registry.config import normalise_database_url

    parsed = make_url(normalise_database_url(url))
    name = f'{parsed.database}_{worker}'
    server = create_engine(parsed.set(database='postgres'), isolation_level='AUTOCOMMIT')
    with server.connect() as connection:
        if not connection.execute(text('SELECT 1 FROM pg_database WHERE datname = :name'), {'name': name}).first():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def _reset_postgres(url: str) -> None:
    """Start from an empty schema so migrations run from scratch on every test session."""
    from sqlalchemy import create_engine

    from registry.config import normalise_database_url

    engine = create_engine(normalise_database_url(url), isolation_level='AUTOCOMMIT')
    with engine.connect() as connection:
        connection.execute(text('DROP SCHEMA public CASCADE'))
        connection.execute(text('CREATE SCHEMA public'))
    engine.dispose()


@pytest.fixture(scope='session')
def app_config(tmp_path_factory) -> dict:
    tmp_dir = tmp_path_factory.mktemp('registry')
    url = _database_url(tmp_dir)
    if url.startswith('postgres'):
        _reset_postgres(url)
    return {
        'TESTING': True,
        'SECRET_KEY': 'test-secret',
        'SQLALCHEMY_DATABASE_URI': url,
        'WTF_CSRF_ENABLED': False,
        'SESSION_COOKIE_SECURE': False,
        'REMEMBER_COOKIE_SECURE': False,
        'SERVER_NAME': 'localhost',
        'STORAGE_LOCAL_DIR': str(tmp_dir / 'documents'),
        'PASSWORD_HASH_TIME_COST': 1,
        'PASSWORD_HASH_MEMORY_KIB': 1024,
        'PASSWORD_HASH_PARALLELISM': 1,
        'MAIL_BACKEND': 'outbox',
        # No background snapshot thread: it would hold a connection across the tests' resets.
        'SEARCH_SNAPSHOT_REFRESH_SECONDS': 0,
        'SEARCH_SNAPSHOT_DIR': '',
    }


@pytest.fixture(scope='session')
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Empty every non-reference table after each test that used the app."""
    yield
    if 'app' not in request.fixturenames:
        return
    app = request.getfixturevalue('app')
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                if table.name not in REFERENCE_TABLES:
                    connection.execute(table.delete())


@pytest.fixture
def app_ctx(app):
    """An application context with a request context, as a view or CLI command would have."""
    with app.test_request_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login_as(client):
    """Sign a user in on the test client without going through the form (the form has its own tests)."""

    def login(user, *, second_factor: bool = True):
        # requests made inside an ``app_ctx`` share its ``g``, where Flask-Login caches the user
        if has_app_context():
            g.pop('_login_user', None)
        with client.session_transaction() as session:
            session['_user_id'] = user.get_id()
            session['_fresh'] = True
            if second_factor:
                session['second_factor_verified'] = True
        return user

    return login


@pytest.fixture
def tmp_dir():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)
