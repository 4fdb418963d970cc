"""Demo data: real fostering agencies and family centres from Ofsted's register, fictional children's homes.

Independent fostering agencies and residential family centres keep their real names, towns and
postcodes (Ofsted publishes them). Ofsted redacts children's homes' names and addresses, so each
demo home is a real register row (URN, owner, authority, places, judgement) given a made-up name
and street at a random real postcode in the same authority. Everything else (needs, vacancies,
qualifications, local lists, accounts) is invented, repeatably from a seed.
"""

from __future__ import annotations

import csv
import random
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from registry.accounts.models import Role, User
from registry.audit.models import AuditEvent
from registry.audit.services import record
from registry.db import unit_of_work, utcnow
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.geography.postcodes import PostcodeError, PostcodeLocation, lookup
from registry.organisations.models import LegalForm, MemberRole, Membership, Organisation, Sector
from registry.settings.models import Setting, VacancyChange
from registry.settings.taxonomy import Judgement, Lot, ProvisionType, RegistrationStatus, SexAccepted

DATA_DIR = Path(__file__).parent / 'demo_data'
REGISTER_FILE = DATA_DIR / 'ofsted_register_2025-03-31.csv'
#: The release the extract comes from ("providers at 31 March 2025"); its file has no title rows to say so.
REGISTER_AS_AT = date(2025, 3, 31)
GEOCODED_FILE = DATA_DIR / 'ofsted_2025_non_childrens_homes_geocoded.csv'
HOME_POSTCODES_FILE = DATA_DIR / 'home_postcodes.csv'

#: Every demo account signs in with this password.
DEMO_PASSWORD = 'demo-password-2026'
DEMO_DOMAIN = 'demo.example.org'
#: Audit action that marks the demo as loaded.
DEMO_ACTION = 'demo.load'
SCHEME_VERSION = '2026.1'

#: (email, full name, role, authority code); the provider also owns one demo organisation.
DEMO_ACCOUNTS = (
    (f'provider@{DEMO_DOMAIN}', 'Priya Shah', Role.PROVIDER, None),
    (f'commissioner@{DEMO_DOMAIN}', 'Callum Reid', Role.COMMISSIONER, 'E08000035'),
    (f'assessor@{DEMO_DOMAIN}', 'Amara Okafor', Role.ASSESSOR, None),
    (f'board@{DEMO_DOMAIN}', 'Bernard Hughes', Role.BOARD_MEMBER, None),
    (f'admin@{DEMO_DOMAIN}', 'Ada Whitfield', Role.ADMIN, None),
)

#: Authorities that have accepted some providers onto their local lists: Leeds, Manchester, Birmingham, Kent, Bristol.
LOCAL_LIST_AUTHORITIES = ('E08000035', 'E08000003', 'E08000025', 'E10000016', 'E06000023')

#: Children's homes sampled per region (all secure children's homes are added on top).
HOMES_PER_REGION = 14
#: Share of organisations that hold an active national qualification.
QUALIFIED_SHARE = 0.85

HOME_NAME_FIRST = ('Oak', 'Willow', 'Rowan', 'Hazel', 'Birch', 'Maple', 'Cedar', 'Elm', 'Ash', 'Alder', 'Holly',
                   'Beech', 'Larch', 'Juniper', 'Aspen', 'Hawthorn', 'Linden', 'Poplar', 'Sycamore', 'Chestnut',
                   'Laurel', 'Bramble', 'Heather', 'Foxglove', 'Bluebell')
HOME_NAME_SECOND = ('Lodge', 'House', 'Cottage', 'View', 'Croft', 'Barn', 'Grange', 'Court')
STREETS = ('Orchard Way', 'Meadow Close', 'Mill Lane', 'Church View', 'Station Road', 'Park Avenue', 'Green Lane',
           'Victoria Street', 'The Crescent', 'Willow Drive', 'Manor Road', 'Springfield Road', 'Kings Walk',
           'Brook Street', 'Hillside Road')
