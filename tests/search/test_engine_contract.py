"""One contract for every search engine: the same known data, the same answers (SQL always; Elasticsearch if given).

Run it against a real cluster with ``TEST_ELASTICSEARCH_URL=http://127.0.0.1:9200 .venv/bin/pytest
tests/search/test_engine_contract.py`` (credentials from the usual ``REGISTRY_ELASTICSEARCH_*`` variables); each
test makes its own alias and deletes its indices after.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from registry.settings.taxonomy import Lot, ProvisionType
from search.query import DeepPageError, PageOutOfRangeError, Query, authority_centroids, parse_query
from search.sync import rebuild
from tests.search.conftest import (
    BRADFORD,
    LEEDS,
    LONDON,
    NORTH_EAST,
    NORTH_WEST,
    WESTMINSTER,
    YORKSHIRE,
    make_organisation,
    make_setting,
    qualify,
)

NORTHUMBERLAND = 'E06000057'
MILE = 1609.344


@pytest.fixture
def loaded(engine, directory):
    """The engine holding the known directory, built as ``flask search reindex`` builds it."""
    rebuild(target=engine)
    return engine


def names(results) -> list[str]:
    return [hit.entry.name for hit in results.hits]


def found(engine, **args) -> set[str]:
    return set(names(engine.query(parse_query({'page_size': '100', **args}))))


def exact(args: dict) -> Query:
    """A commissioner's query: exact locations (the views set this; URL arguments never can)."""
    return replace(parse_query(args), exact_locations=True)


def test_searcher_can_find_only_listed_settings(loaded, directory):
    results = loaded.query(Query(page_size=100))
    assert {hit.entry.id for hit in results.hits} == directory.listed_ids
    assert results.total == 5
    assert loaded.count() == 5
    assert loaded.ids() == directory.listed_ids


def test_searcher_cannot_find_suspended_or_unqualified_settings_by_name(loaded):
    assert found(loaded, q='Suspended') == set()
    assert found(loaded, q='Pennine') == set()


def test_searcher_can_find_settings_by_stemmed_word(loaded):
    expected = {'Leeds Fostering Service', 'Oak House', 'Capital Fostering Westminster'}
    assert found(loaded, q='fostering ') == expected
    assert found(loaded, q='fosters ') == expected


def test_searcher_can_find_a_quoted_phrase_only_in_order(loaded):
    assert found(loaded, q='"family care"') == {'Oak House'}
    assert found(loaded, q='"care family"') == set()


def test_name_match_outranks_description_only_match(loaded):
    ranked = names(loaded.query(parse_query({'q': 'fostering '})))
    assert ranked[-1] == 'Oak House'
    assert set(ranked[:2]) == {'Leeds Fostering Service', 'Capital Fostering Westminster'}


def test_searcher_can_find_by_prefix_of_the_last_word(loaded):
    assert found(loaded, q='Willo') == {'Willow Lodge'}
    assert found(loaded, q='therap') == {'Willow Lodge'}
    assert found(loaded, q='oak hou') == {'Oak House'}


def test_searcher_gets_a_suggestion_for_a_typo(loaded):
    results = loaded.query(parse_query({'q': 'fostring '}))
    assert results.total == 0
    assert results.suggestions == {'fostring': 'fostering'}


def test_matched_words_are_highlighted_and_escaped(loaded):
    results = loaded.query(parse_query({'q': 'leeds fostering '}))
    hit = results.hits[0]
    assert hit.entry.name == 'Leeds Fostering Service'
    assert '<mark>Leeds</mark>' in hit.highlights['name']
    assert '<mark>Fostering</mark>' in hit.highlights['name']
    careful = loaded.query(parse_query({'q': 'short breaks'})).hits[0]
    assert '&amp;' in careful.highlights['description']
    assert '<mark>breaks</mark>' in careful.highlights['description']


