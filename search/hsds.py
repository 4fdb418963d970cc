"""Open Referral UK (HSDS) export: every listed setting as a service with its organisation, location and area.

For confidential types (children's homes), and for any entry the service places only at its authority's centre
(``DirectoryEntry.location_is_approximate``), the export carries no location at all — no address, postcode or
latitude/longitude — only the local authority as the service area.
"""

from __future__ import annotations

import math

from registry.geography.distance import to_wgs84

from . import profiles
from .query import PageOutOfRangeError

__all__ = ['PageOutOfRangeError', 'parse_paging', 'service', 'services_page']

DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 100


def parse_paging(args) -> tuple[int, int]:
    """``page`` and ``per_page`` from URL arguments; raises ValueError({param: message})."""
    found, problems = {}, {}
    for name, default, high in (('page', 1, 1_000_000), ('per_page', DEFAULT_PER_PAGE, MAX_PER_PAGE)):
        raw = (args.get(name) or '').strip()
        if not raw:
            found[name] = default
        elif raw.isdecimal() and 1 <= int(raw) <= high:
            found[name] = int(raw)
        else:
            problems[name] = f'{name} must be a whole number from 1 to {high}'
    if problems:
        raise ValueError(problems)
    return found['page'], found['per_page']


def _organization(organisation, fallback_name: str, organisation_id: int) -> dict:
    return {
        'id': f'organisation-{organisation_id}',
        'name': organisation.display_name if organisation else fallback_name,
        'description': organisation.legal_name if organisation else '',
        'url': (organisation.website or None) if organisation else None,
        'email': organisation.contact_email if organisation else None,
        'legal_status': organisation.legal_form.label if organisation else None,
    }


def service(entry, organisation=None) -> dict:
    """One directory entry as an Open Referral UK service record."""
    service_id = f'setting-{entry.id}'
    record = {
        'id': service_id,
        'name': entry.name,
        'description': entry.description,
        'status': 'active',
        'url': None,
        'email': organisation.contact_email if organisation else None,
        'organization': _organization(organisation, entry.organisation_name, entry.organisation_id),
        'service_areas': [{'id': f'{service_id}-area-{entry.authority_code}', 'service_area': entry.authority_name,
                           'extent': entry.authority_code, 'uri': None}],
        'eligibilitys': [{'id': f'{service_id}-eligibility', 'eligibility': 'age',
                          'minimum_age': entry.age_min, 'maximum_age': entry.age_max}],
        'contacts': [{'id': f'{service_id}-contact', 'name': 'Referrals', 'title': None,
                      'phones': ([{'id': f'{service_id}-phone', 'number': organisation.contact_phone}]
                                 if organisation and organisation.contact_phone else [])}],
        'service_taxonomys': [{'id': f'{service_id}-taxonomy', 'taxonomy': {
            'id': entry.provision_type, 'name': entry.provision_type_label, 'vocabulary': 'registry-provision-type'}}],
        'service_at_locations': [],
    }
    if not entry.confidential_address and not entry.location_is_approximate:
        latitude, longitude = to_wgs84(entry.easting, entry.northing)
        record['service_at_locations'].append({'id': f'{service_id}-at-location', 'location': {
            'id': f'location-{entry.id}', 'name': entry.name,
            'latitude': round(latitude, 6), 'longitude': round(longitude, 6),
            'physical_addresses': [{'id': f'location-{entry.id}-address', 'address_1': entry.address,
                                    'city': entry.district_name, 'state_province': entry.authority_name,
                                    'postal_code': entry.postcode, 'country': 'GB'}],
        }})
    return record


def services_page(page: int, per_page: int) -> dict:
    """One page of services in the Open Referral UK paged shape, in id order (raises PageOutOfRangeError past the
    end). Pages come from ``engine().export``, which reaches every entry however deep: on Elasticsearch through
    ``search_after``, never past ``index.max_result_window``."""
    from . import engine

    target = engine()
    # Market entries (not qualified, in-house) are for commissioners only. Their ids all lie above every setting's,
    # so in id order the qualified entries come first and the pages simply stop before the market.
    total = target.count(qualified_only=True)
    pages = max(1, math.ceil(total / per_page))
    if page > pages:
        raise PageOutOfRangeError(page, pages)
    entries = [entry for entry in target.export(offset=(page - 1) * per_page, size=per_page) if entry.is_qualified]
    organisations = profiles.organisations({entry.organisation_id for entry in entries})
    return {
        'total_items': total, 'total_pages': pages, 'page_number': page, 'size': per_page,
        'first_page': page == 1, 'last_page': page >= pages, 'empty': not entries,
        'contents': [service(entry, organisations.get(entry.organisation_id)) for entry in entries],
    }
