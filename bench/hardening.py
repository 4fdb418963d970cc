"""Hardening benchmark: what checking a zip bomb costs, and what the atomic sign-in counters cost.

Run: ``.venv/bin/python bench/hardening.py`` (add ``--postgres-url postgresql://postgres@127.0.0.1:5432/<scratch db>``
to measure the counters on PostgreSQL too; that database's public schema is dropped and recreated).

1. Uploads: each measurement runs in a fresh Python process and reports how much its peak resident memory grew and
   how long it took: the floor (reading the upload and hashing it, which every upload costs), the old check
   (``zipfile.read('mimetype')``, what the service did before) and the check now (``qualification.evidence.sniff``),
   on the adversarial run's zip bomb (a ``mimetype`` member inflating to 256 MiB from about 255 KiB) and on an
   ordinary 5 MiB DOCX.
2. Counters: the statements a sign-in now adds (the per-address slot, its release, the atomic failure count on the
   account), timed against two floors on the same database: one ``SELECT 1`` round trip, and one row updated and
   committed (a durable write, which is what a counter that survives the request costs).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MEASURE = '''
import hashlib, resource, sys, time, zipfile, io
sys.path.insert(0, {root!r})
content = open({path!r}, 'rb').read()
if {mode!r} == 'now':
    from qualification.evidence import sniff
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
if {mode!r} == 'floor':
    hashlib.sha256(content).hexdigest()
elif {mode!r} == 'old':
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            if 'mimetype' in names:
                archive.read('mimetype')
    except Exception:
        pass
else:
    sniff(content)
elapsed = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(after - before, elapsed)
'''


def zip_bomb(inflated_mib: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open('mimetype', 'w') as out:
            block = b'\0' * (1024 * 1024)
            for _ in range(inflated_mib):
                out.write(block)
    return buffer.getvalue()


def docx(size_mib: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', compression=zipfile.ZIP_STORED) as archive:
        archive.writestr('[Content_Types].xml', b'<Types/>')
        archive.writestr('word/document.xml', os.urandom(size_mib * 1024 * 1024))
    return buffer.getvalue()


def measure(path: Path, mode: str, runs: int = 3) -> tuple[float, float]:
    """Median (peak RSS growth in MiB, seconds) over ``runs`` fresh processes."""
    growth, seconds = [], []
    for _ in range(runs):
        output = subprocess.run([sys.executable, '-c', MEASURE.format(root=str(ROOT), path=str(path), mode=mode)],
                                capture_output=True, text=True, check=True).stdout.split()
        growth.append(int(output[0]) / 1024)
        seconds.append(float(output[1]))
    return statistics.median(growth), statistics.median(seconds)


def uploads_section() -> list[str]:
    lines = ['| upload | size | check | peak memory growth | time |', '| --- | ---: | --- | ---: | ---: |']
    with tempfile.TemporaryDirectory() as folder:
        cases = [('zip bomb (`mimetype` inflates to 256 MiB)', zip_bomb(256)), ('ordinary DOCX', docx(5))]
        for label, content in cases:
            path = Path(folder) / 'upload.bin'
            path.write_bytes(content)
            for mode, name in (('floor', 'floor: read + sha256'), ('old', 'before: `zipfile.read`'),
                               ('now', 'now: central directory, bounded read')):
                mib, seconds = measure(path, mode)
                lines.append(f'| {label} | {len(content) / 1024:,.0f} KiB | {name} | {mib:,.1f} MiB | '
                             f'{seconds * 1000:,.1f} ms |')
    return lines


def counters_section(url: str, label: str, rounds: int = 300) -> list[str]:
    from sqlalchemy import text

    from registry import throttle
    from registry.accounts import services as accounts
    from registry.accounts.models import User
    from registry.app import create_app
    from registry.db import utcnow
    from registry.extensions import db

    app = create_app({'SQLALCHEMY_DATABASE_URI': url, 'SECRET_KEY': 'bench', 'SERVER_NAME': 'localhost',
                      'TESTING': True})
    with app.app_context():
        import flask_migrate

        flask_migrate.upgrade()
        user = User(email='bench@example.org', full_name='Bench', password_hash='!x')
        db.session.add(user)
        db.session.commit()

        def timed(call) -> float:
            samples = []
            for n in range(rounds):
                started = time.perf_counter()
                call(n)
                samples.append(time.perf_counter() - started)
            return statistics.median(samples) * 1e6

        def floor(_n):
            with db.engine.connect() as connection:
                connection.execute(text('SELECT 1')).scalar()

        def durable_floor(n):
            with db.engine.begin() as connection:
                connection.execute(text('UPDATE users SET full_name = :name WHERE id = :id'),
                                   {'name': f'Bench {n}', 'id': user.id})

        def address_slot(n):
            # what a sign-in adds: the slot, committed at once; its release, inside the sign-in's own transaction
            verdict = throttle.admit(f'bench:{n}', free=30, window=accounts.ADDRESS_WINDOW, max_delay=60)
            assert verdict.allowed
            throttle.forgive(f'bench:{n}', session=db.session)
            db.session.rollback()

        def account_failure(_n):
            with app.test_request_context():
                target = db.session.get(User, user.id)
                target.locked_until = None
                accounts._count_password_failure(target, utcnow())
                db.session.rollback()

        results = [('floor: `SELECT 1` on its own connection', timed(floor)),
                   ('floor: one row updated and committed (a durable write)', timed(durable_floor)),
                   ('per-address slot (committed at once) + release (in the sign-in transaction)',
                    timed(address_slot)),
                   ('atomic account failure count (`UPDATE ... RETURNING`)', timed(account_failure))]
        db.session.remove()
        db.engine.dispose()
    base, durable = results[0][1], results[1][1]
    lines = [f'| {label}: statement | median | × `SELECT 1` | × durable write |', '| --- | ---: | ---: | ---: |']
    lines += [f'| {name} | {micros:,.0f} µs | {micros / base:.1f} | {micros / durable:.1f} |'
              for name, micros in results]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--postgres-url', default='', help='scratch PostgreSQL database (its schema is dropped)')
    args = parser.parse_args()
    print(f'Machine: {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python '
          f'{platform.python_version()}, {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}\n')
    print('\n'.join(uploads_section()))
    with tempfile.TemporaryDirectory() as folder:
        print()
        print('\n'.join(counters_section(f'sqlite:///{folder}/bench.sqlite', 'SQLite')))
    if args.postgres_url:
        from sqlalchemy import create_engine, text

        from registry.config import normalise_database_url

        engine = create_engine(normalise_database_url(args.postgres_url), isolation_level='AUTOCOMMIT')
        with engine.connect() as connection:
            connection.execute(text('DROP SCHEMA public CASCADE'))
            connection.execute(text('CREATE SCHEMA public'))
        engine.dispose()
        print()
        print('\n'.join(counters_section(args.postgres_url, 'PostgreSQL')))


if __name__ == '__main__':
    main()
