"""DirectoryEntry: the searchable view of a listed setting, built by one function from registry and qualification."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from qualification.listing import accepted_authority_codes, listed_condition
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.settings.models import Setting
from registry.settings.public_text import setting_findings, withheld_text
from registry.settings.taxonomy import NEEDS, PROVISION_TYPES, ProvisionType

#: Used only if a confidential entry's authority were missing from the centroid file (all 153 are there).
UNKNOWN_CENTROID = (400_000.0, 300_000.0)


@dataclass(frozen=True)
class DirectoryEntry:
    """What the directory knows about one listed setting. Engines index it and return it with each hit."""

    id: int
    organisation_id: int
    name: str
    organisation_name: str
    provision_type: str
    provision_type_label: str
    lot: str
    description: str
    needs: tuple[str, ...]
    age_min: int
    age_max: int
    sex: str
    places: int
    vacancies: int
    vacancies_confirmed_at: datetime | None
    judgement: str | None
    #: 4 outstanding .. 1 inadequate; 0 when not yet judged.
    judgement_rank: int
    judgement_date: date | None
    urn: str | None
    authority_code: str
    authority_name: str
    region_code: str
    region_name: str
    district_name: str
    #: Ofsted redacts children's home addresses: public pages show district and authority only.
    confidential_address: bool
    #: Exact British National Grid metres, for distances; never shown publicly for confidential types.
    easting: float
    northing: float
    #: Street address; empty for confidential types so it cannot leak through the index.
    address: str
    postcode: str
    accepted_by: tuple[str, ...] = field(default_factory=tuple)
    updated_at: datetime | None = None

    @property
    def has_vacancy(self) -> bool:
        return self.vacancies > 0

    @property
    def public_point(self) -> tuple[float, float]:
        """Where public searches place the entry: the authority centroid for confidential types, else exact.

        A confidential entry whose authority has no known centroid falls back to the centre of England's grid
        extent rather than its own point, so its address can never leak through distances.
        """
        if not self.confidential_address:
            return self.easting, self.northing
        from .query import authority_centroids

        return authority_centroids().get(self.authority_code, UNKNOWN_CENTROID)

    @property
    def ofsted_registered(self) -> bool:
        """A type Ofsted registers: listed only while its URN is verified against the latest register."""
        return PROVISION_TYPES[ProvisionType(self.provision_type)].ofsted_registered

    @property
    def ofsted_report_url(self) -> str | None:
        """Ofsted's inspection report page for a registered type (built from the URN)."""
        from registry.ofsted.services import ofsted_report_url

        return ofsted_report_url(self.urn) if self.ofsted_registered and self.urn else None

    @property
    def needs_labels(self) -> list[str]:
        return [NEEDS.get(need, need) for need in self.needs]

    def search_text(self) -> str:
        """Everything matched besides the two names: description, type, needs, places."""
        parts = [self.description, self.provision_type_label, *self.needs_labels, self.district_name,
                 self.authority_name]
        return '\n'.join(part for part in parts if part)

    def to_json(self) -> str:
        """Serialise for the index (dates as ISO strings)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def to_dict(self) -> dict:
        """Plain JSON-ready dict of every field (internal: includes exact coordinates)."""
        stored = self.__dict__.get('_stored')
        if stored is not None:  # read from the index: the stored form is already this dict
            data = {name: stored[name] for name in _FIELD_NAMES}
        else:
            # A shallow copy: every field is a scalar or a tuple of strings, so asdict's deep copy is wasted work.
            data = {name: getattr(self, name) for name in _FIELD_NAMES}
            for key in ('vacancies_confirmed_at', 'updated_at', 'judgement_date'):
                if data[key] is not None:
                    data[key] = data[key].isoformat()
        data['needs'] = list(self.needs)
        data['accepted_by'] = list(self.accepted_by)
        return data

    def public_dict(self) -> dict:
        """The fields anyone may see: no address or exact location for confidential types."""
        data = self.to_dict()
        if self.confidential_address:
            for key in ('easting', 'northing', 'address', 'postcode'):
                data.pop(key, None)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> DirectoryEntry:
        """Rebuild an entry from :meth:`to_dict` output (as stored in an index)."""
        values = {key: data[key] for key in _FIELD_NAMES if key in data}
        for key in ('vacancies_confirmed_at', 'updated_at'):
            if values.get(key):
                values[key] = datetime.fromisoformat(values[key])
        if values.get('judgement_date'):
            values['judgement_date'] = date.fromisoformat(values['judgement_date'])
        values['needs'] = tuple(values.get('needs') or ())
        values['accepted_by'] = tuple(values.get('accepted_by') or ())
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> DirectoryEntry:
        """Rebuild an entry from :meth:`to_json` output, keeping that output so :meth:`to_dict` need not redo it."""
        data = json.loads(text)
        entry = cls.from_dict(data)
        if _FIELD_SET <= data.keys():  # not from an older version of the entry
            object.__setattr__(entry, '_stored', data)
        return entry


_FIELD_NAMES = tuple(item.name for item in fields(DirectoryEntry))
_FIELD_SET = frozenset(_FIELD_NAMES)


def entry_hash(entry: DirectoryEntry) -> str:
    """A hash of everything the entry holds: ``flask search check`` compares the index with the database by it."""
    return hashlib.sha256(entry.to_json().encode('utf-8')).hexdigest()[:32]


def _entry(setting: Setting, authority: LocalAuthority | None, accepted_by: Iterable[str]) -> DirectoryEntry:
    info = setting.provision_type.info
    confidential = info.confidential_address
    address = ', '.join(part for part in (setting.address_line_1, setting.address_line_2, setting.town) if part)
    # a home's name or description that gives its address away is withheld (the rest of the entry stays listed)
    withheld = withheld_text(setting_findings(setting), info.label) if confidential else {}
    return DirectoryEntry(
        id=setting.id,
        organisation_id=setting.organisation_id,
        name=withheld.get('name', setting.name),
        organisation_name=setting.organisation.display_name,
        provision_type=setting.provision_type.value,
        provision_type_label=info.label,
        lot=info.lot.value,
        description=withheld.get('description', setting.description or ''),
        needs=tuple(sorted(set(setting.needs or ()))),
        age_min=setting.age_min,
        age_max=setting.age_max,
        sex=setting.sex_accepted.value,
        places=setting.places,
        vacancies=setting.vacancies,
        vacancies_confirmed_at=setting.vacancies_confirmed_at,
        judgement=setting.judgement.value if setting.judgement else None,
        judgement_rank=setting.judgement.rank if setting.judgement else 0,
        judgement_date=setting.judgement_date,
        urn=setting.urn,
        authority_code=setting.authority_code,
        authority_name=authority.name if authority else '',
        region_code=authority.region_code if authority else '',
        region_name=authority.region_name if authority else '',
        district_name=setting.district_name,
        confidential_address=confidential,
        easting=float(setting.easting),
        northing=float(setting.northing),
        address='' if confidential else address,
        postcode='' if confidential else setting.postcode,
        accepted_by=tuple(sorted(set(accepted_by))),
        updated_at=setting.updated_at,
    )


def build_entry(setting: Setting, today: date | None = None) -> DirectoryEntry | None:
    """The one function that turns a setting into its directory entry; None when it is not listed.

    The listing rule (``qualification.listing.listed_condition``) includes Ofsted as the gate: a type Ofsted
    registers is listed only while its URN is verified against the latest imported register.
    """
    listed = db.session.scalar(select(Setting.id).where(Setting.id == setting.id, listed_condition(today)))
    if listed is None:
        return None
    return _entry(setting, setting.authority,
                  accepted_authority_codes(setting.organisation_id, lot=setting.provision_type.lot))


def build_entries(setting_ids: Iterable[int] | None = None, today: date | None = None,
                  batch_size: int = 500) -> Iterator[DirectoryEntry]:
    """Entries for every listed setting (or the listed ones among ``setting_ids``), loaded in batches."""
    ids = sorted(listed_setting_ids(today) if setting_ids is None else set(setting_ids))
    query = (select(Setting).where(listed_condition(today))
             .options(selectinload(Setting.organisation), selectinload(Setting.authority))
             .order_by(Setting.id))
    accepted_cache: dict[tuple[int, str], list[str]] = {}
    for start in range(0, len(ids), batch_size):
        settings = db.session.scalars(query.where(Setting.id.in_(ids[start:start + batch_size]))).all()
        for setting in settings:
            key = (setting.organisation_id, setting.provision_type.lot.value)
            if key not in accepted_cache:
                accepted_cache[key] = accepted_authority_codes(setting.organisation_id,
                                                               lot=setting.provision_type.lot)
            yield _entry(setting, setting.authority, accepted_cache[key])


def listed_setting_ids(today: date | None = None) -> set[int]:
    """Ids of every listed setting, for ``flask search check``."""
    return set(db.session.scalars(select(Setting.id).where(listed_condition(today))))
