"""Market pages benchmark: 100,000 placements and 1,000,000 logged searches, refreshed, then each page timed.

Run: ``.venv/bin/python bench/market.py`` (SQLite in a temporary folder), and
``.venv/bin/python bench/market.py --postgres-url postgresql://postgres@127.0.0.1:5432/market_bench`` for
PostgreSQL (that database's public schema is dropped and recreated). ``--placements`` and ``--searches`` change the
volume.

The data: the full demo (about 580 settings, Ofsted's register with six earlier releases, 3,000 referrals and the
market demo's log), then bulk inserts up to the target volume: placed referrals with one accepted offer each (one
response, one offer, one placement; prices, distances and authorities drawn like the placements demo's) and
anonymous search and referral log lines across all 153 authorities. ``flask market refresh`` (``refresh_all``) is
timed in full, then again after 1,000 new log lines (the incremental case). Pages are requested through the Flask
test client with a signed-in session: each 60 times, the first 10 as warm-up. The floor is the bare aggregate
SELECT each page starts with, timed on the same connection, and ``/healthcheck/live`` through the same client.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PLACEMENTS, SEARCHES = 100_000, 1_000_000
REQUESTS, WARM_UP = 60, 10
TARGET_MS = 500
BATCH = 10_000


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    from registry.config import normalise_database_url

    engine = create_engine(normalise_database_url(url), isolation_level='AUTOCOMMIT')
    with engine.connect() as connection:
        connection.execute(text('DROP SCHEMA public CASCADE'))
        connection.execute(text('CREATE SCHEMA public'))
    engine.dispose()


def _bulk(model, rows: list[dict]) -> None:
    from sqlalchemy import insert

    from registry.extensions import db

    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(model), rows[start:start + BATCH])


def generate_placements(target: int, rng: random.Random, echo) -> int:
    """Placed referrals (referral, response, offer, placement) up to ``target`` placements."""
    from sqlalchemy import func, select

    from placements.demo import NEEDS_BY_TYPE, PRICES, REGION_PRICE, TYPE_WEIGHTS
    from placements.models import Offer, Placement, Referral, ReferralResponse
    from placements.states import PlacementStatus, ReferralStatus, ResponseStatus
    from registry.extensions import db
    from registry.geography.models import LocalAuthority
    from registry.settings.models import Setting

    have = db.session.scalar(select(func.count()).select_from(Placement))
    wanted = target - have
    if wanted <= 0:
        return 0
    authorities = {code: region for code, region in db.session.execute(
        select(LocalAuthority.code, LocalAuthority.region_name))}
    codes = sorted(authorities)
    settings = db.session.execute(select(Setting.id, Setting.organisation_id, Setting.authority_code,
                                         Setting.provision_type)).all()
    by_type: dict = {}
    for setting in settings:
        by_type.setdefault(setting.provision_type, []).append(setting)
    types = [kind for kind in TYPE_WEIGHTS if by_type.get(kind)]
    weights = [TYPE_WEIGHTS[kind] for kind in types]
    next_id = {model: (db.session.scalar(select(func.max(model.id))) or 0) + 1
               for model in (Referral, ReferralResponse, Offer, Placement)}
    today = date.today()
    now = datetime.now(UTC)
    done = 0
    while done < wanted:
        chunk = min(50_000, wanted - done)
        referrals, responses, offers, placements = [], [], [], []
        for _ in range(chunk):
            kind = rng.choices(types, weights)[0]
            setting = rng.choice(by_type[kind])
            home = setting.authority_code if rng.random() < 0.25 else rng.choice(codes)
            start = today - timedelta(days=int(730 * (1 - math.sqrt(rng.random()))))
            needs = sorted(set(rng.sample(NEEDS_BY_TYPE[kind], k=min(2, len(NEEDS_BY_TYPE[kind])))))
            median, sigma = PRICES[kind]
            price = int(median * math.exp(rng.gauss(0, sigma)) * REGION_PRICE.get(authorities[home], 1.0)) // 500 * 500
            miles = 0.0 if home == setting.authority_code and rng.random() < 0.5 else round(rng.expovariate(1 / 30), 1)
            rid, sid, oid, pid = (next_id[m] + done for m in (Referral, ReferralResponse, Offer, Placement))
            referrals.append({'id': rid, 'authority_code': home, 'created_at': now, 'status': ReferralStatus.PLACED,
                              'age_band': '10-15', 'sex': 'female', 'needs': needs, 'provision_type': kind,
                              'children': 1, 'start_date': start, 'response_deadline': start, 'closed_at': now,
                              'origin_label': '', 'location_notes': '', 'education_notes': '', 'risk_notes': '',
                              'other_notes': ''})
            responses.append({'id': sid, 'referral_id': rid, 'setting_id': setting.id,
                              'organisation_id': setting.organisation_id, 'host_authority_code': setting.authority_code,
                              'provision_type': kind, 'distance_miles': miles, 'finder_reasons': [],
                              'status': ResponseStatus.ACCEPTED, 'decline_notes': ''})
            offers.append({'id': oid, 'response_id': sid, 'referral_id': rid, 'setting_id': setting.id,
                           'weekly_price_pence': price, 'available_from': start, 'valid_until': start,
                           'conditions': '', 'created_at': datetime.combine(start, datetime.min.time(), UTC)})
            placements.append({'id': pid, 'referral_id': rid, 'offer_id': oid, 'setting_id': setting.id,
                               'organisation_id': setting.organisation_id, 'provision_type': kind,
                               'home_authority_code': home, 'host_authority_code': setting.authority_code,
                               'start_date': start, 'weekly_price_pence': price, 'distance_miles': miles,
                               'children': 1, 'status': PlacementStatus.ACTIVE, 'created_at': now})
            done += 1
        for model, rows in ((Referral, referrals), (ReferralResponse, responses), (Offer, offers),
                            (Placement, placements)):
            _bulk(model, rows)
        db.session.commit()
        echo(f'    {have + done:,} placements')
    _fix_sequences()
    return done


def _fix_sequences() -> None:
    """Explicit ids leave PostgreSQL's sequences behind: move them past the rows."""
    from sqlalchemy import text

    from registry.extensions import db

    if db.engine.dialect.name != 'postgresql':
        return
    for table in ('referrals', 'referral_responses', 'offers', 'placements'):
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f'(SELECT max(id) FROM {table}))'))
    db.session.commit()


