"""Every route taking an object id refuses the other party: signed-out visitors, other organisations, authorities.

Routes are discovered from ``app.url_map``, so a route added later is attacked too. Each id parameter maps to
an object kind in :data:`ID_KINDS`; a new parameter name fails the suite until it is added there, and a route
that is public by design must be listed in :data:`PUBLIC_ENDPOINTS` with a reason.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter, Rule

from registry.audit.models import AuditEvent
from registry.extensions import db
from tests.security.conftest import SECRET_POSTCODE, SECRET_STREET, Party, World, sign_in

#: URL parameter -> the kind of object it names (the world builds one of each kind per party).
ID_KINDS = {
    'organisation_id': 'organisation',
    'setting_id': 'setting',
    'application_id': 'application',
    'evidence_id': 'evidence',
    'membership_id': 'membership',
    'user_id': 'user',
    'shortlist_id': 'shortlist',
    'qualification_id': 'qualification',
    'requirements_id': 'requirements',
    'local_application_id': 'local_application',
    'entry_id': 'shortlist_entry',
    'referral_id': 'referral',
    'response_id': 'referral_response',
    'offer_id': 'offer',
    'placement_id': 'placement',
    'conflict_id': 'conflict',
    'item_id': 'ofsted_review',
    'notification_id': 'notification',
    'consortium_id': 'consortium',
    'unlisted_setting_id': 'unlisted_setting',
}
#: Kinds owned by a local authority's commissioners rather than by a provider organisation.
AUTHORITY_KINDS = {'shortlist', 'shortlist_entry', 'requirements', 'referral', 'offer', 'placement', 'consortium',
                   'unlisted_setting'}
#: Values for the other (non-id) parameters of id-taking routes.
OTHER_PARAMS = {'section_id': 'policies', 'action': 'suspend', 'version': '2026.2'}

#: Endpoints anyone may read although they take an id: they still must not show confidential fields.
PUBLIC_ENDPOINTS: dict[str, str] = {
    'search.provider_profile': 'the public directory profile of a qualified provider (public fields only)',
    'api.get_setting': 'the open JSON API for one directory entry (public fields only)',
    'api.get_provider': 'the open JSON API for one provider (public fields only)',
}
#: GET endpoints on provider objects that commissioners of any authority may read, with the reason.
COMMISSIONER_MAY_READ: dict[str, str] = {
    'qualification.download_evidence': 'commissioners read the evidence of qualified providers (DESIGN: due '
                                       'diligence before placing); organisation A is qualified in the world',
    'placements.view_placement': "the host authority sees placements into its area without child details (an "
                                 "out-of-area notice); in the world, authority Y hosts A's placement at Home A in "
                                 'Leeds. Other authorities are refused (tests/placements)',
}

SIGN_IN_PATH = '/sign-in'
METHODS = ('GET', 'POST')


def id_rules(app) -> list[Rule]:
    """Every rule with at least one integer path parameter."""
    return sorted((rule for rule in app.url_map.iter_rules()
                   if any(isinstance(converter, IntegerConverter) for converter in rule._converters.values())),
                  key=lambda rule: (rule.rule, rule.endpoint))


def kinds_of(rule: Rule) -> set[str]:
    return {ID_KINDS[name] for name, converter in rule._converters.items()
            if isinstance(converter, IntegerConverter) and name in ID_KINDS}


def build_url(rule: Rule, party: Party) -> str:
    """The rule's URL pointing at ``party``'s objects; fails (never skips) when the table lacks a parameter."""
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            kind = ID_KINDS.get(name)
            if kind is None:
                pytest.fail(f'{rule.endpoint} ({rule.rule}) takes <int:{name}>, which is not in ID_KINDS: add it '
                            'to ID_KINDS here and build such an object in tests/security/conftest.py')
            if kind not in party.ids:
                pytest.fail(f'{rule.endpoint} ({rule.rule}) needs a {kind!r} object, which the security world cannot '
                            'build yet: add it to _party()/_add_workspace_objects() in tests/security/conftest.py')
            values[name] = party.ids[kind]
        elif name in OTHER_PARAMS:
            values[name] = OTHER_PARAMS[name]
        else:
            pytest.fail(f'{rule.endpoint} ({rule.rule}) takes <{name}>: add a value for it to OTHER_PARAMS')
    built = rule.build(values, append_unknown=False)
    assert built is not None, f'could not build {rule.rule} from {values}'
    return built[1]


def _request(client, method: str, url: str):
    return client.open(url, method=method, data={} if method == 'POST' else None)


def _audit_count(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(AuditEvent.id)))
        db.session.remove()
    return count


def attack(app, client, world: World, *, allowed, rules, methods_for=lambda rule: METHODS) -> list[str]:
    """Request party A's objects through ``rules``; return a line for every response that is not allowed."""
    before = _audit_count(app)
    failures = []
    for rule in rules:
        url = build_url(rule, world.a)
        for method in methods_for(rule):
            if method not in rule.methods:
                continue
            response = _request(client, method, url)
            if not allowed(response):
                location = response.headers.get('Location', '')
                failures.append(f'{method} {url} ({rule.endpoint}) -> {response.status_code} {location}'.rstrip())
    assert _audit_count(app) == before, 'a refused request still wrote an audit event (something changed)'
    return failures