@pytest.mark.parametrize(('args', 'expected'), [
    ({'provision_type': 'childrens-home'}, {'Oak House', 'Willow Lodge', 'Riverside Home'}),
    ({'lot': 'fostering'}, {'Leeds Fostering Service', 'Capital Fostering Westminster'}),
    ({'min_judgement': 'good'}, {'Leeds Fostering Service', 'Oak House', 'Capital Fostering Westminster'}),
    ({'min_judgement': 'outstanding'}, {'Leeds Fostering Service'}),
    ({'authority': LEEDS}, {'Leeds Fostering Service'}),
    ({'authority': f'{LEEDS},{BRADFORD}'}, {'Leeds Fostering Service', 'Oak House'}),
    ({'region': YORKSHIRE}, {'Leeds Fostering Service', 'Oak House'}),
    ({'need': 'emotional-behavioural'}, {'Oak House', 'Willow Lodge', 'Riverside Home'}),
    ({'need': ['emotional-behavioural', 'mental-health']}, {'Willow Lodge'}),
    ({'age': '5'}, {'Leeds Fostering Service', 'Capital Fostering Westminster'}),
    ({'age': '18'}, {'Leeds Fostering Service', 'Capital Fostering Westminster'}),
    ({'sex': 'male'}, {'Leeds Fostering Service', 'Willow Lodge', 'Riverside Home', 'Capital Fostering Westminster'}),
    ({'sex': 'female'}, {'Leeds Fostering Service', 'Oak House', 'Willow Lodge', 'Capital Fostering Westminster'}),
    ({'has_vacancy': 'yes'}, {'Leeds Fostering Service', 'Oak House', 'Riverside Home',
                              'Capital Fostering Westminster'}),
    ({'has_vacancy': 'no'}, {'Willow Lodge'}),
    ({'accepted_by': WESTMINSTER}, {'Capital Fostering Westminster'}),
    ({'q': 'care', 'provision_type': 'childrens-home', 'has_vacancy': 'yes'}, {'Oak House', 'Riverside Home'}),
])
def test_commissioner_can_filter_the_directory(loaded, args, expected):
    assert found(loaded, **args) == expected


def test_commissioner_can_search_within_a_radius_of_a_postcode(loaded):
    near = loaded.query(exact({'postcode': 'LS1 4DY', 'radius': '10'}))
    assert set(names(near)) == {'Leeds Fostering Service', 'Oak House'}
    assert 'Willow Lodge' not in names(near)
    wider = loaded.query(exact({'postcode': 'ls14dy', 'radius': '40'}))
    assert set(names(wider)) == {'Leeds Fostering Service', 'Oak House', 'Willow Lodge'}
    assert all(hit.distance_m <= 40 * 1609.344 for hit in wider.hits)


def test_commissioner_can_sort_by_distance_ascending(loaded):
    results = loaded.query(exact({'postcode': 'LS1 4DY', 'sort': 'distance'}))
    assert names(results) == ['Leeds Fostering Service', 'Oak House', 'Willow Lodge', 'Riverside Home',
                              'Capital Fostering Westminster']
    distances = [hit.distance_m for hit in results.hits]
    assert distances == sorted(distances)
    assert distances[0] < 100
    assert 13_000 < distances[1] < 14_500  # Bradford is about 8.5 miles away


def test_commissioner_can_sort_by_judgement_and_by_update(loaded):
    by_judgement = loaded.query(parse_query({'sort': 'judgement'})).hits
    # Outstanding first, inadequate last; the two good settings tie, in an order seeded by the query, not by name.
    assert [hit.entry.judgement_rank for hit in by_judgement] == [4, 3, 3, 2, 1]
    assert names(loaded.query(parse_query({'sort': 'judgement'}))) == [hit.entry.name for hit in by_judgement]
    assert {hit.entry.name for hit in by_judgement[1:3]} == {'Capital Fostering Westminster', 'Oak House'}
    recent = loaded.query(parse_query({'sort': 'updated'}))
    stamps = [hit.entry.updated_at for hit in recent.hits]
    assert stamps == sorted(stamps, reverse=True)


