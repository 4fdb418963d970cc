"""The directory page's frame (GOV.UK template, header, navigation, footer) is rendered once per navigation and
kept: each request still gets its own navigation, CSP nonce, title and flashed messages."""

from __future__ import annotations

import re

import pytest

from registry.accounts.models import Role
from search.entries import build_entries
from search.sql_engine import SqlEngine
from tests.factories import make_user


@pytest.fixture
def indexed(directory):
    SqlEngine().reindex(build_entries())


def navigation(html: str) -> list[str]:
    nav = re.search(r'<nav[^>]*govuk-service-navigation__wrapper.*?</nav>', html, re.S)
    return re.findall(r'class="govuk-service-navigation__link"[^>]*>\s*(?:<strong[^>]*>)?\s*([^<]+?)\s*<', nav.group(0))


def test_each_visitor_sees_their_own_navigation_whoever_came_before(client, indexed, login_as):
    anonymous = client.get('/directory?q=fostering').get_data(as_text=True)
    login_as(make_user(Role.COMMISSIONER))
    commissioner = client.get('/directory?q=fostering').get_data(as_text=True)
    client.post('/sign-out')
    again = client.get('/directory?q=oak').get_data(as_text=True)

    assert 'Sign in' in navigation(anonymous) and 'Sign out' not in navigation(anonymous)
    assert 'Sign out' in navigation(commissioner) and 'Sign in' not in navigation(commissioner)
    assert navigation(again) == navigation(anonymous)


def test_every_script_carries_this_requests_nonce(client, indexed):
    nonces = []
    for _ in range(2):
        response = client.get('/directory?q=fostering')
        allowed = re.search(r"'nonce-([^']+)'", response.headers['Content-Security-Policy']).group(1)
        used = set(re.findall(r'<script[^>]*\snonce="([^"]*)"', response.get_data(as_text=True)))
        assert used == {allowed}
        nonces.append(allowed)
    assert nonces[0] != nonces[1]


def test_the_title_and_content_are_this_requests(client, indexed):
    fine = client.get('/directory?q=fostering').get_data(as_text=True)
    wrong = client.get('/directory?age=abc')

    assert re.search(r'<title>Find a qualified provider – ', fine)
    assert wrong.status_code == 400
    page = wrong.get_data(as_text=True)
    assert re.search(r'<title>Error: Find a qualified provider – ', page)
    assert 'There is a problem' in page and 'There is a problem' not in fine


def test_a_flashed_message_shows_on_the_directory_once(client, indexed):
    with client.session_transaction() as session:
        session['_flashes'] = [('success', 'Your vacancies are saved')]
    assert 'Your vacancies are saved' in client.get('/directory').get_data(as_text=True)
    assert 'Your vacancies are saved' not in client.get('/directory').get_data(as_text=True)