FIRST_NAMES = ('Sam', 'Alex', 'Jordan', 'Morgan', 'Taylor', 'Jamie', 'Chris', 'Robin', 'Charlie', 'Jess', 'Nadia',
               'Tom', 'Aisha', 'Ben', 'Grace', 'Imran', 'Leah', 'Owen', 'Ruth', 'Yusuf')
LAST_NAMES = ('Patel', 'Smith', 'Jones', 'Williams', 'Brown', 'Khan', 'Taylor', 'Davies', 'Evans', 'Wilson',
              'Thomas', 'Roberts', 'Ali', 'Walker', 'Wright', 'Hall', 'Green', 'Clarke', 'Hussain', 'Lewis')
#: Ofcom's numbers reserved for drama, so no demo phone number rings anyone.
PHONE_PREFIXES = ('0113 496 0', '0114 496 0', '0115 496 0', '0116 496 0', '0117 496 0', '0118 496 0', '0121 496 0',
                  '0131 496 0', '0141 496 0', '0151 496 0', '0161 496 0', '020 7946 0', '0191 498 0')

HOME_NEEDS = ('emotional-behavioural', 'mental-health', 'learning-disability', 'autism', 'child-sexual-exploitation',
              'child-criminal-exploitation', 'self-harm', 'therapeutic-care', 'education-on-site', 'emergency',
              'step-down', 'complex-health', 'physical-disability', 'harmful-sexual-behaviour', 'substance-misuse',
              'unaccompanied-asylum-seeking')
SECURE_NEEDS = ('remand-or-custody', 'step-down', 'mental-health', 'self-harm', 'education-on-site',
                'child-criminal-exploitation', 'child-sexual-exploitation')
FOSTERING_NEEDS = ('sibling-groups', 'parent-and-child', 'emergency', 'unaccompanied-asylum-seeking',
                   'therapeutic-care', 'emotional-behavioural', 'short-breaks', 'learning-disability', 'autism',
                   'physical-disability', 'complex-health', 'step-down')
FAMILY_CENTRE_NEEDS = ('learning-disability', 'mental-health', 'substance-misuse', 'emotional-behavioural')
HOME_AGE_RANGES = ((8, 17), (10, 17), (11, 17), (12, 17), (13, 17), (7, 17), (5, 17), (14, 17), (11, 18))

_SECTORS = {'Private': Sector.PRIVATE, 'Voluntary': Sector.VOLUNTARY, 'Local Authority': Sector.LOCAL_AUTHORITY,
            'Health Authority': Sector.HEALTH}
_PROVISION_TYPES = {
    "Children's home": ProvisionType.CHILDRENS_HOME,
    "Children's Home": ProvisionType.CHILDRENS_HOME,
    "Secure children's home": ProvisionType.SECURE_CHILDRENS_HOME,
    'Independent Fostering Agency': ProvisionType.INDEPENDENT_FOSTERING_AGENCY,
    'Residential Family Centre': ProvisionType.RESIDENTIAL_FAMILY_CENTRE,
}
_HOME_TYPES = {ProvisionType.CHILDRENS_HOME, ProvisionType.SECURE_CHILDRENS_HOME}

@dataclass
class _Planned:
    """A setting to create: the register row and where it is."""

    row: dict[str, str]
    ptype: ProvisionType
    location: PostcodeLocation
    name: str
    address_line_1: str
    address_line_2: str
    town: str


@dataclass
class _Owner:
    """An organisation to create and the settings it runs."""

    name: str
    sector: Sector
    settings: list[_Planned] = field(default_factory=list)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding='utf-8', newline='') as handle:
        return list(csv.DictReader(handle))


def _slug(text: str) -> str:
    return re.sub(r'[^a-z0-9]+', '-', text.lower()).strip('-')[:40] or 'provider'