def test_facets_count_with_their_own_filter_removed(loaded):
    results = loaded.query(parse_query({'provision_type': 'childrens-home', 'min_judgement': 'good'}))
    assert names(results) == ['Oak House']
    # Choosing another type (own filter removed), judgement filter still applied.
    assert results.facets['provision_type'] == {'independent-fostering-agency': 2, 'childrens-home': 1}
    # Judgement counts ignore the judgement filter, keep the type filter.
    assert results.facets['judgement'] == {'good': 1, 'inadequate': 1, 'requires-improvement': 1}
    assert results.facets['lot'] == {'childrens-homes': 1}
    assert results.facets['region'] == {YORKSHIRE: 1}
    assert results.facets['needs'] == {'autism': 1, 'emotional-behavioural': 1}
    assert results.facets['has_vacancy'] == {'true': 1}

    everything = loaded.query(Query())
    assert everything.facets['region'] == {YORKSHIRE: 2, LONDON: 1, NORTH_EAST: 1, NORTH_WEST: 1}
    assert everything.facets['has_vacancy'] == {'true': 4, 'false': 1}
    assert everything.facets['needs']['emotional-behavioural'] == 3
    assert everything.facets['needs']['sibling-groups'] == 2
    needs = loaded.query(parse_query({'need': 'mental-health'}))
    assert needs.facets['needs']['emotional-behavioural'] == 3


def test_searcher_can_page_through_results(loaded):
    pages = [names(loaded.query(parse_query({'page_size': '2', 'page': str(page)}))) for page in (1, 2, 3)]
    assert [len(page) for page in pages] == [2, 2, 1]
    # Every setting once, in one order for the query whichever page is asked (a seeded shuffle, not by name).
    assert sorted(sum(pages, [])) == ['Capital Fostering Westminster', 'Leeds Fostering Service', 'Oak House',
                                      'Riverside Home', 'Willow Lodge']
    assert sum(pages, []) == names(loaded.query(parse_query({'page_size': '5'})))
    first = loaded.query(parse_query({'page_size': '2'}))
    assert (first.total, first.pages, first.has_next, first.has_previous) == (5, 3, True, False)


def test_searcher_gets_a_clear_message_for_a_page_past_the_end(loaded):
    with pytest.raises(PageOutOfRangeError) as error:
        loaded.query(parse_query({'page_size': '2', 'page': '4'}))
    assert 'only 3 pages' in str(error.value)
    assert error.value.errors == {'page': 'Page 4 is past the end of the results: there are only 3 pages'}


@pytest.mark.parametrize('words', [
    '"', '""', '*', 'NEAR(', 'foster NEAR(a b)', "'; DROP TABLE search_entries; --", 'a OR b NOT c', '^fost',
    'fost*', 'name:oak', '(', ')', '-', 'AND', 'foster & | ! :*', '\\', '%_%', 'Ōak Hoüse', '寄养', '🙂',
    'x' * 150, '"unclosed phrase', '  ', '<script>alert(1)</script>',
])
def test_searcher_cannot_break_search_with_odd_input(loaded, words):
    results = loaded.query(parse_query({'q': words}))
    assert results.total >= 0
    assert loaded.count() == 5


@pytest.fixture
def berwick(engine, directory):
    """A children's home in Berwick, about 42 miles from Northumberland's centroid, and a fostering agency nearby."""
    from registry.extensions import db

    homes = make_organisation('Border Homes Ltd')
    agency = make_organisation('Border Families Ltd')
    qualify(homes, Lot.CHILDRENS_HOMES)
    qualify(agency, Lot.FOSTERING)
    home = make_setting(homes, 'Tweed House', ProvisionType.CHILDRENS_HOME, 'TD15 1AA')
    fostering = make_setting(agency, 'Berwick Fostering', ProvisionType.INDEPENDENT_FOSTERING_AGENCY, 'TD15 2AA')
    db.session.commit()
    rebuild(target=engine)
    return home, fostering


