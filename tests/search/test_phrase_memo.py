"""Phrase searches are kept per index version and brought forward by asking again only about written entries."""

from __future__ import annotations

import pytest

from registry.extensions import db
from search.entries import build_entries
from search.query import parse_query


@pytest.fixture
def engine(sql_engine):
    return sql_engine


@pytest.fixture
def asked(engine, monkeypatch):
    """What the full-text index was asked each time: None for every entry, else the ids asked about."""
    calls = []
    real = engine._full_text_ids

    def spy(expression, sqlite, among=None):
        calls.append(None if among is None else sorted(among.tolist()))
        return real(expression, sqlite, among)

    monkeypatch.setattr(engine, '_full_text_ids', spy)
    return calls


def phrase(engine, words: str = '"family care"') -> set[str]:
    db.session.rollback()  # a new transaction, as each request has
    return {hit.entry.name for hit in engine.query(parse_query({'q': words, 'page_size': '50'})).hits}


def rewrite(engine, setting, description: str) -> None:
    setting.description = description
    db.session.commit()
    engine.index(build_entries([setting.id]))
    db.session.commit()


def test_a_phrase_found_again_after_writes_asks_only_about_the_written_entries(engine, directory, asked):
    assert phrase(engine) == {'Oak House'}
    assert asked == [None]
    assert phrase(engine) == {'Oak House'}
    assert asked == [None]  # the same version: kept

    rewrite(engine, directory.riverside, 'Residential family care near the river for boys.')
    assert phrase(engine) == {'Oak House', 'Riverside Home'}
    assert asked == [None, [directory.riverside.id]]

    rewrite(engine, directory.oak_house, 'A small home for girls with autism.')
    directory.willow_lodge.vacancies = 0
    db.session.commit()
    engine.index(build_entries([directory.willow_lodge.id]))
    db.session.commit()
    assert phrase(engine) == {'Riverside Home'}
    assert asked[-1] == sorted([directory.oak_house.id, directory.willow_lodge.id])


def test_a_removed_entry_leaves_the_kept_answer(engine, directory, asked):
    assert phrase(engine) == {'Oak House'}
    engine.remove([directory.oak_house.id])
    db.session.commit()
    assert phrase(engine) == set()
    assert asked == [None, [directory.oak_house.id]]


def test_after_a_clear_the_whole_phrase_is_asked_again(engine, directory, asked):
    assert phrase(engine) == {'Oak House'}
    engine.reindex(build_entries())   # clears the index and writes everything again
    db.session.commit()
    assert phrase(engine) == {'Oak House'}
    assert asked == [None, None]
