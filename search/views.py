"""Directory pages: the public directory, the commissioner search and provider profiles."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import lru_cache

from flask import abort, g, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from qualification.listing import acceptance_layers
from registry.accounts.models import Role
from registry.db import utcnow
from registry.ofsted.services import latest_release_date
from registry.permissions import is_board, roles_required
from registry.settings.taxonomy import NEEDS, Judgement, ProvisionType
from registry.templating import chrome_with_slots, render_framed

from . import bp, profiles
from . import map as svg_map
from .query import MAX_RADIUS_MILES, MIN_RADIUS_MILES, SORTS, PageOutOfRangeError, QueryError, parse_query
from .result_rows import RowContext, result_rows

PAGE_SIZE = 20
#: Vacancies confirmed longer ago than this are marked "stale".
STALE_AFTER = timedelta(days=7)
RADIUS_CHOICES = (5, 10, 25, 50, 100, 300)
#: Stands for the page number in a search's URL while its page links are made (see :func:`page_url`).
PAGE_PLACEHOLDER = 'PAGE'
SORT_LABELS = {'relevance': 'Best match', 'distance': 'Distance', 'judgement': 'Ofsted judgement',
               'updated': 'Recently updated'}
#: Where each error's link in the error summary points.
ERROR_TARGETS = {'q': 'q', 'postcode': 'postcode', 'radius': 'radius', 'sort': 'sort', 'age': 'age',
                 'provision_type': 'provision_type', 'min_judgement': 'min_judgement', 'need': 'need',
                 'authority': 'authority', 'region': 'region', 'sex': 'sex', 'has_vacancy': 'has_vacancy',
                 'accepted_by': 'accepted_by', 'page': 'results', 'page_size': 'results'}
COMMISSIONER_ROLES = (Role.COMMISSIONER, Role.ASSESSOR, Role.BOARD_MEMBER, Role.ADMIN)


@dataclass
class Outcome:
    """What one search request came to: results, or errors to show, or a page past the end."""

    query: object = None
    results: object = None
    errors: dict[str, str] = field(default_factory=dict)
    last_page: int | None = None


def public_radius_errors(args) -> dict[str, str]:
    """Public searches take whole miles only, so a radius cannot be narrowed step by step onto a home."""
    raw = (args.get('radius') or '').strip()
    if raw and not re.fullmatch(r'\d{1,6}', raw):
        return {'radius': f'Enter the distance as a whole number of miles from {MIN_RADIUS_MILES} '
                          f'to {MAX_RADIUS_MILES}'}
    return {}


def run(args, *, public: bool, page_size: int = PAGE_SIZE, highlight: bool = True, market: bool = False,
        in_house_for: str | None = None) -> Outcome:
    """Parse and run a search, turning every kind of bad input into messages instead of an error page.

    Public searches filter, sort and measure on public points (a children's home at its authority's centroid);
    only the commissioner search (``public=False``, behind its role check) uses exact locations.

    :param highlight: mark the matched words in each hit (the pages show them; the JSON API does not).
    :param market: include settings not on the national list (commissioner search only; never with ``public``).
    """
    from . import search

    errors = public_radius_errors(args) if public else {}
    try:
        query = parse_query(args, page_size=page_size)
    except QueryError as exc:
        return Outcome(errors={**exc.errors, **errors})
    if errors:
        return Outcome(query=query, errors=errors)
    query = replace(query, exact_locations=not public, highlight=highlight, market=market and not public,
                    in_house_for=in_house_for if market and not public else None)
    try:
        return Outcome(query=query, results=search(query))
    except PageOutOfRangeError as exc:
        return Outcome(query=query, errors=exc.errors, last_page=exc.last_page)
    except QueryError as exc:
        return Outcome(query=query, errors=exc.errors)


def page_url(endpoint: str, page: int) -> str:
    """This search's URL with another page number: built once a request with a placeholder page, then each
    number put in its place (a pagination has up to nine links)."""
    kept = g.setdefault('page_urls', {})
    url = kept.get(endpoint)
    if url is None:
        args = MultiDict(request.args)
        args.setlist('page', [PAGE_PLACEHOLDER])
        url = kept[endpoint] = url_for(endpoint, **args.to_dict(flat=False))
    for separator in '?&':   # the page parameter itself, not another whose name ends in "page"
        url = url.replace(f'{separator}page={PAGE_PLACEHOLDER}', f'{separator}page={int(page)}')
    return url


def pagination(endpoint: str, results) -> dict | None:
    """Parameters for the GOV.UK pagination component, or None for a single page."""
    if results is None or results.pages <= 1:
        return None
    pages = sorted({1, results.pages, *range(max(1, results.page - 2), min(results.pages, results.page + 2) + 1)})
    items, previous = [], 0
    for number in pages:
        if number - previous > 1:
            items.append({'ellipsis': True})
        items.append({'number': number, 'href': page_url(endpoint, number), 'current': number == results.page})
        previous = number
    params = {'items': items, 'landmarkLabel': 'Results pages'}
    if results.has_previous:
        params['previous'] = {'href': page_url(endpoint, results.page - 1)}
    if results.has_next:
        params['next'] = {'href': page_url(endpoint, results.page + 1)}
    return params


def pagination_html(endpoint: str, results) -> Markup | None:
    """The GOV.UK pagination component for a page of results, rendered once per shape (which pages show, which
    is current): its links and numbers are filled in afterwards (:func:`registry.templating.chrome_with_slots`)."""
    params = pagination(endpoint, results)
    if params is None:
        return None
    slots: dict[str, str] = {}

    def slot(value) -> str:
        placeholder = f'@@{len(slots)}@@'
        slots[placeholder] = str(value)
        return placeholder

    for item in params['items']:
        if not item.get('ellipsis'):
            item['href'], item['number'] = slot(item['href']), slot(item['number'])
    for link in ('previous', 'next'):
        if link in params:
            params[link]['href'] = slot(params[link]['href'])
    return chrome_with_slots('govukPagination', params, slots)


def choices(args, results, names: dict[str, tuple]) -> dict[str, Markup]:
    """Each filter list's options as HTML, with their counts and whether chosen: made here in one join per list,
    since a Jinja loop (let alone a macro call) per option was most of a directory page's rendering.

    ``names`` maps a parameter to (facet counted, ((value, label), ...), checkboxes: True / select options: False).
    """
    facets = results.facets if results is not None else {}
    made = {}
    for param, (facet, options, boxes) in names.items():
        chosen = set(args.getlist(param)) if boxes else {args.get(param, '')}
        counts = facets.get(facet) if facet else None
        parts = []
        for raw, value, label in _escaped(options):
            text = label if counts is None else f'{label} ({counts.get(raw, 0)})'
            on = raw in chosen
            if boxes:
                parts.append(f'<div class="govuk-checkboxes__item"><input class="govuk-checkboxes__input" '
                             f'id="{param}-{value}" name="{param}" type="checkbox" value="{value}"'
                             f'{" checked" if on else ""}><label class="govuk-label '
                             f'govuk-checkboxes__label" for="{param}-{value}">{text}</label></div>')
            else:
                parts.append(f'<option value="{value}"{" selected" if on else ""}>{text}</option>')
        made[param] = Markup('\n'.join(parts))
    return made


@lru_cache(maxsize=64)
def _escaped(options: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str, str], ...]:
    """(value, value as HTML, label as HTML) for each option: the lists are fixed, so each is escaped once."""
    return tuple((raw, str(escape(raw)), str(escape(label))) for raw, label in options)


#: The fixed filter lists, as (value, label) pairs.
PROVISION_TYPE_OPTIONS = tuple((ptype.value, ptype.label) for ptype in ProvisionType)
JUDGEMENT_OPTIONS = tuple((judgement.value, judgement.label) for judgement in Judgement)
NEED_OPTIONS = tuple(NEEDS.items())
RADIUS_OPTIONS = tuple((str(choice), f'{choice} miles') for choice in RADIUS_CHOICES)


#: Search parameters that are filters a person chose (the words and sort are not), in the order they are listed.
FILTER_PARAMS = ('postcode', 'radius', 'provision_type', 'min_judgement', 'need', 'region', 'authority', 'age',
                 'sex', 'has_vacancy', 'accepted_by')


def _without(endpoint: str, args, drop: list[tuple[str, str]]) -> str:
    """This search's URL without the given (parameter, value) pairs, back on page 1."""
    kept = MultiDict([(key, value) for key, value in args.items(multi=True)
                      if (key, value) not in drop and key != 'page' and value != ''])
    return url_for(endpoint, **kept.to_dict(flat=False))


