"""Helpers for the Ofsted register tests: small register files in each published shape, organisations and settings."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import date, timedelta
from pathlib import Path

import pytest

from qualification.models import Qualification, QualificationStatus
from registry.extensions import db
from registry.organisations.models import LegalForm, Organisation, Sector
from registry.settings.models import Setting
from registry.settings.taxonomy import Lot, ProvisionType, RegistrationStatus

DATA_DIR = Path(__file__).parent / 'data'
REAL_FILE = DATA_DIR / 'ofsted_providers_2025-03-31.csv'
#: The release date of the real file and of the small files these tests write (their titles give no date).
AS_AT = date(2025, 3, 31)

#: The 2025 release's headings (subset, same spelling, including the stray newlines).
HEADER_2025 = ['Web link', 'URN', 'Provision type', 'Registration date', 'Registration status', 'Name', 'Town',
               'Postcode', 'Ofsted Region', 'Government Office Region', 'Local authority', 'Sector', 'Places',
               'Organisation which owns the provider', '\nLatest full inspection date',
               'Latest full inspection publication date',
               '\nOverall experiences and progress of children and young people']

_numbers = itertools.count(1)


def register_row(urn: str, *, provision_type: str = "Children's home", status: str = 'Active',
                 authority: str = 'Westminster', places: str = '4', judgement: str = 'Good',
                 inspected: str = '05/11/2024', owner: str = 'Acme Care Ltd', name: str = 'REDACTED',
                 region: str = 'London', sector: str = 'Private', postcode: str = 'REDACTED') -> list[str]:
    """One data row in the 2025 column order of :data:`HEADER_2025`."""
    return ['Ofsted Social Care Provider Webpage', urn, provision_type, '25/06/2020', status, name,
            'REDACTED' if name == 'REDACTED' else 'London', postcode, region, region, authority, sector, places,
            owner, inspected, '14/01/2025', judgement]


def write_register(path: Path, rows: list[list[str]], *, header: list[str] | None = None,
                   encoding: str = 'utf-8-sig', titles: bool = True) -> Path:
    """Write a CSV shaped like Ofsted's: title lines, then the header, then the rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\r\n')
    if titles:
        writer.writerow(["Children's social care data in England – Provider level"])
        writer.writerow(['Some cells in this table are empty.'])
    writer.writerow(header or HEADER_2025)
    writer.writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def make_organisation(name: str | None = None) -> Organisation:
    n = next(_numbers)
    organisation = Organisation(legal_name=name or f'Test Provider {n} Ltd',
                                legal_form=LegalForm.COMPANY_LIMITED_BY_SHARES, sector=Sector.PRIVATE,
                                address_line_1='1 Test Street', town='London',
                                postcode='SW1A 2AA', contact_name='Test Contact', contact_email=f'org{n}@example.org',
                                contact_phone='020 7946 0000')
    db.session.add(organisation)
    db.session.commit()
    return organisation


def make_setting(organisation: Organisation, *, urn: str | None, provision_type=ProvisionType.CHILDRENS_HOME,
                 authority_code: str = 'E09000033', places: int = 4, vacancies: int = 1,
                 registration_status=RegistrationStatus.ACTIVE, name: str | None = None) -> Setting:
    setting = Setting(organisation_id=organisation.id, provision_type=provision_type,
                      name=name or f'Setting {next(_numbers)}', urn=urn, address_line_1='Address withheld',
                      town='London', postcode='SW1A 2AA', easting=530047, northing=179951,
                      district_code='E09000033', district_name='Westminster', authority_code=authority_code,
                      places=places, age_min=8, age_max=17, vacancies=vacancies,
                      registration_status=registration_status)
    db.session.add(setting)
    db.session.commit()
    return setting


def qualify(organisation: Organisation, lot: Lot = Lot.CHILDRENS_HOMES) -> Qualification:
    """An active, in-date qualification, so the organisation's settings of that lot are listed."""
    today = date.today()
    qualification = Qualification(organisation_id=organisation.id, lot=lot, scheme_version='2025.1',
                                  status=QualificationStatus.ACTIVE, valid_from=today - timedelta(days=1),
                                  valid_to=today + timedelta(days=364), next_review_due=today + timedelta(days=300))
    db.session.add(qualification)
    db.session.commit()
    return qualification


@pytest.fixture
def register_file(tmp_path):
    """Write a small 2025-shaped register: ``register_file(rows, name=...)``."""

    def write(rows: list[list[str]], name: str = 'register.csv', **kwargs) -> Path:
        return write_register(tmp_path / name, rows, **kwargs)

    return write
