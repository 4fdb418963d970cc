"""The directory's result rows as HTML, made in Python.

A page of 20 results is about 15 escaped fields each; in Jinja (a loop with a dozen conditionals per row) that was
the largest part of a directory page's rendering once the chrome and filter lists were made once. The markup here is
the template's markup, field for field: ``search/templates/search/directory.html`` only places the joined string.
Everything that came from an entry is escaped; highlights are already HTML-safe (:func:`search.query.render_highlight`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from jinja2.filters import do_truncate
from markupsafe import Markup, escape

from registry.geography.distance import km, miles
from registry.templating import format_date, format_datetime, place_name

from .entries import IN_HOUSE, NOT_QUALIFIED
from .profiles import facet_label

#: Characters of a description shown when no words were highlighted in it.
DESCRIPTION_SHOWN = 200


@dataclass(frozen=True)
class RowContext:
    """What every row on one page shares: who is looking and what the page already knows."""

    commissioner: bool
    profile_url: Callable[[int], str]
    stale_before: datetime
    register_as_at: date | None = None
    #: Exact addresses by entry id (commissioner searches only).
    locations: dict = field(default_factory=dict)
    my_authority: str | None = None
    #: (organisation id, lot) to the layers that accepted it for ``my_authority`` ("Leeds", "West Yorkshire").
    accepted_layers: dict = field(default_factory=dict)


def result_rows(hits, context: RowContext) -> Markup:
    """Every hit's ``<li>``, joined."""
    return Markup('\n'.join(_row(hit, context) for hit in hits))


def _row(hit, context: RowContext) -> str:
    entry, highlights = hit.entry, hit.highlights
    name = highlights.get('name') or escape(entry.name)
    if entry.is_qualified:
        heading = (f'<a class="govuk-link" href="{escape(context.profile_url(entry.organisation_id))}'
                   f'#setting-{entry.id}">{name}</a>')
    else:
        colour = 'govuk-tag--blue' if entry.standing == IN_HOUSE else 'govuk-tag--grey'
        heading = (f'{name} <strong class="govuk-tag {colour}" data-standing="{escape(entry.standing)}">'
                   f'{escape(entry.standing_label)}</strong>')
    organisation = highlights.get('organisation_name') or escape(entry.organisation_name)
    rows = [_where(entry, context), _distance(hit, context), _ofsted(entry, context), _ages(entry)]
    rows += _commissioner_rows(entry, context) if context.commissioner else [_public_vacancies(entry)]
    parts = [
        f'<li class="govuk-!-margin-bottom-6" id="result-{entry.id}" data-setting-id="{entry.id}">',
        f'<h3 class="govuk-heading-s govuk-!-margin-bottom-1">{heading}</h3>',
        f'<p class="govuk-body-s govuk-!-margin-bottom-1">{organisation} · {escape(entry.provision_type_label)}</p>',
        '<dl class="govuk-summary-list govuk-summary-list--no-border govuk-!-margin-bottom-1">',
        *(row for row in rows if row),
        '</dl>',
    ]
    if highlights.get('description'):
        parts.append(f'<p class="govuk-body-s">{highlights["description"]}</p>')
    elif entry.description:
        shown = do_truncate(current_app.jinja_env, entry.description, DESCRIPTION_SHOWN)
        parts.append(f'<p class="govuk-body-s">{escape(shown)}</p>')
    if context.commissioner and entry.is_qualified:
        parts.append(f'<p class="govuk-body-s"><a class="govuk-link" href="'
                     f'{escape(context.profile_url(entry.organisation_id))}#evidence">Provider profile and '
                     f'evidence</a></p>')
    parts.append('</li>')
    return '\n'.join(parts)


def _summary_row(key: str, value: str) -> str:
    return (f'<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">{key}</dt>'
            f'<dd class="govuk-summary-list__value">{value}</dd></div>')


def _where(entry, context: RowContext) -> str:
    """The address only where the viewer may see it; always the district and authority."""
    address = ''
    if context.commissioner and entry.id in context.locations:
        location = context.locations[entry.id]
        address = f'{escape(location["address"])}, {escape(location["postcode"])}<br>'
    elif not entry.confidential_address and entry.address:
        address = f'{escape(entry.address)}, {escape(entry.postcode)}<br>'
    return _summary_row('Where', f'{address}{escape(place_name(entry.district_name, entry.authority_name))}')


