"""Relevance within the names (BM25 over the name and organisation name) and the stems it relies on."""

from __future__ import annotations

import numpy as np

from registry.settings.taxonomy import Judgement, Lot, ProvisionType
from search.entries import build_entries
from search.names import NameIndex, _stem_alone, _stemmer, stems
from search.query import parse_query, split_words
from search.sql_engine import SqlEngine
from tests.search.conftest import make_organisation, make_setting, qualify


def test_words_are_stemmed_as_the_sqlite_index_stems_them():
    assert stems(['fostering', 'families', 'therapeutic', 'café', '2024']) == {
        'fostering': 'foster', 'families': 'famili', 'therapeutic': 'therapeut', 'café': 'cafe', '2024': '2024'}


def test_many_words_are_stemmed_at_once_exactly_as_one_at_a_time():
    words = [f'word{n}ing' for n in range(12_000)] + ['running', 'houses']
    together = stems(words)
    assert together['running'] == 'run' and together['houses'] == 'hous'
    assert all(together[word] == stems([word])[word] for word in ('word11999ing', 'word0ing'))


def scores(index: NameIndex, text: str, size: int) -> list[float]:
    return index.scores(split_words(text), np.ones(size, dtype=bool)).tolist()


def test_shorter_name_with_the_word_scores_higher_than_a_longer_one():
    index = NameIndex.build(['Oak Fostering', 'Oak Lodge Fostering Service North', 'Oak House'],
                            ['Acme Ltd', 'Acme Ltd', 'Acme Ltd'])
    short, long, none = scores(index, 'fostering ', 3)
    assert short > long > none == 1.0


def test_rarer_word_in_the_name_counts_for_more():
    names = ['Willow House', 'Willow Lodge', 'Willow View', 'Beech House']
    index = NameIndex.build(names, ['Acme Ltd'] * 4)
    willow, _, _, beech = scores(index, 'willow beech', 4)
    assert beech > willow > 1.0


def test_name_counts_for_more_than_the_organisation_name():
    index = NameIndex.build(['Brightwater House', 'Oak House'], ['Acme Ltd', 'Brightwater Care Ltd'])
    in_name, in_organisation = scores(index, 'brightwater ', 2)
    assert in_name > in_organisation > 1.0


def test_last_word_matches_as_a_prefix_only_while_unfinished():
    index = NameIndex.build(['Willowbrook', 'Oak House'], ['Acme Ltd', 'Acme Ltd'])
    assert scores(index, 'willow', 2)[0] > 1.0
    assert scores(index, 'willow ', 2)[0] == 1.0


def test_unmatched_rows_score_nothing():
    index = NameIndex.build(['Fostering North', 'Fostering South'], ['Acme Ltd', 'Acme Ltd'])
    matched = np.array([True, False])
    assert index.scores(split_words('fostering '), matched).tolist()[1] == 0.0


def test_searcher_sees_the_closest_name_match_first(app_ctx):
    organisation = make_organisation('Acme Ltd')
    qualify(organisation, Lot.FOSTERING)
    for name in ('Moorside Fostering Families North', 'Moorside Fostering', 'Moorside Families Service'):
        make_setting(organisation, name, ProvisionType.INDEPENDENT_FOSTERING_AGENCY, 'LS1 4DY',
                     description='fostering for teenagers')
    engine = SqlEngine()
    engine.reindex(build_entries())
    ranked = [hit.entry.name for hit in engine.query(parse_query({'q': 'fostering '})).hits]
    assert ranked == ['Moorside Fostering', 'Moorside Fostering Families North', 'Moorside Families Service']


def test_judgement_sort_with_words_keeps_relevance_within_each_judgement(app_ctx):
    organisation = make_organisation('Acme Ltd')
    qualify(organisation, Lot.FOSTERING)
    for name, judgement in (('Fostering Good', Judgement.GOOD), ('Birch View', Judgement.OUTSTANDING),
                            ('Fostering Outstanding Team', Judgement.OUTSTANDING), ('Ash View', Judgement.GOOD)):
        make_setting(organisation, name, ProvisionType.INDEPENDENT_FOSTERING_AGENCY, 'LS1 4DY',
                     judgement=judgement, description='fostering')
    engine = SqlEngine()
    engine.reindex(build_entries())
    ranked = [hit.entry.name for hit in engine.query(parse_query({'q': 'fostering ', 'sort': 'judgement'})).hits]
    assert ranked == ['Fostering Outstanding Team', 'Birch View', 'Fostering Good', 'Ash View']


def test_a_word_stemmed_on_its_own_falls_back_to_itself_when_the_tokenizer_drops_it():
    # The path taken when a batch of words does not line up with the tokenizer's output.
    assert _stem_alone(_stemmer(), 'caring') == 'care'
    assert _stem_alone(_stemmer(), '···') == '···'
