"""Demo data from Ofsted's register: organisations for its owners and settings for its providers.

Ofsted publishes children's homes at authority level only (name, address and postcode redacted),
so a home is placed at one real postcode near the middle of its authority, with the address line
"Address withheld": never a made-up street address that could be mistaken for a real home.
Fostering agencies and family centres sit at their published postcode where it can be found.
"""

from __future__ import annotations

import csv
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import func, select

from registry.audit.services import record
from registry.db import unit_of_work
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.geography.postcodes import PostcodeError, lookup
from registry.indexing import enqueue_settings
from registry.ofsted.models import OfstedRegisterEntry
from registry.organisations.models import LegalForm, Organisation, Sector
from registry.settings.models import Setting
from registry.settings.taxonomy import ProvisionType

AUTHORITY_POSTCODES = Path(__file__).parent / 'data' / 'authority_postcodes.csv'

#: The address line used wherever Ofsted withholds the address.
ADDRESS_WITHHELD = 'Address withheld'

#: Age ranges by type, as most settings of that type publish them.
AGE_RANGES = {
    ProvisionType.CHILDRENS_HOME: (8, 17),
    ProvisionType.SECURE_CHILDRENS_HOME: (10, 17),
    ProvisionType.SUPPORTED_ACCOMMODATION: (16, 17),
    ProvisionType.INDEPENDENT_FOSTERING_AGENCY: (0, 17),
    ProvisionType.RESIDENTIAL_FAMILY_CENTRE: (0, 17),
}

#: Ofsted's sector → (our sector, a plausible legal form); we never invent company or charity numbers.
SECTORS = {
    'private': (Sector.PRIVATE, LegalForm.COMPANY_LIMITED_BY_SHARES),
    'academy': (Sector.VOLUNTARY, LegalForm.CHARITABLE_COMPANY),
    'voluntary': (Sector.VOLUNTARY, LegalForm.CHARITABLE_COMPANY),
    'local authority': (Sector.LOCAL_AUTHORITY, LegalForm.LOCAL_AUTHORITY),
    'health authority': (Sector.HEALTH, LegalForm.NHS_BODY),
}


@dataclass(frozen=True)
class AuthorityPostcode:
    """A real postcode inside an authority, with the grid reference and district it carries."""

    authority_code: str
    postcode: str
    easting: float
    northing: float
    district_code: str
    district_name: str


@cache
def authority_postcodes() -> dict[str, AuthorityPostcode]:
    """One postcode per authority from ``data/authority_postcodes.csv`` (see :func:`generate_authority_postcodes`)."""
    with open(AUTHORITY_POSTCODES, encoding='utf-8', newline='') as handle:
        return {row['authority_code']: AuthorityPostcode(row['authority_code'], row['postcode'],
                                                         float(row['easting']), float(row['northing']),
                                                         row['district_code'], row['district_name'])
                for row in csv.DictReader(handle)}


def generate_authority_postcodes(path: Path = AUTHORITY_POSTCODES) -> int:
    """Rebuild the per-authority postcode file from the ONS Postcode Directory (takes a few seconds).

    For each authority, the postcode nearest the mean grid reference of all its postcodes: a real,
    central postcode that is certainly inside the authority.
    """
    from registry.geography.authorities import district_to_authority
    from registry.geography.postcodes import PostcodeDirectory, _Letter

    directory = PostcodeDirectory()
    districts = district_to_authority()
    letters = [_Letter.decode(file) for file in sorted(directory.data_dir.glob('postcodes_*.msgpack.br'))]
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for letter in letters:
        for easting, northing, index in zip(letter.eastings, letter.northings, letter.district_index, strict=True):
            authority = districts.get(letter.districts[index])
            if authority and not math.isnan(easting):
                total = sums[authority.code]
                total[0] += easting
                total[1] += northing
                total[2] += 1
    centres = {code: (e / n, no / n) for code, (e, no, n) in sums.items()}
    best: dict[str, tuple[float, str, float, float, str]] = {}
    for letter in letters:
        for key, easting, northing, index in zip(letter.keys, letter.eastings, letter.northings,
                                                 letter.district_index, strict=True):
            district = letter.districts[index]
            authority = districts.get(district)
            if not authority or math.isnan(easting):
                continue
            centre = centres[authority.code]
            distance = (easting - centre[0]) ** 2 + (northing - centre[1]) ** 2
            if authority.code not in best or distance < best[authority.code][0]:
                best[authority.code] = (distance, key, easting, northing, district)
    with open(path, 'w', encoding='utf-8', newline='') as handle:
        writer = csv.writer(handle, lineterminator='\n')
        writer.writerow(['authority_code', 'postcode', 'easting', 'northing', 'district_code', 'district_name'])
        for code in sorted(best):
            _distance, key, easting, northing, district = best[code]
            key = key.decode('ascii')
            postcode = f'{key[:-3].strip()} {key[-3:]}'
            writer.writerow([code, postcode, f'{easting:.0f}', f'{northing:.0f}', district,
                             districts[district].district_name])
    authority_postcodes.cache_clear()
    return len(best)


@dataclass
class SeedSummary:
    organisations_created: int = 0
    organisations_reused: int = 0
    settings_created: int = 0
    settings_existing: int = 0
    skipped: int = 0
    qualifications_created: int = 0

    def __str__(self) -> str:
        return (f'Organisations: {self.organisations_created} created, {self.organisations_reused} already there. '
                f'Settings: {self.settings_created} created, {self.settings_existing} already there, '
                f'{self.skipped} register entries skipped (no owner published, or outside England). '
                f'Qualifications granted: {self.qualifications_created}.')


def _slug(text: str) -> str:
    return re.sub(r'[^a-z0-9]+', '-', text.lower()).strip('-')[:40] or 'provider'