def chosen_filters(endpoint: str, args, *, authority_names: dict, region_names: dict) -> list[dict]:
    """Each filter chosen, as words with a link that removes just it (GOV.UK "selected filters")."""
    labels = {
        'postcode': lambda value: f'Near {value.upper() if any(c.isdigit() for c in value) else value}',
        'radius': lambda value: f'Within {value} miles',
        'provision_type': lambda value: ProvisionType(value).label if value in set(ProvisionType) else value,
        'min_judgement': lambda value: f'Ofsted at least {Judgement(value).label}' if value in set(Judgement)
        else value,
        'need': lambda value: NEEDS.get(value, value),
        'region': lambda value: region_names.get(value.upper(), value),
        'authority': lambda value: authority_names.get(value.upper(), value),
        'age': lambda value: f'Aged {value}',
        'sex': lambda value: {'female': 'Settings for girls', 'male': 'Settings for boys'}.get(value, value),
        'has_vacancy': lambda _value: 'Has a vacancy',
        'accepted_by': lambda value: f'Accepted by {authority_names.get(value.upper(), value)}',
    }
    chosen = []
    for param in FILTER_PARAMS:
        for value in args.getlist(param):
            if not value or (param == 'sex' and value == 'any'):
                continue
            drop = [(param, value)]
            if param == 'postcode':   # a distance means nothing without the place
                drop += [('radius', radius) for radius in args.getlist('radius')]
            chosen.append({'text': labels[param](value), 'href': _without(endpoint, args, drop)})
    return chosen