def _legal_form(name: str, sector: Sector) -> LegalForm:
    """A plausible legal form from the owner's name and Ofsted sector."""
    lowered = name.lower()
    if sector == Sector.LOCAL_AUTHORITY:
        return LegalForm.LOCAL_AUTHORITY
    if sector == Sector.HEALTH:
        return LegalForm.NHS_BODY
    if 'cic' in lowered.split() or 'community interest' in lowered:
        return LegalForm.COMMUNITY_INTEREST_COMPANY
    if lowered.endswith(' llp'):
        return LegalForm.LIMITED_LIABILITY_PARTNERSHIP
    if sector == Sector.VOLUNTARY:
        return LegalForm.CHARITABLE_COMPANY
    return LegalForm.COMPANY_LIMITED_BY_SHARES


def _parse_date(text: str) -> date | None:
    try:
        return datetime.strptime(text.strip(), '%d/%m/%Y').date()
    except ValueError:
        return None


def _title_town(text: str) -> str:
    """Ofsted writes some towns in capitals; show them the usual way."""
    return text.title() if text.isupper() else text


def already_loaded() -> bool:
    """Whether the demo has been loaded into this database."""
    marker = db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == DEMO_ACTION).limit(1))
    return marker is not None


def _locate_all(postcodes: list[str]) -> dict[str, PostcodeLocation | None]:
    """Geocode postcodes letter by letter, so each of the directory's files is decoded once."""
    found: dict[str, PostcodeLocation | None] = {}
    for postcode in sorted(set(postcodes)):
        try:
            found[postcode] = lookup(postcode)
        except PostcodeError:
            found[postcode] = None
    return found


def _plan(rng: random.Random, echo: Callable[[str], None]) -> dict[str, _Owner]:
    """Decide every organisation and setting from the register extract, without touching the database."""
    register = {row['URN']: row for row in _read_csv(REGISTER_FILE)}
    geocoded = [row for row in _read_csv(GEOCODED_FILE) if row['Provision type'] in _PROVISION_TYPES]
    ofsted_postcodes = {row['Postcode'].strip().upper() for row in _read_csv(GEOCODED_FILE)}
    authority_by_ofsted_name = {la.ofsted_name: la.code for la in db.session.scalars(select(LocalAuthority))}

    homes_by_region: dict[str, list[dict[str, str]]] = defaultdict(list)
    secure_homes = []
    for row in register.values():
        ptype = _PROVISION_TYPES.get(row['Provision type'])
        if ptype == ProvisionType.SECURE_CHILDRENS_HOME:
            secure_homes.append(row)
        elif ptype == ProvisionType.CHILDRENS_HOME and row['Local authority'] in authority_by_ofsted_name:
            homes_by_region[row['Government Office Region']].append(row)

    # Take a few owners per region and up to three of their homes there, so organisations run several homes.
    chosen_homes: list[dict[str, str]] = []
    for region in sorted(homes_by_region):
        rows = sorted(homes_by_region[region], key=lambda row: row['URN'])
        rng.shuffle(rows)
        taken: list[dict[str, str]] = []
        for row in rows:
            if len(taken) >= HOMES_PER_REGION:
                break
            owner = row['Organisation which owns the provider']
            if any(t['Organisation which owns the provider'] == owner for t in taken):
                continue
            same_owner = [r for r in rows if r['Organisation which owns the provider'] == owner]
            taken.extend(same_owner[:min(3, HOMES_PER_REGION - len(taken))])
        chosen_homes.extend(taken)
    chosen_homes.extend(row for row in sorted(secure_homes, key=lambda row: row['URN'])
                        if row['Local authority'] in authority_by_ofsted_name)

    home_postcodes: dict[str, list[str]] = defaultdict(list)
    for row in _read_csv(HOME_POSTCODES_FILE):
        # Never put a demo home at a postcode Ofsted publishes for a real service.
        if row['postcode'] not in ofsted_postcodes:
            home_postcodes[row['authority_code']].append(row['postcode'])
    # Deal postcodes out without replacement, so two demo homes rarely share one.
    for postcodes in home_postcodes.values():
        rng.shuffle(postcodes)
    dealt: dict[str, int] = defaultdict(int)
    home_sites = {}
    for row in chosen_homes:
        code = authority_by_ofsted_name[row['Local authority']]
        home_sites[row['URN']] = home_postcodes[code][dealt[code] % len(home_postcodes[code])]
        dealt[code] += 1

    locations = _locate_all([row['Postcode'] for row in geocoded] + list(home_sites.values()))

    owners: dict[str, _Owner] = {}

    def owner_for(row: dict[str, str]) -> _Owner:
        name = row['Organisation which owns the provider'].strip() or row.get('Name', '').strip()
        sector = _SECTORS.get(row['Sector'], Sector.PRIVATE)
        return owners.setdefault(name, _Owner(name=name, sector=sector))

    skipped = 0
    for row in sorted(geocoded, key=lambda row: row['URN']):
        location = locations.get(row['Postcode'])
        if location is None:
            skipped += 1
            continue
        full = {**register.get(row['URN'], {}), **row}
        owner_for(full).settings.append(_Planned(
            row=full, ptype=_PROVISION_TYPES[row['Provision type']], location=location, name=row['Name'].strip(),
            address_line_1=(full.get('Address 1') or row['Name']).strip()[:120],
            address_line_2=(full.get('Address 2') or '').strip()[:120], town=_title_town(row['Town'].strip())))

    names_used: dict[str, set[str]] = defaultdict(set)
    for row in chosen_homes:
        location = locations.get(home_sites[row['URN']])
        if location is None:
            skipped += 1
            continue
        owner = owner_for(row)
        name = f'{rng.choice(HOME_NAME_FIRST)} {rng.choice(HOME_NAME_SECOND)}'
        while name in names_used[owner.name]:
            name = f'{rng.choice(HOME_NAME_FIRST)} {rng.choice(HOME_NAME_SECOND)}'
        names_used[owner.name].add(name)
        owner.settings.append(_Planned(
            row=row, ptype=_PROVISION_TYPES[row['Provision type']], location=location, name=name,
            address_line_1=f'{rng.randint(1, 120)} {rng.choice(STREETS)}', address_line_2='',
            town=location.district_name))
    if skipped:
        echo(f'Skipped {skipped} register rows whose postcode could not be placed in England.')
    return owners


