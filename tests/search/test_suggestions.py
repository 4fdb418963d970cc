""""Did you mean" from the vocabulary table: kept exact by every write, bounded work per request, no stop words."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from registry.app import create_app
from registry.extensions import db
from registry.settings.taxonomy import Lot, ProvisionType
from search import suggest
from search.entries import build_entries
from search.models import SearchVocabulary
from search.query import parse_query
from search.sql_engine import SqlEngine, vocabulary
from search.suggest import STOP_WORDS, Suggester, words_of
from tests.search.conftest import make_organisation, make_setting, qualify


def table() -> dict[str, int]:
    return dict(db.session.execute(select(SearchVocabulary.term, SearchVocabulary.entries)).all())


def counted_afresh() -> dict[str, int]:
    """What the vocabulary should hold: each word of every indexed entry, counted once per entry."""
    return dict(Counter(word for entry in build_entries(SqlEngine().ids()) for word in vocabulary(entry)))


def suggestions(text: str) -> dict[str, str]:
    db.session.rollback()
    return SqlEngine().query(parse_query({'q': text})).suggestions


@pytest.fixture
def engine(sql_engine):
    return sql_engine


def test_vocabulary_counts_each_word_once_per_entry_and_never_a_stop_word(engine):
    words = table()
    assert words == counted_afresh()
    assert words['fostering'] == 3  # Leeds Fostering Service, Capital Fostering Westminster, and Oak House's text
    assert not STOP_WORDS & words.keys()
    assert 'with' not in words and 'the' not in words


def test_vocabulary_follows_updates_and_removals_exactly(engine, directory):
    directory.oak_house.description = 'A small home for girls with autism, near the Pennine moors.'
    db.session.commit()
    engine.index(build_entries([directory.oak_house.id]))
    engine.remove([directory.riverside.id])
    db.session.commit()
    words = table()
    assert words == counted_afresh()
    assert words['moors'] == 1
    assert 'river' not in words  # only Riverside Home's description had it


def test_a_typo_is_answered_with_the_nearest_commonest_word(engine):
    assert suggestions('fosterign') == {'fosterign': 'fostering'}
    assert suggestions('therapuetic') == {'therapuetic': 'therapeutic'}
    assert suggestions('fostering') == {}  # a known word found something: no suggestion


def test_a_stop_word_is_never_suggested(engine):
    # "tha" and "wiht" are one and two edits from "the" and "with", which the descriptions use, but both are stop words.
    assert suggestions('tha') == {}
    assert suggestions('wiht') == {}
    assert Suggester.build([('the', 50), ('with', 40), ('thin', 1)]).suggest('thn') == 'thin'


def test_suggestions_follow_a_write_from_another_process(app_config, engine):
    assert suggestions('hawthron') == {}
    other = create_app(app_config)
    with other.app_context():
        organisation = make_organisation('Hawthorn Families Ltd')
        qualify(organisation, Lot.FOSTERING)
        setting = make_setting(organisation, 'Hawthorn Fostering', ProvisionType.INDEPENDENT_FOSTERING_AGENCY,
                               'LS1 4DY', vacancies=1)
        db.session.commit()
        SqlEngine().index(build_entries([setting.id]))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert suggestions('hawthron') == {'hawthron': 'hawthorn'}


def test_the_work_for_one_word_is_bounded_however_large_the_vocabulary(monkeypatch):
    # 200,000 words of the same length, all within the letter-count bound of the typo: only the commonest
    # MAX_CHECKED get an exact edit distance.
    words = [('fosterin' + chr(97 + n % 26) + chr(97 + n // 26 % 26) + chr(97 + n // 676 % 26)
              + chr(97 + n // 17576 % 26), n + 1) for n in range(200_000)]
    suggester = Suggester.build(words)
    checked = []
    real = suggest.edit_distance
    monkeypatch.setattr(suggest, 'edit_distance', lambda *args: checked.append(args) or real(*args))
    # None of these is in the vocabulary (its fourth added letter only runs from a to l), all are near many words.
    found = suggester.suggestions(['fosterinabcz', 'fosterinbcdy', 'fosterincdex', 'fosterindefw', 'fosterinefgv'])
    assert 0 < len(checked) <= suggest.MAX_WORDS * suggest.MAX_CHECKED
    assert len(found) == suggest.MAX_WORDS and found['fosterinabcz'].startswith('fosterin')


def test_words_worth_suggesting_are_letters_only_and_not_too_short():
    assert words_of(['Oak House 12', 'for children with autism & ADHD', 'x' * 41]) == {
        'oak', 'house', 'children', 'autism', 'adhd'}