def read_as_notes(endpoint: str, args, query) -> list[dict]:
    """How typed words were read ("ASD" as autism), each with a link to search for exactly what was typed."""
    notes = []
    for typed, meaning in getattr(query, 'read_as', ()) or ():
        exact = MultiDict([(key, value) for key, value in args.items(multi=True) if key not in {'q', 'page'}])
        words = args.get('q', '')
        exact.add('q', re.sub(re.escape(typed), f'"{typed}"', words, count=1, flags=re.IGNORECASE))
        notes.append({'typed': typed, 'meaning': meaning, 'href': url_for(endpoint, **exact.to_dict(flat=False))})
    return notes


def _context(endpoint: str, outcome: Outcome, *, commissioner: bool, my_authority: str | None = None) -> dict:
    names = profiles.authority_names()
    results = outcome.results
    context = {
        'outcome': outcome, 'results': results, 'query': outcome.query, 'args': request.args,
        'endpoint': endpoint, 'commissioner': commissioner,
        'error_list': [{'text': message, 'href': '#' + ERROR_TARGETS.get(param, 'q')}
                       for param, message in outcome.errors.items()],
        'last_page_url': page_url(endpoint, outcome.last_page) if outcome.last_page else None,
        'pagination': pagination_html(endpoint, results),
        'authority_names': names, 'region_names': profiles.region_names(),
        'radius_choices': RADIUS_CHOICES, 'sort_labels': SORT_LABELS,
        'sorts': SORTS, 'map_svg': None, 'result_rows': '', 'my_authority': my_authority,
    }
    context['chosen'] = chosen_filters(endpoint, request.args, authority_names=names,
                                       region_names=context['region_names'])
    context['clear_url'] = url_for(endpoint, **({'q': request.args['q']} if request.args.get('q') else {}))
    context['read_as'] = read_as_notes(endpoint, request.args, outcome.query)
    context['filter_errors'] = sorted(set(outcome.errors) & set(FILTER_PARAMS) - {'postcode', 'radius'})
    context['field_errors'] = {param: Markup(f'<p class="govuk-error-message" id="{escape(param)}-error"><span '
                                             f'class="govuk-visually-hidden">Error:</span> {escape(message)}</p>')
                               for param, message in outcome.errors.items()}
    context['choices'] = choices(request.args, results, {
        'provision_type': ('provision_type', PROVISION_TYPE_OPTIONS, True),
        'need': ('needs', NEED_OPTIONS, True),
        'region': ('region', tuple(sorted(context['region_names'].items(), key=lambda item: item[1])), True),
        'authority': ('authority', tuple(names.items()), False),   # in name order
        'min_judgement': ('judgement', JUDGEMENT_OPTIONS, False),
        'radius': (None, RADIUS_OPTIONS, False),
    })
    if results is not None and results.hits:
        context['result_rows'] = result_rows(results.hits, _row_context(results, commissioner, my_authority))
        context['map_svg'] = svg_map.results_map(results.hits, exact=commissioner,
                                             title='Map of this page of results')
    return context


