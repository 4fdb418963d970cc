"""On SQLite, triggers keep the FTS5 table in step with ``search_entries``; migration ``d4f2b8e6a1c9`` took the
unused R*Trees out of them (and can put them back) and added a view of the FTS5 vocabulary for the snapshot.

These run on a SQLite file of their own, so the PostgreSQL suite skips them.
"""

from __future__ import annotations

import os
import sqlite3

import flask_migrate
import pytest

from registry.app import create_app
from registry.extensions import db

pytestmark = pytest.mark.skipif(bool(os.environ.get('TEST_DATABASE_URL')),
                                reason='SQLite-only migration: runs in the SQLite suite')

ENTRY = ("INSERT INTO search_entries (id, name, organisation_name, body, provision_type, lot, judgement_rank, "
         "authority_code, region_code, age_min, age_max, sex, has_vacancy, easting, northing, public_easting, "
         "public_northing, updated_at, doc) VALUES (?, ?, 'Oak Care', 'therapeutic care', 'childrens_home', "
         "'childrens_homes', 3, 'E08000035', 'E12000003', 8, 17, 'any', 1, ?, ?, ?, ?, "
         "'2026-11-24 00:00:00.000000', '{}')")


def _tables(connection: sqlite3.Connection) -> set[str]:
    return {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _fts_ids(connection: sqlite3.Connection, word: str) -> list[int]:
    return [rowid for (rowid,) in connection.execute(
        'SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rowid', (word,))]


def test_the_rtrees_go_and_come_back_while_words_stay_indexed(app_config, tmp_path):
    path = tmp_path / 'migrations.sqlite'
    app = create_app({**app_config, 'SQLALCHEMY_DATABASE_URI': f'sqlite:///{path}'})
    with app.app_context():
        flask_migrate.upgrade(revision='c3a8e5f1d2b7')
    with sqlite3.connect(path) as connection:
        connection.execute(ENTRY, (1, 'Willow House', 430000.0, 433000.0, 429000.0, 434000.0))
        assert connection.execute('SELECT count(*) FROM search_rtree').fetchone() == (1,)

    with app.app_context():
        flask_migrate.upgrade(revision='d4f2b8e6a1c9')
    with sqlite3.connect(path) as connection:
        assert not _tables(connection) & {'search_rtree', 'search_public_rtree'}
        connection.execute(ENTRY, (2, 'Willow Lodge', 440000.0, 443000.0, 439000.0, 444000.0))
        assert _fts_ids(connection, 'willow') == [1, 2]
        assert connection.execute("SELECT doc, col FROM search_fts_instances WHERE term = 'therapeut' "
                                  'ORDER BY doc').fetchall() == [(1, 'body'), (2, 'body')]
        connection.execute("UPDATE search_entries SET name = 'Birch Lodge' WHERE id = 2")
        assert _fts_ids(connection, 'willow') == [1]
        assert _fts_ids(connection, 'birch') == [2]
        connection.execute('DELETE FROM search_entries WHERE id = 1')
        assert _fts_ids(connection, 'therapeutic') == [2]

    with app.app_context():
        flask_migrate.downgrade(revision='c3a8e5f1d2b7')
    with sqlite3.connect(path) as connection:
        assert connection.execute('SELECT id, min_easting, min_northing FROM search_rtree').fetchall() == [
            (2, 440000.0, 443000.0)]
        assert connection.execute('SELECT id, min_easting, min_northing FROM search_public_rtree').fetchall() == [
            (2, 439000.0, 444000.0)]
        connection.execute(ENTRY, (3, 'Ash House', 450000.0, 453000.0, 449000.0, 454000.0))
        assert connection.execute('SELECT count(*) FROM search_public_rtree').fetchone() == (2,)
        assert _fts_ids(connection, 'ash') == [3]
        assert 'search_fts_instances' not in _tables(connection)
    with app.app_context():
        db.engine.dispose()
