"""Builders for organisations and settings, shared by the organisation and setting tests; they use the real services."""

from __future__ import annotations

import itertools

from registry.organisations import services as organisation_services
from registry.organisations.models import Organisation
from registry.settings import services as setting_services
from registry.settings.models import Setting


def organisation_form(**overrides) -> dict:
    """Valid form data for a private company."""
    data = {
        'legal_name': 'Bright Futures Care Ltd',
        'trading_name': 'Bright Futures',
        'legal_form': 'company-limited-by-shares',
        'company_number': '01234567',
        'charity_number': '',
        'sector': 'private',
        'address_line_1': '1 Park Row',
        'address_line_2': '',
        'town': 'Leeds',
        'postcode': 'LS1 4DY',
        'contact_name': 'Ada Lovelace',
        'contact_email': 'ada@example.org',
        'contact_phone': '0113 496 0000',
        'website': 'https://bright.example.org',
    }
    data.update(overrides)
    return data


#: Companies House numbers for the organisations made here: each holds its own, as the registry requires. The
#: ``OC`` prefix (an LLP's) keeps them apart from the all-digit numbers other factories give.
_company_numbers = (f'OC{n:06d}' for n in itertools.count(1))


def make_organisation(owner, **overrides) -> Organisation:
    """An organisation registered by ``owner`` (who becomes its owner), with a Companies House number of its own."""
    overrides.setdefault('company_number', next(_company_numbers))
    return organisation_services.create_organisation(organisation_form(**overrides), actor=owner)


def setting_form(**overrides) -> dict:
    """Valid form data for a children's home in Leeds."""
    data = {
        'provision_type': 'childrens-home',
        'name': 'Oak House',
        'urn': 'SC123456',
        'address_line_1': '2 Oak Lane',
        'address_line_2': '',
        'town': 'Leeds',
        'postcode': 'LS1 4DY',
        'places': '4',
        'age_min': '8',
        'age_max': '17',
        'sex_accepted': 'any',
        'needs': ['autism', 'emotional-behavioural'],
        'description': 'A calm home near the city centre.',
    }
    data.update(overrides)
    return data


def make_setting(organisation, actor, **overrides) -> Setting:
    """A setting added through the service (form strings converted as the form would)."""
    data = setting_form(**overrides)
    for field in ('places', 'age_min', 'age_max'):
        data[field] = int(data[field])
    return setting_services.create_setting(organisation, data, actor=actor)
