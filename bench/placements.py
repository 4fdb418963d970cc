"""Placement pages benchmark: 10,000 referrals (with their responses, offers and placements), then time each page.

Run: ``.venv/bin/python bench/placements.py`` (SQLite in a temporary folder), and
``.venv/bin/python bench/placements.py --postgres-url postgresql://postgres@127.0.0.1:5432/<scratch db>`` for
PostgreSQL (that database's public schema is dropped and recreated).

The data: the core demo (about 580 settings in 9 regions) plus the placements demo generator run for 10,000
referrals in all, about 40% of them from Leeds so that one authority's pages carry thousands of rows. The pages are
served by gunicorn (one worker, one thread) on 127.0.0.1 and requested one at a time over HTTP with real signed
session cookies; each page is asked for 100 times (different referrals and placements) after 10 warm-up requests.
The floor is ``/healthcheck`` on the same server in the same run. Accepting an offer (a write: conditional updates,
the placement, emails, audit) is timed too.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOTAL_REFERRALS = 10_000
REQUESTS, WARM_UP = 100, 10
TARGET_MS = 300


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    from registry.config import normalise_database_url

    engine = create_engine(normalise_database_url(url), isolation_level='AUTOCOMMIT')
    with engine.connect() as connection:
        connection.execute(text('DROP SCHEMA public CASCADE'))
        connection.execute(text('CREATE SCHEMA public'))
    engine.dispose()


def build(env: dict, echo) -> dict:
    """Migrate, load the data and return what the timed requests need (ids and session cookies)."""
    import flask_migrate
    from sqlalchemy import func, select

    from placements import demo as placements_demo
    from placements import services
    from placements.models import Offer, Placement, Referral, ReferralResponse
    from registry.accounts.models import Role, User
    from registry.app import create_app
    from registry.db import unit_of_work, utcnow
    from registry.demo import load_demo_data
    from registry.extensions import db
    from registry.organisations.models import MemberRole, Membership
    from registry.settings.models import Setting
    from search.entries import listed_condition

    app = create_app({'SQLALCHEMY_DATABASE_URI': env['DATABASE_URL'], 'SECRET_KEY': env['REGISTRY_SECRET_KEY'],
                      'SESSION_COOKIE_SECURE': False, 'REMEMBER_COOKIE_SECURE': False, 'MAIL_BACKEND': 'outbox'})
    with app.app_context():
        started = time.perf_counter()
        flask_migrate.upgrade()
        load_demo_data(echo=lambda _line: None)
        already = db.session.scalar(select(func.count(Referral.id)))
        with unit_of_work():
            placements_demo.load(random.Random(7), lambda _line: None, count=TOTAL_REFERRALS - already,
                                 leeds_share=0.42)
        counts = {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
                  for model in (Referral, ReferralResponse, Offer, Placement)}
        echo(f'  data loaded in {time.perf_counter() - started:.0f} s: {counts}')
        leeds = 'E08000035'
        commissioner = db.session.scalar(select(User).where(User.role == Role.COMMISSIONER,
                                                            User.authority_code == leeds))
        busiest_org = db.session.execute(
            select(ReferralResponse.organisation_id, func.count()).group_by(ReferralResponse.organisation_id)
            .order_by(func.count().desc()).limit(1)).first()
        provider = User(email='bench-provider@example.org', full_name='Bench Provider', password_hash='x',
                        role=Role.PROVIDER, email_verified_at=utcnow())
        db.session.add(provider)
        db.session.flush()
        db.session.add(Membership(user_id=provider.id, organisation_id=busiest_org[0], role=MemberRole.OWNER))
        db.session.commit()
        rng = random.Random(11)
        leeds_referrals = list(db.session.scalars(select(Referral.id).where(Referral.authority_code == leeds)))
        provider_referrals = list(db.session.scalars(select(ReferralResponse.referral_id).where(
            ReferralResponse.organisation_id == busiest_org[0])))
        home_placements = list(db.session.scalars(select(Placement.id).where(
            Placement.home_authority_code == leeds)))
        leeds_referral_count = len(leeds_referrals)

        # fresh offers to accept: a Leeds referral to a setting with room, one offer each
        settings = list(db.session.scalars(select(Setting).where(Setting.provision_type == 'childrens-home')
                                           .limit(30)))
        accept_targets = []
        today = date.today()
        for setting in settings:
            setting.vacancies = max(setting.vacancies, 1)
            setting.places = max(setting.places, setting.vacancies)
        db.session.commit()
        from search import build_entries
        from search import engine as search_engine
        search_engine().reindex(build_entries())
        listed = set(db.session.scalars(select(Setting.id).where(
            Setting.id.in_([s.id for s in settings]), listed_condition(today))))
        owners = {}
        for setting in settings:
            if setting.id not in listed:
                continue
            owner = owners.get(setting.organisation_id)
            if owner is None:
                owner = User(email=f'bench-owner-{setting.organisation_id}@example.org', full_name='Owner',
                             password_hash='x', role=Role.PROVIDER, email_verified_at=utcnow())
                db.session.add(owner)
                db.session.flush()
                db.session.add(Membership(user_id=owner.id, organisation_id=setting.organisation_id,
                                          role=MemberRole.OWNER))
                db.session.commit()
                owners[setting.organisation_id] = owner
            referral = services.send_referral(services.ReferralDetails(
                age=13, sex='male', provision_type='childrens-home', start_date=today + timedelta(days=3),
                response_deadline=today + timedelta(days=1), origin_authority=leeds), [services.Candidate(setting.id)],
                actor=commissioner)
            made = services.make_offer(referral.responses[0], weekly_price_pence=5_500_00, available_from=today,
                                       valid_until=today + timedelta(days=7), actor=owner)
            accept_targets.append((referral.id, made.id))

        def cookie(user) -> str:
            client = app.test_client()
            with client.session_transaction() as session:
                session['_user_id'] = user.get_id()
                session['_fresh'] = True
            return client.get_cookie('session').value

        return {
            'counts': counts, 'leeds_referrals': leeds_referral_count,
            'pages_of_referrals': -(-leeds_referral_count // 25),
            'commissioner_cookie': cookie(commissioner), 'provider_cookie': cookie(provider),
            'leeds_sample': rng.sample(leeds_referrals, min(REQUESTS + WARM_UP, len(leeds_referrals))),
            'provider_sample': rng.sample(provider_referrals, min(REQUESTS + WARM_UP, len(provider_referrals))),
            'placement_sample': rng.sample(home_placements, min(REQUESTS + WARM_UP, len(home_placements))),
            'accept_targets': accept_targets,
        }


class Client:
    """One keep-alive HTTP connection with a session cookie."""

    def __init__(self, port: int, cookie: str = ''):
        self.connection = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
        self.cookie = cookie

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str, float]:
        headers = {'Cookie': f'session={self.cookie}'} if self.cookie else {}
        data = None
        if body is not None:
            data = urlencode(body, doseq=True)
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
        started = time.perf_counter()
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        # keep the session the server sends back (it carries the CSRF token a form posts against)
        for header, value in response.getheaders():
            if header.lower() == 'set-cookie' and value.startswith('session='):
                self.cookie = value.split(';', 1)[0].split('=', 1)[1]
        elapsed = (time.perf_counter() - started) * 1000
        return response.status, text, elapsed


def _time(client: Client, paths: list[str], expect: int = 200) -> list[float]:
    timings = []
    for index, path in enumerate(paths):
        status, _text, elapsed = client.request('GET', path)
        assert status == expect, (path, status)
        if index >= WARM_UP:
            timings.append(elapsed)
    return timings


def run(env: dict, label: str) -> list[tuple]:
    print(f'== {label} ==')
    data = build(env, lambda line: print(line, flush=True))
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, '-m', 'gunicorn', '--bind', f'127.0.0.1:{port}', '--workers', '1', '--threads', '1',
         '--keep-alive', '5', '--error-logfile', '-', '--log-level', 'warning', 'wsgi:app'], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                Client(port).request('GET', '/healthcheck')
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        commissioner = Client(port, data['commissioner_cookie'])
        provider = Client(port, data['provider_cookie'])
        n = REQUESTS + WARM_UP
        pages = data['pages_of_referrals']
        rows = [
            ('floor: /healthcheck', _time(Client(port), ['/healthcheck'] * n)),
            (f"referrals list, Leeds page 1 ({data['leeds_referrals']} referrals)",
             _time(commissioner, ['/placements/referrals'] * n)),
            (f'referrals list, deep pages (up to {pages})',
             _time(commissioner, [f'/placements/referrals?page={random.Random(i).randint(2, pages)}'
                                  for i in range(n)])),
            ('referrals list, placed only', _time(commissioner, ['/placements/referrals?status=placed'] * n)),
            ('referral: compare offers (audited view)',
             _time(commissioner, [f'/placements/referrals/{i}' for i in data['leeds_sample']])),
            ('provider inbox, busiest provider', _time(provider, ['/placements/inbox'] * n)),
            ('provider inbox, awaiting only', _time(provider, ['/placements/inbox?status=awaiting'] * n)),
            ('referral as the provider (audited view)',
             _time(provider, [f'/placements/referrals/{i}' for i in data['provider_sample']])),
            ('placements list, Leeds', _time(commissioner, ['/placements/'] * n)),
            ('placements into Leeds (host view)', _time(commissioner, ['/placements/?view=host'] * n)),
            ('placement detail',
             _time(commissioner, [f'/placements/{i}' for i in data['placement_sample']])),
        ]
        accept_times = []
        for referral_id, offer_id in data['accept_targets']:
            path = f'/placements/referrals/{referral_id}/offers/{offer_id}/accept'
            status, page, _elapsed = commissioner.request('GET', path)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            today = date.today() + timedelta(days=1)
            status, _text, elapsed = commissioner.request('POST', path, {
                'csrf_token': token, 'start_date': [str(today.day), str(today.month), str(today.year)]})
            assert status == 302, status
            accept_times.append(elapsed)
        rows.append((f'accept an offer (POST, {len(accept_times)} offers)', accept_times))
    finally:
        server.terminate()
        server.wait(timeout=10)
    floor = percentile(rows[0][1], 0.5)
    print(f"  {data['counts']}")
    print('| page | p50 ms | p95 ms | max ms | p50 / floor |')
    print('| --- | ---: | ---: | ---: | ---: |')
    results = []
    for name, timings in rows:
        p50, p95 = percentile(timings, 0.5), percentile(timings, 0.95)
        verdict = '' if name.startswith('floor') or p95 < TARGET_MS else ' **over target**'
        print(f'| {name} | {p50:.1f} | {p95:.1f}{verdict} | {max(timings):.1f} | {p50 / floor:.1f}× |')
        results.append((name, p50, p95))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--postgres-url', default='', help='measure PostgreSQL (its public schema is replaced)')
    args = parser.parse_args()
    print(f'{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs')
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, 'REGISTRY_SECRET_KEY': 'bench-secret', 'REGISTRY_SESSION_COOKIE_SECURE': 'false',
               'REGISTRY_REMEMBER_COOKIE_SECURE': 'false', 'REGISTRY_STORAGE_LOCAL_DIR': str(Path(tmp) / 'docs'),
               'REGISTRY_MAIL_BACKEND': 'outbox'}
        if args.postgres_url:
            _reset_postgres(args.postgres_url)
            env['DATABASE_URL'] = args.postgres_url
            label = 'PostgreSQL'
        else:
            env['DATABASE_URL'] = f'sqlite:///{Path(tmp) / "bench.sqlite"}'
            label = 'SQLite'
        os.environ.update({key: value for key, value in env.items() if key.startswith(('REGISTRY_', 'DATABASE'))})
        run(env, label)


if __name__ == '__main__':
    main()
