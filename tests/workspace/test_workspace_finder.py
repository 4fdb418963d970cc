"""The placement finder: ranking and reasons on known data, the rules behind them, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import url_for

from registry.accounts.models import Role
from registry.db import utcnow
from search import DirectoryEntry
from tests.factories import make_user
from workspace import services
from workspace.finder import Child, rank

LEEDS = 'E08000035'


def _find(known, criteria, **overrides):
    return services.find_placements(services.child_from_criteria(criteria(**overrides)), LEEDS)


def _reasons(match) -> dict[str, tuple[bool, str]]:
    return {reason.kind: (reason.met, reason.text) for reason in match.reasons}


def test_commissioner_can_find_placements_ranked_with_reasons(known, criteria):
    matches = _find(known, criteria)

    assert [match.entry.name for match in matches] == [
        'Zephyr House', 'Abbey House', 'Roundhay Siblings Home', 'Bradford Moor House',
        'Headingley Home', 'Kirkstall Lodge', 'Chapel Allerton House']
    assert [match.meets_requirements for match in matches] == [True] * 4 + [False] * 3
    assert [match.rank for match in matches] == list(range(1, 8))

    top = _reasons(matches[0])
    assert top['distance'][0] is True
    assert top['distance'][1].startswith(f'{matches[0].distance_miles:.1f} miles from LS1 4DY (within 20)')
    assert top['needs'] == (True, 'Meets all 2 needs asked for')
    assert top['vacancies'] == (True, '2 vacancies confirmed 2 days ago')
    assert top['judgement'] == (True, 'Ofsted: Good (meets minimum Good)')
    assert top['accepted'] == (True, 'Accepted by Leeds')

    bradford = _reasons(matches[3])
    assert bradford['accepted'] == (False, 'Not yet accepted by Leeds')
    headingley = _reasons(matches[4])
    assert headingley['judgement'] == (False, 'Ofsted: Requires improvement to be good (below minimum Good)')
    chapel = _reasons(matches[6])
    assert chapel['vacancies'] == (False, 'No vacancies (confirmed 1 day ago)')


def test_stale_vacancy_ranks_below_an_otherwise_identical_fresh_one(known, criteria):
    matches = _find(known, criteria)
    names = [match.entry.name for match in matches]

    # Abbey House would come first alphabetically; only the 10-day-old confirmation puts it second.
    assert names.index('Zephyr House') < names.index('Abbey House')
    stale = _reasons(matches[names.index('Abbey House')])
    assert stale['vacancies'] == (False, '2 vacancies, last confirmed 10 days ago (stale)')
    assert matches[names.index('Abbey House')].vacancies_fresh is False


def test_never_confirmed_vacancies_count_as_stale():
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)

    def entry(id_, name, confirmed):
        return DirectoryEntry(
            id=id_, organisation_id=1, name=name, organisation_name='Org', provision_type='childrens-home',
            provision_type_label="Children's home", lot='childrens-homes', description='', needs=(), age_min=0,
            age_max=17, sex='any', places=4, vacancies=1, vacancies_confirmed_at=confirmed, judgement='good',
            judgement_rank=3, judgement_date=None, urn=None, authority_code=LEEDS, authority_name='Leeds',
            region_code='', region_name='', district_name='Leeds', confidential_address=True, easting=430000,
            northing=433000, address='', postcode='')

    child = Child(age=10, origin=(430000, 433000), origin_label='LS1 4DY', max_distance_miles=10)
    matches = rank([entry(1, 'A never', None), entry(2, 'B fresh', now - timedelta(days=7))], child, LEEDS, now,
                   authority_name='Leeds')

    assert [match.entry.name for match in matches] == ['B fresh', 'A never']
    assert _reasons(matches[1])['vacancies'] == (False, '1 vacancy, never confirmed (stale)')
    assert _reasons(matches[0])['vacancies'] == (True, '1 vacancy confirmed 7 days ago')


def test_finder_names_the_needs_a_setting_does_not_meet(known, criteria):
    matches = _find(known, criteria)
    kirkstall = next(match for match in matches if match.entry.name == 'Kirkstall Lodge')

    assert kirkstall.meets_requirements is False
    assert _reasons(kirkstall)['needs'] == (False, 'Meets 1 of 2 needs: missing autism')


def test_sibling_group_needs_sibling_groups_and_enough_vacancies(known, criteria):
    matches = _find(known, criteria, placement='siblings', children=3)
    by_name = {match.entry.name: match for match in matches}

    assert matches[0].entry.name == 'Roundhay Siblings Home'
    assert [match.entry.name for match in matches if match.meets_requirements] == ['Roundhay Siblings Home']
    assert _reasons(by_name['Roundhay Siblings Home'])['siblings'] == (
        True, 'Takes sibling groups (3 children together)')
    zephyr = _reasons(by_name['Zephyr House'])
    assert zephyr['siblings'] == (False, 'Does not say it takes sibling groups')
    assert zephyr['vacancies'] == (False, '2 vacancies confirmed 2 days ago; 3 children need placing together')


def test_finder_leaves_out_settings_beyond_the_maximum_distance(known, criteria):
    near = [match.entry.name for match in _find(known, criteria, max_distance_miles=20)]
    far = [match.entry.name for match in _find(known, criteria, max_distance_miles=60)]

    assert 'Piccadilly House' not in near
    assert 'Bradford Moor House' in near
    assert 'Piccadilly House' in far
    piccadilly = next(match for match in _find(known, criteria, max_distance_miles=60)
                      if match.entry.name == 'Piccadilly House')
    assert _reasons(piccadilly)['distance'][0] is True
    assert 30 < piccadilly.distance_miles < 60


def test_finder_measures_from_the_home_authority_when_no_postcode_is_given(known, criteria):
    matches = _find(known, criteria, postcode='', authority=LEEDS)

    assert matches[0].entry.name == 'Zephyr House'
    assert ' miles from Leeds (within 20)' in _reasons(matches[0])['distance'][1]


def test_commissioner_can_see_ranked_results_on_the_finder_page(known, client, login_as, finder_args):
    login_as(known.leeds_officer)

    response = client.get(url_for('workspace.finder', **finder_args()))

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '7 settings found' in page
    assert page.index('Zephyr House') < page.index('Abbey House') < page.index('Kirkstall Lodge')
    assert 'Meets 1 of 2 needs: missing autism' in page
    assert 'govuk-tag--red' in page and 'govuk-tag--green' in page
    assert 'Save as shortlist' in page
    assert 'Piccadilly House' not in page


def test_board_member_can_view_the_finder_but_not_save(known, client, login_as, finder_args):
    login_as(make_user(Role.BOARD_MEMBER))

    response = client.get(url_for('workspace.finder', **finder_args()))

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'Zephyr House' in page
    assert 'Save as shortlist' not in page
    assert 'accepted by' not in page


def _errors(response) -> str:
    page = response.get_data(as_text=True)
    assert 'govuk-error-summary' in page
    return page


def test_finder_needs_a_postcode_or_an_authority(known, client, login_as, finder_args):
    login_as(known.leeds_officer)
    page = _errors(client.get(url_for('workspace.finder', **finder_args(postcode='', authority=''))))
    assert "Enter the child&#39;s home postcode or choose their home local authority" in page


def test_finder_shows_the_postcode_lookup_error_on_the_field(known, client, login_as, finder_args):
    login_as(known.leeds_officer)
    page = _errors(client.get(url_for('workspace.finder', **finder_args(postcode='ZZ99 9ZZ'))))
    assert 'We could not find ZZ99 9ZZ' in page
    assert 'id="postcode-error"' in page


def test_finder_rejects_an_age_over_25(known, client, login_as, finder_args):
    login_as(known.leeds_officer)
    page = _errors(client.get(url_for('workspace.finder', **finder_args(age='30'))))
    assert 'age must be between 0 and 25' in page
    assert 'settings found' not in page


def test_finder_rejects_a_start_date_in_the_past(known, client, login_as, finder_args):
    login_as(known.leeds_officer)
    past = utcnow().date() - timedelta(days=3)
    page = _errors(client.get(url_for('workspace.finder', **finder_args(
        start_date=[str(past.day), str(past.month), str(past.year)]))))
    assert 'Placement start date must be today or in the future' in page


def test_finder_asks_how_many_children_for_a_sibling_group(known, client, login_as, finder_args):
    login_as(known.leeds_officer)
    page = _errors(client.get(url_for('workspace.finder', **finder_args(placement='siblings', children=''))))
    assert 'Enter how many children need placing together, from 2 to 6' in page


def test_provider_cannot_use_the_finder(known, client, login_as, finder_args):
    login_as(make_user(Role.PROVIDER))
    assert client.get(url_for('workspace.finder', **finder_args())).status_code == 403


def test_anonymous_visitor_is_sent_to_sign_in_from_the_finder(known, client):
    response = client.get(url_for('workspace.finder'))
    assert response.status_code in {302, 401}


def test_commissioner_sees_an_empty_finder_form_first(known, client, login_as):
    login_as(known.leeds_officer)

    response = client.get(url_for('workspace.finder'))

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'Placement start date' in page and 'name="start_date"' in page
    assert 'govuk-error-summary' not in page
    assert 'Results appear here' in page
