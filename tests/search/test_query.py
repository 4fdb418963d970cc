"""Parsing search parameters: good input becomes a Query, bad input a clear message per parameter."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from search.query import Query, QueryError, parse_query, split_words


def errors_for(args) -> dict[str, str]:
    with pytest.raises(QueryError) as error:
        parse_query(args)
    return error.value.errors


def test_searcher_can_give_every_parameter():
    query = parse_query(MultiDict([
        ('q', 'foster care'), ('provision_type', 'childrens-home'), ('provision_type', 'independent-fostering-agency'),
        ('lot', 'fostering'), ('min_judgement', 'good'), ('authority', 'e08000035'), ('region', 'E12000003'),
        ('need', 'autism'), ('need', 'mental-health'), ('age', '9'), ('sex', 'female'), ('has_vacancy', 'yes'),
        ('accepted_by', 'E09000033'), ('postcode', 'ls1 4dy'), ('radius', '25'), ('sort', 'distance'),
        ('facets', 'lot,needs'), ('page', '2'), ('page_size', '50'),
    ]))
    assert query == Query(
        words='foster care', provision_types=('childrens-home', 'independent-fostering-agency'), lots=('fostering',),
        min_judgement='good', authority_codes=('E08000035',), region_codes=('E12000003',),
        needs=('autism', 'mental-health'), age=9, sex='female', has_vacancy=True, accepted_by='E09000033',
        origin=(429960.0, 433298.0), origin_label='LS1 4DY', radius_miles=25.0, sort='distance',
        facets=('lot', 'needs'), page=2, page_size=50)


def test_distance_is_the_default_sort_whenever_a_place_is_given():
    assert parse_query({'postcode': 'SW1A 2AA'}).sort == 'distance'
    assert parse_query({'postcode': 'SW1A 2AA', 'q': 'home'}).sort == 'distance'   # nearest first (issue 18)
    assert parse_query({'postcode': 'SW1A 2AA', 'q': 'home', 'sort': 'relevance'}).sort == 'relevance'
    assert parse_query({'q': 'home'}).sort == parse_query({}).sort == 'relevance'


def test_searcher_can_measure_from_an_authority_or_a_grid_reference():
    leeds = parse_query({'near_authority': 'E08000035', 'radius': '5'})
    assert 420_000 < leeds.origin[0] < 440_000 and 425_000 < leeds.origin[1] < 445_000
    assert parse_query({'easting': '530047', 'northing': '179951'}).origin == (530047.0, 179951.0)


@pytest.mark.parametrize(('args', 'field', 'message'), [
    ({'postcode': 'ZZ99 9ZZ'}, 'postcode', 'We could not find ZZ99 9ZZ'),
    ({'postcode': 'not a postcode'}, 'postcode', 'Enter a real postcode'),
    ({'postcode': 'LS1 4DY', 'radius': '0'}, 'radius', 'between 1 and 300 miles'),
    ({'postcode': 'LS1 4DY', 'radius': '301'}, 'radius', 'between 1 and 300 miles'),
    ({'postcode': 'LS1 4DY', 'radius': 'ten'}, 'radius', 'number of miles'),
    ({'postcode': 'LS1 4DY', 'radius': 'nan'}, 'radius', 'number of miles'),
    ({'radius': '10'}, 'radius', 'Enter a postcode'),
    ({'sort': 'distance'}, 'sort', 'Enter a postcode to sort by distance'),
    ({'sort': 'price'}, 'sort', 'Sort must be one of'),
    ({'provision_type': 'castle'}, 'provision_type', 'Unknown provision type: castle'),
    ({'lot': 'x'}, 'lot', 'Unknown lot'),
    ({'need': 'flying'}, 'need', 'Unknown need'),
    ({'min_judgement': 'great'}, 'min_judgement', 'Choose a judgement'),
    ({'authority': 'Leeds'}, 'authority', 'E09000033'),
    ({'region': '1'}, 'region', 'E12000003'),
    ({'accepted_by': 'x'}, 'accepted_by', 'E09000033'),
    ({'age': '26'}, 'age', 'from 0 to 25'),
    ({'age': '-1'}, 'age', 'from 0 to 25'),
    ({'age': 'three'}, 'age', 'from 0 to 25'),
    ({'sex': 'other'}, 'sex', 'female or male'),
    ({'has_vacancy': 'maybe'}, 'has_vacancy', 'yes or no'),
    ({'page': '0'}, 'page', '1 or more'),
    ({'page': 'last'}, 'page', '1 or more'),
    ({'page': '1' * 40}, 'page', 'at most 30 digits'),
    ({'page_size': '1000'}, 'page_size', 'from 1 to 100'),
    ({'facets': 'colour'}, 'facets', 'Unknown facet'),
    ({'near_authority': 'E99999999'}, 'near_authority', 'local authority in England'),
    ({'easting': '1', 'northing': 'x'}, 'origin', 'easting and northing'),
    ({'q': 'x' * 201}, 'q', '200 characters'),
])
def test_searcher_gets_a_clear_message_for_bad_parameters(args, field, message):
    errors = errors_for(args)
    assert message in errors[field]


def test_a_huge_page_is_a_whole_number_left_for_the_engine_to_find_past_the_end():
    assert parse_query({'page': '1000000000000'}).page == 1_000_000_000_000
    assert parse_query({'page': '007'}).page == 7
    with pytest.raises(QueryError, match='1 or more'):
        parse_query({'page': '²'})  # a digit to str.isdigit, not to int()


def test_every_bad_parameter_is_reported_at_once():
    assert set(errors_for({'age': '99', 'sex': 'x', 'page': '0'})) == {'age', 'sex', 'page'}


def test_words_split_into_terms_phrases_and_a_prefix():
    words = split_words('Leeds "family  care" fost')
    assert words.terms == ('leeds', 'fost')
    assert words.phrases == (('family', 'care'),)
    assert words.prefix == 'fost'
    assert split_words('fostering ').prefix is None
    assert split_words('NEAR( "*" \'; DROP').terms == ('near', 'drop')


def test_a_trailing_space_finishes_the_last_word_even_through_the_parser():
    assert parse_query({'q': 'oak hou'}).parsed_words.prefix == 'hou'
    assert parse_query({'q': '  oak house '}).parsed_words.prefix is None
    assert parse_query({'q': '  oak house '}).parsed_words.terms == ('oak', 'house')


def test_common_words_are_dropped_from_terms_but_kept_in_phrases():
    words = split_words('homes for the "care of girls" with autism')
    assert words.terms == ('homes', 'autism')
    assert words.phrases == (('care', 'of', 'girls'),)
    assert words.ignored == ('for', 'the', 'with')
    assert not words.empty and not words.only_stop_words


def test_only_common_words_match_nothing_and_no_words_match_everything():
    assert split_words('the and ').only_stop_words and not split_words('the and ').empty
    assert split_words('').empty and not split_words('').only_stop_words


@pytest.mark.parametrize(('text', 'prefix'), [
    ('car', 'car'), ('ca', None), ('homes for', None), ('homes the', None), ('oak "family care"', None),
    ('oak "family care" thera', 'thera'),
])
def test_the_last_word_is_a_prefix_only_if_unfinished_not_common_and_three_letters_or_more(text, prefix):
    assert split_words(text).prefix == prefix
