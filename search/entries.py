"""DirectoryEntry: the searchable view of a listed setting, built by one function from registry and qualification."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, selectinload

from qualification.listing import accepted_authority_codes, listed_condition
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.settings.models import Setting
from registry.settings.public_text import setting_findings, withheld_text
from registry.settings.taxonomy import NEEDS, PROVISION_TYPES, ProvisionType

#: Used only if a confidential entry's authority were missing from the centroid file (all 153 are there).
UNKNOWN_CENTROID = (400_000.0, 300_000.0)
#: Each entry's standing: on the national list, an Ofsted-registered setting whose provider is not (yet) qualified,
#: or an authority's own in-house service. Only qualified entries are ever public.
QUALIFIED, NOT_QUALIFIED, IN_HOUSE = 'qualified', 'not_qualified', 'in_house'
STANDING_LABELS = {QUALIFIED: 'Qualified', NOT_QUALIFIED: 'Not qualified', IN_HOUSE: 'In-house'}
#: Directory ids of unlisted settings (``unlisted.models.UnlistedSetting``) start here, above every setting id.
UNLISTED_ID_OFFSET = 1_000_000


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
    #: Authorities whose local list holds the entry (directly or through a consortium); for an in-house entry, the
    #: owning authority and its consortium partners, the only commissioners who see it.
    accepted_by: tuple[str, ...] = field(default_factory=tuple)
    updated_at: datetime | None = None
    #: ``qualified`` | ``not_qualified`` | ``in_house`` (see :data:`STANDING_LABELS`).
    standing: str = QUALIFIED

    @property
    def is_qualified(self) -> bool:
        return self.standing == QUALIFIED

    @property
    def standing_label(self) -> str:
        return STANDING_LABELS.get(self.standing, self.standing)

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
    def location_is_approximate(self) -> bool:
        """True when the service knows only the entry's authority, not where it is: a not-qualified entry from
        Ofsted's register whose address is redacted (a children's home) or whose postcode could not be found stands at
        its authority's centroid (``unlisted.services``), so a distance to it is only a distance to that centre.
        Qualified and in-house entries hold their own postcode's point.
        """
        if self.standing != NOT_QUALIFIED:
            return False
        if self.confidential_address:
            return True
        from .query import authority_centroids

        return (self.easting, self.northing) in {authority_centroids().get(self.authority_code), UNKNOWN_CENTROID}

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
        """The fields anyone may see: no address or exact location for confidential types (and only ever asked of
        qualified entries: the standing is not a public field)."""
        data = self.to_dict()
        data.pop('standing', None)
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
    registers is listed only while its URN is verified against the latest imported register. Market entries (not
    qualified, in-house) come through :func:`build_entries` by their directory ids.
    """
    listed = db.session.scalar(select(Setting.id).where(Setting.id == setting.id, listed_condition(today)))
    if listed is None:
        return None
    return _entry(setting, setting.authority,
                  accepted_authority_codes(setting.organisation_id, lot=setting.provision_type.lot))


def build_entries(setting_ids: Iterable[int] | None = None, today: date | None = None,
                  batch_size: int = 500) -> Iterator[DirectoryEntry]:
    """Entries for every listed setting and open unlisted setting (or those among ``setting_ids``, which may hold
    unlisted directory ids), loaded in batches."""
    wanted = None if setting_ids is None else set(setting_ids)
    market_ids = None if wanted is None else {entry_id for entry_id in wanted if entry_id >= UNLISTED_ID_OFFSET}
    yield from _setting_entries(wanted - market_ids if wanted is not None else None, today, batch_size)
    yield from unlisted_entries(market_ids, today)


def _setting_entries(setting_ids: set[int] | None, today: date | None, batch_size: int) -> Iterator[DirectoryEntry]:
    ids = sorted(listed_setting_ids(today) if setting_ids is None else setting_ids)
    query = _listed_settings_among(today or date.today())
    accepted_cache: dict[tuple[int, str], list[str]] = {}
    for start in range(0, len(ids), batch_size):
        settings = db.session.scalars(query, {'ids': ids[start:start + batch_size]}).all()
        for setting in settings:
            key = (setting.organisation_id, setting.provision_type.lot.value)
            if key not in accepted_cache:
                accepted_cache[key] = accepted_authority_codes(setting.organisation_id,
                                                               lot=setting.provision_type.lot)
            yield _entry(setting, setting.authority, accepted_cache[key])


@lru_cache(maxsize=4)
def _listed_settings_among(today: date):
    """The listed settings among the ``ids`` parameter, with their organisation and authority: made once a day,
    since every index write runs it (making and keying it each time cost a vacancy write a fifth of its CPU)."""
    return (select(Setting).where(Setting.id.in_(bindparam('ids', expanding=True)), listed_condition(today))
            .options(joinedload(Setting.organisation), joinedload(Setting.authority))
            .order_by(Setting.id))


