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
import json
import os
import platform
import random
import resource
import signal
import socket
import statistics
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
    ('typo', {'q': 'fosterign'}),
    ('typo, two words', {'q': 'autsim therapuetic'}),
    ('phrase', {'q': '"sibling groups"'}),
    ('description words', {'q': 'autism', 'postcode': 'LS1 4DY', 'radius': '50'}),
]
#: Sentences descriptions are made of (a real description runs to a few hundred words; these make 60-150).
SENTENCES = (
    'We offer therapeutic residential care for children with complex needs.',
    'Foster families offering long-term care, short breaks and respite across the region.',
    'Parent and child assessments in a supportive residential setting.',
    'A small home for girls with autism, with low-arousal rooms and a sensory garden.',
    'Every member of staff completes autism training, and we work with an autism outreach worker.',
    'Solo placement with education on site and a qualified teacher.',
    'Sibling groups kept together wherever we can.',
    'Emergency placements considered at short notice, day or night.',
    'Our staff team is stable and experienced, trained in therapeutic crisis intervention.',
    'We work closely with local health services, schools and colleges.',
    'Young people are supported to keep in touch with family and friends.',
    'We help young people with independence skills: cooking, budgeting and travel.',
    'The house is close to parks, sports clubs and the town centre.',
    'We support unaccompanied asylum-seeking children with interpreters and community links.',
    'Therapeutic parenting is at the heart of everything we do.',
    'Our carers receive supervision every month and training every year.',
)
#: Made-up place names for descriptions ("close to Ashmoor and Kelbury"): a vocabulary of tens of thousands of
#: distinct words, as real descriptions have, for "did you mean".
SYLLABLES = ('ash', 'kel', 'bram', 'thorn', 'wick', 'dun', 'mar', 'ell', 'holt', 'fen', 'stan', 'brook', 'ley',
             'wood', 'ford', 'ham', 'by', 'ton', 'moor', 'dale', 'field', 'bury', 'well', 'den', 'cot', 'shaw',
             'hurst', 'combe', 'worth', 'ing', 'low', 'ridge', 'stow', 'thwaite', 'gate', 'hay', 'cliff', 'burn')


def description(rng: random.Random) -> str:
    places = [''.join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3)))).capitalize() for _ in range(3)]
    return ' '.join([*rng.sample(SENTENCES, rng.randint(3, 7)),
                     f'We are close to {places[0]}, {places[1]} and {places[2]}.'])


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
    from sqlalchemy import column, insert, table, text

    from qualification.models import LocalApplication, LocalApplicationStatus, Qualification, QualificationStatus
    from registry.db import utcnow
    from registry.extensions import db
    from registry.ofsted.models import OfstedRegisterEntry
    from registry.organisations.models import LegalForm, Organisation, Sector
    from registry.settings.models import Setting
    from registry.settings.taxonomy import NEEDS as KNOWN_NEEDS
    from registry.settings.taxonomy import Judgement, Lot, ProvisionType, RegistrationStatus, SexAccepted

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
    weights = {ProvisionType.CHILDRENS_HOME: 60, ProvisionType.SECURE_CHILDRENS_HOME: 2,
               ProvisionType.INDEPENDENT_FOSTERING_AGENCY: 20, ProvisionType.LOCAL_AUTHORITY_FOSTERING: 6,
               ProvisionType.RESIDENTIAL_FAMILY_CENTRE: 4, ProvisionType.ASSESSMENT_SERVICE: 4,
               ProvisionType.SUPPORTED_ACCOMMODATION: 4}
    types = list(weights)
    judgements = [*Judgement, None]
    batch, register = [], []
    for n in range(size):
        location = rng.choice(locations)
        ptype = rng.choices(types, list(weights.values()))[0]
        age_min = rng.choice((0, 5, 8, 11, 12))
        # Ofsted's register is the gate for the types it registers: each such setting has an active entry
        urn = f'B{n:07d}' if ptype.info.ofsted_registered else None
        if urn:
            register.append({'urn': urn, 'provision_type_text': ptype.label, 'provision_type': ptype,
                             'registration_status': RegistrationStatus.ACTIVE,
                             'authority_code': location.authority_code, 'row_hash': urn})
        batch.append({
            'urn': urn, 'organisation_id': n % organisations + 1, 'provision_type': ptype,
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
            'needs': rng.sample(needs, rng.randint(0, 3)), 'description': description(rng),
            'vacancies': rng.choice((0, 0, 1, 2)), 'vacancies_confirmed_at': now,
            'judgement': rng.choice(judgements), 'judgement_date': today - timedelta(days=rng.randint(10, 900)),
        })
        if len(batch) == 5000:
            db.session.execute(insert(Setting), batch)
            if register:
                db.session.execute(insert(OfstedRegisterEntry), register)
            batch, register = [], []
    if batch:
        db.session.execute(insert(Setting), batch)
    if register:
        db.session.execute(insert(OfstedRegisterEntry), register)
    db.session.commit()
    if db.engine.dialect.name == 'postgresql':
        # What autovacuum would do a minute after a bulk load: without statistics the planner takes the new tables
        # for empty, and building entries (the listing rule's EXISTS over qualifications and Ofsted's register)
        # ran at 100 entries a second
        with db.engine.connect() as connection:
            connection.execute(text('ANALYZE'))
            connection.commit()


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
    floors = measure_floors(engine, engine.snapshot(), rounds)
    floors['pages'] = measure_pages(app, rounds)
    return {**floors,
        'build_s': built - started, 'write_s': finished - built, 'load_s': load_s,
        'patch_ms': percentile(patch_ms, 0.5), 'memory_mb': memory_mb,
        'rate': size / (finished - started), 'write_rate': size / (finished - built),
        'p50': percentile(every, 0.50), 'p95': percentile(every, 0.95),
        'per_query': {label: (percentile(values, 0.5), percentile(values, 0.95)) for label, values in timings.items()},
    }