def _needs(rng: random.Random, ptype: ProvisionType, short_breaks: bool) -> list[str]:
    if ptype == ProvisionType.SECURE_CHILDRENS_HOME:
        return sorted(rng.sample(SECURE_NEEDS, 4))
    if ptype == ProvisionType.CHILDRENS_HOME:
        needs = set(rng.sample(HOME_NEEDS, rng.randint(2, 5)))
        if short_breaks:
            needs |= {'short-breaks', 'learning-disability'}
        return sorted(needs)
    if ptype == ProvisionType.RESIDENTIAL_FAMILY_CENTRE:
        return sorted({'parent-and-child', *rng.sample(FAMILY_CENTRE_NEEDS, rng.randint(1, 3))})
    return sorted(rng.sample(FOSTERING_NEEDS, rng.randint(3, 7)))


def _confirmed_at(rng: random.Random, now: datetime) -> datetime | None:
    """Most providers confirmed vacancies in the last two days; some are stale (over seven days)."""
    roll = rng.random()
    if roll < 0.03:
        return None
    if roll < 0.6:
        return now - timedelta(hours=rng.uniform(0.2, 48))
    if roll < 0.85:
        return now - timedelta(days=rng.uniform(2, 7))
    return now - timedelta(days=rng.uniform(8, 45))


