"""Index sync benchmark: how fast the outbox drains under the index lock (against writing the same entries with no
lock and no outbox, the raw floor), and how long a commit waits when Elasticsearch accepts connections and never
answers.

Run: ``.venv/bin/python bench/index_sync.py --size 10000`` (add ``--postgres-url postgresql://postgres@127.0.0.1:5432/
<scratch db>`` to measure PostgreSQL too; that database's public schema is dropped and recreated). Everything else
happens in a temporary folder; the black hole is a socket on 127.0.0.1 that is never read.
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search import build_database, real_locations  # noqa: E402


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    from registry.config import normalise_database_url

    engine = create_engine(normalise_database_url(url), isolation_level='AUTOCOMMIT')
    with engine.connect() as connection:
        connection.execute(text('DROP SCHEMA public CASCADE'))
        connection.execute(text('CREATE SCHEMA public'))
    engine.dispose()


def measure_drain(database_url: str, size: int, rounds: int, locations) -> dict:
    """Median seconds to drain one request per setting, and to build and write the same entries directly."""
    import flask_migrate
    from sqlalchemy import insert

    from registry.app import create_app
    from registry.extensions import db
    from registry.indexing import ReindexRequest
    from registry.settings.models import Setting
    from search.entries import build_entries
    from search.sql_engine import SqlEngine
    from search.sync import drain, rebuild

    app = create_app({'SQLALCHEMY_DATABASE_URI': database_url, 'SEARCH_AFTER_COMMIT_SECONDS': 0})
    with app.app_context():
        flask_migrate.upgrade()
        build_database(app, size, locations, random.Random(2026))
        rebuild(target=SqlEngine())
        ids = list(db.session.scalars(db.select(Setting.id)))
        drained, floor = [], []
        for _round in range(rounds):
            db.session.execute(insert(ReindexRequest), [{'setting_id': setting_id, 'reason': 'bench'}
                                                         for setting_id in ids])
            db.session.commit()
            started = time.perf_counter()
            report = drain(limit=500)
            drained.append(time.perf_counter() - started)
            assert report.requests == len(ids) and report.failed == 0, report
            started = time.perf_counter()
            for start in range(0, len(ids), 500):
                SqlEngine().index(list(build_entries(ids[start:start + 500])))
                db.session.commit()
            floor.append(time.perf_counter() - started)
        db.session.remove()
        db.engine.dispose()
    return {'drain': statistics.median(drained), 'floor': statistics.median(floor), 'requests': len(ids)}


def measure_black_hole(database_url: str) -> dict:
    """Seconds a commit of two settings waits when the cluster accepts connections and never answers."""
    from registry.app import create_app
    from registry.db import unit_of_work
    from registry.extensions import db
    from registry.indexing import ReindexRequest, enqueue_settings
    from registry.settings.models import Setting
    from search.es_engine import ElasticsearchEngine

    hole = socket.socket()
    hole.bind(('127.0.0.1', 0))
    hole.listen(64)  # connections complete in the kernel; nothing ever reads them
    url = f'http://127.0.0.1:{hole.getsockname()[1]}'
    app = create_app({'SQLALCHEMY_DATABASE_URI': database_url})
    try:
        with app.app_context():
            app.extensions.setdefault('search', {})['engine'] = ElasticsearchEngine.from_url(url, 'bench-settings')
            settings = db.session.scalars(db.select(Setting).limit(2)).all()
            started = time.perf_counter()
            with unit_of_work():
                for setting in settings:
                    setting.vacancies = 0
                enqueue_settings([setting.id for setting in settings], 'bench')
            elapsed = time.perf_counter() - started
            reasons = {request.last_error for request in db.session.scalars(
                db.select(ReindexRequest).where(ReindexRequest.processed_at.is_(None)))}
            db.session.remove()
            db.engine.dispose()
    finally:
        hole.close()
    return {'seconds': elapsed, 'reasons': reasons, 'budget': app.config['SEARCH_AFTER_COMMIT_SECONDS']}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', type=int, default=10000)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--postgres-url', default='')
    args = parser.parse_args()
    from registry.app import create_app

    with create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://'}).app_context():
        locations = real_locations()
    rows = []
    with tempfile.TemporaryDirectory(prefix='registry-bench-sync-') as tmp:
        backends = [('SQLite', f'sqlite:///{Path(tmp) / "sync.sqlite"}')]
        if args.postgres_url:
            backends.append(('PostgreSQL', args.postgres_url))
        for name, url in backends:
            if url.startswith('postgres'):
                _reset_postgres(url)
            print(f'{name}: {args.size:,} settings…', file=sys.stderr, flush=True)
            drained = measure_drain(url, args.size, args.rounds, locations)
            hole = measure_black_hole(url)
            rows.append((name, drained, hole))
    print('| database | requests | drain (lock, outbox) | raw floor (build + write) | ratio | drain rate | '
          'commit against a black hole |')
    print('| --- | --- | --- | --- | --- | --- | --- |')
    for name, drained, hole in rows:
        print(f"| {name} | {drained['requests']:,} | {drained['drain']:.2f} s | {drained['floor']:.2f} s | "
              f"{drained['drain'] / drained['floor']:.2f} | {drained['requests'] / drained['drain']:,.0f}/s | "
              f"{hole['seconds']:.2f} s (budget {hole['budget']:g} s) |")
    for name, _drained, hole in rows:
        print(f'{name}: left pending with: {"; ".join(sorted(hole["reasons"]))}', file=sys.stderr)


if __name__ == '__main__':
    main()
