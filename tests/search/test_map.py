"""The offline SVG map: markers for results, and never an exact point for a confidential setting on public pages."""

from __future__ import annotations

import re

import pytest

from search import map as svg_map
from search.entries import build_entries
from search.query import authority_centroids
from search.sql_engine import SqlEngine


@pytest.fixture
def indexed(directory):
    SqlEngine().reindex(build_entries())
    return directory


def markers(html: str) -> dict[int, tuple[float, float]]:
    return {int(setting_id): (float(x), float(y)) for setting_id, x, y in re.findall(
        r'class="registry-map__marker" data-id="(\d+)" data-approximate="\w+" cx="([\d.]+)" cy="([\d.]+)"', html)}


def test_map_draws_england_from_authority_centroids_with_a_text_alternative():
    svg = str(svg_map.render([], title='Empty map', description='Nothing here'))
    assert svg.startswith('<svg') and '<title id="map-title">Empty map</title>' in svg
    assert '<desc id="map-desc">Nothing here</desc>' in svg
    assert svg.count('<circle cx=') == len(authority_centroids()) == 153


def test_projection_puts_north_at_the_top_and_east_on_the_right():
    newcastle, london = svg_map.project(425_000, 565_000), svg_map.project(530_000, 180_000)
    assert newcastle[1] < london[1]
    assert london[0] > newcastle[0]


def test_public_map_puts_a_childrens_home_at_its_authority_centroid(client, indexed):
    html = client.get('/directory').get_data(as_text=True)
    found = markers(html)
    assert set(found) == indexed.listed_ids
    for setting in (indexed.oak_house, indexed.willow_lodge, indexed.riverside):
        assert found[setting.id] == svg_map.project(*authority_centroids()[setting.authority_code])
        assert found[setting.id] != svg_map.project(setting.easting, setting.northing)
    # a fostering agency's address is public, so its marker is exact
    leeds = indexed.leeds_fostering
    assert found[leeds.id] == svg_map.project(leeds.easting, leeds.northing)


def test_public_provider_profile_map_never_shows_an_exact_home(client, indexed):
    oak = indexed.oak_house
    html = client.get(f'/directory/providers/{oak.organisation_id}').get_data(as_text=True)
    assert markers(html)[oak.id] == svg_map.project(*authority_centroids()[oak.authority_code])


def test_commissioner_map_may_show_the_exact_point(client, indexed, login_as):
    from registry.accounts.models import Role
    from tests.factories import make_user

    login_as(make_user(Role.COMMISSIONER))
    oak = indexed.oak_house
    html = client.get('/directory/commissioner').get_data(as_text=True)
    assert markers(html)[oak.id] == svg_map.project(oak.easting, oak.northing)
