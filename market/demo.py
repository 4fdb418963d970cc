"""Demo data for the market pages: Ofsted's register as a first release, made-up earlier releases, and a
believable anonymous demand log; then the aggregates are refreshed so every page is populated.

- The register shipped with the demo (31 March 2025) is imported (when none is), which snapshots it through the
  import hook. Only one real release ships with the demo, so six earlier quarterly releases are made up from it by
  taking away registrations at random (about 2% of places a quarter: the market has been growing).
- The demand log gets about four finder searches for each demo referral, and a line for each referral itself, in
  the same authorities and months. How often nothing met every requirement rises with complex needs, a short
  distance and children's homes, as commissioners report.

Registered with :func:`registry.demo.register_demo_step` by the app factory, after the placements step.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from market.demand import age_band
from market.models import DemandLog, RegisterSnapshot
from market.refresh import refresh_all
from placements.models import Referral
from registry.db import bulk_insert, utcnow
from registry.extensions import db
from registry.geography.models import LocalAuthority

SEARCHES_PER_REFERRAL = 4
EARLIER_RELEASES = 6
QUARTERLY_GROWTH = 0.02
COMPLEX = {'mental-health', 'harmful-sexual-behaviour', 'child-criminal-exploitation', 'child-sexual-exploitation',
           'complex-health', 'remand-or-custody', 'self-harm', 'physical-disability'}
AGE_OF_BAND = {'under-1': 0, '1-4': 3, '5-9': 7, '10-15': 13, '16-17': 16, '18-plus': 18}


def _matches(rng: random.Random, provision_type: str, needs: list[str], distance: int | None) -> int:
    """A believable count of settings meeting every requirement (0 more often for harder searches)."""
    unmet = 0.08 + 0.12 * len(COMPLEX & set(needs)) + (0.1 if provision_type == 'childrens-home' else 0) \
        + (0.15 if distance is not None and distance <= 20 else 0) + (0.1 if len(needs) >= 3 else 0)
    if rng.random() < min(unmet, 0.8):
        return 0
    return rng.choice((1, 1, 2, 3, 4, 6, 9, 14))


def _register(echo: Callable[[str], None]) -> str:
    from registry.demo import DATA_DIR, REGISTER_AS_AT
    from registry.ofsted.services import import_register, latest_import

    if latest_import() is not None:
        return 'register already imported'

    summary = import_register(DATA_DIR / 'ofsted_register_2025-03-31.csv', as_at=REGISTER_AS_AT, accept_drop=True)
    echo(f'Imported the demo register: {summary.total_rows} rows')
    return f'imported {summary.total_rows} register rows'


def _earlier_releases(rng: random.Random) -> int:
    latest = db.session.scalar(select(RegisterSnapshot.as_at).order_by(RegisterSnapshot.as_at.desc()).limit(1))
    if latest is None:
        return 0
    current = list(db.session.scalars(select(RegisterSnapshot).where(RegisterSnapshot.as_at == latest)))
    rows = []
    for back in range(1, EARLIER_RELEASES + 1):
        keep = (1 - QUARTERLY_GROWTH) ** back
        as_at = latest - timedelta(days=91 * back)
        if db.session.scalar(select(RegisterSnapshot.id).where(RegisterSnapshot.as_at == as_at).limit(1)):
            continue
        for snapshot in current:
            homes = sum(1 for _ in range(snapshot.homes) if rng.random() < keep)
            places = round(snapshot.places * homes / snapshot.homes) if snapshot.homes else 0
            if homes:
                rows.append({'as_at': as_at, 'provision_type': snapshot.provision_type,
                             'authority_code': snapshot.authority_code, 'region': snapshot.region, 'homes': homes,
                             'places': places})
    if rows:
        db.session.execute(bulk_insert(RegisterSnapshot), rows)
    return EARLIER_RELEASES


def _demand(rng: random.Random) -> int:
    referrals = db.session.execute(select(Referral.authority_code, Referral.created_at, Referral.age_band,
                                          Referral.provision_type, Referral.needs, Referral.max_distance_miles)).all()
    codes = list(db.session.scalars(select(LocalAuthority.code)))
    rows = []
    today = utcnow().date()
    for authority, created, band, kind, needs, distance in referrals:
        kind = getattr(kind, 'value', kind)
        for _ in range(rng.randint(SEARCHES_PER_REFERRAL - 2, SEARCHES_PER_REFERRAL + 2)):
            asked = sorted(set(needs) | ({rng.choice(sorted(COMPLEX))} if rng.random() < 0.2 else set()))
            if rng.random() < 0.3 and asked:
                asked = asked[:-1]
            search_distance = rng.choice((distance, 20, 30, 50, None))
            rows.append({'logged_on': min(today, (created - timedelta(days=rng.randint(0, 5))).date()),
                         'kind': 'search', 'authority_code': authority if rng.random() < 0.95 else rng.choice(codes),
                         'age_band': band, 'provision_type': kind if rng.random() < 0.85 else 'any',
                         'needs': ','.join(asked), 'max_distance_miles': search_distance,
                         'matches': _matches(rng, kind, asked, search_distance)})
        rows.append({'logged_on': created.date(), 'kind': 'referral', 'authority_code': authority,
                     'age_band': band or age_band(AGE_OF_BAND.get(band, 13)), 'provision_type': kind,
                     'needs': ','.join(sorted(needs)), 'max_distance_miles': distance,
                     'matches': _matches(rng, kind, needs, distance)})
    for start in range(0, len(rows), 5000):
        db.session.execute(bulk_insert(DemandLog), rows[start:start + 5000])
    return len(rows)


def load(rng: random.Random, echo: Callable[[str], None] = print) -> str:
    """Add the market demo data in the current unit of work and refresh the aggregates."""
    register = _register(echo)
    db.session.flush()
    releases = _earlier_releases(rng)
    logged = _demand(rng)
    echo('Refreshing the market figures…')
    done = refresh_all()
    return (f'Market: {register}; {releases} earlier releases made up; {logged} searches and referrals logged; '
            f'{done["price cells"]} price cells, {done["flows"]} flows.')