def _row_context(results, commissioner: bool, my_authority: str | None) -> RowContext:
    # Every result links to its provider's profile: one URL built, the others by its pattern (ids end the path).
    profile_prefix = url_for('search.provider_profile', organisation_id=0)[:-1]
    return RowContext(
        commissioner=commissioner, profile_url=lambda organisation_id: f'{profile_prefix}{int(organisation_id)}',
        stale_before=utcnow() - STALE_AFTER, register_as_at=latest_release_date(),
        locations=profiles.exact_locations(results.ids) if commissioner else {}, my_authority=my_authority,
        accepted_layers=acceptance_layers(my_authority) if commissioner and my_authority else {})


def _page(context: dict) -> str:
    """The directory page: its main content in the kept frame (see :func:`registry.templating.render_framed`)."""
    title = ('Error: ' if context['error_list'] else '') + (
        'Commissioner search' if context['commissioner'] else 'Find a qualified provider')
    return render_framed('search/directory.html', 'search/_directory_main.html', title=title, **context)


@bp.route('/directory')
def directory():
    """The public directory: public fields only, children's homes by district and authority."""
    outcome = run(request.args, public=True)
    context = _context('search.directory', outcome, commissioner=False)
    return _page(context), 400 if outcome.errors else 200


@bp.route('/directory/commissioner')
@roles_required(*COMMISSIONER_ROLES)
def commissioner_search():
    """The commissioner search: vacancies, local acceptance, exact locations and evidence links.

    Includes the whole market by default (``market=listed`` for the national list only): Ofsted-registered settings
    not yet qualified and in-house services the commissioner may see, marked and ranked after qualified ones.
    """
    outcome = run(request.args, public=False, market=request.args.get('market', 'all') != 'listed',
                  in_house_for=in_house_viewer(current_user))
    context = _context('search.commissioner_search', outcome, commissioner=True,
                       my_authority=current_user.authority_code)
    return _page(context), 400 if outcome.errors else 200


def in_house_viewer(user) -> str | None:
    """Whose in-house services a user's market search includes: a commissioner's authority (and through it its
    consortium partners'), every authority's for the national board."""
    if user.role == Role.COMMISSIONER:
        return user.authority_code
    return '*' if is_board(user) else None


def sees_exact_locations(user) -> bool:
    """Signed-in commissioners and the national board may see exact locations of every setting."""
    return user.is_authenticated and (user.role == Role.COMMISSIONER or is_board(user))


@bp.route('/directory/providers/<int:organisation_id>')
def provider_profile(organisation_id: int):
    """A provider's public details, qualifications, local lists and listed settings."""
    privileged = sees_exact_locations(current_user)
    profile = profiles.provider_profile(organisation_id, with_evidence_for=current_user if privileged else None)
    if profile is None or (not privileged and not profile.entries):
        abort(404)
    locations = profiles.exact_locations([entry.id for entry in profile.entries]) if privileged else {}
    markers = [marker for entry in profile.entries if (marker := svg_map.marker_for(entry, exact=privileged))]
    map_svg = svg_map.render(markers, title=f'Map of {profile.organisation.display_name} settings',
                         description=f'{len(markers)} settings shown as dots, each a link to the setting below, '
                                     'which gives the same information.',
                         link=lambda marker: f'#setting-{marker.id}') if markers else None
    return render_template('search/provider_profile.html', profile=profile, privileged=privileged,
                           locations=locations, map_svg=map_svg, stale_before=utcnow() - STALE_AFTER,
                           my_authority=getattr(current_user, 'authority_code', None),
                           register_as_at=latest_release_date())
