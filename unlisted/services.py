"""Keeping the unlisted settings: refreshed from the imported Ofsted register, and recorded by authorities (in-house).

Every change queues the entry's directory id (``UNLISTED_ID_OFFSET + id``) on the reindex outbox, as settings do.
"""

from __future__ import annotations

from sqlalchemy import select

from qualification import permissions
from registry.audit.services import record
from registry.db import bulk_insert, unit_of_work, utcnow
from registry.errors import DomainError, PermissionDenied
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.geography.postcodes import PostcodeError, lookup
from registry.indexing import enqueue_settings
from registry.ofsted.models import OfstedRegisterEntry
from registry.settings.taxonomy import Judgement, ProvisionType, RegistrationStatus, SexAccepted
from unlisted.models import UnlistedKind, UnlistedSetting

#: Directory entry ids of unlisted settings start here, above every setting id, so one index holds both.
UNLISTED_ID_OFFSET = 1_000_000
#: What an authority can record as in-house: its own homes, its fostering service, its family assessment.
IN_HOUSE_TYPES = (ProvisionType.CHILDRENS_HOME, ProvisionType.LOCAL_AUTHORITY_FOSTERING,
                  ProvisionType.RESIDENTIAL_FAMILY_CENTRE, ProvisionType.ASSESSMENT_SERVICE)


def directory_id(entry: UnlistedSetting) -> int:
    return UNLISTED_ID_OFFSET + entry.id


def _centroid(authority_code: str) -> tuple[float, float]:
    from search.query import authority_centroids

    return authority_centroids().get(authority_code, (400_000.0, 300_000.0))


def _location(provision_type: ProvisionType, authority_code: str, postcode: str) -> dict:
    """Where a register entry is shown: a children's home (confidential) at its authority's centroid with no address
    or postcode kept in the register's case; anything else at its postcode when it can be found (its authority's
    centroid when not, the postcode left as it was)."""
    if provision_type.info.confidential_address:
        easting, northing = _centroid(authority_code)
        return {'address': '', 'postcode': '', 'easting': easting, 'northing': northing}
    try:
        found = lookup(postcode) if postcode else None
    except PostcodeError:
        found = None
    if found is None:
        easting, northing = _centroid(authority_code)
        return {'easting': easting, 'northing': northing}
    located = {'postcode': found.postcode, 'easting': found.easting, 'northing': found.northing}
    if found.district_name:
        located['district_name'] = found.district_name
    return located


#: The register's columns an entry is made from (read as plain rows: thousands of ORM objects cost seconds).
_REGISTER_COLUMNS = (OfstedRegisterEntry.urn, OfstedRegisterEntry.registration_status,
                     OfstedRegisterEntry.provision_type, OfstedRegisterEntry.authority_code, OfstedRegisterEntry.name,
                     OfstedRegisterEntry.owner_name, OfstedRegisterEntry.places, OfstedRegisterEntry.town,
                     OfstedRegisterEntry.postcode, OfstedRegisterEntry.overall_judgement,
                     OfstedRegisterEntry.latest_inspection_date)


def refresh_from_register() -> dict[str, int]:
    """Bring the not-qualified entries in line with the imported register: one per active registration of a type the
    directory lists (in England); entries whose registration stopped are closed. Settings already on the national
    list are left out when entries are built (``search.entries``), so a provider that qualifies is not shown twice.

    New entries go in as one bulk insert: flushed one by one, rows with and without a judgement cannot share a
    statement, and the first refresh adds thousands.
    """
    existing = {entry.urn: entry for entry in db.session.scalars(
        select(UnlistedSetting).where(UnlistedSetting.kind == UnlistedKind.NOT_QUALIFIED))}
    changed: list[UnlistedSetting] = []
    new_rows: list[dict] = []
    closed = 0
    with unit_of_work():
        seen = set()
        for row in db.session.execute(select(*_REGISTER_COLUMNS).where(
                OfstedRegisterEntry.provision_type.is_not(None), OfstedRegisterEntry.authority_code.is_not(None))):
            active = row.registration_status == RegistrationStatus.ACTIVE
            entry = existing.get(row.urn)
            if entry is None and not active:
                continue
            seen.add(row.urn)
            confidential = row.provision_type.info.confidential_address
            values = dict(provision_type=row.provision_type, authority_code=row.authority_code,
                          name=(row.provision_type.label if confidential or not row.name
                                or row.name.upper() == 'REDACTED' else row.name),
                          organisation_name=row.owner_name or '', places=row.places or 0,
                          district_name='' if confidential else row.town or '',
                          judgement=row.overall_judgement, judgement_date=row.latest_inspection_date,
                          closed_at=None if active else (entry.closed_at or utcnow()))
            if entry is None:
                new_rows.append({'kind': UnlistedKind.NOT_QUALIFIED, 'urn': row.urn, 'address': '', 'postcode': '',
                                 **values, **_location(row.provision_type, row.authority_code,
                                                       '' if confidential else row.postcode)})
            elif any(getattr(entry, key) != value for key, value in values.items()):
                location = _location(row.provision_type, row.authority_code, '' if confidential else row.postcode)
                for key, value in (values | location).items():
                    setattr(entry, key, value)
                changed.append(entry)
                closed += 0 if active else 1
        for urn, entry in existing.items():
            if urn not in seen and entry.closed_at is None:
                entry.closed_at = utcnow()
                changed.append(entry)
                closed += 1
        db.session.flush()
        added = db.session.scalars(bulk_insert(UnlistedSetting).returning(UnlistedSetting.id), new_rows) \
            if new_rows else []
        enqueue_settings([directory_id(entry) for entry in changed] + [UNLISTED_ID_OFFSET + id_ for id_ in added],
                         reason='unlisted.register')
    return {'added': len(new_rows), 'changed': len(changed) + len(new_rows), 'closed': closed}