def _setting(rng: random.Random, planned: _Planned, organisation: Organisation, coverage: list[str],
             urn: str | None, now: datetime) -> Setting:
    row, ptype, location = planned.row, planned.ptype, planned.location
    places_text = (row.get('Places') or '').strip()
    if ptype in _HOME_TYPES:
        places = int(places_text) if places_text.isdigit() else rng.randint(2, 5)
        short_breaks = ptype == ProvisionType.CHILDRENS_HOME and rng.random() < 0.08
        age_min, age_max = (10, 17) if ptype == ProvisionType.SECURE_CHILDRENS_HOME else rng.choice(HOME_AGE_RANGES)
        if short_breaks:
            age_min, age_max = 5, 18
        sex = rng.choices([SexAccepted.ANY, SexAccepted.MALE, SexAccepted.FEMALE], [8, 1, 1])[0]
        vacancies = rng.choices([0, 1, 2], [6, 3, 1])[0] if places else 0
        description = (f'{planned.name} is a demonstration record: the name and street are made up because Ofsted '
                       f'does not publish children\'s home addresses. The Ofsted URN, owner, local authority, '
                       f'places and judgement come from Ofsted\'s register at 31 March 2025. It cares for up to '
                       f'{places} children aged {age_min} to {age_max}.')
    elif ptype == ProvisionType.RESIDENTIAL_FAMILY_CENTRE:
        short_breaks = False
        places = int(places_text) if places_text.isdigit() else rng.randint(3, 8)
        age_min, age_max, sex = 0, 2, SexAccepted.ANY
        vacancies = rng.choices([0, 1, 2], [5, 4, 1])[0]
        description = (f'Residential family centre in {planned.town} offering parenting assessments for parents '
                       f'and babies. Name, address and judgement are from Ofsted\'s register; places, needs and '
                       f'vacancies are demonstration data.')
    else:
        short_breaks = False
        places = rng.randint(15, 120)
        age_min, age_max, sex = 0, rng.choice((17, 18)), SexAccepted.ANY
        vacancies = rng.choices(range(0, 9), [4, 4, 3, 3, 2, 2, 1, 1, 1])[0]
        description = (f'Independent fostering agency branch in {planned.town}, approving and supporting foster '
                       f'carers across the region. Name, address and judgement are from Ofsted\'s register; '
                       f'carer numbers, needs and vacancies are demonstration data.')
    vacancies = min(vacancies, places)
    judgement_text = row.get('Overall experiences and progress of children and young people', '')
    judgement = Judgement.from_ofsted(judgement_text)
    status = RegistrationStatus.SUSPENDED if row.get('Registration status') == 'Suspended' \
        else RegistrationStatus.ACTIVE
    confirmed = _confirmed_at(rng, now)
    setting = Setting(
        organisation=organisation, provision_type=ptype, name=planned.name[:200], urn=urn,
        address_line_1=planned.address_line_1 or planned.name[:120], address_line_2=planned.address_line_2,
        town=(planned.town or location.district_name)[:80], postcode=location.postcode,
        easting=location.easting, northing=location.northing, district_code=location.district_code,
        district_name=location.district_name, authority_code=location.authority_code, places=places,
        age_min=age_min, age_max=age_max, sex_accepted=sex, needs=_needs(rng, ptype, short_breaks),
        description=description, coverage=coverage if ptype.lot == Lot.FOSTERING else [],
        vacancies=vacancies, vacancies_confirmed_at=confirmed, registration_status=status,
        judgement=judgement, judgement_date=_parse_date(row.get('Latest full inspection date', '')) if judgement
        else None,
    )
    if confirmed is not None:
        setting.vacancy_history.append(VacancyChange(vacancies=vacancies, changed_at=confirmed,
                                                     note='Demonstration data'))
    return setting


def _organisation(rng: random.Random, owner: _Owner, index: int) -> Organisation:
    first = owner.settings[0]
    homes_only = all(planned.ptype in _HOME_TYPES for planned in owner.settings)
    if homes_only:
        # The head office of a homes-only owner is made up too, so it can never point at a home.
        address_line_1 = f'Unit {rng.randint(1, 40)}, {rng.choice(("Riverside", "Enterprise", "Gateway"))} ' \
                         'Business Park'
    else:
        address_line_1 = first.address_line_1
    contact = f'{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}'
    return Organisation(
        legal_name=owner.name[:200], trading_name='', legal_form=_legal_form(owner.name, owner.sector),
        sector=owner.sector, address_line_1=address_line_1[:120], town=first.town[:80],
        postcode=first.location.postcode, contact_name=contact,
        contact_email=f'{_slug(owner.name)}-{index}@{DEMO_DOMAIN}',
        contact_phone=f'{rng.choice(PHONE_PREFIXES)}{rng.randint(0, 999):03d}',
    )


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError('unreachable')


