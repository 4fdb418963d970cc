"""Places people type, and the synonym list that reads their words."""

from __future__ import annotations

import pytest

from search.places import PlaceError, find_place, place_names
from search.query import QueryError, parse_query
from search.synonyms import expand, synonyms


@pytest.mark.parametrize(('typed', 'label'), [
    ('LS1 4DY', 'LS1 4DY'), ('ls14dy', 'LS1 4DY'), ('LS1', 'LS1'), (' ls6 ', 'LS6'), ('Leeds', 'Leeds'),
    ('bradford', 'Bradford'), ('Bristol', 'Bristol'), ('Bristol, City of', 'Bristol'), ('York', 'York'),
    ('Kingston upon Hull', 'Kingston upon Hull'),
])
def test_a_place_is_a_postcode_outcode_town_or_authority(typed, label):
    place = find_place(typed)
    assert place.label == label
    assert 80_000 < place.easting < 660_000 and 5_000 < place.northing < 660_000   # in England


@pytest.mark.parametrize('typed', ['Atlantis', 'ZZ9', 'not a postcode'])
def test_an_unknown_place_is_refused_with_what_to_type(typed):
    with pytest.raises(PlaceError, match='Enter a real postcode|could not find'):
        find_place(typed)
    with pytest.raises(QueryError) as error:
        parse_query({'postcode': typed})
    assert 'postcode' in error.value.errors


def test_every_authority_is_a_place():
    assert len(place_names()) >= 153


def test_the_synonym_list_loads_and_only_rewrites_what_matched():
    assert synonyms()[('asd',)].value == 'autism'
    assert expand('Oak House').words == 'Oak House'          # untouched
    assert expand('children\'s homes').changed is False
    girls = expand('girls', sex='male')                        # a chosen filter wins: the word stays a word
    assert girls.words == 'girls' and girls.sex is None
    assert expand('ASD near LS1 4DY').postcode == 'LS1 4DY'
    assert expand('ASD near LS1 4DY', has_place=True).postcode is None