def _median_ms(function, rounds: int) -> float:
    function()
    values = []
    for _ in range(max(rounds, 20)):
        start = time.perf_counter()
        function()
        values.append((time.perf_counter() - start) * 1000)
    return percentile(values, 0.5)


def measure_floors(engine, snapshot, rounds: int) -> dict:
    """The raw floor for the ``words`` query (``fostering``) on the same data in the same run: hand-written numpy
    over the snapshot's own arrays (postings, a mask, the count, a top 20 by BM25, one bincount per coded facet),
    and the database's own full-text top 20 (FTS5 ``bm25()``; PostgreSQL ``ts_rank`` over the GIN index). Also
    "did you mean" alone, and the vocabulary's size."""
    import numpy as np

    from search.names import fts_tokens
    from search.snapshot import fetch
    from search.sql_engine import _lexemes

    sqlite = engine.dialect == 'sqlite'
    token = fts_tokens(['fostering'])[0][0] if sqlite else _lexemes(engine.session, ['fostering'])['fostering'][0]

    def numpy_floor():
        rows = snapshot.words.rows_with(token, False)
        mask = np.zeros(snapshot.size, dtype=bool)
        mask[rows] = True
        np.count_nonzero(mask)
        score = snapshot.words.bm25([(token, False)], snapshot.size)
        rows[np.argpartition(-score[rows], 20)[:20]]
        for coded in snapshot.coded.values():
            np.bincount(coded.codes[rows])

    if sqlite:
        sql = ("SELECT rowid FROM search_fts WHERE search_fts MATCH '\"fostering\"' "
               'ORDER BY bm25(search_fts) LIMIT 20')
    else:
        sql = ("SELECT entry_id FROM search_words WHERE vector @@ to_tsquery('english', 'fostering') "
               "ORDER BY ts_rank(vector, to_tsquery('english', 'fostering')) DESC LIMIT 20")
    return {'floor_numpy_ms': _median_ms(numpy_floor, rounds),
            'floor_database_ms': _median_ms(lambda: fetch(engine.session, sql), rounds),
            'suggest_ms': _median_ms(lambda: snapshot.suggester.suggestions(['fosterign']), rounds),
            'vocabulary': len(snapshot.suggester)}


#: Queries whose HTML page and JSON API answer are compared (CPU time in this process, the same query each).
PAGE_QUERIES = [('words', {'q': 'fostering'}), ('filters', {'provision_type': 'childrens-home', 'age': '12'}),
                ('distance', {'postcode': 'LS1 4DY', 'radius': '25'})]


def measure_pages(app, rounds: int) -> dict:
    """CPU per request (``time.process_time``, this process only) of the public directory page and of the JSON
    API for the same query, through the app's test client: the median of at least 100 requests each after a
    warm-up, the two taken in turn so that both see the same machine, and each page's size."""
    client = app.test_client()
    found = {}
    for label, args in PAGE_QUERIES:
        urls = {kind: f'{path}?{urlencode(args)}' for kind, path in (('html', '/directory'),
                                                                     ('json', '/api/v1/settings'))}
        timings: dict = {kind: [] for kind in urls}
        for kind, url in urls.items():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            timings[f'{kind}_kb'] = len(response.data) / 1024
        for _ in range(max(rounds * 5, 100)):
            for kind, url in urls.items():
                start = time.process_time()
                client.get(url).get_data()
                timings[kind].append((time.process_time() - start) * 1000)
        found[label] = {key: percentile(value, 0.5) if isinstance(value, list) else value
                        for key, value in timings.items()}
    return found