def _ensure_accounts(echo: Callable[[str], None]) -> dict[Role, User]:
    """Create the demo accounts that do not exist yet (each through the accounts service when it is there)."""
    try:
        from registry.accounts.services import create_user
    except ImportError:  # pragma: no cover - only before the accounts service existed
        create_user = None
    users: dict[Role, User] = {}
    for email, full_name, role, authority_code in DEMO_ACCOUNTS:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            if create_user is not None:
                user = create_user(email=email, full_name=full_name, password=DEMO_PASSWORD, role=role,
                                   authority_code=authority_code, verified=True)
            else:
                from registry.accounts.passwords import hash_password

                with unit_of_work():
                    user = User(email=email, full_name=full_name, password_hash=hash_password(DEMO_PASSWORD),
                                role=role, authority_code=authority_code, email_verified_at=utcnow())
                    db.session.add(user)
            echo(f'Created {role.label.lower()} account {email}')
        users[role] = user
    return users


#: A feature package's demo step: given a seeded random source and ``echo``, adds its rows in the current unit of
#: work and returns a one-line summary.
DemoStep = Callable[[random.Random, Callable[[str], None]], str]


def register_demo_step(app, name: str, step: DemoStep) -> None:
    """Let a feature package (placements, market, ...) add its demo data after the core's, in registration order.

    The core knows nothing of the packages: the app factory registers each step. A step runs once: its own
    ``demo.load.<name>`` audit event marks it done, so an existing demo database gains a new package's data the
    next time ``load-demo`` runs, and a second run changes nothing.
    """
    app.extensions.setdefault('demo_steps', []).append((name, step))


def load_demo_data(seed: int = 2025, echo: Callable[[str], None] = print) -> str:
    """Load the core demo, then each registered package's demo step; a second run changes nothing."""
    from flask import current_app

    lines = [] if already_loaded() else [_load_core_demo(seed, echo)]
    for name, step in current_app.extensions.get('demo_steps', []):
        action = f'{DEMO_ACTION}.{name}'
        if db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == action).limit(1)) is not None:
            continue
        echo(f'Adding demo data: {name}…')
        with unit_of_work():
            summary = step(random.Random(f'{seed}-{name}'), echo)
            record(action, None, object_type='demo', reason=f'Demonstration data loaded: {name}',
                   after={'summary': summary, 'seed': seed})
        lines.append(summary)
    return '\n'.join(lines) or 'Demo data is already loaded; nothing changed.'