def _distance(hit, context: RowContext) -> str:
    """Miles (and km for commissioners); never to a confidential home on a public page. Where the service knows only
    the entry's authority (:attr:`~search.entries.DirectoryEntry.location_is_approximate`) the distance is to that
    authority's centre, so it is given in whole miles and says so."""
    entry = hit.entry
    if hit.distance_m is None or not (context.commissioner or not entry.confidential_address):
        return ''
    if entry.location_is_approximate:
        return _summary_row('Distance', _approximate_distance(hit.distance_m, entry, context))
    value = f'{miles(hit.distance_m):.1f} miles'
    if context.commissioner:
        value += f' ({km(hit.distance_m):.1f} km)'
    return _summary_row('Distance', value)


def _approximate_distance(distance_m: float, entry, context: RowContext) -> str:
    """"About 2 miles (3 km) to the centre of Leeds: its postcode could not be found": never a tenth of a mile."""
    about = round(miles(distance_m))
    value = 'Under a mile' if about < 1 else f'About {about} mile{"" if about == 1 else "s"}'
    if context.commissioner and about >= 1:
        value += f' ({round(km(distance_m))} km)'
    why = 'Ofsted does not publish the address' if entry.confidential_address else 'its postcode could not be found'
    return f'{value} to the centre of {escape(entry.authority_name)}: {why}'


def _ofsted(entry, context: RowContext) -> str:
    # str(): adding to Markup would escape the HTML added after it
    value = str(escape(facet_label('judgement', entry.judgement))) if entry.judgement else 'Not yet judged'
    if entry.judgement_date:
        value += f' ({format_date(entry.judgement_date)})'
    report_url = entry.ofsted_report_url
    if report_url:
        checked = (f"Registration checked against Ofsted's register of {format_date(context.register_as_at)}. "
                   if context.register_as_at else '')
        value += (f'<br><span class="govuk-body-s">{checked}<a class="govuk-link" href="{escape(report_url)}" '
                  f'rel="noopener noreferrer">Ofsted reports<span class="govuk-visually-hidden"> for '
                  f'{escape(entry.name)}</span></a></span>')
    return _summary_row('Ofsted', value)


def _ages(entry) -> str:
    only = '' if entry.sex == 'any' else f', {"girls" if entry.sex == "female" else "boys"} only'
    return _summary_row('Ages', f'{entry.age_min} to {entry.age_max}{only}')


def _public_vacancies(entry) -> str:
    return _summary_row('Vacancies', 'Yes' if entry.has_vacancy else 'None at present')


def _commissioner_rows(entry, context: RowContext) -> list[str]:
    """Vacancies with when they were confirmed, then the entry's standing or local list."""
    vacancies = f'{entry.vacancies} of {entry.places}'
    if entry.vacancies_confirmed_at:
        vacancies += f', confirmed {format_datetime(entry.vacancies_confirmed_at)}'
        if entry.vacancies_confirmed_at < context.stale_before:
            vacancies += ' <strong class="govuk-tag govuk-tag--orange">Stale</strong>'
    else:
        vacancies += ' <strong class="govuk-tag govuk-tag--orange">Never confirmed</strong>'
    rows = [_summary_row('Vacancies', vacancies)]
    if entry.standing == IN_HOUSE:
        rows.append(_summary_row('Standing', f'In-house service of {escape(entry.organisation_name)}: not on the '
                                             'national list'))
    elif entry.standing == NOT_QUALIFIED:
        urn = f' (URN {escape(entry.urn)})' if entry.urn else ''
        rows.append(_summary_row('Standing', f'Not qualified: registered with Ofsted{urn} but not on the national '
                                             'list'))
    else:
        rows.append(_summary_row('Local list', _local_list(entry, context)))
    return rows


def _local_list(entry, context: RowContext) -> str:
    mine = context.my_authority
    value = ''
    if mine and mine in entry.accepted_by:
        layers = context.accepted_layers.get((entry.organisation_id, entry.lot))
        by = ' and '.join(layers) if layers else 'my authority'
        value = f'<strong class="govuk-tag govuk-tag--green">Accepted by {escape(by)}</strong>'
    elif mine:
        value = "Not on my authority's list"
    if entry.accepted_by:
        count = len(entry.accepted_by)
        value += f' ({count} {"authority" if count == 1 else "authorities"})'
    return value
