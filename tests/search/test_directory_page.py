"""The directory page people use: chosen filters with one-click removal, words read back, a map that zooms to the
results with each dot a link to its result, and the search box first."""

from __future__ import annotations

import re
from html import unescape

import pytest

from registry.accounts.models import Role
from search import map as svg_map
from search.entries import build_entries
from search.sql_engine import SqlEngine
from tests.factories import make_user
from tests.house_checks import problems
from tests.search.conftest import YORKSHIRE


@pytest.fixture
def indexed(directory):
    SqlEngine().reindex(build_entries())
    return directory


def _links(html: str, marker: str) -> dict[str, str]:
    section = html[html.index(marker):]
    section = section[:section.index('</ul>')]
    return {re.sub(r'<[^>]+>|×', '', text).replace('Remove filter: ', '').strip(): unescape(href)
            for href, text in re.findall(r'<a class="govuk-link registry-chosen__remove" href="([^"]+)">(.*?)</a>',
                                         section, re.S)}


def test_chosen_filters_are_listed_each_with_a_link_that_removes_only_it(client, indexed):
    url = f'/directory?q=home&need=autism&need=emotional-behavioural&region={YORKSHIRE}&postcode=LS1+4DY&radius=25'
    html = client.get(url).get_data(as_text=True)
    assert problems(html) == []
    links = _links(html, 'id="chosen-filters"')
    assert set(links) == {'Autism', 'Emotional and behavioural difficulties', 'Yorkshire and The Humber',
                          'Near LS1 4DY', 'Within 25 miles'}
    without_autism = links['Autism']
    assert 'need=emotional-behavioural' in without_autism and 'need=autism' not in without_autism
    assert 'q=home' in without_autism and 'postcode=LS1' in without_autism
    assert 'radius' not in links['Near LS1 4DY']      # no distance without its place
    clear = unescape(re.search(r'id="clear-filters" href="([^"]+)"', html).group(1))
    assert clear == '/directory?q=home'
    assert client.get(clear).status_code == 200 and client.get(without_autism).status_code == 200


def test_words_read_another_way_are_said_with_a_way_back_to_what_was_typed(client, indexed):
    html = client.get('/directory?q=ASD+girls').get_data(as_text=True)
    note = html[html.index('id="read-as"'):]
    assert 'We searched “ASD” as: autism' in note and 'We searched “girls” as: Settings for girls' in note
    exact = unescape(re.search(r'href="([^"]+)">Search for exactly “ASD”', note).group(1))
    assert 'q=%22ASD%22+girls' in exact or 'q=%22ASD%22%20girls' in exact
    assert 'Oak House' in html and 'Did you mean' not in html
    assert problems(html) == []


def test_the_search_box_comes_before_the_filters_and_a_skip_link_lands_in_it(client, indexed):
    html = client.get('/directory').get_data(as_text=True)
    assert html.index('id="q"') < html.index('id="filters"') < html.index('id="result-list"')
    assert re.search(r'<a href="#q" class="govuk-skip-link"', html)
    assert '<details class="govuk-details registry-filters" id="filters" data-registry-open-wide>' in html


def test_filters_with_an_error_are_shown_open(client, indexed):
    html = client.get('/directory?age=200').get_data(as_text=True)
    assert re.search(r'id="filters" data-registry-open-wide open', html)


def test_the_map_zooms_to_the_results_and_each_dot_links_to_its_result(client, indexed, login_as):
    login_as(make_user(Role.COMMISSIONER))
    html = client.get(f'/directory/commissioner?region={YORKSHIRE}').get_data(as_text=True)
    svg = html[html.index('<svg class="registry-map"'):]
    svg = svg[:svg.index('</svg>')]
    x, y, width, height = map(float, re.search(r'viewBox="([^"]+)"', svg).group(1).split())
    full_width, _full_height = svg_map.view_box([])[2:]
    assert width < full_width / 3                       # Yorkshire, not all of England
    dots = re.findall(r'<a class="registry-map__link" href="#result-(\d+)" aria-label="([^"]+)">'
                      r'<circle class="registry-map__marker" data-id="\1" data-approximate="\w+" '
                      r'cx="([\d.]+)" cy="([\d.]+)"', svg)
    assert {int(dot[0]) for dot in dots} == {indexed.leeds_fostering.id, indexed.oak_house.id}
    for setting_id, _label, cx, cy in dots:
        assert x <= float(cx) <= x + width and y <= float(cy) <= y + height
        assert f'id="result-{setting_id}"' in html
    assert 'Each dot is a link to its result' in svg
    assert problems(html) == []


def test_a_public_map_of_one_result_still_shows_its_surroundings(client, indexed):
    html = client.get('/directory?q=Leeds+Fostering').get_data(as_text=True)
    width = float(re.search(r'class="registry-map"[^>]*viewBox="[\d.]+ [\d.]+ ([\d.]+)', html).group(1))
    assert width == pytest.approx(svg_map.MIN_VIEW_METRES * svg_map.SCALE, abs=0.2)
