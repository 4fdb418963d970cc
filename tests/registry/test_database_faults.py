"""A database that fails: refused connections, a busy SQLite file, and a PostgreSQL server that stops answering.

The service must answer 503 with Retry-After (a GOV.UK page, or JSON under /api/), never hang or answer a bare
"Internal Server Error", keep serving static files and liveness, and recover by itself once the database is back.
The black-hole test runs gunicorn against PostgreSQL through a TCP proxy on loopback that can be switched to
accept and never answer.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from registry.app import create_app
from registry.config import normalise_database_url
from registry.extensions import db
from tests.live import BlackholeProxy, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]


def _assert_503_page(response, retry_after: str) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    assert response.headers['Retry-After'] == retry_after
    page = response.get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">Sorry, the service is unavailable</h1>' in page
    assert '<title>Sorry, the service is unavailable' in page


def _assert_503_json(response, retry_after: str) -> None:
    assert response.status_code == 503
    assert response.headers['Retry-After'] == retry_after
    assert response.mimetype == 'application/json'
    body = response.get_json()
    assert set(body) == {'errors'} and body['errors'] and all(isinstance(v, str) for v in body['errors'].values())
    assert response.headers['Cache-Control'] == 'no-store'


@pytest.fixture
def refused_app(app_config, tmp_path):
    """An app whose PostgreSQL server refuses connections (nothing listens on its port)."""
    refused = create_app({**app_config, 'SQLALCHEMY_DATABASE_URI': f'postgresql://postgres@127.0.0.1:{free_port()}/x',
                          'DATABASE_RETRY_AFTER': 7, 'STORAGE_LOCAL_DIR': str(tmp_path)})
    yield refused
    with refused.app_context():
        db.engine.dispose()


def test_refused_connections_give_a_503_page_with_retry_after_and_static_files_still_work(refused_app):
    client = refused_app.test_client()
    _assert_503_page(client.get('/directory/providers/1'), '7')
    _assert_503_page(client.post('/sign-in', data={'email': 'a@example.org', 'password': 'x'}), '7')
    _assert_503_json(client.get('/api/v1/providers/1'), '7')
    ready = client.get('/healthcheck/ready')
    assert ready.status_code == 503 and ready.headers['Retry-After'] == '7'
    assert ready.get_json()['status'] == 'unavailable'
    assert client.get('/healthcheck/live').status_code == 200
    assert client.get('/static/registry.css').status_code == 200
    assert client.get('/assets/govuk-frontend.min.css').status_code == 200


def test_a_signed_in_user_gets_the_503_page_not_a_bare_error(refused_app):
    client = refused_app.test_client()
    with client.session_transaction() as session:
        session['_user_id'] = '1:1'
        session['second_factor_verified'] = True
    _assert_503_page(client.get('/organisations/'), '7')


def test_a_busy_sqlite_database_answers_503_after_the_configured_busy_timeout(app_config, tmp_path):
    path = tmp_path / 'busy.sqlite'
    busy = create_app({**app_config, 'SQLALCHEMY_DATABASE_URI': f'sqlite:///{path}', 'SQLITE_BUSY_TIMEOUT': 1,
                       'STORAGE_LOCAL_DIR': str(tmp_path)})
    with busy.app_context():
        import flask_migrate

        flask_migrate.upgrade()
        db.session.remove()
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        blocker.execute('BEGIN EXCLUSIVE')
        started = time.monotonic()
        response = busy.test_client().post('/sign-in', data={'email': 'a@example.org', 'password': 'x'})
        elapsed = time.monotonic() - started
        _assert_503_page(response, str(busy.config['DATABASE_RETRY_AFTER']))
        assert 0.9 <= elapsed < 8, elapsed  # the configured second, not the 5-second default
    finally:
        blocker.execute('ROLLBACK')
        blocker.close()
        with busy.app_context():
            db.engine.dispose()
    # and once the other writer has finished, the same app carries on
    assert busy.test_client().get('/healthcheck/ready').status_code == 200


def test_engine_options_carry_the_configured_timeouts():
    from registry.database import CLIENT_GRACE_SECONDS as grace
    from registry.database import engine_options

    assert grace == CLIENT_GRACE_SECONDS

    postgres = engine_options({'SQLALCHEMY_DATABASE_URI': 'postgresql+psycopg://x/y', 'DATABASE_CONNECT_TIMEOUT': 3,
                               'DATABASE_STATEMENT_TIMEOUT': 7, 'DATABASE_POOL_PRE_PING': True,
                               'DATABASE_POOL_TIMEOUT': 4, 'SQLITE_BUSY_TIMEOUT': 5})
    assert postgres['pool_pre_ping'] is True and postgres['pool_timeout'] == 4
    assert postgres['connect_args'] == {'connect_timeout': 3, 'options': '-c statement_timeout=7000'}
    sqlite_options = engine_options({'SQLALCHEMY_DATABASE_URI': 'sqlite:///x', 'SQLITE_BUSY_TIMEOUT': 2.5})
    assert sqlite_options['connect_args'] == {'timeout': 2.5}


def test_postgres_sessions_run_with_the_configured_statement_timeout(app):
    if not app.config['SQLALCHEMY_DATABASE_URI'].startswith('postgresql'):
        pytest.skip('PostgreSQL only: SQLite has no statement timeout (its busy timeout is tested above)')
    from sqlalchemy import text

    with app.app_context():
        assert db.session.execute(text('SHOW statement_timeout')).scalar() == \
            f"{int(app.config['DATABASE_STATEMENT_TIMEOUT'])}s"
        db.session.remove()


# --- the black hole: PostgreSQL behind a proxy that stops answering ---------------------------------------------------

CONNECT_TIMEOUT = 2
STATEMENT_TIMEOUT = 2
#: registry.database.CLIENT_GRACE_SECONDS: how long after the statement timeout the client gives up.
CLIENT_GRACE_SECONDS = 2
#: The longest a request may take to fail while the database is black-holed: one pre-ping that never comes back
#: (statement timeout + the client's grace), then one connection attempt (connect timeout), plus slack for a
#: loaded machine (2 cores shared by several test runs).
FAIL_WITHIN = STATEMENT_TIMEOUT + CLIENT_GRACE_SECONDS + CONNECT_TIMEOUT + 4


@pytest.fixture
def postgres_url(app, app_config) -> str:
    url = app_config['SQLALCHEMY_DATABASE_URI']
    if not url.startswith('postgres'):
        pytest.skip('the database black hole needs PostgreSQL: run with TEST_DATABASE_URL (make test-postgres)')
    return url


class Gunicorn:
    """The registry under gunicorn (one worker, four threads), on a free loopback port."""

    def __init__(self, database_url: str, tmp_path: Path):
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.log = tmp_path / 'gunicorn.log'
        env = {**os.environ, 'DATABASE_URL': database_url, 'REGISTRY_SECRET_KEY': 'blackhole-test',
               'REGISTRY_SESSION_COOKIE_SECURE': 'false', 'REGISTRY_STORAGE_LOCAL_DIR': str(tmp_path / 'documents'),
               'REGISTRY_DATABASE_CONNECT_TIMEOUT': str(CONNECT_TIMEOUT),
               'REGISTRY_DATABASE_STATEMENT_TIMEOUT': str(STATEMENT_TIMEOUT),
               'REGISTRY_DATABASE_RETRY_AFTER': '5'}
        env.pop('TEST_DATABASE_URL', None)
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'gunicorn', '--bind', f'127.0.0.1:{self.port}', '--workers', '1',
             '--threads', '4', '--timeout', '120', '--error-logfile', str(self.log), 'wsgi:app'],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def get(self, path: str, timeout: float = 30) -> requests.Response:
        return requests.get(self.url + path, timeout=timeout)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def _timed_get(server: Gunicorn, path: str, results: dict) -> None:
    started = time.monotonic()
    try:
        response = server.get(path, timeout=60)
        results[path] = (response, time.monotonic() - started)
    except requests.RequestException as exc:
        results[path] = (exc, time.monotonic() - started)


def test_a_database_that_stops_answering_gives_503s_in_time_and_the_service_recovers_by_itself(postgres_url,
                                                                                               tmp_path):
    target = make_url(normalise_database_url(postgres_url))
    with BlackholeProxy(target.host or '127.0.0.1', target.port or 5432) as proxy:
        proxied = target.set(host='127.0.0.1', port=proxy.port).render_as_string(hide_password=False)
        server = Gunicorn(proxied, tmp_path)
        try:
            wait_until(lambda: _answers(server, '/healthcheck/ready') == 200, timeout=60, interval=0.3)
            for _ in range(6):  # fill the pool with connections that will hang once the proxy goes dark
                assert server.get('/directory/providers/1').status_code == 404
                assert server.get('/api/v1/providers/1').status_code == 404

            proxy.blackhole()
            results: dict = {}
            pending = [threading.Thread(target=_timed_get, args=(server, path, results))
                       for path in ('/directory/providers/1', '/api/v1/providers/1')]
            for thread in pending:
                thread.start()
            time.sleep(0.3)
            # while those wait on the database, everything that does not need it is still served, promptly
            for path in ('/assets/govuk-frontend.min.css', '/static/registry.css', '/healthcheck/live'):
                started = time.monotonic()
                assert server.get(path, timeout=FAIL_WITHIN).status_code == 200, path
                assert time.monotonic() - started < 3, path
            assert any(thread.is_alive() for thread in pending), 'the database requests should still be waiting'
            for thread in pending:
                thread.join(timeout=60)

            page, page_seconds = results['/directory/providers/1']
            api, api_seconds = results['/api/v1/providers/1']
            assert page.status_code == 503 and page.headers['Retry-After'] == '5'
            assert 'Sorry, the service is unavailable' in page.text
            assert api.status_code == 503 and api.headers['Retry-After'] == '5'
            assert set(api.json()) == {'errors'}
            assert page_seconds < FAIL_WITHIN and api_seconds < FAIL_WITHIN, (page_seconds, api_seconds)
            # a request arriving during the outage fails within the configured timeouts too
            started = time.monotonic()
            assert server.get('/healthcheck/ready', timeout=60).status_code == 503
            assert time.monotonic() - started < FAIL_WITHIN

            proxy.forward()
            back = time.monotonic()
            wait_until(lambda: _consecutive_answers(server, 10), timeout=10, interval=0.05)
            assert time.monotonic() - back < 10
            assert server.process.poll() is None, 'the service must recover without a restart'
        finally:
            server.stop()


def _answers(server: Gunicorn, path: str) -> int | None:
    try:
        return server.get(path, timeout=5).status_code
    except requests.RequestException:
        return None


def _consecutive_answers(server: Gunicorn, count: int) -> bool:
    """``count`` database-backed requests in a row, each answered by the database (not 5xx, not hanging)."""
    paths = ['/healthcheck/ready', '/directory/providers/1', '/api/v1/providers/1']
    for n in range(count):
        status = _answers(server, paths[n % len(paths)])
        if status is None or status >= 500:
            return False
    return True