def test_public_cannot_find_a_childrens_home_by_a_tight_radius_around_its_true_postcode(engine, berwick):
    results = engine.query(parse_query({'postcode': 'TD15 1AA', 'radius': '5'}))
    assert names(results) == ['Berwick Fostering']
    # Nor by a grid reference on the home itself, however small the radius.
    assert found(engine, easting=str(berwick[0].easting), northing=str(berwick[0].northing), radius='1') == {
        'Berwick Fostering'}


def test_public_can_find_a_childrens_home_by_a_radius_around_its_authority_centroid(engine, berwick):
    results = engine.query(parse_query({'near_authority': NORTHUMBERLAND, 'radius': '5'}))
    assert names(results) == ['Tweed House']
    assert results.hits[0].distance_m == pytest.approx(0, abs=1)
    # From Morpeth, about 4 miles from the centroid (and 40 from the home itself).
    morpeth = engine.query(parse_query({'postcode': 'NE61 1AA', 'radius': '5'}))
    assert names(morpeth) == ['Tweed House']
    centre = authority_centroids()[NORTHUMBERLAND]
    assert morpeth.hits[0].distance_m == pytest.approx(
        ((centre[0] - 419722.0) ** 2 + (centre[1] - 585993.0) ** 2) ** 0.5, abs=1)


def test_public_distance_sort_and_distances_use_the_centroid_for_a_childrens_home_only(engine, berwick):
    results = engine.query(parse_query({'postcode': 'TD15 1AA', 'sort': 'distance', 'page_size': '100'}))
    by_name = {hit.entry.name: hit for hit in results.hits}
    assert names(results)[0] == 'Berwick Fostering'
    # The fostering agency is measured from its exact point, the home from Northumberland's centroid.
    assert by_name['Berwick Fostering'].distance_m < 1 * MILE
    assert 41 * MILE < by_name['Tweed House'].distance_m < 43 * MILE
    assert names(results).index('Tweed House') > 0


def test_commissioner_can_find_a_childrens_home_by_a_tight_radius_around_its_true_postcode(engine, berwick):
    results = engine.query(exact({'postcode': 'TD15 1AA', 'radius': '5', 'sort': 'distance'}))
    assert names(results) == ['Tweed House', 'Berwick Fostering']
    assert results.hits[0].distance_m < 100
    assert names(engine.query(exact({'near_authority': NORTHUMBERLAND, 'radius': '5'}))) == []


def test_public_can_find_a_fostering_agency_by_its_exact_point(engine, berwick):
    results = engine.query(parse_query({'postcode': 'TD15 2AA', 'radius': '1'}))
    assert names(results) == ['Berwick Fostering']
    assert results.hits[0].distance_m < 100


def test_parsed_queries_never_use_exact_locations():
    assert parse_query({'postcode': 'TD15 1AA', 'radius': '5', 'exact_locations': 'true'}).exact_locations is False


# -- words across fields, prefixes and stop words -----------------------------------------------------------------


@pytest.mark.parametrize(('words', 'expected'), [
    ('oak house bradford', {'Oak House'}),  # name and district
    ('oak autism', {'Oak House'}),  # name and description
    ('brightwater leeds', {'Leeds Fostering Service'}),  # organisation and name
    ('northern riverside boys', {'Riverside Home'}),  # organisation, name and description
    ('willow therapeutic manchester', {'Willow Lodge'}),
    ('care girls autism bradford', {'Oak House'}),
    ('Bradford Oak', {'Oak House'}),  # any order
    ('families london', {'Capital Fostering Westminster'}),
    ('oak riverside', set()),  # every word must match, in some field of one setting
])
def test_searcher_can_find_a_setting_by_words_spread_over_its_fields(loaded, words, expected):
    assert found(loaded, q=words) == expected