def _clean(data: dict) -> dict:
    name = ' '.join((data.get('name') or '').split())
    if not name:
        raise DomainError('Enter the name of the home or service')
    try:
        provision_type = ProvisionType(data.get('provision_type') or '')
    except ValueError:
        raise DomainError('Choose the type of provision') from None
    if provision_type not in IN_HOUSE_TYPES:
        raise DomainError('Choose the type of provision')
    age_min, age_max = data.get('age_min'), data.get('age_max')
    if not isinstance(age_min, int) or not isinstance(age_max, int) or not 0 <= age_min <= age_max <= 25:
        raise DomainError('Enter ages from 0 to 25, the youngest first')
    places, vacancies = data.get('places'), data.get('vacancies') or 0
    if not isinstance(places, int) or places < 0 or not isinstance(vacancies, int) or not 0 <= vacancies <= places:
        raise DomainError('Enter places, and vacancies no more than the places')
    sex = data.get('sex') or SexAccepted.ANY.value
    if sex not in {item.value for item in SexAccepted}:
        raise DomainError('Choose which children the setting can care for')
    judgement = data.get('judgement') or None
    if judgement is not None:
        judgement = Judgement(judgement)
    return {'name': name[:200], 'provision_type': provision_type, 'age_min': age_min, 'age_max': age_max,
            'places': places, 'vacancies': vacancies, 'sex': sex, 'judgement': judgement,
            'needs': sorted(set(data.get('needs') or ())), 'description': (data.get('description') or '').strip()}


def record_in_house(authority_code: str, data: dict, *, actor) -> UnlistedSetting:
    """An authority records one of its own homes or its fostering service (no national qualification needed).

    :raises PermissionDenied: the actor is not a commissioner of this authority.
    :raises DomainError: a field is missing or out of range, or the postcode cannot be found.
    """
    if not permissions.is_commissioner_of(actor, authority_code):
        raise PermissionDenied('Only commissioners of this authority can record its in-house services')
    cleaned = _clean(data)
    try:
        location = lookup(data.get('postcode') or '')
    except PostcodeError as exc:
        raise DomainError(str(exc)) from None
    authority = db.session.get(LocalAuthority, authority_code)
    with unit_of_work():
        entry = UnlistedSetting(kind=UnlistedKind.IN_HOUSE, owner_authority_code=authority_code,
                            organisation_name=authority.name, authority_code=location.authority_code,
                            district_name=location.district_name, postcode=location.postcode,
                            address=' '.join((data.get('address') or '').split())[:200],
                            easting=location.easting, northing=location.northing, recorded_by_id=actor.id,
                            vacancies_confirmed_at=utcnow(), **cleaned)
        db.session.add(entry)
        db.session.flush()
        record('unlisted.in_house.record', entry, actor=actor,
               after={**{key: str(value) for key, value in cleaned.items()}, 'owner': authority_code})
        enqueue_settings([directory_id(entry)], reason='unlisted.in_house')
    return entry


def close_in_house(entry: UnlistedSetting, *, actor, reason: str = '') -> UnlistedSetting:
    """Take an in-house service out of the directory (the row stays for the audit trail).

    :raises PermissionDenied: the actor is not a commissioner of the owning authority.
    :raises DomainError: it is already closed.
    """
    if entry.kind != UnlistedKind.IN_HOUSE or not permissions.is_commissioner_of(actor, entry.owner_authority_code):
        raise PermissionDenied('Only commissioners of the owning authority can close an in-house service')
    if entry.closed_at is not None:
        raise DomainError(f'{entry.name} is already closed')
    with unit_of_work():
        entry.closed_at = utcnow()
        record('unlisted.in_house.close', entry, actor=actor, reason=reason)
        enqueue_settings([directory_id(entry)], reason='unlisted.in_house')
    return entry


def in_house_of(authority_code: str) -> list[UnlistedSetting]:
    return list(db.session.scalars(select(UnlistedSetting).where(
        UnlistedSetting.kind == UnlistedKind.IN_HOUSE, UnlistedSetting.owner_authority_code == authority_code)
        .order_by(UnlistedSetting.closed_at.is_not(None), UnlistedSetting.name)))
