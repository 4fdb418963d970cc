"""Demo data: the whole market. Ofsted's register (the demo extract) is imported if it is not already, every active
registration whose provider is not qualified becomes a not-qualified entry, and a few authorities record in-house
homes and fostering services (Leeds, Bradford and Westminster). Registered with
:func:`registry.demo.register_demo_step` by the app factory."""

from __future__ import annotations

import random
from collections.abc import Callable

from sqlalchemy import func, select

from registry.audit.services import record
from registry.db import utcnow
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.geography.postcodes import lookup
from registry.indexing import enqueue_settings
from registry.ofsted.models import OfstedRegisterEntry
from registry.settings.taxonomy import ProvisionType
from unlisted.models import UnlistedKind, UnlistedSetting
from unlisted.services import directory_id, refresh_from_register

#: (owner authority, name, type, postcode, places, ages, needs)
IN_HOUSE = (
    ('E08000035', 'Leeds in-house fostering service', ProvisionType.LOCAL_AUTHORITY_FOSTERING, 'LS2 8BH', 40,
     (0, 17), ['sibling-groups', 'emergency', 'short-breaks']),
    ('E08000035', 'Leeds City Council children\'s home (Headingley)', ProvisionType.CHILDRENS_HOME, 'LS6 3HN', 4,
     (10, 17), ['emotional-behavioural', 'education-on-site']),
    ('E08000035', 'Leeds City Council children\'s home (Seacroft)', ProvisionType.CHILDRENS_HOME, 'LS14 6JD', 3,
     (12, 17), ['child-criminal-exploitation']),
    ('E08000032', 'Bradford Council children\'s home (Thornton)', ProvisionType.CHILDRENS_HOME, 'BD13 3QN', 5,
     (11, 17), ['autism', 'learning-disability']),
    ('E09000033', 'Westminster in-house fostering service', ProvisionType.LOCAL_AUTHORITY_FOSTERING, 'SW1P 4DR', 25,
     (0, 17), ['unaccompanied-asylum-seeking', 'emergency']),
)


def load(rng: random.Random, echo: Callable[[str], None]) -> str:
    from registry.demo import REGISTER_FILE
    from registry.ofsted.services import import_register

    if not db.session.scalar(select(func.count()).select_from(OfstedRegisterEntry)):
        echo('Importing the Ofsted register extract…')
        import_register(REGISTER_FILE)
    counts = refresh_from_register()
    names = dict(db.session.execute(select(LocalAuthority.code, LocalAuthority.name)).all())
    recorded = []
    for owner, name, kind, postcode, places, (age_min, age_max), needs in IN_HOUSE:
        if db.session.scalar(select(UnlistedSetting.id).where(UnlistedSetting.name == name)) is not None:
            continue
        location = lookup(postcode)
        entry = UnlistedSetting(kind=UnlistedKind.IN_HOUSE, owner_authority_code=owner, provision_type=kind, name=name,
                            organisation_name=names[owner], authority_code=location.authority_code,
                            district_name=location.district_name, postcode=location.postcode,
                            easting=location.easting, northing=location.northing, places=places,
                            age_min=age_min, age_max=age_max, needs=needs, vacancies=rng.randint(0, min(3, places)),
                            vacancies_confirmed_at=utcnow(), description=f'{names[owner]}\'s own {kind.label.lower()}.')
        db.session.add(entry)
        db.session.flush()
        record('unlisted.in_house.record', entry, actor=None, reason='Demonstration data')
        recorded.append(directory_id(entry))
    enqueue_settings(recorded, reason='demo.load.unlisted')
    return (f'{counts["added"]} Ofsted-registered settings not yet qualified and {len(recorded)} in-house services '
            'for commissioners to search alongside the national list.')