def test_common_words_are_ignored_and_a_search_of_only_them_finds_nothing(loaded):
    assert found(loaded, q='family care for the ') == {'Oak House'}   # ("girls" is a filter since issue 18)
    assert found(loaded, q='homes for') == found(loaded, q='homes ') == {'Oak House', 'Willow Lodge', 'Riverside Home'}
    results = loaded.query(parse_query({'q': 'the and '}))
    assert (results.total, results.suggestions) == (0, {})


def test_the_unfinished_last_word_is_a_prefix_from_three_letters(loaded):
    assert found(loaded, q='car') == {'Leeds Fostering Service', 'Oak House', 'Willow Lodge', 'Riverside Home'}
    assert found(loaded, q='ca') == set()
    assert found(loaded, q='car ') == set()  # finished: the word "car" itself
    assert found(loaded, q='oak hou') == {'Oak House'}


# -- suggestions ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(('words', 'suggestions'), [
    ('fostring ', {'fostering': 'fostering'}),
    ('dillow ', {'dillow': 'willow'}),  # a wrong first letter
    ('xak ', {'xak': 'oak'}),
    ('oak hoise ', {'hoise': 'house'}),
])
def test_searcher_gets_the_same_suggestion_from_every_engine(loaded, words, suggestions):
    results = loaded.query(parse_query({'q': words}))
    assert results.total == 0
    expected = {('fostring' if word == 'fostering' else word): term for word, term in suggestions.items()}
    assert results.suggestions == expected


def test_no_suggestion_when_the_search_finds_something(loaded):
    assert loaded.query(parse_query({'q': 'fostering '})).suggestions == {}


# -- deep pages -------------------------------------------------------------------------------------------------


def test_a_deep_page_is_answered_from_the_total(loaded):
    """Past 10,000 results Elasticsearch answered 500 even with 3 results; both engines now say how many pages."""
    with pytest.raises(PageOutOfRangeError) as error:
        loaded.query(parse_query({'page': '600'}))
    assert error.value.errors == {'page': 'Page 600 is past the end of the results: there is only 1 page'}


def test_pages_past_the_result_window_ask_for_a_narrower_search(loaded):
    loaded.max_result_window = 4  # as if the directory held more than 10,000 matches
    everything = names(loaded.query(parse_query({'page_size': '4'})))
    assert names(loaded.query(parse_query({'page_size': '2', 'page': '2'}))) == everything[2:4]
    with pytest.raises(DeepPageError) as error:
        loaded.query(parse_query({'page_size': '2', 'page': '3'}))
    assert error.value.last_page == 2
    assert error.value.errors == {'page': 'Only the first 4 of the 5 results can be shown: narrow the search with '
                                          'words or filters to see the others'}


def test_exports_reach_every_entry_in_id_order(loaded, directory):
    loaded.max_result_window = 2
    ids = sorted(directory.listed_ids)
    pages = [[entry.id for entry in loaded.export(offset=offset, size=2)] for offset in (0, 2, 4, 6)]
    assert pages == [ids[0:2], ids[2:4], ids[4:], []]
    assert [entry.id for entry in loaded.export(after_id=ids[1], size=10)] == ids[2:]


# -- name order -------------------------------------------------------------------------------------------------


@pytest.fixture
def mixed_case(engine, directory):
    """Names whose order depends on case: both engines sort ignoring case first, then by the exact name."""
    from registry.extensions import db

    homes = make_organisation('Alder Homes Ltd')
    qualify(homes, Lot.CHILDRENS_HOMES)
    for name in ('apple Tree House', 'ash grove', 'Zeal Lodge', 'Oak house', 'OAK HOUSE ANNEXE'):
        make_setting(homes, name, ProvisionType.CHILDRENS_HOME, 'LS6 2QB')
    db.session.commit()
    rebuild(target=engine)
    return engine


