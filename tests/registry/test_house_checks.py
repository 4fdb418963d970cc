"""House checks over every page each role reaches by following links from the start page, on the demo data.

The browser journeys check the same rules in chromium at two widths (tests/e2e); this walk is the cheap version that
runs on SQLite and PostgreSQL: every fieldset has a legend, every label's ``for`` names a field, no id is used twice,
the title starts with the H1, and no HTML shows as text.
"""

from __future__ import annotations

import re
from collections import Counter, deque

from flask import g, has_app_context
from sqlalchemy import select

from registry.accounts.models import User
from registry.demo import DEMO_ACCOUNTS, load_demo_data
from registry.extensions import db
from tests.house_checks import problems

#: Pages of one shape (ids replaced) visited per role: enough to see each template with real data.
PER_SHAPE = 2
SKIP = re.compile(r'/sign-out|/download|/api/|\.(csv|xlsx|json|zip|pdf)$|/assets/|/static/|/evidence/')
#: Forms sent empty: their error pages must pass the checks too.
EMPTY_POSTS = {None: ['/register', '/sign-in'],
               'provider': ['/organisations/new']}


def _load_demo(app) -> dict[str, str]:
    """The demo, loaded once for the whole walk (the database is emptied after each test)."""
    with app.app_context():
        load_demo_data(echo=lambda _message: None)
        accounts = {user.role.value: user.get_id() for user in db.session.scalars(
            select(User).where(User.email.in_([email for email, *_rest in DEMO_ACCOUNTS])))}
        db.session.remove()
    return accounts


def _signed_in(app, user_id):
    client = app.test_client()
    if user_id:
        if has_app_context():
            g.pop('_login_user', None)
        with client.session_transaction() as session:
            session['_user_id'] = user_id
            session['_fresh'] = True
            session['second_factor_verified'] = True
    return client


def _walk(client) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    seen, shapes, queue = set(), Counter(), deque(['/'])
    while queue:
        url = queue.popleft()
        shape = re.sub(r'\d+', 'N', url.split('?')[0])
        if url in seen or SKIP.search(url.split('?')[0]) or shapes[shape] >= PER_SHAPE:
            continue
        seen.add(url)
        shapes[shape] += 1
        response = client.get(url)
        if response.status_code != 200 or 'text/html' not in response.content_type:
            continue
        html = response.get_data(as_text=True)
        if bad := problems(html):
            found[url] = bad
        queue.extend(href.replace('&amp;', '&') for href in re.findall(r'href="(/[^"#]*)"', html))
    assert len(seen) > 5
    return found


def test_every_page_each_role_reaches_passes_the_house_checks(app):
    accounts = _load_demo(app)
    found: dict[str, list[str]] = {}
    for role in (None, 'provider', 'commissioner', 'assessor', 'board-member', 'admin'):
        client = _signed_in(app, accounts[role] if role else None)
        found.update({f'{role or "visitor"} {url}': bad for url, bad in _walk(client).items()})
        for url in EMPTY_POSTS.get(role, []):
            bad = problems(client.post(url, data={}).get_data(as_text=True))
            if bad:
                found[f'{role or "visitor"} POST {url}'] = bad
    assert found == {}, '\n'.join(f'{url}: {"; ".join(bad)}' for url, bad in found.items())