def generate_searches(target: int, rng: random.Random, echo) -> int:
    """Anonymous log lines (nine searches to each referral) up to ``target``."""
    from sqlalchemy import func, select

    from market.models import DemandLog
    from placements.demo import NEEDS_BY_TYPE, TYPE_WEIGHTS
    from registry.extensions import db
    from registry.geography.models import LocalAuthority

    have = db.session.scalar(select(func.count()).select_from(DemandLog))
    wanted = target - have
    codes = list(db.session.scalars(select(LocalAuthority.code)))
    types = list(TYPE_WEIGHTS)
    weights = list(TYPE_WEIGHTS.values())
    bands = ('under-1', '1-4', '5-9', '10-15', '16-17')
    today = date.today()
    done = 0
    while done < wanted:
        rows = []
        for _ in range(min(100_000, wanted - done)):
            kind = rng.choices(types, weights)[0]
            needs = rng.sample(NEEDS_BY_TYPE[kind], k=min(len(NEEDS_BY_TYPE[kind]), rng.choice((0, 1, 1, 2, 3))))
            rows.append({'logged_on': today - timedelta(days=rng.randint(0, 730)),
                         'kind': 'referral' if rng.random() < 0.1 else 'search', 'authority_code': rng.choice(codes),
                         'age_band': rng.choice(bands), 'provision_type': kind.value if rng.random() < 0.9 else 'any',
                         'needs': ','.join(sorted(needs)), 'max_distance_miles': rng.choice((None, 20, 30, 50)),
                         'matches': 0 if rng.random() < 0.25 else rng.randint(1, 12)})
        _bulk(DemandLog, rows)
        db.session.commit()
        done += len(rows)
        echo(f'    {have + done:,} log lines')
    return done


