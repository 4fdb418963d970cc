"""The one function that builds directory entries: only listed settings, and no confidential address."""

from __future__ import annotations

from search.entries import DirectoryEntry, build_entries, build_entry
from tests.search.conftest import WESTMINSTER, YORKSHIRE


def test_listed_setting_becomes_an_entry_with_authority_region_and_lot(directory):
    entry = build_entry(directory.oak_house)
    assert entry.name == 'Oak House'
    assert entry.organisation_name == 'Northern Lights Homes Ltd'
    assert (entry.lot, entry.judgement, entry.judgement_rank) == ('childrens-homes', 'good', 3)
    assert (entry.authority_name, entry.region_code, entry.district_name) == ('Bradford', YORKSHIRE, 'Bradford')
    assert entry.needs == ('autism', 'emotional-behavioural')
    assert entry.has_vacancy


def test_suspended_or_unqualified_setting_has_no_entry(directory):
    assert build_entry(directory.suspended_house) is None
    assert build_entry(directory.pennine_assessment) is None


def test_childrens_home_entry_never_carries_its_address_and_public_view_drops_the_location(directory):
    entry = build_entry(directory.oak_house)
    assert entry.confidential_address
    assert entry.address == '' and entry.postcode == ''
    public = entry.public_dict()
    assert 'easting' not in public and 'northing' not in public and 'address' not in public
    fostering = build_entry(directory.capital_fostering).public_dict()
    assert fostering['postcode'] == 'SW1A 2AA' and 'easting' in fostering


def test_local_list_acceptance_is_carried_for_the_settings_lot(directory):
    assert build_entry(directory.capital_fostering).accepted_by == (WESTMINSTER,)
    assert build_entry(directory.leeds_fostering).accepted_by == ()


def test_bulk_build_matches_single_build_and_round_trips_through_json(directory):
    bulk = {entry.id: entry for entry in build_entries()}
    assert set(bulk) == directory.listed_ids
    for entry in bulk.values():
        assert entry == build_entry(directory.__dict__[_key(directory, entry.id)])
        assert DirectoryEntry.from_json(entry.to_json()) == entry
    assert [entry.id for entry in build_entries([directory.oak_house.id, directory.suspended_house.id])] == [
        directory.oak_house.id]


def _key(directory, setting_id: int) -> str:
    return next(key for key, setting in directory.__dict__.items() if setting.id == setting_id)
