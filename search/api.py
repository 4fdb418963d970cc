"""The read-only JSON API for the directory (public fields only), its OpenAPI document and the HSDS export."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import urlencode

import yaml
from flask import g, jsonify, request, url_for
from werkzeug.datastructures import MultiDict

from registry.extensions import csrf
from registry.geography.distance import miles

from . import api_bp, hsds, profiles
from .views import run

#: The API is public and read-only, so there is nothing for CSRF to protect.
csrf.exempt(api_bp)
OPENAPI_PATH = Path(__file__).parent / 'openapi.yaml'


@cache
def openapi_document() -> dict:
    """The OpenAPI 3.1 description of this API."""
    return yaml.safe_load(OPENAPI_PATH.read_text(encoding='utf-8'))


def errors(messages: dict[str, str], status: int = 400):
    """The API's one error shape: ``{"errors": {param: message}}``."""
    return jsonify({'errors': messages}), status


@api_bp.after_request
def _cache_headers(response):
    if request.method in {'GET', 'HEAD'}:
        # errors (a 503 while the database is down above all) must not be kept by caches
        response.headers['Cache-Control'] = 'public, max-age=60' if response.status_code < 500 else 'no-store'
        response.headers['Access-Control-Allow-Origin'] = '*'
    return response


#: Stands in for an id while building a URL template (no real id is this large).
_ID_MARK = 987654321012


def _link_templates() -> tuple[str, str, str]:
    """The three per-setting URLs with ``{}`` for the id: built once per request instead of three ``url_for`` each."""
    templates = getattr(g, '_setting_link_templates', None)
    if templates is None:
        mark = str(_ID_MARK)
        templates = tuple(url.replace('{', '{{').replace('}', '}}').replace(mark, '{}') for url in (
            url_for('api.get_setting', setting_id=_ID_MARK, _external=True),
            url_for('api.get_provider', organisation_id=_ID_MARK, _external=True),
            url_for('search.provider_profile', organisation_id=_ID_MARK, _external=True)))
        g._setting_link_templates = templates
    return templates


def setting_json(entry, distance_m: float | None = None) -> dict:
    """One setting as the API shows it: public fields, and a distance only where the address is not confidential and
    the service holds the setting's own location (never one to its authority's centre, which would look exact)."""
    data = entry.public_dict()
    data['distance_miles'] = (round(miles(distance_m), 1) if distance_m is not None and not entry.confidential_address
                              and not entry.location_is_approximate else None)
    setting_url, provider_url, html_url = _link_templates()
    data['links'] = {'self': setting_url.format(entry.id), 'provider': provider_url.format(entry.organisation_id),
                     'html': html_url.format(entry.organisation_id) + f'#setting-{entry.id}'}
    return data


def _page_link(page: int) -> str:
    """This search's URL at another page (one ``url_for`` per request, however many links)."""
    base = getattr(g, '_list_settings_url', None)
    if base is None:
        base = g._list_settings_url = url_for('api.list_settings', _external=True)
    args = MultiDict(request.args)
    args.setlist('page', [str(page)])
    return f'{base}?{urlencode(list(args.items(multi=True)))}'


@api_bp.route('/settings')
def list_settings():
    """Search the directory with the same parameters as the directory page."""
    outcome = run(request.args, public=True, highlight=False)
    if outcome.errors:
        body = {'errors': outcome.errors}
        if outcome.last_page:
            body['last_page'] = _page_link(outcome.last_page)
        return jsonify(body), 400
    results = outcome.results
    links = {'self': _page_link(results.page), 'first': _page_link(1), 'last': _page_link(results.pages),
             'next': _page_link(results.page + 1) if results.has_next else None,
             'prev': _page_link(results.page - 1) if results.has_previous else None}
    return jsonify({
        'total': results.total, 'page': results.page, 'page_size': results.page_size, 'pages': results.pages,
        'links': links,
        'results': [setting_json(hit.entry, hit.distance_m) for hit in results.hits],
        'facets': results.facets, 'suggestions': results.suggestions,
    })


@api_bp.route('/settings/<int:setting_id>')
def get_setting(setting_id: int):
    """One listed setting."""
    from . import engine

    entry = engine().get(setting_id)
    if entry is None or not entry.is_qualified:  # the whole market is for commissioners only
        return errors({'setting_id': f'There is no listed setting with id {setting_id}'}, 404)
    return jsonify(setting_json(entry))


@api_bp.route('/providers/<int:organisation_id>')
def get_provider(organisation_id: int):
    """A provider with at least one listed setting: public details, qualifications, local lists, settings."""
    profile = profiles.provider_profile(organisation_id)
    if profile is None or not profile.entries:
        return errors({'organisation_id': f'There is no listed provider with id {organisation_id}'}, 404)
    organisation = profile.organisation
    return jsonify({
        'id': organisation.id, 'name': organisation.display_name, 'legal_name': organisation.legal_name,
        'legal_form': organisation.legal_form.value, 'sector': organisation.sector.value,
        'company_number': organisation.company_number or None, 'charity_number': organisation.charity_number or None,
        'website': organisation.website or None,
        'qualifications': [{'lot': q.lot.value, 'status': q.status.value, 'scheme_version': q.scheme_version,
                            'valid_from': q.valid_from.isoformat(), 'valid_to': q.valid_to.isoformat()}
                           for q in profile.qualifications],
        'accepted_by': [{'code': code, 'name': name} for code, name in profile.accepted_by.items()],
        'settings': [setting_json(entry) for entry in profile.entries],
        'links': {'self': url_for('api.get_provider', organisation_id=organisation.id, _external=True),
                  'html': url_for('search.provider_profile', organisation_id=organisation.id, _external=True)},
    })


@api_bp.route('/hsds/services')
def hsds_services():
    """Every listed setting as an Open Referral UK (HSDS) service, paged."""
    try:
        page = hsds.parse_paging(request.args)
    except ValueError as exc:
        return errors(exc.args[0])
    try:
        return jsonify(hsds.services_page(*page))
    except hsds.PageOutOfRangeError as exc:
        return errors(exc.errors)


@api_bp.route('/openapi.json')
def openapi():
    """The OpenAPI document, as JSON."""
    return jsonify(openapi_document())
