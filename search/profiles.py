"""Read-only lookups the directory pages need besides the index: provider profiles, exact locations, evidence."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from qualification.applications import Application, Evidence
from qualification.listing import accepted_authority_codes, listed_condition
from qualification.models import Qualification
from qualification.states import ApplicationStatus
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.organisations.models import Organisation
from registry.settings.models import Setting
from registry.settings.taxonomy import Judgement, Lot

from .entries import DirectoryEntry, build_entries


@dataclass
class Profile:
    """What the directory shows about one provider organisation."""

    organisation: Organisation
    qualifications: list[Qualification]
    #: Authority code to name, for every authority that accepted the organisation onto its local list.
    accepted_by: dict[str, str]
    entries: list[DirectoryEntry]
    evidence: list[Evidence] = field(default_factory=list)


def authority_names() -> dict[str, str]:
    """Every authority's name by ONS code, in name order (read once per app: the 153 authorities come from a
    migration and nothing in the service changes them; every directory page needs them)."""
    return _reference()['authorities']


def region_names() -> dict[str, str]:
    """Every region's name by ONS code (read once per app, as :func:`authority_names`)."""
    return _reference()['regions']


def _reference() -> dict[str, dict[str, str]]:
    kept = current_app.extensions.get('search.reference')
    if kept is None:
        rows = db.session.execute(select(LocalAuthority.code, LocalAuthority.name, LocalAuthority.region_code,
                                         LocalAuthority.region_name).order_by(LocalAuthority.name)).all()
        kept = {'authorities': {code: name for code, name, _, _ in rows},
                'regions': {region: region_name for _, _, region, region_name in rows}}
        if rows:  # an empty table (a database not yet migrated) is not kept
            current_app.extensions['search.reference'] = kept
    return kept


def facet_label(facet: str, value: str) -> str:
    """A person's label for a facet value."""
    from registry.settings.taxonomy import NEEDS, ProvisionType

    try:
        if facet == 'provision_type':
            return ProvisionType(value).label
        if facet == 'lot':
            return Lot(value).label
        if facet == 'judgement':
            return Judgement(value).label
    except ValueError:
        return value
    if facet == 'needs':
        return NEEDS.get(value, value)
    if facet == 'has_vacancy':
        return 'Has a vacancy' if value == 'true' else 'No vacancy'
    return value


def provider_profile(organisation_id: int, *, with_evidence_for=None) -> Profile | None:
    """The organisation's profile, or None when it does not exist.

    :param with_evidence_for: a user; evidence from approved applications that this user may read is included.
    """
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        return None
    qualifications = list(db.session.scalars(select(Qualification).where(
        Qualification.organisation_id == organisation_id).order_by(Qualification.lot, Qualification.valid_to.desc())))
    names = authority_names()
    accepted = {code: names.get(code, code) for code in accepted_authority_codes(organisation_id)}
    ids = list(db.session.scalars(select(Setting.id).where(Setting.organisation_id == organisation_id,
                                                           listed_condition())))
    entries = sorted(build_entries(ids), key=lambda entry: (entry.name, entry.id)) if ids else []
    profile = Profile(organisation, qualifications, dict(sorted(accepted.items(), key=lambda item: item[1])), entries)
    if with_evidence_for is not None:
        from qualification.permissions import can_read_evidence

        documents = db.session.scalars(
            select(Evidence).join(Application, Evidence.application_id == Application.id)
            .where(Application.organisation_id == organisation_id, Application.status == ApplicationStatus.APPROVED)
            .order_by(Evidence.uploaded_at.desc()))
        profile.evidence = [document for document in documents if can_read_evidence(with_evidence_for, document)]
    return profile


def exact_locations(setting_ids: list[int]) -> dict[int, dict]:
    """Address, postcode and grid reference of each setting, for signed-in commissioners and the board only."""
    if not setting_ids:
        return {}
    rows = db.session.execute(select(Setting.id, Setting.address_line_1, Setting.address_line_2, Setting.town,
                                     Setting.postcode, Setting.easting, Setting.northing)
                              .where(Setting.id.in_(setting_ids)))
    return {row.id: {'address': ', '.join(part for part in (row.address_line_1, row.address_line_2, row.town)
                                          if part),
                     'postcode': row.postcode, 'easting': float(row.easting), 'northing': float(row.northing)}
            for row in rows}


def organisations(ids: set[int]) -> dict[int, Organisation]:
    """Organisations by id (for the HSDS export)."""
    if not ids:
        return {}
    return {organisation.id: organisation for organisation in
            db.session.scalars(select(Organisation).where(Organisation.id.in_(sorted(ids))))}