def test_equal_matches_are_not_ordered_by_name_but_the_same_way_every_time(mixed_case):
    """Issue 20: ties favour no name (alphabetical order put names starting with "A" first); a query's order is
    seeded by the query, so it is the same on every page and every worker."""
    ordered = names(mixed_case.query(parse_query({'page_size': '100'})))
    assert sorted(ordered) == sorted(['apple Tree House', 'ash grove', 'Capital Fostering Westminster',
                                      'Leeds Fostering Service', 'Oak House', 'Oak house', 'OAK HOUSE ANNEXE',
                                      'Riverside Home', 'Willow Lodge', 'Zeal Lodge'])
    assert ordered == names(mixed_case.query(parse_query({'page_size': '100'})))
    assert ordered != sorted(ordered, key=lambda name: (name.lower(), name))
    by_judgement = mixed_case.query(parse_query({'sort': 'judgement', 'page_size': '100'})).hits
    ranks = [hit.entry.judgement_rank for hit in by_judgement]
    assert ranks == sorted(ranks, reverse=True)


@pytest.fixture
def described(engine, directory):
    """Three homes no name of which holds "sensory": the word once, three times, or in a name-matching tier."""
    from registry.extensions import db

    homes = make_organisation('Hollin Care Ltd')
    qualify(homes, Lot.CHILDRENS_HOMES)
    make_setting(homes, 'Beck View', ProvisionType.CHILDRENS_HOME, 'LS6 2QB',
                 description='A quiet home near the park. We have a sensory room and a large garden for play.')
    make_setting(homes, 'Fell Side', ProvisionType.CHILDRENS_HOME, 'LS6 2QB',
                 description='Sensory needs come first here: a sensory room, a sensory garden and staff trained '
                             'in sensory integration.')
    make_setting(homes, 'Sensory House', ProvisionType.CHILDRENS_HOME, 'LS6 2QB',
                 description='A home for four young people.')
    db.session.commit()
    rebuild(target=engine)
    return engine


def test_a_name_match_first_then_the_description_that_uses_the_words_most(described):
    """Issue 20: within a tier the description's own words order the matches (both engines)."""
    assert names(described.query(parse_query({'q': 'sensory', 'page_size': '10'}))) == [
        'Sensory House', 'Fell Side', 'Beck View']


# -- distances --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(('inside', 'margin'), [(True, -150.0), (False, 150.0)])
def test_radius_is_british_national_grid_metres_even_at_300_miles(loaded, directory, inside, margin):
    """Measured on a sphere, Elasticsearch's radius was up to 2 km off the grid distances the pages show."""
    east, north = directory.riverside.easting, directory.riverside.northing
    radius = 300 * MILE
    origin = {'easting': str(east), 'northing': str(north - radius - margin)}
    results = loaded.query(exact({**origin, 'radius': '300', 'sort': 'distance', 'page_size': '100'}))
    assert ('Riverside Home' in names(results)) is inside
    assert all(hit.distance_m <= radius for hit in results.hits)
    everything = loaded.query(exact({**origin, 'sort': 'distance', 'page_size': '100'}))
    within = [hit.entry.name for hit in everything.hits if hit.distance_m <= radius]
    assert set(names(results)) == set(within)


def test_distance_order_matches_the_distances_shown_from_far_away(loaded):
    results = loaded.query(exact({'easting': '100000', 'northing': '50000', 'sort': 'distance'}))
    distances = [hit.distance_m for hit in results.hits]
    assert distances == sorted(distances)
    assert names(results)[0] == 'Capital Fostering Westminster'


# --- the whole market: standing, ranking and exclusion ------------------------------------------------------------

def _unlisted_entry(kind, name, provision_type, postcode, *, owner=None, urn=None, judgement=None):
    from registry.extensions import db
    from registry.geography.postcodes import lookup
    from unlisted.models import UnlistedSetting

    location = lookup(postcode)
    confidential = provision_type.info.confidential_address and kind.value == 'not_qualified'
    if confidential:
        easting, northing = authority_centroids()[location.authority_code]
    else:
        easting, northing = location.easting, location.northing
    entry = UnlistedSetting(kind=kind, urn=urn, owner_authority_code=owner, provision_type=provision_type, name=name,
                        organisation_name='Owner', authority_code=location.authority_code,
                        district_name=location.district_name, postcode='' if confidential else location.postcode,
                        easting=easting, northing=northing, places=3, age_min=0, age_max=17, judgement=judgement)
    db.session.add(entry)
    db.session.commit()
    return entry