def _refused(response) -> bool:
    return response.status_code in (403, 404)


def _refused_or_sign_in(response) -> bool:
    if response.status_code in (302, 303):
        return urlsplit(response.headers['Location']).path == SIGN_IN_PATH
    return response.status_code in (401, 403, 404)


def _protected(app) -> list[Rule]:
    return [rule for rule in id_rules(app) if rule.endpoint not in PUBLIC_ENDPOINTS]


def _explain(failures: list[str], who: str) -> str:
    return (f'{who} reached party A\'s objects:\n  ' + '\n  '.join(failures)
            + '\nIf an endpoint is public by design, add it to PUBLIC_ENDPOINTS with a reason.')


def test_every_id_taking_route_maps_its_parameters_to_an_object_the_world_can_build(app, world):
    assert id_rules(app), 'no id-taking routes found: has the url_map changed shape?'
    for rule in id_rules(app):
        build_url(rule, world.a)
        build_url(rule, world.b)
    for endpoint in PUBLIC_ENDPOINTS:
        if endpoint.partition('.')[0] in app.blueprints:
            assert endpoint in app.view_functions, f'PUBLIC_ENDPOINTS lists {endpoint}, which no longer exists'


def test_attack_urls_point_at_real_objects_that_their_owner_can_reach(app, client, world):
    """A guard on the test itself: if URLs were wrong every attack would 404 and pass for the wrong reason."""
    misses = []
    for actor, kinds_wanted in (('provider', lambda kinds: not kinds & AUTHORITY_KINDS),
                                ('commissioner', lambda kinds: bool(kinds & AUTHORITY_KINDS))):
        sign_in(app, client, world.a.users[actor])
        for rule in id_rules(app):
            if 'GET' in rule.methods and kinds_wanted(kinds_of(rule)):
                url = build_url(rule, world.a)
                if client.get(url).status_code == 404:
                    misses.append(f'{actor}: GET {url} ({rule.endpoint}) -> 404')
    assert not misses, 'the owner could not find its own objects:\n  ' + '\n  '.join(misses)


def test_signed_out_visitor_cannot_reach_any_object_route(app, client, world):
    failures = attack(app, client, world, allowed=_refused_or_sign_in, rules=_protected(app))
    assert not failures, _explain(failures, 'A signed-out visitor')


def test_provider_cannot_reach_another_organisations_objects(app, client, world):
    sign_in(app, client, world.b.users['provider'])
    failures = attack(app, client, world, allowed=_refused, rules=_protected(app))
    assert not failures, _explain(failures, 'The provider of organisation B')


def test_commissioner_cannot_reach_another_authoritys_objects_or_change_provider_objects(app, client, world):
    sign_in(app, client, world.b.users['commissioner'])

    def methods_for(rule):
        return ('POST',) if rule.endpoint in COMMISSIONER_MAY_READ else METHODS

    failures = attack(app, client, world, allowed=_refused, rules=_protected(app), methods_for=methods_for)
    assert not failures, _explain(failures, f'A commissioner of authority {world.b.ids["authority"]}') + (
        '\nIf commissioners may read a provider page by design, add it to COMMISSIONER_MAY_READ with a reason.')


def test_public_id_routes_never_show_a_childrens_home_address(app, client, world):
    for endpoint in PUBLIC_ENDPOINTS:
        for rule in app.url_map.iter_rules(endpoint):
            # commissioners and the board see exact locations by design; everyone else must not
            for user in (None, world.b.users['provider']):
                sign_in(app, client, user)
                body = client.get(build_url(rule, world.a)).get_data(as_text=True)
                assert SECRET_STREET not in body and SECRET_POSTCODE not in body, f'{rule.rule} shows the address'