def run(url: str, label: str, placements: int, searches: int) -> None:
    import flask_migrate
    from sqlalchemy import func, select, text

    from market.demand import log_search
    from market.models import DemandFigure, DemandLog, FlowFigure, PriceFigure
    from market.refresh import refresh_all
    from placements.models import Placement
    from registry.accounts.models import Role, User
    from registry.app import create_app
    from registry.db import unit_of_work
    from registry.demo import load_demo_data
    from registry.extensions import db

    print(f'== {label} ==', flush=True)
    app = create_app({'SQLALCHEMY_DATABASE_URI': url, 'SECRET_KEY': 'bench', 'SESSION_COOKIE_SECURE': False,
                      'REMEMBER_COOKIE_SECURE': False, 'MAIL_BACKEND': 'outbox', 'WTF_CSRF_ENABLED': False,
                      'SEARCH_SNAPSHOT_REFRESH_SECONDS': 0, 'SEARCH_SNAPSHOT_DIR': '',
                      'DATABASE_STATEMENT_TIMEOUT': 600})
    echo = lambda line: print(line, flush=True)  # noqa: E731
    with app.app_context():
        started = time.perf_counter()
        flask_migrate.upgrade()
        load_demo_data(echo=lambda _line: None)
        echo(f'  demo loaded in {time.perf_counter() - started:.0f} s')
        rng = random.Random(17)
        started = time.perf_counter()
        generate_placements(placements, rng, echo)
        echo(f'  placements generated in {time.perf_counter() - started:.0f} s')
        started = time.perf_counter()
        generate_searches(searches, rng, echo)
        echo(f'  log lines generated in {time.perf_counter() - started:.0f} s')
        if db.engine.dialect.name == 'postgresql':
            db.session.execute(text('ANALYZE'))
            db.session.commit()
        # the refresh reads every log line afresh: start it from nothing, as on the first run
        db.session.execute(text('DELETE FROM market_demand'))
        db.session.execute(text('DELETE FROM market_refresh_state'))
        db.session.commit()
        started = time.perf_counter()
        with unit_of_work():
            done = refresh_all()
        full = time.perf_counter() - started
        with unit_of_work():
            for index in range(1000):
                log_search('search', authority_code='E08000035', age=12, needs=['autism'],
                           provision_types=['childrens-home'], max_distance_miles=20, matches=index % 3)
        started = time.perf_counter()
        with unit_of_work():
            incremental = refresh_all()
        again = time.perf_counter() - started
        counts = {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
                  for model in (Placement, DemandLog, DemandFigure, PriceFigure, FlowFigure)}
        echo(f'  rows: {counts}')
        echo(f'  refresh: full {full:.1f} s ({done}); after 1,000 new log lines {again:.1f} s ({incremental})')

        board = db.session.scalar(select(User).where(User.role == Role.BOARD_MEMBER).limit(1))
        leeds = db.session.scalar(select(User).where(User.role == Role.COMMISSIONER,
                                                     User.authority_code == 'E08000035').limit(1))
        ids = {'board': board.get_id(), 'leeds': leeds.get_id()}

        floors = []
        for name, sql in (
                ('demand totals (England: the rows the page reads)',
                 "SELECT kind, provision_type, need, sum(searches), sum(assessed), sum(unmet) FROM market_demand "
                 "WHERE authority_code = '' AND region = '' GROUP BY kind, provision_type, need"),
                ('demand (Leeds: the rows the page reads)',
                 "SELECT kind, provision_type, need, sum(searches), sum(assessed), sum(unmet) FROM market_demand "
                 "WHERE authority_code = 'E08000035' GROUP BY kind, provision_type, need"),
                ('price cells (Leeds, all time)',
                 "SELECT * FROM market_prices WHERE area_kind = 'authority' AND area = 'E08000035' "
                 "AND period = 'all' AND need = ''"),
                ('largest 50 flows (England)',
                 "SELECT * FROM market_flows WHERE provision_type = '' AND home_authority_code <> '' "
                 'AND home_authority_code <> host_authority_code ORDER BY placements DESC LIMIT 50'),
                ('every flow (England, the CSV)',
                 "SELECT * FROM market_flows WHERE provision_type = '' AND home_authority_code <> '' "
                 'AND home_authority_code <> host_authority_code ORDER BY placements DESC'),
                ('raw log, no aggregate (England: GROUP BY kind over every line)',
                 'SELECT kind, count(*) FROM market_demand_log GROUP BY kind'),
                ('raw log, no aggregate (England: unmet by need, LIKE over every line)',
                 "SELECT count(*) FROM market_demand_log WHERE needs LIKE '%autism%' AND matches = 0"),
                ('raw placements, no aggregate (England: out-of-area count)',
                 'SELECT count(*) FROM placements WHERE home_authority_code <> host_authority_code')):
            timings = []
            for _ in range(12):
                t0 = time.perf_counter()
                db.session.execute(text(sql)).all()
                timings.append((time.perf_counter() - t0) * 1000)
            floors.append((name, timings[2:]))
        db.session.remove()

    pages = [
        ('floor: /healthcheck/live', 'board', '/healthcheck/live'),
        ('index', 'leeds', '/market/'),
        ('demand, England (board, with regions)', 'board', '/market/demand'),
        ('demand, Leeds (commissioner)', 'leeds', '/market/demand'),
        ('demand, Yorkshire (board, with authorities)', 'board', '/market/demand?area=Yorkshire+and+The+Humber'),
        ('prices, England', 'board', '/market/prices'),
        ('prices, Leeds (with schedule)', 'leeds', '/market/prices'),
        ('prices, London, fostering', 'leeds', '/market/prices?area=London&type=independent-fostering-agency'),
        ('distance, England (board, every flow)', 'board', '/market/distance'),
        ('distance, Leeds', 'leeds', '/market/distance'),
        ('supply, England', 'board', '/market/supply'),
        ('supply, Leeds', 'leeds', '/market/supply'),
        ('sufficiency pack, Leeds', 'leeds', '/market/packs/E08000035'),
        ('sufficiency pack CSV, Leeds', 'leeds', '/market/packs/E08000035.csv'),
        ('flows CSV, England (board)', 'board', '/market/distance/flows.csv'),
    ]
    clients = {}
    for who, user_id in ids.items():
        client = app.test_client()
        with client.session_transaction() as session:
            session['_user_id'] = user_id
            session['_fresh'] = True
            session['second_factor_verified'] = True
        clients[who] = client
    rows = []
    for name, who, path in pages:
        timings = []
        for index in range(REQUESTS):
            t0 = time.perf_counter()
            response = clients[who].get(path)
            elapsed = (time.perf_counter() - t0) * 1000
            assert response.status_code == 200, (path, response.status_code)
            if index >= WARM_UP:
                timings.append(elapsed)
        rows.append((name, timings))
    floor = percentile(rows[0][1], 0.5)
    print('| page | p50 ms | p95 ms | max ms | p50 / floor |')
    print('| --- | ---: | ---: | ---: | ---: |')
    for name, timings in rows:
        p50, p95 = percentile(timings, 0.5), percentile(timings, 0.95)
        verdict = '' if name.startswith('floor') or p95 < TARGET_MS else ' **over target**'
        print(f'| {name} | {p50:.1f} | {p95:.1f}{verdict} | {max(timings):.1f} | {p50 / floor:.1f}× |')
    print('| bare SELECT | p50 ms | p95 ms | max ms | |')
    print('| --- | ---: | ---: | ---: | ---: |')
    for name, timings in floors:
        print(f'| {name} | {percentile(timings, 0.5):.1f} | {percentile(timings, 0.95):.1f} | {max(timings):.1f} | |')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--postgres-url', default='', help='measure PostgreSQL (its public schema is replaced)')
    parser.add_argument('--placements', type=int, default=PLACEMENTS)
    parser.add_argument('--searches', type=int, default=SEARCHES)
    parser.add_argument('--keep', action='store_true',
                        help="PostgreSQL: keep the database's data from a previous run (only the figures are redone)")
    args = parser.parse_args()
    print(f'{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, '
          f'load average {os.getloadavg()[0]:.1f}')
    with tempfile.TemporaryDirectory() as tmp:
        os.environ['REGISTRY_STORAGE_LOCAL_DIR'] = str(Path(tmp) / 'docs')
        if args.postgres_url:
            if not args.keep:
                _reset_postgres(args.postgres_url)
            run(args.postgres_url, 'PostgreSQL', args.placements, args.searches)
        else:
            run(f'sqlite:///{Path(tmp) / "bench.sqlite"}', 'SQLite', args.placements, args.searches)


if __name__ == '__main__':
    main()