@pytest.fixture
def market(engine, directory):
    """The known directory plus the market around it: a not-qualified home and agency from the register, a
    register twin of a listed setting (left out), and Leeds's in-house home (seen by Leeds and the board only)."""
    from registry.extensions import db
    from registry.settings.taxonomy import Judgement
    from tests.factories import register_with_ofsted
    from unlisted.models import UnlistedKind

    register_with_ofsted(directory.oak_house, urn='SC000001')  # Ofsted's register has its new URN too
    db.session.commit()
    _unlisted_entry(UnlistedKind.NOT_QUALIFIED, "Children's home", ProvisionType.CHILDRENS_HOME, 'LS1 4DY',
                  urn='SC999001', judgement=Judgement.OUTSTANDING)
    _unlisted_entry(UnlistedKind.NOT_QUALIFIED, 'Unlisted Fostering Ltd', ProvisionType.INDEPENDENT_FOSTERING_AGENCY,
                  'LS2 8BH', urn='SC999002')
    _unlisted_entry(UnlistedKind.NOT_QUALIFIED, 'Oak House twin', ProvisionType.CHILDRENS_HOME, 'BD1 1HY',
                  urn='SC000001')
    _unlisted_entry(UnlistedKind.IN_HOUSE, 'Leeds Council Home', ProvisionType.CHILDRENS_HOME, 'LS6 2QB', owner=LEEDS)
    rebuild(target=engine)
    return engine


# -- what people type (issue 18): everyday words, abbreviations and places --------------------------------------------

@pytest.fixture
def everyday(engine, directory):
    """The known directory plus a Leeds home for young people at risk of child sexual exploitation."""
    from registry.extensions import db
    from registry.settings.taxonomy import Judgement

    beacon = make_organisation('Beacon Homes Ltd')
    qualify(beacon, Lot.CHILDRENS_HOMES)
    make_setting(beacon, 'Beacon House', ProvisionType.CHILDRENS_HOME, 'LS6 2QB', judgement=Judgement.GOOD,
                 needs=['child-sexual-exploitation'], ages=(12, 17), description='A calm home in north Leeds.')
    db.session.commit()
    rebuild(target=engine)
    return engine


LISTED = {'Leeds Fostering Service', 'Oak House', 'Willow Lodge', 'Riverside Home', 'Capital Fostering Westminster'}


def test_public_searches_never_find_the_market(market):
    results = market.query(Query(page_size=100))
    assert set(names(results)) == LISTED and results.total == 5
    assert sum(results.facets['provision_type'].values()) == 5
    assert found(market, q='unlisted') == set() and found(market, q='council') == set()
    assert market.count(qualified_only=True) == 5 and market.count() == 8


def test_a_market_search_marks_and_ranks_qualified_entries_first(market):
    results = market.query(Query(page_size=100, market=True, in_house_for=LEEDS))
    standings = [hit.entry.standing for hit in results.hits]
    assert set(names(results)) == LISTED | {"Children's home", 'Unlisted Fostering Ltd', 'Leeds Council Home'}
    assert standings[:5] == ['qualified'] * 5 and 'qualified' not in standings[5:]
    assert 'Oak House twin' not in names(results)  # its provider is on the national list
    # nearest first within each standing: the not-qualified home at LS1 4DY's authority comes after Riverside
    by_distance = market.query(exact({'postcode': 'LS1 4DY', 'sort': 'distance', 'page_size': '100'}))
    market_by_distance = market.query(replace(exact({'postcode': 'LS1 4DY', 'sort': 'distance', 'page_size': '100'}),
                                              market=True, in_house_for=LEEDS))
    assert names(market_by_distance)[:5] == names(by_distance)
    rest = market_by_distance.hits[5:]
    assert [hit.distance_m for hit in rest] == sorted(hit.distance_m for hit in rest)
    # pages follow the same order
    paged = [names(market.query(Query(page_size=3, page=page, market=True, in_house_for=LEEDS))) for page in (1, 2, 3)]
    assert sum(paged, []) == names(results)


