"""Browser tests: a real server process on loopback, driven by Debian's chromium through Playwright.

The server runs ``gunicorn`` on its own SQLite file with CSRF on and real (argon2) hashing at low
cost, so the browser exercises exactly what a user gets. Emails are read from the outbox table.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
#: Every visited page is audited at these viewport sizes: a 375 px phone and a 1280 px desktop.
AUDIT_SIZES = ((375, 812), (1280, 800))
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync']


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class LiveServer:
    """A running registry and a handle on its database."""

    def __init__(self, base_url: str, db_path: Path, env: dict):
        self.base_url = base_url
        self.db_path = db_path
        self.env = env

    def url(self, path: str) -> str:
        return self.base_url + path

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with sqlite3.connect(self.db_path) as connection:
            return connection.execute(sql, params).fetchall()

    def latest_email(self, to_address: str, template: str) -> str:
        rows = self.query('SELECT body FROM outbox_emails WHERE to_address = ? AND template = ? ORDER BY id DESC',
                          (to_address, template))
        assert rows, f'no {template} email to {to_address}'
        return rows[0][0]

    def flask(self, *args: str) -> str:
        """Run a ``flask --app wsgi`` command against the server's database."""
        result = subprocess.run([sys.executable, '-m', 'flask', '--app', 'wsgi', *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr + result.stdout
        return result.stdout


@pytest.fixture(scope='session')
def live_server(tmp_path_factory):
    """One registry server for the whole browser run, on its own SQLite database."""
    yield from serve(tmp_path_factory)


def serve(tmp_path_factory):
    """Start gunicorn on a free loopback port with a fresh database; yields the server, stops it afterwards.

    A journey that needs a registry no other journey has touched overrides ``live_server`` with this.
    """
    if not Path(CHROMIUM).exists():
        pytest.skip('Debian chromium is not installed (apt-get install chromium); .ci/run installs it')
    if not (ROOT / 'node_modules' / 'govuk-frontend').exists():
        pytest.skip('GOV.UK Frontend assets are not installed (npm ci); make test installs them')
    tmp = tmp_path_factory.mktemp('e2e')
    db_path = tmp / 'e2e.sqlite'
    port = _free_port()
    env = {
        **os.environ,
        'DATABASE_URL': f'sqlite:///{db_path}',
        'REGISTRY_SECRET_KEY': 'e2e-secret',
        'REGISTRY_SESSION_COOKIE_SECURE': 'false',
        'REGISTRY_REMEMBER_COOKIE_SECURE': 'false',
        'REGISTRY_STORAGE_LOCAL_DIR': str(tmp / 'documents'),
        'REGISTRY_SERVER_BASE_URL': f'http://127.0.0.1:{port}',
        'REGISTRY_PASSWORD_HASH_TIME_COST': '1',
        'REGISTRY_PASSWORD_HASH_MEMORY_KIB': '8192',
        'REGISTRY_PASSWORD_HASH_PARALLELISM': '1',
    }
    env.pop('TEST_DATABASE_URL', None)
    server = LiveServer(f'http://127.0.0.1:{port}', db_path, env)
    server.flask('db', 'upgrade')
    process = subprocess.Popen(
        [sys.executable, '-m', 'gunicorn', '--bind', f'127.0.0.1:{port}', '--workers', '2', '--threads', '4',
         '--access-logfile', str(tmp / 'access.log'), '--error-logfile', str(tmp / 'error.log'), 'wsgi:app'],
        cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(server.url('/healthcheck'), timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError('the registry did not start: ' + (tmp / 'error.log').read_text()) from None
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope='session')
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class VisitedPages:
    """Records every page a person's browser lands on, so each can be checked with axe-core afterwards."""

    def __init__(self):
        self.pages: list = []

    def watch(self, page) -> None:
        seen: dict[str, None] = {}

        def landed(frame):
            if frame == page.main_frame and frame.url.startswith('http'):
                seen.setdefault(frame.url.split('#')[0], None)

        page.on('framenavigated', landed)
        self.pages.append((page, seen))

    def audit(self) -> int:
        """Re-open every visited address in the session that visited it; check it on a phone and on a desktop.

        Fails on serious axe-core violations and on any house-check breach. An address is opened once and checked
        at both sizes (a resize re-lays the page out as a fresh load at that size would; the markup is the same).
        """
        checked = 0
        for page, seen in self.pages:
            if page.is_closed():
                continue
            for url in list(seen):
                page.goto(url)
                assert_house_checks(page)
                for width, height in AUDIT_SIZES:
                    page.set_viewport_size({'width': width, 'height': height})
                    assert_no_serious_axe_violations(page)
                    checked += 1
        return checked


@pytest.fixture
def new_person(request, browser, live_server):
    """A fresh browser session (its own cookies), as a different person would have.

    Every page such a session lands on is checked with axe-core when the test ends (if it passed so far).
    """
    contexts = []
    visited = VisitedPages()

    def make():
        context = browser.new_context(base_url=live_server.base_url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)  # a loaded 2-core CI host: a write plus its re-index can take over 10 s
        visited.watch(page)
        return page

    yield make
    try:
        if not getattr(request.node, 'failed_call', False):
            assert visited.audit() > 0
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(new_person):
    return new_person()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember whether the test body failed, so the accessibility audit does not pile on a second error."""
    report = yield
    if report.when == 'call' and report.failed:
        item.failed_call = True
    return report


def assert_accessible(page) -> None:
    """Run the house checks (tests/house_checks.py) and axe-core on the current page; fail on any house-check breach
    and on serious or critical violations. The house checks catch what axe-core does not (an empty legend, a label
    for another box, a title that is not the H1)."""
    assert_house_checks(page)
    assert_no_serious_axe_violations(page)


def assert_house_checks(page) -> None:
    from tests.house_checks import problems

    breaches = problems(page.content())
    assert not breaches, f'{page.url}: ' + '; '.join(breaches)


def assert_no_serious_axe_violations(page) -> None:
    """Run axe-core on the page as laid out now; its script is put into each document once."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe_script())
    violations = page.evaluate("axe.run({resultTypes: ['violations']}).then(results => results.violations)")
    bad = [v for v in violations if v.get('impact') in {'serious', 'critical'}]
    assert not bad, f'{page.url}: ' + '; '.join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in bad)


@functools.cache
def _axe_script() -> str:
    from axe_playwright_python.sync_playwright import Axe

    return Axe().axe_script
