"""PostgreSQL: matching words against the snapshot's copy of the tsvectors finds exactly what the GIN index finds."""

from __future__ import annotations

import pytest

from registry.extensions import db
from search.entries import build_entries
from search.query import parse_query, split_words
from search.sql_engine import SqlEngine, tsquery_expression

QUERIES = ['fostering', 'fostering ', 'fost', 'care', 'leeds fostering ', 'the', 'the care', 'short breaks',
           'therap', 'child', 'autism care', 'nothingmatches', 'families', 'westminster capital', '2', 'and ']


@pytest.fixture
def engine(app_ctx, directory):
    if db.engine.dialect.name != 'postgresql':
        pytest.skip('the lexeme copy exists on PostgreSQL only (SQLite matches in FTS5 directly)')
    engine = SqlEngine()
    engine.reindex(build_entries())
    return engine


@pytest.mark.parametrize('text', QUERIES)
def test_searcher_finds_the_same_settings_as_the_gin_index(engine, text):
    snapshot = engine.snapshot()
    words = split_words(text)
    from_index = set(snapshot.ids[snapshot.rows_of(engine._tsquery_ids(tsquery_expression(words)))].tolist())
    from_snapshot = set(snapshot.ids[engine._lexeme_rows(snapshot, words)].tolist())
    assert from_snapshot == from_index


def test_searcher_with_only_stop_words_finds_nothing(engine):
    assert engine.query(parse_query({'q': 'the and '})).total == 0


def test_searcher_finds_settings_by_a_quoted_phrase_through_the_index(engine):
    names = {hit.entry.name for hit in engine.query(parse_query({'q': '"family care"'})).hits}
    assert names == {'Oak House'}