def vocabulary_only(size: int) -> str:
    """"Did you mean" over the vocabulary ``size`` bench settings would hold (their names, organisations,
    descriptions and districts, made as :func:`build_database` makes them), as each snapshot holds it: no database
    needed, so 300k runs in a minute where indexing 300k takes tens of minutes on a loaded host. CPU time (this
    thread's) beside wall time: on a shared host the wall-clock tail is other processes' turns."""
    from collections import Counter

    from registry.app import create_app
    from search.suggest import Suggester, words_of

    with create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://'}).app_context():
        locations = real_locations()
    rng = random.Random(size)
    organisations = max(1, size // 20)
    counts: Counter = Counter()
    for n in range(size):
        location = rng.choice(locations)
        name = (f'{rng.choice(("Oak", "Willow", "Ash", "Beech", "River", "Hill", "Meadow"))} '
                f'{rng.choice(("House", "Lodge", "View", "Fostering", "Families", "Centre"))} {n}')
        counts.update(words_of([name, f'Bench Provider {n % organisations + 1} Ltd', description(rng),
                                location.district_name]))
    started = time.perf_counter()
    suggester = Suggester.build(counts.items())
    built = time.perf_counter() - started
    lines = [f'{size:,} settings: {len(suggester):,} distinct words (arrays built in {built:.2f} s). '
             f'Load average {load_average()}.', '',
             '| typo | suggestion | wall p50 (ms) | wall p95 (ms) | CPU p50 (ms) | CPU p95 (ms) |',
             '| --- | --- | ---: | ---: | ---: | ---: |']
    for word in ('fosterign', 'autsim', 'therapuetic', 'sibilng', 'emergancy', 'xqzzy'):
        suggester.suggestions([word])
        wall, cpu = [], []
        for _ in range(200):
            start, start_cpu = time.perf_counter(), time.thread_time()
            found = suggester.suggestions([word])
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
        lines.append(f'| {word} | {found.get(word, "(none)")} | {percentile(wall, 0.5):.2f} '
                     f'| {percentile(wall, 0.95):.2f} | {percentile(cpu, 0.5):.2f} | {percentile(cpu, 0.95):.2f} |')
    return '\n'.join(lines)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def start_server(database_url: str, workers: int, preload: bool) -> tuple[subprocess.Popen, int]:
    """gunicorn on 127.0.0.1 with the project's ``gunicorn.conf.py``, answering searches once it returns."""
    port = free_port()
    env = {**os.environ, 'DATABASE_URL': database_url, 'REGISTRY_SECRET_KEY': 'bench-only-secret',
           'REGISTRY_SEARCH_ENGINE': 'sql', 'PYTHONPATH': str(ROOT), 'REGISTRY_SEARCH_SNAPSHOT_DIR': SNAPSHOT_DIR}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / 'gunicorn'), '--workers', str(workers), '--bind', f'127.0.0.1:{port}',
         '--log-level', 'warning', *(['--preload'] if preload else []), 'wsgi:app'], cwd=ROOT, env=env)
    deadline = time.monotonic() + 180
    while True:
        try:
            if fetch_status(port, SEARCH_PATHS[0]) == 200:
                return server, port
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            stop_server(server)
            raise RuntimeError('gunicorn did not start')
        time.sleep(0.2)


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def fetch_status(port: int, path: str, timeout: float = 30) -> int:
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        connection.request('GET', path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


#: Where the servers save and map snapshots (a folder of the bench's temporary one; see main()).
SNAPSHOT_DIR = ''
SEARCH_PATHS = [f'/api/v1/settings?{urlencode(args)}' for _, args in QUERY_MIX]


def workers_of(server: subprocess.Popen) -> list[int]:
    children = Path(f'/proc/{server.pid}/task/{server.pid}/children').read_text().split()
    return [int(pid) for pid in children]


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in kB: PSS shares each shared page among the processes mapping it."""
    fields = {}
    for line in Path(f'/proc/{pid}/smaps_rollup').read_text().splitlines()[1:]:
        name, value = line.split(':', 1)
        fields[name] = int(value.split()[0])
    return fields['Rss'], fields['Pss']


def hit_every_worker(port: int, workers: int) -> None:
    """Warm every worker: sync workers take one connection each, so concurrent requests spread across them."""
    with ThreadPoolExecutor(workers * 2) as pool:
        list(pool.map(lambda _: [fetch_status(port, path) for path in SEARCH_PATHS * 2], range(workers * 2)))


def server_cpu_s(server: subprocess.Popen | None) -> float:
    """CPU seconds used so far by gunicorn's master and its live workers."""
    return cpu_seconds([server.pid, *workers_of(server)]) if server is not None else 0.0


def cpu_seconds(pids: list[int]) -> float:
    """CPU seconds used so far by these processes (any that has ended counts nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf('SC_CLK_TCK')


def load_rounds(port: int, requests: int, concurrency: int, http_rounds: int,
                server: subprocess.Popen | None = None) -> dict:
    """``http_rounds`` rounds of ``requests`` API searches (the mix in turn) from ``concurrency`` threads; the median
    round by throughput (a shared 2-core machine varies by 10-15% from round to round)."""
    def worker(share: list[str]) -> list[tuple[float, int]]:
        connection = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
        results = []
        for path in share:
            start = time.perf_counter()
            connection.request('GET', path)
            response = connection.getresponse()
            response.read()
            results.append(((time.perf_counter() - start) * 1000, response.status))
        connection.close()
        return results

    plan = [SEARCH_PATHS[i % len(SEARCH_PATHS)] for i in range(requests)]
    shares = [plan[i::concurrency] for i in range(concurrency)]
    rounds = []
    for _ in range(http_rounds):
        started, cpu = time.perf_counter(), server_cpu_s(server)
        with ThreadPoolExecutor(concurrency) as pool:
            outcomes = [item for chunk in pool.map(worker, shares) for item in chunk]
        rounds.append((len(outcomes) / (time.perf_counter() - started), outcomes,
                       (server_cpu_s(server) - cpu) * 1000 / len(outcomes)))
    rps, outcomes, cpu_ms = sorted(rounds, key=lambda item: item[0])[len(rounds) // 2]
    latencies = [latency for latency, _ in outcomes]
    bad = sum(status != 200 for _, result, _ in rounds for _, status in result)
    return {'rps': rps, 'cpu_ms': cpu_ms, 'p50': percentile(latencies, 0.5), 'p95': percentile(latencies, 0.95),
            'p99': percentile(latencies, 0.99), 'errors': bad, 'requests': sum(len(r) for _, r, _ in rounds),
            'rounds': [round(value) for value, _, _ in rounds]}


def measure_http(database_url: str, args) -> dict:
    """Throughput without and with ``--write-rate`` vacancy writes a second (a separate writer process, which also
    times how long each sampled write takes to show in every worker's answers); then memory per worker and a
    replaced worker's first search."""
    result = {}
    server, port = start_server(database_url, args.workers, preload=True)
    try:
        hit_every_worker(port, args.workers)
        result['http'] = load_rounds(port, args.http_requests, args.http_concurrency, args.http_rounds, server)
        progress('http', result['http'])
        if args.write_rate:
            result.update(with_and_without_writes(database_url, server, port, args))
            progress('writes', {key: result[key] for key in ('pairs', 'cpu_pairs', 'writes', 'write_cost')})
    finally:
        stop_server(server)
    if not args.no_memory:
        result['memory'] = measure_memory(database_url, args)
        progress('memory', result['memory'])
    return result


def progress(phase: str, figures: dict) -> None:
    """Each phase's figures on stderr as soon as they are known (a long run on a shared host may be cut short)."""
    print(f'[{time.strftime("%H:%M:%S")}] {phase}: ' + json.dumps(figures, default=str)[:4000], file=sys.stderr,
          flush=True)


def with_and_without_writes(database_url: str, server: subprocess.Popen, port: int, args) -> dict:
    """Pairs of rounds, one with the writer paused (SIGSTOP) and one with it writing, so the ratio in each pair
    compares the same minute of a shared machine; the median pair's ratio is reported. They follow a round with
    writes that is not counted (the writes' steady state), and come before rounds with the writes and the writer's
    visibility checks (whose own searches would otherwise count against the writes)."""
    writer = subprocess.Popen(
        [sys.executable, __file__, '--writer', database_url, '--port', str(port), '--write-rate',
         str(args.write_rate), '--seconds', '3600'], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    pairs = []
    try:
        if writer.stdout.readline().strip() != 'ready':  # its signal handlers are in place (SIGUSR1 would kill it)
            raise RuntimeError('the writer did not start')
        # searches with writes for a while first, not counted: the pairs measure writes in progress, not their start
        warm_until = time.monotonic() + args.write_warmup
        while time.monotonic() < warm_until:
            load_rounds(port, args.http_requests, args.http_concurrency, 1, server)
        for _ in range(args.write_pairs):
            writer.send_signal(signal.SIGUSR1)  # pause after the write (and its visibility check) under way
            time.sleep(1.5)
            without = load_rounds(port, args.http_requests, args.http_concurrency, 1, server)
            writer.send_signal(signal.SIGUSR2)
            time.sleep(0.5)
            pairs.append((without, load_rounds(port, args.http_requests, args.http_concurrency, 1, server)))
        cost = write_cost(server, writer, args.write_cost_seconds) if args.write_cost_seconds else {}
        writer.send_signal(signal.SIGHUP)
        checked = load_rounds(port, args.http_requests * 2, args.http_concurrency, 2, server)
    finally:
        writer.send_signal(signal.SIGINT)
        out, _ = writer.communicate(timeout=120)
    pairs.sort(key=lambda pair: pair[1]['rps'] / pair[0]['rps'])
    without, busy = pairs[len(pairs) // 2]
    return {'pairs': [(round(a['rps']), round(b['rps'])) for a, b in pairs], 'http_plain': without,
            'cpu_pairs': [(round(a['cpu_ms'], 2), round(b['cpu_ms'], 2)) for a, b in pairs],
            'http_writes': busy, 'http_checked': checked, 'writes': json.loads(out.strip().splitlines()[-1]),
            'write_cost': cost}


def write_cost(server: subprocess.Popen, writer: subprocess.Popen, seconds: float) -> dict:
    """What the writes cost each process with no searches running, in CPU ms a second: gunicorn (its threads'
    patches), PostgreSQL (every ``postgres`` process on the host; none on SQLite) and the writer, writing against
    paused, twice each in turn. Unlike the throughput pairs, this hardly moves with the host's speed from minute to
    minute, so it shows what a change to the write path saves."""
    def cpu_ms(pids: list[int]) -> float:
        return cpu_seconds(pids) * 1000

    def postgres() -> list[int]:
        return [int(pid) for pid in subprocess.run(['pgrep', '-x', 'postgres'], capture_output=True,
                                                   text=True).stdout.split()]

    taken: dict[str, list[dict]] = {'paused': [], 'writing': []}
    for state in ('paused', 'writing') * 2:
        writer.send_signal(signal.SIGUSR1 if state == 'paused' else signal.SIGUSR2)
        time.sleep(2)
        groups = {'gunicorn': [server.pid, *workers_of(server)], 'postgres': postgres(), 'writer': [writer.pid]}
        before, started = {name: cpu_ms(pids) for name, pids in groups.items()}, time.monotonic()
        time.sleep(seconds)
        groups['postgres'] = sorted({*groups['postgres'], *postgres()})
        elapsed = time.monotonic() - started
        taken[state].append({name: (cpu_ms(pids) - before[name]) / elapsed for name, pids in groups.items()})
    writer.send_signal(signal.SIGUSR2)
    return {state: {name: round(statistics.mean(run[name] for run in runs), 1) for name in runs[0]}
            for state, runs in taken.items()}


def measure_memory(database_url: str, args) -> dict:
    """RSS and PSS of gunicorn (master and workers) with 1 worker, 4 workers, and 4 workers with ``--preload``,
    each after every worker has answered the whole mix twice; and, with one preloaded worker, the time from
    killing it to the first search its replacement answers."""
    memory = {}
    for label, workers, preload in (('1 worker', 1, False), ('4 workers', 4, False),
                                    ('4 workers, --preload', 4, True)):
        server, port = start_server(database_url, workers, preload)
        try:
            hit_every_worker(port, workers)
            processes = [server.pid, *workers_of(server)]
            sizes = [memory_kb(pid) for pid in processes]
            memory[label] = {'rss_mb': sum(rss for rss, _ in sizes) / 1024,
                             'pss_mb': sum(pss for _, pss in sizes) / 1024,
                             'worker_rss_mb': [round(rss / 1024) for rss, _ in sizes[1:]]}
        finally:
            stop_server(server)
    # One preloaded worker, killed: the time until its replacement (forked by the master) answers a search.
    server, port = start_server(database_url, 1, preload=True)
    try:
        hit_every_worker(port, 1)
        os.kill(workers_of(server)[0], signal.SIGKILL)
        killed = time.perf_counter()
        while True:
            try:
                if fetch_status(port, SEARCH_PATHS[0], timeout=5) == 200:
                    break
            except OSError:
                time.sleep(0.005)
        memory['replaced worker ready (s)'] = time.perf_counter() - killed
    finally:
        stop_server(server)
    return memory


def write_load(database_url: str, port: int, rate: float, seconds: float) -> None:
    """Change one setting's vacancies ``rate`` times a second through the index, as providers updating vacancies
    do. After SIGHUP a second thread checks every tenth write: it polls the API (a new connection each time, so
    every worker answers in turn, 20 ms apart) until eight answers in a row show it; the lag is from the commit to
    the sending of the first of those eight. (Its searches are not part of the load the throughput pairs compare,
    so it starts after them.) Prints a JSON summary on SIGINT or after ``seconds``;
    SIGUSR1 pauses the writes, SIGUSR2 resumes them."""
    import queue
    import threading

    from sqlalchemy import select, update

    from registry.app import create_app
    from registry.extensions import db
    from registry.settings.models import Setting
    from search.entries import build_entries
    from search.sql_engine import SqlEngine

    stopping, paused, checking = [], [], []
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    signal.signal(signal.SIGHUP, lambda *_: checking.append(1))
    signal.signal(signal.SIGUSR1, lambda *_: paused.append(1))
    signal.signal(signal.SIGUSR2, lambda *_: paused.clear())
    app = create_app({'SQLALCHEMY_DATABASE_URI': database_url, 'SECRET_KEY': 'bench-only-secret',
                      'SEARCH_ENGINE': 'sql', 'SEARCH_SNAPSHOT_REFRESH_SECONDS': 0, 'SEARCH_SNAPSHOT_DIR': ''})
    checks: queue.Queue = queue.Queue()
    lags: list[float] = []

    def check() -> None:
        while True:
            item = checks.get()
            if item is None:
                return
            path, setting_id, committed = item
            in_a_row, first_seen = 0, None
            while in_a_row < 8 and time.monotonic() - committed < 10:
                sent = time.monotonic()
                connection = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
                connection.request('GET', path, headers={'Connection': 'close'})
                body = json.loads(connection.getresponse().read())
                connection.close()
                if any(item.get('id') == setting_id for item in body.get('results', [])):
                    # visible to whichever worker answered a request sent this long after the commit
                    first_seen = first_seen or sent
                    in_a_row += 1
                else:
                    in_a_row, first_seen = 0, None
                time.sleep(0.02)
            if first_seen is not None:
                lags.append(first_seen - committed)

    checker = threading.Thread(target=check, daemon=True)
    checker.start()
    print('ready', flush=True)
    writes, due, active, paced, last = 0, 0.0, 0.0, 0, None
    started = time.monotonic()
    rng = random.Random(7)
    before = resource.getrusage(resource.RUSAGE_SELF)
    with app.app_context():
        ids = list(db.session.scalars(select(Setting.id).order_by(Setting.id).limit(20000)))
        while not stopping and time.monotonic() - started < seconds:
            if paused:
                time.sleep(0.01)
                due, last = time.monotonic(), None
                continue
            due = max(due + 1 / rate, time.monotonic() - 1 / rate) if writes else time.monotonic()
            time.sleep(max(0.0, due - time.monotonic()))
            if last is not None:
                active, paced = active + time.monotonic() - last, paced + 1
            last = time.monotonic()
            setting = db.session.get(Setting, rng.choice(ids))
            new = 0 if setting.vacancies else 2
            db.session.execute(update(Setting).where(Setting.id == setting.id).values(vacancies=new))
            SqlEngine().index(build_entries([setting.id]))
            db.session.commit()
            writes += 1
            if port and checking and writes % 10 == 0 and checks.empty():
                query = {'q': setting.name.split()[-1], 'has_vacancy': 'yes' if new else 'no', 'facets': ''}
                checks.put((f'/api/v1/settings?{urlencode(query)}', setting.id, time.monotonic()))
            db.session.remove()
    checks.put(None)
    checker.join(timeout=30)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
    print(json.dumps({'writes': writes, 'rate': paced / max(active, 1e-9),
                      'cpu_ms_per_write': cpu * 1000 / max(1, writes),
                      'lag_p50_ms': percentile(lags, 0.5) * 1000 if lags else None,
                      'lag_max_ms': max(lags) * 1000 if lags else None, 'sampled': len(lags)}))


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
    # In-process timings: no background thread and no snapshot files (the servers below have both).
    app = create_app({'SQLALCHEMY_DATABASE_URI': database_url, 'SECRET_KEY': 'bench-only-secret',
                      'SEARCH_ENGINE': 'sql', 'SERVER_NAME': 'localhost', 'SEARCH_SNAPSHOT_REFRESH_SECONDS': 0,
                      'SEARCH_SNAPSHOT_DIR': ''})
    with app.app_context():
        flask_migrate.upgrade()
        started = time.perf_counter()
        build_database(app, size, locations, random.Random(size))
        generated = time.perf_counter() - started
        with app.test_request_context():
            result = measure_engine(app, size, args.rounds)
        progress('engine', result)
        db.session.remove()
        db.engine.dispose()
    result['generate_s'] = generated
    if not args.no_http:
        result.update(measure_http(database_url, args))
    return result


def report(results: list[tuple[str, int, dict]], args) -> str:
    lines = [
        f'Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs. '
        f'Command: `.venv/bin/python bench/search.py {" ".join(sys.argv[1:])}`. Load average before: {LOAD_BEFORE}, '
        f'after: {load_average()}.',
        '',
        '| backend | settings | generate (s) | build entries (s) | write index (s) | indexing rate (entries/s) '
        '| snapshot load (s) | snapshot memory (MB) | patch after a write (ms) | engine p50 (ms) | engine p95 (ms) '
        '| HTTP req/s (rounds) | HTTP p50 (ms) | HTTP p95 (ms) |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ]
    for backend, size, r in results:
        http_part = ('| {rps:.0f} ({rounds}; {cpu_ms:.1f} ms CPU each) | {p50:.1f} | {p95:.1f} |'.format(
            **{**r['http'], 'rounds': ', '.join(map(str, r['http']['rounds']))}) if 'http' in r else '| – | – | – |')
        lines.append(f'| {backend} | {size:,} | {r["generate_s"]:.1f} | {r["build_s"]:.1f} | {r["write_s"]:.1f} '
                     f'| {r["rate"]:.0f} | {r["load_s"]:.2f} | {r["memory_mb"]:.0f} | {r["patch_ms"]:.1f} '
                     f'| {r["p50"]:.1f} | {r["p95"]:.1f} {http_part}')
    lines += ['', 'Per query, p50 / p95 in ms (engine, no HTTP):', '',
              '| query | ' + ' | '.join(f'{backend} {size:,}' for backend, size, _ in results) + ' |',
              '| --- |' + ' ---: |' * len(results)]
    for label, _ in QUERY_MIX:
        cells = [f'{r["per_query"][label][0]:.1f} / {r["per_query"][label][1]:.1f}' for _, _, r in results]
        lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    lines += ['', 'Against the raw floor in the same run (p50, ms; `words` is `fostering`):', '',
              '| backend | settings | words (engine, with facets) | numpy floor | ratio | database full-text top 20 '
              '| ratio | did-you-mean alone | typo query (engine) | distinct words |',
              '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |']
    for backend, size, r in results:
        words = r['per_query']['words'][0]
        lines.append(f'| {backend} | {size:,} | {words:.1f} | {r["floor_numpy_ms"]:.2f} '
                     f'| {words / r["floor_numpy_ms"]:.1f}x | {r["floor_database_ms"]:.1f} '
                     f'| {words / r["floor_database_ms"]:.2f}x | {r["suggest_ms"]:.2f} '
                     f'| {r["per_query"]["typo"][0]:.1f} / {r["per_query"]["typo"][1]:.1f} | {r["vocabulary"]:,} |')
    lines += ['', 'HTML directory against the JSON API for the same query (CPU ms per request in-process, median; '
                  'page size):', '',
              '| backend | settings | query | HTML (ms) | JSON (ms) | ratio | HTML (KB) |',
              '| --- | ---: | --- | ---: | ---: | ---: | ---: |']
    for backend, size, r in results:
        for label, timing in r['pages'].items():
            lines.append(f'| {backend} | {size:,} | {label} | {timing["html"]:.1f} | {timing["json"]:.1f} '
                         f'| {timing["html"] / timing["json"]:.2f} | {timing["html_kb"]:.0f} |')
    with_writes = [(backend, size, r) for backend, size, r in results if 'http_writes' in r]
    if with_writes:
        lines += ['', f'HTTP with {args.write_rate:g} vacancy writes a second (a separate writer process) against '
                      'rounds without (the writer paused), in alternating pairs on the same server; the median '
                      'pair:', '',
                  '| backend | settings | pairs (req/s without, with) | req/s without | req/s with writes | ratio '
                  '| server CPU per search without / with (ms) | p95 without (ms) | p95 with | p99 with '
                  '| writes (/s, CPU each) | visible everywhere p50 / max (ms, sampled; req/s while sampling) |',
                  '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |']
        for backend, size, r in with_writes:
            plain, busy, writes = r['http_plain'], r['http_writes'], r['writes']
            lines.append(
                f'| {backend} | {size:,} | {" ".join(f"{a}/{b}" for a, b in r["pairs"])} | {plain["rps"]:.0f} '
                f'| {busy["rps"]:.0f} | {busy["rps"] / plain["rps"]:.2f} '
                f'| {plain["cpu_ms"]:.2f} / {busy["cpu_ms"]:.2f} | {plain["p95"]:.1f} | {busy["p95"]:.1f} '
                f'| {busy["p99"]:.1f} | {writes["writes"]} ({writes["rate"]:.1f}/s, {writes["cpu_ms_per_write"]:.0f} '
                f'ms) | {writes["lag_p50_ms"]:.0f} / {writes["lag_max_ms"]:.0f} ({writes["sampled"]}; '
                f'{r["http_checked"]["rps"]:.0f} req/s) |')
    costed = [(backend, size, r['write_cost']) for backend, size, r in with_writes if r.get('write_cost')]
    if costed:
        lines += ['', f'What the {args.write_rate:g} writes a second cost with no searches running (CPU ms a second, '
                      f'writing / paused, two rounds of each; the {os.cpu_count()} cores hold '
                      f'{1000 * (os.cpu_count() or 1):,}):', '',
                  '| backend | settings | gunicorn | PostgreSQL | writer | the writes in all (share of the cores) |',
                  '| --- | ---: | ---: | ---: | ---: | ---: |']
        for backend, size, cost in costed:
            writing, paused = cost['writing'], cost['paused']
            extra = sum(writing.values()) - sum(paused.values())
            lines.append(f'| {backend} | {size:,} | ' + ' | '.join(
                f'{writing[name]:.0f} / {paused[name]:.0f}' for name in ('gunicorn', 'postgres', 'writer'))
                + f' | {extra:.0f} ({extra / (10 * (os.cpu_count() or 1)):.1f}%) |')
    with_memory = [(backend, size, r) for backend, size, r in results if 'memory' in r]
    if with_memory:
        lines += ['', 'Memory of gunicorn, master and workers together (MB; PSS counts a shared page once across '
                      'the processes sharing it), after every worker answered the mix twice:', '',
                  '| backend | settings | 1 worker RSS / PSS | 4 workers RSS / PSS | 4 workers --preload RSS / PSS '
                  '| ratio 4 preloaded / 1 (PSS) | a killed worker\'s replacement answers (s) |',
                  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |']
        for backend, size, r in with_memory:
            m = r['memory']
            one, four, shared = m['1 worker'], m['4 workers'], m['4 workers, --preload']
            lines.append(f'| {backend} | {size:,} | {one["rss_mb"]:.0f} / {one["pss_mb"]:.0f} '
                         f'| {four["rss_mb"]:.0f} / {four["pss_mb"]:.0f} '
                         f'| {shared["rss_mb"]:.0f} / {shared["pss_mb"]:.0f} | {shared["pss_mb"] / one["pss_mb"]:.2f} '
                         f'| {m["replaced worker ready (s)"]:.2f} |')
    errors = [f'{backend} {size:,}: {r[key]["errors"]} non-200 of {r[key]["requests"]}'
              for backend, size, r in results for key in ('http', 'http_writes') if key in r and r[key]['errors']]
    if errors:
        lines += ['', 'HTTP errors: ' + '; '.join(errors)]
    return '\n'.join(lines)


def load_average() -> str:
    return ' '.join(f'{value:.2f}' for value in os.getloadavg())


LOAD_BEFORE = load_average()


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
    parser.add_argument('--write-rate', type=float, default=10,
                        help='vacancy writes a second during the second set of HTTP rounds (0: none)')
    parser.add_argument('--write-pairs', type=int, default=5, help='alternating rounds without and with writes')
    parser.add_argument('--write-cost-seconds', type=float, default=15,
                        help='seconds of each of four rounds timing what the writes cost with no searches (0: none)')
    parser.add_argument('--write-warmup', type=float, default=30,
                        help='seconds of searches with writes before the pairs, not counted')
    parser.add_argument('--vocabulary-only', action='store_true',
                        help='time "did you mean" over the vocabulary of --sizes settings (no database)')
    parser.add_argument('--no-memory', action='store_true', help='skip the memory and replaced-worker runs')
    parser.add_argument('--output', default='', help='write the markdown table here as well as to stdout')
    parser.add_argument('--writer', default='', help=argparse.SUPPRESS)  # internal: the write-load process
    parser.add_argument('--port', type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument('--seconds', type=float, default=600, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer:
        write_load(args.writer, args.port, args.write_rate, args.seconds)
        return
    if args.vocabulary_only:
        table = '\n\n'.join(vocabulary_only(size) for size in args.sizes)
        print(table)
        if args.output:
            Path(args.output).write_text(table + '\n', encoding='utf-8')
        return
    if 'elasticsearch' in args.engines:
        print('Elasticsearch: no cluster can be installed here; only the SQL engine is measured.', file=sys.stderr)

    from registry.app import create_app

    with create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://'}).app_context():
        locations = real_locations()
    backends = [('sqlite', None)] if 'sqlite' in args.backends else []
    if args.postgres_url and 'postgresql' in args.backends:
        backends.append(('postgresql', args.postgres_url))
    results = []
    global SNAPSHOT_DIR
    with tempfile.TemporaryDirectory(prefix='registry-bench-') as tmp:
        SNAPSHOT_DIR = str(Path(tmp) / 'snapshots')
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
