"""Load mix against gunicorn on loopback: directory searches 60%, provider profiles 25%, application saves 15%.

Reads ``LOAD_ACCOUNTS`` (written by seed.py). Directory visitors (85% of users) search and open profiles; providers
(15%) sign in through the real form (scraping its CSRF token) and save a qualification section as a browser would.
Only providers sign in: argon2id at production cost (64 MiB) is deliberately expensive.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading

from locust import HttpUser, between, task

DATA = json.loads(open(os.environ['LOAD_ACCOUNTS'], encoding='utf-8').read())
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
WORDS = ['', '', 'autism', 'therapeutic', 'fostering', 'family centre', 'leeds', 'outstanding', 'care',
         'emotional behavioural', 'sibling groups', 'parent and child', 'secure', 'disabilities']
POSTCODES = ['', '', 'LS1 4DY', 'M1 1AE', 'B1 1BB', 'SW1A 1AA', 'BS1 4DJ', 'NE1 4ST', 'ME14 1XQ']
PROVISION = ['', '', 'childrens-home', 'independent-fostering-agency', 'residential-family-centre']
_next_account = iter(range(10**9))
_lock = threading.Lock()


def _section_data() -> dict:
    """Valid answers for the 'organisation' section (built by the test helpers from the scheme)."""
    from qualification.schemes import load_scheme
    from tests.qualification.conftest import form_data_for

    scheme = load_scheme('2026.1')
    data = form_data_for(scheme.section('organisation'), ['childrens-homes'])
    data['save_and_return'] = 'Save and come back later'
    data.pop('save_and_continue', None)
    return data


SECTION_DATA = _section_data()


class DirectoryVisitor(HttpUser):
    """Someone searching the public directory and opening provider profiles (searches:profiles = 60:25)."""

    weight = 85
    wait_time = between(0.5, 2)

    @task(60)
    def search(self):
        params = {'q': random.choice(WORDS)}
        if postcode := random.choice(POSTCODES):
            params.update(postcode=postcode, radius=random.choice(['5', '10', '25', '50']))
        if provision := random.choice(PROVISION):
            params['provision_type'] = provision
        if random.random() < 0.3:
            params['age'] = str(random.randint(0, 17))
        if random.random() < 0.2:
            params['page'] = '2'
        with self.client.get('/directory', params={k: v for k, v in params.items() if v}, name='search /directory',
                             catch_response=True) as response:
            if response.status_code == 400:  # e.g. page 2 of a one-page search: a handled, valid answer
                response.success()

    @task(25)
    def profile(self):
        self.client.get(f'/directory/providers/{random.choice(DATA["profiles"])}',
                        name='profile /directory/providers/<id>')


class Provider(HttpUser):
    """A signed-in provider saving a section of its qualification application."""

    weight = 15
    wait_time = between(0.5, 2)

    def on_start(self):
        with _lock:
            account = DATA['providers'][next(_next_account) % len(DATA['providers'])]
        self.application_id = account['application_id']
        page = self.client.get('/sign-in', name='sign-in: GET form')
        self.client.post('/sign-in', name='sign-in: POST', data={
            'email': account['email'], 'password': account['password'], 'csrf_token': TOKEN.search(page.text)[1]})

    @task
    def save(self):
        url = f'/qualification/applications/{self.application_id}/sections/organisation'
        page = self.client.get(url, name='save: GET section')
        token = TOKEN.search(page.text)
        if token is None:
            return
        with self.client.post(url, data={**SECTION_DATA, 'csrf_token': token[1]}, name='save: POST section',
                              allow_redirects=False, catch_response=True) as response:
            if response.status_code != 302:
                response.failure(f'save answered {response.status_code}')
