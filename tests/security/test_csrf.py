"""Every form POST needs the CSRF token: without it the request is refused with 400 and nothing changes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from registry.app import create_app
from registry.audit.models import AuditEvent
from registry.extensions import db
from tests.factories import PASSWORD
from tests.security.conftest import build_world, csrf_token, sign_in
from tests.security.test_object_access import ID_KINDS, OTHER_PARAMS

#: POST endpoints that are deliberately exempt from CSRF, with the reason. JSON API routes authenticated by
#: a token header (never by the session cookie) would go here.
CSRF_EXEMPT: dict[str, str] = {}
#: Values for path parameters that are not object ids.
PLACEHOLDERS = {'token': 'not-a-real-token', 'filename': 'x', **OTHER_PARAMS}


@pytest.fixture
def csrf_app(app, app_config):
    """The same database as ``app``, with CSRF protection on as in production."""
    protected = create_app({**app_config, 'WTF_CSRF_ENABLED': True})
    yield protected
    with protected.app_context():
        db.session.remove()
        db.engine.dispose()


def post_urls(app, world) -> list[tuple[str, str]]:
    """(endpoint, url) for every rule that accepts POST, its ids pointing at party A's objects."""
    urls = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if 'POST' not in rule.methods or rule.endpoint in CSRF_EXEMPT:
            continue
        values = {}
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                values[name] = world.a.ids[ID_KINDS[name]]
            else:
                assert name in PLACEHOLDERS, f'{rule.rule}: add a value for <{name}> to PLACEHOLDERS'
                values[name] = PLACEHOLDERS[name]
        urls.append((rule.endpoint, rule.build(values, append_unknown=False)[1]))
    return urls


def _audit_count(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(AuditEvent.id)))
        db.session.remove()
    return count


@pytest.mark.parametrize('who', ['signed-out visitor', 'owner of organisation A', 'administrator'])
def test_every_post_route_refuses_a_request_without_a_csrf_token(csrf_app, who):
    world = build_world(csrf_app)
    client = csrf_app.test_client()
    user = {'signed-out visitor': None, 'owner of organisation A': world.a.users['provider'],
            'administrator': None}[who]
    if who == 'administrator':
        from registry.accounts.models import Role
        from tests.factories import make_user

        with csrf_app.app_context():
            user = make_user(Role.ADMIN).id
            db.session.remove()
    sign_in(csrf_app, client, user)
    before = _audit_count(csrf_app)
    urls = post_urls(csrf_app, world)
    assert len(urls) > 10, 'expected many POST routes'
    failures = []
    for endpoint, url in urls:
        response = client.post(url, data={'name': 'x', 'email': 'someone@example.org'})
        if response.status_code != 400:
            failures.append(f'POST {url} ({endpoint}) -> {response.status_code}')
    assert not failures, f'POSTs without a CSRF token were not refused for the {who}:\n  ' + '\n  '.join(failures)
    assert _audit_count(csrf_app) == before


def test_a_forged_or_other_sessions_token_is_refused_and_the_pages_own_token_works(csrf_app):
    world = build_world(csrf_app)
    with csrf_app.app_context():
        from registry.accounts.models import User

        email = db.session.get(User, world.a.users['provider']).email
        db.session.remove()
    attacker, victim = csrf_app.test_client(), csrf_app.test_client()
    stolen = csrf_token(attacker.get('/sign-in').get_data(as_text=True))  # valid, but for the attacker's session
    token = csrf_token(victim.get('/sign-in').get_data(as_text=True))
    data = {'email': email, 'password': PASSWORD}
    assert victim.post('/sign-in', data={**data, 'csrf_token': stolen}).status_code == 400
    assert victim.post('/sign-in', data={**data, 'csrf_token': token[:-3] + 'abc'}).status_code == 400
    response = victim.post('/sign-in', data={**data, 'csrf_token': token})
    assert response.status_code == 302 and response.headers['Location'] == '/your-attention'