def _setting_name(entry: OfstedRegisterEntry, authority: LocalAuthority) -> str:
    if entry.name and not entry.is_redacted:
        return entry.name[:200]
    return f'{entry.provision_type.label} in {authority.name} (URN {entry.urn})'[:200]


def _place(entry: OfstedRegisterEntry) -> AuthorityPostcode | None:
    """Where a setting goes: its published postcode if we can find it in England, else its authority's."""
    if entry.postcode and not entry.provision_type.info.confidential_address:
        try:
            found = lookup(entry.postcode)
        except PostcodeError:
            pass
        else:
            return AuthorityPostcode(found.authority_code, found.postcode, found.easting, found.northing,
                                     found.district_code, found.district_name)
    return authority_postcodes().get(entry.authority_code or '')


def build_directory_from_register(*, sample: int | None = None, seed: int = 2025, qualify: bool = True,
                                  progress: Callable[[int, int], None] | None = None) -> SeedSummary:
    """Create an organisation per Ofsted owner and a setting per register entry of a type we list (idempotent).

    :param sample: only this many owners, chosen at random with ``seed``; every owner when None.
    :param qualify: also grant each organisation an active demo qualification for its lots, so it is listed.
    """
    from qualification.models import Qualification, QualificationStatus

    summary = SeedSummary()
    entries = db.session.scalars(
        select(OfstedRegisterEntry).where(OfstedRegisterEntry.provision_type.is_not(None),
                                          OfstedRegisterEntry.removed_as_at.is_(None))
        .order_by(OfstedRegisterEntry.urn)).all()
    by_owner: dict[str, list[OfstedRegisterEntry]] = defaultdict(list)
    for entry in entries:
        owner = entry.owner_name or ('' if entry.is_redacted else entry.name)
        if not owner or not entry.authority_code:
            summary.skipped += 1
            continue
        by_owner[owner].append(entry)
    owners = sorted(by_owner)
    if sample is not None:
        owners = sorted(random.Random(seed).sample(owners, min(sample, len(owners))))
    authorities = {authority.code: authority for authority in db.session.scalars(select(LocalAuthority))}
    existing_urns = set(db.session.scalars(select(Setting.urn).where(Setting.urn.is_not(None))))
    total = sum(len(by_owner[owner]) for owner in owners)
    done = 0
    created: list[Setting] = []
    today = date.today()

    with unit_of_work():
        for owner in owners:
            owned = by_owner[owner]
            organisation = db.session.scalars(
                select(Organisation).where(func.lower(Organisation.legal_name) == owner.lower()[:200])).first()
            if organisation is None:
                sector, legal_form = SECTORS.get(Counter(e.sector.lower() for e in owned).most_common(1)[0][0],
                                                 SECTORS['private'])
                home = next((_place(e) for e in owned if e.postcode), None) or _place(owned[0])
                organisation = Organisation(
                    legal_name=owner[:200], legal_form=legal_form, sector=sector,
                    address_line_1=ADDRESS_WITHHELD, town=authorities[home.authority_code].name[:80],
                    postcode=home.postcode, contact_name='Not published',
                    contact_email=f'{_slug(owner)}@example.org', contact_phone='')
                db.session.add(organisation)
                db.session.flush()
                summary.organisations_created += 1
            else:
                summary.organisations_reused += 1
            lots = set()
            for entry in owned:
                done += 1
                if progress and (done % 50 == 0 or done == total):
                    progress(done, total)
                if entry.urn in existing_urns:
                    summary.settings_existing += 1
                    continue
                place = _place(entry)
                authority = authorities.get(place.authority_code) if place else None
                if place is None or authority is None:
                    summary.skipped += 1
                    continue
                age_min, age_max = AGE_RANGES.get(entry.provision_type, (0, 17))
                withheld = entry.is_redacted or entry.provision_type.info.confidential_address
                setting = Setting(
                    organisation_id=organisation.id, provision_type=entry.provision_type,
                    name=_setting_name(entry, authority), urn=entry.urn,
                    address_line_1=ADDRESS_WITHHELD if withheld or not entry.town else 'Address not published',
                    town=(authority.name if withheld else (entry.town.title() or authority.name))[:80],
                    postcode=place.postcode, easting=place.easting, northing=place.northing,
                    district_code=place.district_code, district_name=place.district_name[:80],
                    authority_code=place.authority_code, places=entry.places or 0, age_min=age_min, age_max=age_max,
                    coverage=[place.authority_code] if entry.provision_type.lot.value == 'fostering' else [],
                    description=f"Created from Ofsted's register ({entry.source_file}) for demonstration.",
                    registration_status=entry.registration_status, judgement=entry.overall_judgement,
                    judgement_date=entry.latest_inspection_date,
                )
                db.session.add(setting)
                created.append(setting)
                existing_urns.add(entry.urn)
                lots.add(entry.provision_type.lot)
                summary.settings_created += 1
            if qualify:
                for lot in sorted(lots):
                    has = db.session.scalar(select(Qualification.id).where(
                        Qualification.organisation_id == organisation.id, Qualification.lot == lot))
                    if has is None:
                        db.session.add(Qualification(
                            organisation_id=organisation.id, lot=lot, scheme_version='demo',
                            status=QualificationStatus.ACTIVE, valid_from=today,
                            valid_to=today + timedelta(days=365), next_review_due=today + timedelta(days=335),
                            status_reason='Demo data built from the Ofsted register'))
                        summary.qualifications_created += 1
        db.session.flush()
        enqueue_settings([setting.id for setting in created], reason='seed from register')
        record('ofsted.seed_from_register', None, object_type='ofsted_register',
               after={'organisations_created': summary.organisations_created,
                      'settings_created': summary.settings_created,
                      'qualifications_created': summary.qualifications_created})
    return summary
