"""The index cannot drift from the database under concurrent writes (issue 19).

Twenty threads setting one home's vacancies through a real server (gunicorn, several workers and threads, on the
test database: SQLite or PostgreSQL) used to leave the index showing an older number than the database, with
nothing pending, because each drain built its entries before taking the index lock. Now the lock comes first
(``search.sync``), so the last writer has read the newest row.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from registry.accounts.models import Role
from registry.extensions import db
from registry.organisations.models import MemberRole, Membership
from registry.settings.models import Setting
from search.sql_engine import SqlEngine
from search.sync import compare, drain, lock_index, pending_count, rebuild
from tests.factories import PASSWORD, make_user

ROOT = Path(__file__).resolve().parents[2]
THREADS, TRIALS = 20, 5


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _post(url: str, data: dict, cookie: str = '') -> tuple[int, str]:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode(), method='POST',
                                     headers={'Cookie': cookie} if cookie else {})
    try:
        with _opener.open(request, timeout=60) as response:
            return response.status, response.headers.get('Set-Cookie', '')
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get('Set-Cookie', '')


@pytest.fixture(scope='module')
def server(app_config, tmp_path_factory):
    """gunicorn serving the registry on the test database, on a free loopback port."""
    tmp = tmp_path_factory.mktemp('drift')
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    env = {**os.environ, 'DATABASE_URL': app_config['SQLALCHEMY_DATABASE_URI'], 'REGISTRY_SECRET_KEY': 'drift-test',
           'REGISTRY_SESSION_COOKIE_SECURE': 'false', 'REGISTRY_WTF_CSRF_ENABLED': 'false',
           'REGISTRY_SEARCH_ENGINE': 'sql', 'REGISTRY_STORAGE_LOCAL_DIR': str(tmp / 'documents'),
           'REGISTRY_PASSWORD_HASH_TIME_COST': '1', 'REGISTRY_PASSWORD_HASH_MEMORY_KIB': '1024',
           'REGISTRY_PASSWORD_HASH_PARALLELISM': '1'}
    for key in ('REGISTRY_SQLALCHEMY_DATABASE_URI', 'ELASTICSEARCH_URL', 'REGISTRY_ELASTICSEARCH_URL'):
        env.pop(key, None)
    process = subprocess.Popen(
        [sys.executable, '-m', 'gunicorn', '--bind', f'127.0.0.1:{port}', '--workers', '3', '--threads', '8',
         '--error-logfile', str(tmp / 'error.log'), 'wsgi:app'], cwd=ROOT, env=env)
    base = f'http://127.0.0.1:{port}'
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + '/healthcheck', timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError('the registry did not start: ' + (tmp / 'error.log').read_text()) from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture
def provider_cookie(server, directory):
    """A provider who owns Oak House's organisation, signed in to the server; Oak House has room for 20."""
    user = make_user(Role.PROVIDER)
    db.session.add(Membership(user_id=user.id, organisation_id=directory.oak_house.organisation_id,
                              role=MemberRole.OWNER))
    directory.oak_house.places = THREADS
    db.session.commit()
    rebuild(target=SqlEngine())
    status, cookie = _post(server + '/sign-in', {'email': user.email, 'password': PASSWORD, 'next': ''})
    assert status == 302, status
    return cookie.split(';', 1)[0]


def test_concurrent_vacancy_changes_leave_the_index_equal_to_the_database(app_ctx, server, provider_cookie,
                                                                          directory):
    setting_id = directory.oak_house.id
    url = f'{server}/settings/{setting_id}/vacancies'
    for trial in range(TRIALS):
        statuses: list[int] = []
        barrier = threading.Barrier(THREADS)

        def set_vacancies(number: int, trial=trial, barrier=barrier, statuses=statuses) -> None:
            barrier.wait()
            status, _cookie = _post(url, {'change-vacancies': str(number), 'change-note': f'trial {trial}',
                                          'change-submit': 'Save vacancies'}, provider_cookie)
            statuses.append(status)

        threads = [threading.Thread(target=set_vacancies, args=(number,)) for number in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert statuses == [302] * THREADS, statuses
        db.session.rollback()
        db.session.expire_all()
        in_database = db.session.get(Setting, setting_id).vacancies
        if pending_count():  # an after-commit drain that ran out of time leaves the rest for the worker
            drain()
        assert pending_count() == 0
        assert SqlEngine().get(setting_id).vacancies == in_database, f'trial {trial}: the index drifted'
        comparison = compare(SqlEngine())
        assert comparison.matches, comparison


def test_a_writer_reads_its_entries_only_after_it_holds_the_index_lock(app, app_ctx, directory):
    """The order that prevents drift, shown directly: a second writer waits at the lock and then reads the row the
    first one committed, so whichever writes last writes the newest state."""
    from search.entries import build_entries

    engine = SqlEngine()
    rebuild(target=engine)
    setting_id = directory.oak_house.id
    directory.oak_house.places = 20
    db.session.commit()
    first_has_lock, second_done = threading.Event(), threading.Event()
    seen = {}

    def second_writer():
        with app.app_context():
            first_has_lock.wait(10)
            lock_index()  # waits for the first writer's commit
            [entry] = build_entries([setting_id])
            seen['vacancies'] = entry.vacancies
            SqlEngine().index([entry])
            db.session.commit()
            db.session.remove()
        second_done.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    lock_index()
    db.session.get(Setting, setting_id).vacancies = 7
    first_has_lock.set()
    time.sleep(0.3)  # the second writer is now waiting for the lock
    assert not second_done.is_set()
    db.session.commit()  # releases the lock with the new row committed
    thread.join(10)
    assert seen == {'vacancies': 7}
    db.session.expire_all()
    assert engine.get(setting_id).vacancies == 7