def _load_core_demo(seed: int, echo: Callable[[str], None]) -> str:
    """Ofsted's register (the gate for listing), organisations, settings, qualifications, local lists and accounts."""
    from registry.ofsted.services import import_register, latest_import

    if latest_import() is None:
        # Ofsted is the gate: without the register, no children's home or agency would be listed.
        echo("Importing Ofsted's register as at 31 March 2025…")
        # accept_drop: entries made by hand before the demo (no import yet) are not a release to compare against
        import_register(REGISTER_FILE, as_at=REGISTER_AS_AT, accept_drop=True)
    rng = random.Random(seed)
    echo('Reading the Ofsted register extract and placing settings…')
    owners = _plan(rng, echo)
    users = _ensure_accounts(echo)
    now = utcnow()
    today = now.date()
    existing_urns = set(db.session.scalars(select(Setting.urn).where(Setting.urn.is_not(None))))
    region_of = {la.code: la.region_name for la in db.session.scalars(select(LocalAuthority))}
    authorities_in_region: dict[str, list[str]] = defaultdict(list)
    for code, region in sorted(region_of.items()):
        authorities_in_region[region].append(code)

    echo(f'Creating {len(owners)} organisations…')
    with unit_of_work():
        organisations: list[tuple[Organisation, list[Setting]]] = []
        for index, name in enumerate(sorted(owners), start=1):
            owner = owners[name]
            organisation = _organisation(rng, owner, index)
            db.session.add(organisation)
            settings = []
            for planned in owner.settings:
                urn = planned.row.get('URN') or None
                if urn in existing_urns:
                    urn = None
                existing_urns.add(urn)
                region = region_of[planned.location.authority_code]
                settings.append(_setting(rng, planned, organisation, authorities_in_region[region], urn, now))
            db.session.add_all(settings)
            organisations.append((organisation, settings))
        db.session.flush()

        qualified: list[tuple[Organisation, list[Setting]]] = []
        valid_to = _add_months(today, 12) - timedelta(days=1)
        for organisation, settings in organisations:
            if rng.random() >= QUALIFIED_SHARE:
                continue
            qualified.append((organisation, settings))
            for lot in sorted({setting.provision_type.lot for setting in settings}):
                db.session.add(_qualification(organisation, lot, today, valid_to))

        provider_org, provider_settings = _demo_provider_organisation(qualified)
        db.session.add(Membership(user=users[Role.PROVIDER], organisation=provider_org, role=MemberRole.OWNER))

        local_count = 0
        for code in LOCAL_LIST_AUTHORITIES:
            candidates = [
                (organisation, lot) for organisation, settings in qualified
                for lot in sorted({s.provision_type.lot for s in settings if region_of[s.authority_code]
                                   == region_of[code]})
            ]
            if code == 'E08000035':
                candidates.insert(0, (provider_org, min(s.provision_type.lot for s in provider_settings)))
            seen = set()
            for organisation, lot in candidates[:8]:
                if (organisation.id, lot) in seen:
                    continue
                seen.add((organisation.id, lot))
                db.session.add(_local_application(organisation, code, lot, now))
                local_count += 1

        setting_ids = [setting.id for _, settings in organisations for setting in settings]
        from registry.indexing import enqueue_settings

        enqueue_settings(setting_ids, reason=DEMO_ACTION)
        summary = {'organisations': len(organisations), 'settings': len(setting_ids),
                   'qualified_organisations': len(qualified), 'local_applications': local_count, 'seed': seed}
        record(DEMO_ACTION, None, object_type='demo', reason='Demonstration data loaded', after=summary)

    regions = len({region_of[s.authority_code] for _, settings in organisations for s in settings})
    return (f'Loaded {summary["organisations"]} organisations and {summary["settings"]} settings across {regions} '
            f'regions; {summary["qualified_organisations"]} organisations are qualified and {local_count} are on '
            f'local lists.\nDemo accounts (password {DEMO_PASSWORD}): '
            + ', '.join(email for email, *_ in DEMO_ACCOUNTS)
            + '.\nBoard and admin accounts set up a second factor (TOTP) at first sign-in.')


def _qualification(organisation: Organisation, lot: Lot, today: date, valid_to: date):
    # Imported here: seed data is the one place the core writes qualification rows.
    from qualification.models import Qualification, QualificationStatus

    return Qualification(organisation_id=organisation.id, lot=lot, scheme_version=SCHEME_VERSION,
                         status=QualificationStatus.ACTIVE, valid_from=today, valid_to=valid_to,
                         next_review_due=valid_to - timedelta(days=30), status_changed_at=utcnow())


def _local_application(organisation: Organisation, authority_code: str, lot: Lot, now: datetime):
    from qualification.models import LocalApplication, LocalApplicationStatus

    return LocalApplication(organisation_id=organisation.id, authority_code=authority_code, lot=lot,
                            status=LocalApplicationStatus.ACCEPTED, decided_at=now,
                            decision_reason='Demonstration data: accepted onto the local list')


def _demo_provider_organisation(
        qualified: list[tuple[Organisation, list[Setting]]]) -> tuple[Organisation, list[Setting]]:
    """The demo provider runs a qualified group with several children's homes, preferably in Yorkshire."""
    def score(item):
        organisation, settings = item
        homes = sum(1 for s in settings if s.provision_type == ProvisionType.CHILDRENS_HOME)
        in_leeds_region = any(s.authority_code.startswith('E08') and s.district_code in {
            'E08000035', 'E08000032', 'E08000033', 'E08000034', 'E08000036'} for s in settings)
        return (in_leeds_region, min(homes, 3), organisation.legal_name)

    return max(qualified, key=score)
