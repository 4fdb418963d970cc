"""The identifier check: dates of birth in common formats, NHS numbers (modulus 11), full postcodes (not districts)."""

from __future__ import annotations

from datetime import date

import pytest

from placements.identifiers import find_identifiers, identifier_problem, nhs_number_is_valid

TODAY = date(2026, 12, 6)


@pytest.mark.parametrize('text', [
    '03/04/2012', '3/4/2012', '03-04-2012', '03.04.2012', '3 4 2012', '3-4-12', '2012-04-03', '2012/04/03',
    '3 April 2012', '3rd April 2012', '3rd of April 2012', '03-Apr-2012', 'April 3, 2012', 'April 3rd 2012',
    '12/25/2012',  # month first, as some systems write it
])
def test_full_dates_of_a_childs_lifetime_are_flagged_as_dates_of_birth(text):
    found = find_identifiers(f'Notes: {text} per the file.', TODAY)
    assert [item.kind for item in found] == ['date-of-birth'], found
    assert found[0].text.strip(' .') in text


@pytest.mark.parametrize('text', ['born 1/2/1990', 'DOB 03042012', 'd.o.b. March 2012', 'Date of birth: 5 May 1999',
                                  'born in June 2014'])
def test_dates_after_birth_words_are_flagged_even_in_other_forms(text):
    assert [item.kind for item in find_identifiers(text, TODAY)] == ['date-of-birth']


@pytest.mark.parametrize('text', ['Review on 03/04/2027', 'Placement from 1 January 2027', 'Year 10 of 2012',
                                  'Seen in 1990 at 12/3/1985', '12.5 hours a week', 'Phone 0113 496 0000',
                                  'Reference 12345678', 'March 2012 was hard'])
def test_ordinary_notes_pass(text):
    assert find_identifiers(text, TODAY) == []


def test_nhs_number_modulus_11_check():
    assert nhs_number_is_valid('9434765919')
    assert not nhs_number_is_valid('9434765918')  # wrong check digit
    assert not nhs_number_is_valid('1000000010')  # remainder gives check 10: never issued
    assert not nhs_number_is_valid('943476591')


@pytest.mark.parametrize('text, flagged', [
    ('NHS 943 476 5919', True), ('nhs no 9434765919', True), ('943-476-5919', True),
    ('943 476 5918', False),  # fails the check digit
    ('01134960000', False),  # an 11-digit phone number
])
def test_nhs_numbers_are_flagged_only_when_the_check_digit_passes(text, flagged):
    assert bool([item for item in find_identifiers(text, TODAY) if item.kind == 'nhs-number']) is flagged


@pytest.mark.parametrize('text, flagged', [
    ('Lives near LS1 4DY', True), ('lives near ls1 4dy', True), ('LS14DY', True), ('SW1A 2AA area', True),
    ('Lives in LS1', False), ('Lives in the LS6 district', False), ('Y10 2nd term', False),
])
def test_full_postcodes_are_flagged_but_districts_are_fine(text, flagged):
    assert bool([item for item in find_identifiers(text, TODAY) if item.kind == 'postcode']) is flagged


def test_problem_messages_say_what_was_found_and_what_to_do():
    assert identifier_problem('DOB 3/4/2012', 'Risk notes', TODAY) == (
        'Risk notes must not include a date of birth (“3/4/2012”). Give the child’s age instead, or remove the date')
    assert identifier_problem('NHS 943 476 5919', 'Risk notes', TODAY) == (
        'Risk notes must not include an NHS number (“943 476 5919”). Remove it')
    assert identifier_problem('near LS1 4DY', 'Other information', TODAY) == (
        'Other information must not include a full postcode (“LS1 4DY”). Give the district only, like “LS1”')
    assert identifier_problem('Lives in LS1, likes football', 'Other information', TODAY) is None
