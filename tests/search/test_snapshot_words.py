"""Words matched against the snapshot's copy of each entry's indexed words find exactly what the database's own
full-text index finds: FTS5 on SQLite, the GIN index over the tsvectors on PostgreSQL."""

from __future__ import annotations

import pytest

from registry.extensions import db
from search.entries import build_entries
from search.query import Words, parse_query, split_words
from search.sql_engine import (
    SqlEngine,
    _fts_query_tokens,
    _lexemes,
    fts5_expression,
    tsquery_expression,
)

#: Stop words never reach the engines (the parser drops them: see tests/search/test_query.py), so 'the care' is 'care'.
QUERIES = ['fostering', 'fostering ', 'fost', 'care', 'leeds fostering ', 'the care', 'short breaks',
           'therap', 'child', 'children', 'childr', 'autism care', 'nothingmatches', 'families', 'famil',
           'westminster capital', '2', 'Café', 'cafe ', 'residential ', 'residen', 'homes', 'home']


@pytest.fixture
def engine(sql_engine):
    return sql_engine


def sqlite() -> bool:
    return db.engine.dialect.name == 'sqlite'


def from_index(engine: SqlEngine, words: Words) -> set[int]:
    if sqlite():
        return set(engine._full_text_ids(fts5_expression(words), sqlite=True).tolist())
    return set(engine._full_text_ids(tsquery_expression(words), sqlite=False).tolist())


def from_snapshot(engine: SqlEngine, words: Words) -> set[int]:
    snapshot = engine.snapshot()
    tokens = _fts_query_tokens(words.terms) if sqlite() else _lexemes(db.session, words.terms)
    assert tokens is not None
    return set(snapshot.ids[engine._snapshot_rows(snapshot, words, tokens)].tolist())


@pytest.mark.parametrize('text', QUERIES)
def test_snapshot_finds_the_same_settings_as_the_full_text_index(engine, text):
    words = split_words(text)
    assert from_snapshot(engine, words) == from_index(engine, words)


def test_a_common_word_finds_settings_through_the_snapshot(engine):
    words = split_words('care ')
    assert len(from_snapshot(engine, words)) > 1


def test_a_setting_renamed_after_the_snapshot_was_read_is_found_by_its_new_name(engine, directory):
    assert engine.query(parse_query({'q': 'kingfisher '})).total == 0
    directory.oak_house.name = 'Kingfisher House'
    db.session.commit()
    engine.index(build_entries([directory.oak_house.id]))
    db.session.commit()
    words = split_words('kingfisher ')
    assert from_snapshot(engine, words) == from_index(engine, words) == {directory.oak_house.id}
    assert [hit.entry.name for hit in engine.query(parse_query({'q': 'kingfisher '})).hits] == ['Kingfisher House']


def test_searcher_finds_settings_by_a_quoted_phrase_through_the_index(engine):
    names = {hit.entry.name for hit in engine.query(parse_query({'q': '"family care"'})).hits}
    assert names == {'Oak House'}


def test_searcher_with_only_stop_words_finds_nothing(engine):
    assert engine.query(parse_query({'q': 'the and '})).total == 0