def listed_setting_ids(today: date | None = None) -> set[int]:
    """Ids of every listed setting, for ``flask search check``."""
    return set(db.session.scalars(select(Setting.id).where(listed_condition(today))))


def _partners(authority_code: str) -> set[str]:
    """The authority and every authority it shares a consortium with."""
    from consortia.models import ConsortiumMember

    mine = select(ConsortiumMember.consortium_id).where(ConsortiumMember.authority_code == authority_code)
    return {authority_code, *db.session.scalars(select(ConsortiumMember.authority_code)
                                                .where(ConsortiumMember.consortium_id.in_(mine)))}


def unlisted_entries(directory_ids: set[int] | None = None, today: date | None = None) -> Iterator[DirectoryEntry]:
    """Entries for open unlisted settings (or those among ``directory_ids``). A not-qualified entry whose URN belongs
    to a listed setting is left out: the provider has joined, and the qualified entry stands for it."""
    from unlisted.models import UnlistedKind, UnlistedSetting

    if directory_ids is not None and not directory_ids:
        return  # none asked for (a setting's own index write): no statement to make
    query = (select(UnlistedSetting).where(UnlistedSetting.closed_at.is_(None))
             .options(selectinload(UnlistedSetting.authority)).order_by(UnlistedSetting.id))
    if directory_ids is not None:
        query = query.where(UnlistedSetting.id.in_(sorted(entry_id - UNLISTED_ID_OFFSET for entry_id in directory_ids)))
    rows = list(db.session.scalars(query))
    urns = [row.urn for row in rows if row.kind == UnlistedKind.NOT_QUALIFIED and row.urn]
    listed_urns = set()
    for start in range(0, len(urns), 500):
        listed_urns |= set(db.session.scalars(select(Setting.urn).where(Setting.urn.in_(urns[start:start + 500]),
                                                                        listed_condition(today))))
    partners: dict[str, set[str]] = {}
    for row in rows:
        if row.kind == UnlistedKind.NOT_QUALIFIED and row.urn in listed_urns:
            continue
        visible = ()
        if row.kind == UnlistedKind.IN_HOUSE:
            if row.owner_authority_code not in partners:
                partners[row.owner_authority_code] = _partners(row.owner_authority_code)
            visible = partners[row.owner_authority_code]
        yield _unlisted_entry(row, visible)


def _unlisted_entry(row, visible: Iterable[str]) -> DirectoryEntry:
    from unlisted.models import UnlistedKind

    info = row.provision_type.info
    confidential = info.confidential_address
    authority = row.authority
    return DirectoryEntry(
        id=UNLISTED_ID_OFFSET + row.id, organisation_id=0, name=row.name,
        organisation_name=row.organisation_name or (authority.name if authority else ''),
        provision_type=row.provision_type.value, provision_type_label=info.label, lot=info.lot.value,
        description=row.description or '', needs=tuple(sorted(set(row.needs or ()))), age_min=row.age_min,
        age_max=row.age_max, sex=row.sex, places=row.places, vacancies=row.vacancies,
        vacancies_confirmed_at=row.vacancies_confirmed_at,
        judgement=row.judgement.value if row.judgement else None,
        judgement_rank=row.judgement.rank if row.judgement else 0, judgement_date=row.judgement_date,
        urn=row.urn, authority_code=row.authority_code, authority_name=authority.name if authority else '',
        region_code=authority.region_code if authority else '', region_name=authority.region_name if authority else '',
        district_name=row.district_name, confidential_address=confidential,
        easting=float(row.easting), northing=float(row.northing),
        address='' if confidential else row.address, postcode='' if confidential else row.postcode,
        accepted_by=tuple(sorted(set(visible))), updated_at=row.updated_at,
        standing=IN_HOUSE if row.kind == UnlistedKind.IN_HOUSE else NOT_QUALIFIED,
    )


def unlisted_ids_sharing_urns(setting_ids: Iterable[int]) -> set[int]:
    """Directory ids of not-qualified entries with the URN of one of these settings: when a setting joins or leaves
    the list, its register twin leaves or comes back in the same drain."""
    from unlisted.models import UnlistedSetting

    ids = sorted(entry_id for entry_id in setting_ids if entry_id < UNLISTED_ID_OFFSET)
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        urns = select(Setting.urn).where(Setting.id.in_(ids[start:start + 500]), Setting.urn.is_not(None))
        found |= {UNLISTED_ID_OFFSET + entry_id for entry_id in
                  db.session.scalars(select(UnlistedSetting.id).where(UnlistedSetting.urn.in_(urns)))}
    return found
