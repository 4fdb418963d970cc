"""Search benchmark: build N settings across real postcodes, index them, and time a fixed query mix.

Run: ``.venv/bin/python bench/search.py --sizes 1000 10000 100000 --engines sql``
(add ``--postgres-url postgresql://postgres@127.0.0.1:5432/<scratch db>`` to measure PostgreSQL too; that
database's public schema is dropped and recreated). Everything else happens in a temporary folder; the HTTP
part runs gunicorn on 127.0.0.1 only and stops it when done.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: The fixed query mix: (label, parameters). Every query asks for the default facets, as the pages do.
QUERY_MIX = [
    ('words', {'q': 'fostering'}),
    ('words + type filter', {'q': 'autism care', 'provision_type': 'childrens-home'}),
    ('filters only', {'provision_type': 'independent-fostering-agency', 'min_judgement': 'good',
                      'has_vacancy': 'yes'}),
    ('age + sex + needs', {'age': '12', 'sex': 'female', 'need': 'autism'}),
    ('distance 25 miles', {'postcode': 'LS1 4DY', 'radius': '25'}),
    ('distance sort 50 miles', {'postcode': 'M1 1AE', 'radius': '50', 'sort': 'distance'}),
    ('region + judgement sort', {'region': 'E12000003', 'sort': 'judgement'}),
    ('local list', {'accepted_by': 'E08000035'}),
    ('everything, page 3', {'page': '3'}),
    ('words + distance', {'q': 'therapeutic', 'postcode': 'B1 1BB', 'radius': '30'}),
]
WORDS = ('therapeutic residential care for children with complex needs', 'foster families offering long-term care',
         'short breaks and respite', 'parent and child assessments', 'small home for girls with autism',
         'solo placement with education on site', 'sibling groups kept together', 'emergency placements')
NEEDS = ('autism', 'emotional-behavioural', 'mental-health', 'sibling-groups', 'parent-and-child',
         'unaccompanied-asylum-seeking', 'learning-disability', 'physical-disability')


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def real_locations(limit: int = 600) -> list:
    """Real postcodes (the demo data's sample across all 153 authorities), geocoded offline."""
    from registry.geography.postcodes import PostcodeError, lookup

    with open(ROOT / 'registry' / 'demo_data' / 'home_postcodes.csv', encoding='utf-8') as handle:
        rows = list(csv.DictReader(handle))
    random.Random(1).shuffle(rows)
    located = []
    for row in rows[:limit]:
        try:
            located.append(lookup(row['postcode']))
        except PostcodeError:
            continue
    return located


def build_database(app, size: int, locations: list, rng: random.Random) -> None:
    """Organisations, qualifications, local list acceptances and ``size`` settings, inserted in bulk."""
    from sqlalchemy import column, insert, table

    from qualification.models import LocalApplication, LocalApplicationStatus, Qualification, QualificationStatus
    from registry.db import utcnow
    from registry.extensions import db
    from registry.organisations.models import LegalForm, Organisation, Sector
    from registry.settings.models import Setting
    from registry.settings.taxonomy import NEEDS as KNOWN_NEEDS
    from registry.settings.taxonomy import Judgement, Lot, ProvisionType, SexAccepted

    needs = [need for need in NEEDS if need in KNOWN_NEEDS] or list(KNOWN_NEEDS)[:6]
    organisations = max(1, size // 20)
    now, today = utcnow(), date.today()
    db.session.execute(insert(Organisation), [
        {'id': i + 1, 'legal_name': f'Bench Provider {i + 1} Ltd', 'legal_form': LegalForm.COMPANY_LIMITED_BY_SHARES,
         'sector': Sector.PRIVATE, 'address_line_1': '1 High Street', 'town': 'Leeds', 'postcode': 'LS1 4DY',
         'contact_name': 'Bench', 'contact_email': f'bench{i}@example.org', 'contact_phone': '0113 000 0000'}
        for i in range(organisations)])
    db.session.execute(insert(Qualification), [
        {'organisation_id': i + 1, 'lot': lot, 'scheme_version': '2026.1', 'status': QualificationStatus.ACTIVE,
         'valid_from': today - timedelta(days=30), 'valid_to': today + timedelta(days=335),
         'next_review_due': today + timedelta(days=300)} for i in range(organisations) for lot in Lot])
    # Only the columns the listing rule reads, so that newer optional columns do not matter here.
    accepted = table(LocalApplication.__tablename__, *(column(name) for name in (
        'organisation_id', 'authority_code', 'lot', 'status', 'decided_at', 'decision_reason', 'created_at',
        'updated_at')))
    db.session.execute(insert(accepted), [
        {'organisation_id': i + 1, 'authority_code': code, 'lot': lot.value,
         'status': LocalApplicationStatus.ACCEPTED.value, 'decided_at': now, 'decision_reason': '',
         'created_at': now, 'updated_at': now}
        for i in range(0, organisations, 7) for code in ('E08000035', 'E08000003') for lot in Lot])
    types = list(ProvisionType)
    weights = [60, 2, 20, 6, 4, 8]
    judgements = [*Judgement, None]
    batch = []
    for n in range(size):
        location = rng.choice(locations)
        ptype = rng.choices(types, weights)[0]
        age_min = rng.choice((0, 5, 8, 11, 12))
        batch.append({
            'organisation_id': n % organisations + 1, 'provision_type': ptype,
            'name': f'{rng.choice(("Oak", "Willow", "Ash", "Beech", "River", "Hill", "Meadow"))} '
                    f'{rng.choice(("House", "Lodge", "View", "Fostering", "Families", "Centre"))} {n}',
            'address_line_1': f'{n % 200 + 1} Example Road', 'town': location.district_name,
            'postcode': location.postcode,
            # real postcode positions, jittered by up to 300 m so that settings do not sit on one point
            'easting': location.easting + rng.uniform(-300, 300),
            'northing': location.northing + rng.uniform(-300, 300),
            'district_code': location.district_code, 'district_name': location.district_name,
            'authority_code': location.authority_code, 'places': rng.randint(1, 8), 'age_min': age_min,
            'age_max': rng.choice((17, 18)), 'sex_accepted': rng.choice(list(SexAccepted)),
            'needs': rng.sample(needs, rng.randint(0, 3)), 'description': rng.choice(WORDS),
            'vacancies': rng.choice((0, 0, 1, 2)), 'vacancies_confirmed_at': now,
            'judgement': rng.choice(judgements), 'judgement_date': today - timedelta(days=rng.randint(10, 900)),
        })
        if len(batch) == 5000:
            db.session.execute(insert(Setting), batch)
            batch = []
    if batch:
        db.session.execute(insert(Setting), batch)
    db.session.commit()


def footprint(value, seen: set | None = None) -> int:
    """Approximate bytes held by a snapshot: numpy buffers plus Python containers and strings, each object once."""
    import dataclasses

    import numpy as np

    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        return value.nbytes
    if dataclasses.is_dataclass(value):
        return sum(footprint(getattr(value, item.name), seen) for item in dataclasses.fields(value))
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(footprint(k, seen) + footprint(v, seen) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return sys.getsizeof(value) + sum(footprint(item, seen) for item in value)
    return sys.getsizeof(value)


def measure_engine(app, size: int, rounds: int) -> dict:
    """Index every listed setting, then run the query mix ``rounds`` times (after one warm-up round)."""
    from search import parse_query
    from search.entries import build_entries
    from search.sql_engine import SqlEngine

    engine = SqlEngine()
    started = time.perf_counter()
    entries = list(build_entries())
    built = time.perf_counter()
    written = engine.reindex(entries, batch_size=1000)
    finished = time.perf_counter()
    assert written == size, (written, size)
    queries = [(label, parse_query(args)) for label, args in QUERY_MIX]
    # What each worker pays once after every index write: reading the columns into its in-memory snapshot.
    load_started = time.perf_counter()
    snapshot = engine.snapshot()
    load_s = time.perf_counter() - load_started
    memory_mb = footprint(snapshot) / 2**20
    # What each worker pays after a typical write (one setting's vacancies, say): patching in the changed entry.
    patch_ms = []
    for entry in entries[:: max(1, len(entries) // 5)][:5]:
        engine.index([entry])
        engine.session.commit()
        patch_started = time.perf_counter()
        engine.snapshot()
        patch_ms.append((time.perf_counter() - patch_started) * 1000)
    for _, query in queries:
        engine.query(query)
    timings: dict[str, list[float]] = {label: [] for label, _ in queries}
    for _ in range(rounds):
        for label, query in queries:
            start = time.perf_counter()
            engine.query(query)
            timings[label].append((time.perf_counter() - start) * 1000)
    every = [value for values in timings.values() for value in values]
    return {
        'build_s': built - started, 'write_s': finished - built, 'load_s': load_s,
        'patch_ms': percentile(patch_ms, 0.5), 'memory_mb': memory_mb,
        'rate': size / (finished - started), 'write_rate': size / (finished - built),
        'p50': percentile(every, 0.50), 'p95': percentile(every, 0.95),
        'per_query': {label: (percentile(values, 0.5), percentile(values, 0.95)) for label, values in timings.items()},
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def measure_http(database_url: str, requests: int, concurrency: int, workers: int, http_rounds: int = 3) -> dict:
    """Run gunicorn (loopback only) on the scratch database and fire ``http_rounds`` rounds of ``requests`` API
    requests at it; report the median round."""
    port = free_port()
    env = {**os.environ, 'DATABASE_URL': database_url, 'REGISTRY_SECRET_KEY': 'bench-only-secret',
           'REGISTRY_SEARCH_ENGINE': 'sql', 'PYTHONPATH': str(ROOT)}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / 'gunicorn'), '--workers', str(workers), '--bind', f'127.0.0.1:{port}',
         '--log-level', 'warning', 'wsgi:app'], cwd=ROOT, env=env)
    paths = [f'/api/v1/settings?{urlencode(args)}' for _, args in QUERY_MIX]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection('127.0.0.1', port, timeout=5)
                connection.request('GET', paths[0])
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError('gunicorn did not start')
            time.sleep(0.3)

        def worker(share: list[str]) -> list[tuple[float, int]]:
            connection = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
            results = []
            for path in share:
                start = time.perf_counter()
                connection.request('GET', path)
                response = connection.getresponse()
                response.read()
                results.append(((time.perf_counter() - start) * 1000, response.status))
            connection.close()
            return results

        # Warm every worker: the first request for a postcode area decodes that area's postcode file (seconds),
        # which would otherwise land inside the timed phase. Sync workers close each connection, so concurrent
        # warm-up requests spread across the workers.
        with ThreadPoolExecutor(workers * 2) as pool:
            list(pool.map(worker, [paths * 2 for _ in range(workers * 2)]))
        plan = [paths[i % len(paths)] for i in range(requests)]
        shares = [plan[i::concurrency] for i in range(concurrency)]
        rounds = []
        for _ in range(http_rounds):
            started = time.perf_counter()
            with ThreadPoolExecutor(concurrency) as pool:
                outcomes = [item for chunk in pool.map(worker, shares) for item in chunk]
            rounds.append((len(outcomes) / (time.perf_counter() - started), outcomes))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    # The median round by throughput (a shared 2-core machine varies by 10-15% from round to round).
    rps, outcomes = sorted(rounds, key=lambda item: item[0])[len(rounds) // 2]
    latencies = [latency for latency, _ in outcomes]
    bad = sum(status != 200 for _, result in rounds for _, status in result)
    return {'rps': rps, 'p50': percentile(latencies, 0.5), 'p95': percentile(latencies, 0.95),
            'errors': bad, 'requests': sum(len(result) for _, result in rounds),
            'rounds': [round(value) for value, _ in rounds]}


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    from registry.config import normalise_database_url

    engine = create_engine(normalise_database_url(url), isolation_level='AUTOCOMMIT')
    with engine.connect() as connection:
        connection.execute(text('DROP SCHEMA public CASCADE'))
        connection.execute(text('CREATE SCHEMA public'))
    engine.dispose()


def run_one(backend: str, database_url: str, size: int, locations: list, args) -> dict:
    import flask_migrate

    from registry.app import create_app
    from registry.extensions import db

    if backend == 'postgresql':
        reset_postgres(database_url)
    app = create_app({'SQLALCHEMY_DATABASE_URI': database_url, 'SECRET_KEY': 'bench-only-secret',
                      'SEARCH_ENGINE': 'sql', 'SERVER_NAME': 'localhost'})
    with app.app_context():
        flask_migrate.upgrade()
        started = time.perf_counter()
        build_database(app, size, locations, random.Random(size))
        generated = time.perf_counter() - started
        with app.test_request_context():
            result = measure_engine(app, size, args.rounds)
        db.session.remove()
        db.engine.dispose()
    result['generate_s'] = generated
    if not args.no_http:
        result['http'] = measure_http(database_url, args.http_requests, args.http_concurrency, args.workers,
                                      args.http_rounds)
    return result


def report(results: list[tuple[str, int, dict]], args) -> str:
    lines = [
        f'Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs. '
        f'Command: `.venv/bin/python bench/search.py {" ".join(sys.argv[1:])}`.',
        '',
        '| backend | settings | generate (s) | build entries (s) | write index (s) | indexing rate (entries/s) '
        '| snapshot load (s) | snapshot memory (MB) | patch after a write (ms) | engine p50 (ms) | engine p95 (ms) '
        '| HTTP req/s (rounds) | HTTP p50 (ms) | HTTP p95 (ms) |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ]
    for backend, size, r in results:
        http_part = ('| {rps:.0f} ({rounds}) | {p50:.1f} | {p95:.1f} |'.format(
            **{**r['http'], 'rounds': ', '.join(map(str, r['http']['rounds']))}) if 'http' in r else '| – | – | – |')
        lines.append(f'| {backend} | {size:,} | {r["generate_s"]:.1f} | {r["build_s"]:.1f} | {r["write_s"]:.1f} '
                     f'| {r["rate"]:.0f} | {r["load_s"]:.2f} | {r["memory_mb"]:.0f} | {r["patch_ms"]:.0f} '
                     f'| {r["p50"]:.1f} | {r["p95"]:.1f} {http_part}')
    lines += ['', 'Per query, p50 / p95 in ms (engine, no HTTP):', '',
              '| query | ' + ' | '.join(f'{backend} {size:,}' for backend, size, _ in results) + ' |',
              '| --- |' + ' ---: |' * len(results)]
    for label, _ in QUERY_MIX:
        cells = [f'{r["per_query"][label][0]:.1f} / {r["per_query"][label][1]:.1f}' for _, _, r in results]
        lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    errors = [f'{backend} {size:,}: {r["http"]["errors"]} non-200 of {r["http"]["requests"]}'
              for backend, size, r in results if 'http' in r and r['http']['errors']]
    if errors:
        lines += ['', 'HTTP errors: ' + '; '.join(errors)]
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[1000, 10000])
    parser.add_argument('--engines', nargs='+', default=['sql'], choices=['sql', 'elasticsearch'])
    parser.add_argument('--postgres-url', default='')
    parser.add_argument('--backends', nargs='+', default=['sqlite', 'postgresql'], choices=['sqlite', 'postgresql'],
                        help='which databases to measure (postgresql only when --postgres-url is given)')
    parser.add_argument('--rounds', type=int, default=20, help='times each query of the mix is timed')
    parser.add_argument('--http-requests', type=int, default=1500)
    parser.add_argument('--http-concurrency', type=int, default=8)
    parser.add_argument('--http-rounds', type=int, default=3, help='timed HTTP rounds; the median is reported')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--no-http', action='store_true')
    parser.add_argument('--output', default='', help='write the markdown table here as well as to stdout')
    args = parser.parse_args()
    if 'elasticsearch' in args.engines:
        print('Elasticsearch: no cluster can be installed here; only the SQL engine is measured.', file=sys.stderr)

    from registry.app import create_app

    with create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://'}).app_context():
        locations = real_locations()
    backends = [('sqlite', None)] if 'sqlite' in args.backends else []
    if args.postgres_url and 'postgresql' in args.backends:
        backends.append(('postgresql', args.postgres_url))
    results = []
    with tempfile.TemporaryDirectory(prefix='registry-bench-') as tmp:
        for backend, url in backends:
            for size in args.sizes:
                database_url = url or f'sqlite:///{Path(tmp) / f"bench-{size}.sqlite"}'
                print(f'{backend} {size:,} settings…', file=sys.stderr, flush=True)
                result = run_one(backend, database_url, size, locations, args)
                print(f'  indexed at {result["rate"]:.0f}/s, engine p50 {result["p50"]:.1f} ms, '
                      f'p95 {result["p95"]:.1f} ms' + (f', HTTP {result["http"]["rps"]:.0f} req/s '
                                                       f'p95 {result["http"]["p95"]:.1f} ms' if 'http' in result
                                                       else ''), file=sys.stderr, flush=True)
                results.append((backend, size, result))
    table = report(results, args)
    print(table)
    if args.output:
        Path(args.output).write_text(table + '\n', encoding='utf-8')


if __name__ == '__main__':
    main()