def test_in_house_services_are_seen_only_by_their_authority_and_the_board(market):
    manchester = market.query(Query(page_size=100, market=True, in_house_for='E08000003'))
    assert 'Leeds Council Home' not in names(manchester) and "Children's home" in names(manchester)
    board = market.query(Query(page_size=100, market=True, in_house_for='*'))
    assert 'Leeds Council Home' in names(board)
    judged = market.query(replace(parse_query({'sort': 'judgement', 'page_size': '100'}), market=True,
                                  in_house_for='*'))
    # outstanding but not qualified still comes after every qualified entry
    assert [hit.entry.standing for hit in judged.hits][:5] == ['qualified'] * 5


@pytest.mark.parametrize(('typed', 'expected'), [
    ('autistic', {'Oak House'}),
    ('ASD', {'Oak House'}),
    ('asd ', {'Oak House'}),
    ('CSE', {'Beacon House'}),
    ('EBD', {'Oak House', 'Willow Lodge', 'Riverside Home'}),
    ('SEMH', {'Oak House', 'Willow Lodge', 'Riverside Home'}),
    ('girls', {'Leeds Fostering Service', 'Oak House', 'Willow Lodge', 'Capital Fostering Westminster',
               'Beacon House'}),
    ('girls only', {'Leeds Fostering Service', 'Oak House', 'Willow Lodge', 'Capital Fostering Westminster',
                    'Beacon House'}),
    ('outstanding', {'Leeds Fostering Service'}),
    ('autistic girls', {'Oak House'}),
])
def test_searcher_finds_what_everyday_words_and_abbreviations_mean(everyday, typed, expected):
    results = everyday.query(parse_query({'q': typed, 'page_size': '100'}))
    assert set(names(results)) == expected
    assert 'and' not in results.suggestions.values()


def test_an_abbreviation_in_quotes_is_searched_as_typed(everyday):
    assert found(everyday, q='"ASD"') == set()


def test_a_postcode_typed_in_the_words_is_the_place_searched_from_nearest_first(everyday):
    query = parse_query({'q': 'care near LS1 4DY', 'page_size': '100'})
    assert query.origin_label == 'LS1 4DY' and query.sort == 'distance'
    results = everyday.query(query)
    assert names(results)[0] == 'Leeds Fostering Service'
    distances = [hit.distance_m for hit in results.hits]
    assert distances == sorted(distances)


def test_a_town_or_authority_name_is_a_place(everyday):
    assert found(everyday, postcode='Bradford', radius='5') == {'Oak House'}
    assert found(everyday, postcode='leeds', radius='3') == {'Leeds Fostering Service', 'Beacon House'}
    assert parse_query({'postcode': 'ls6'}).origin_label == 'LS6'   # an outcode: the middle of its postcodes
    assert 'Beacon House' in found(everyday, postcode='LS6', radius='2')
    assert found(everyday, postcode='LS6', radius='2') <= {'Beacon House', 'Leeds Fostering Service'}


def test_a_place_sorts_nearest_first_by_default_even_with_words(everyday):
    query = parse_query({'postcode': 'LS1 4DY', 'radius': '300', 'q': 'care', 'page_size': '100'})
    assert query.sort == 'distance'
    results = everyday.query(query)
    distances = [hit.distance_m for hit in results.hits]
    assert len(distances) >= 3 and distances == sorted(distances)
    assert names(results)[0] == 'Leeds Fostering Service'
