"""Demo data: about 3,000 referrals over the last two years across the 9 regions, with offers and placements.

Prices are realistic weekly fees by provision type (children's homes mostly £4,000 to £8,000 and more,
independent fostering about £800 to £1,250), with regional differences and uplifts for complex needs.

Where children are placed looks like England's, because the market pages show it to every demo visitor: DfE's
looked-after statistics put about 4 in 10 children outside their own authority (more from children's homes, fewer
from foster care; England's few secure homes take children from far and wide) and about 1 in 6 more than 20 miles
from home. Most referrals
therefore approach settings in the child's own authority first, and the rest the nearest settings around it; the
share varies by type and region (London's small boroughs place out more often). The demo has a few hundred
settings, not England's thousands, so a referral meant to be local comes from an authority in its region that has
such a setting. Referrals closed more than the retention period ago already have their child details deleted, as
the scheduled command would have done. Registered with :func:`registry.demo.register_demo_step` by the app factory.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select

from placements.models import Offer, Placement, Referral, ReferralResponse, age_band
from placements.retention import subtract_months
from placements.states import (
    CloseReason,
    DeclineReason,
    EndReason,
    PlacementStatus,
    ReferralStatus,
    ResponseStatus,
)
from registry.accounts.models import Role, User
from registry.db import bulk_insert, utcnow
from registry.extensions import db
from registry.geography.distance import metres_between, miles
from registry.geography.models import LocalAuthority
from registry.settings.models import Setting
from registry.settings.taxonomy import Lot, ProvisionType
from search.query import authority_centroids

REFERRALS = 3000
DAYS = 730
PT = ProvisionType
#: Share of referrals by the type of placement sought.
TYPE_WEIGHTS = {PT.CHILDRENS_HOME: 0.46, PT.INDEPENDENT_FOSTERING_AGENCY: 0.40, PT.LOCAL_AUTHORITY_FOSTERING: 0.04,
                PT.RESIDENTIAL_FAMILY_CENTRE: 0.05, PT.SECURE_CHILDRENS_HOME: 0.02, PT.ASSESSMENT_SERVICE: 0.03}
#: Median weekly fee in pence and the spread (log-normal sigma) by type.
PRICES = {PT.CHILDRENS_HOME: (5_600_00, 0.22), PT.SECURE_CHILDRENS_HOME: (8_400_00, 0.15),
          PT.INDEPENDENT_FOSTERING_AGENCY: (1_000_00, 0.12), PT.LOCAL_AUTHORITY_FOSTERING: (550_00, 0.10),
          PT.RESIDENTIAL_FAMILY_CENTRE: (4_300_00, 0.18), PT.ASSESSMENT_SERVICE: (2_200_00, 0.20)}
REGION_PRICE = {'London': 1.14, 'South East': 1.08, 'East of England': 1.04, 'South West': 1.02,
                'North East': 0.94, 'North West': 0.97, 'Yorkshire and The Humber': 0.96}
COMPLEX_NEEDS = {'mental-health', 'harmful-sexual-behaviour', 'child-criminal-exploitation',
                 'child-sexual-exploitation', 'complex-health', 'step-down', 'remand-or-custody', 'self-harm'}
NEEDS_BY_TYPE = {
    PT.CHILDRENS_HOME: ['emotional-behavioural', 'mental-health', 'self-harm', 'child-criminal-exploitation',
                        'child-sexual-exploitation', 'autism', 'learning-disability', 'substance-misuse',
                        'harmful-sexual-behaviour', 'therapeutic-care', 'education-on-site', 'emergency',
                        'step-down', 'unaccompanied-asylum-seeking'],
    PT.SECURE_CHILDRENS_HOME: ['remand-or-custody', 'self-harm', 'mental-health', 'child-criminal-exploitation'],
    PT.INDEPENDENT_FOSTERING_AGENCY: ['emotional-behavioural', 'sibling-groups', 'autism', 'learning-disability',
                                      'unaccompanied-asylum-seeking', 'emergency', 'therapeutic-care',
                                      'physical-disability', 'short-breaks'],
    PT.LOCAL_AUTHORITY_FOSTERING: ['emotional-behavioural', 'sibling-groups', 'emergency', 'short-breaks'],
    PT.RESIDENTIAL_FAMILY_CENTRE: ['parent-and-child'],
    PT.ASSESSMENT_SERVICE: ['parent-and-child', 'learning-disability'],
}
#: The chance a referral first approaches settings in the child's own authority, by type (see the module's note).
LOCAL_FIRST = {PT.CHILDRENS_HOME: 0.82, PT.INDEPENDENT_FOSTERING_AGENCY: 0.9, PT.LOCAL_AUTHORITY_FOSTERING: 0.95,
               PT.RESIDENTIAL_FAMILY_CENTRE: 0.7, PT.SECURE_CHILDRENS_HOME: 0.1, PT.ASSESSMENT_SERVICE: 0.8}
#: Regions where placing locally is harder (London's small boroughs) or easier than England's average.
REGION_LOCAL = {'London': 0.78, 'South East': 0.92, 'South West': 0.95, 'North East': 1.1, 'North West': 1.05,
                'Yorkshire and The Humber': 1.03}
#: How many of the nearest settings of the type a commissioner looks at beyond the home authority.
NEARBY = {Lot.CHILDRENS_HOMES: 10, Lot.FOSTERING: 8, Lot.ASSESSMENT: 6}
#: The chance, when not placing locally, that nothing suitable is near and a commissioner looks further afield
#: (London's children are more often placed outside London than the few miles between boroughs suggest).
WIDER = 0.15
REGION_WIDER = {'London': 0.4}
AGES = {PT.CHILDRENS_HOME: (10, 17), PT.SECURE_CHILDRENS_HOME: (12, 17), PT.INDEPENDENT_FOSTERING_AGENCY: (0, 17),
        PT.LOCAL_AUTHORITY_FOSTERING: (0, 17), PT.RESIDENTIAL_FAMILY_CENTRE: (0, 1), PT.ASSESSMENT_SERVICE: (0, 4)}
NOTES = ('Needs a school place or tuition close to the placement.', 'Has an education, health and care plan.',
         'Goes missing at times; needs staff experienced in return-home conversations.',
         'Contact with brothers and sisters twice a week.', 'Keep away from the home town because of exploitation.',
         'Currently in year 10; predicted to take GCSEs next year.', 'Settles well with a consistent routine.')


def _price(rng: random.Random, kind: ProvisionType, region: str, needs: list[str], children: int) -> int:
    median, sigma = PRICES[kind]
    price = median * math.exp(rng.gauss(0, sigma)) * REGION_PRICE.get(region, 1.0)
    if kind in {PT.CHILDRENS_HOME, PT.SECURE_CHILDRENS_HOME}:
        price *= 1 + 0.08 * len(COMPLEX_NEEDS & set(needs))
    if children > 1:
        price *= 1 + 0.6 * (children - 1) if kind.lot == Lot.FOSTERING else 1 + 0.8 * (children - 1)
    return int(round(price / 500) * 500)  # to £5


def _nearest(cache: dict, candidates: list[Setting], kind: ProvisionType, home: str, centre: tuple[float, float],
             wider: bool) -> list[Setting]:
    """The settings of the type nearest the home authority's centre, as many as a commissioner would look at, or
    when looking further afield (``wider``) the next few rings out."""
    if (kind, home) not in cache:
        cache[kind, home] = sorted(candidates, key=lambda s: metres_between(centre[0], centre[1], s.easting,
                                                                            s.northing))
    near = max(4, NEARBY[kind.lot])
    return (wider and cache[kind, home][near:near * 4]) or cache[kind, home][:near]


def _moment(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(8, 18), rng.randint(0, 59)), tzinfo=UTC)


def _price_schedules(rng: random.Random) -> int:
    """Publish a price schedule for the demo authorities with local lists that have none (to compare offers)."""
    from qualification.models import LocalRequirements

    published = 0
    for code in ('E08000035', 'E08000003', 'E08000025', 'E10000016', 'E06000023'):
        for lot, rows in ((Lot.CHILDRENS_HOMES, [("Children's home: solo placement", 5_400_00),
                                                 ("Children's home: complex needs", 6_900_00),
                                                 ("Secure children's home", 8_500_00)]),
                          (Lot.FOSTERING, [('Independent fostering agency: standard', 950_00),
                                           ('Independent fostering agency: sibling group', 1_650_00),
                                           ('Local authority fostering (internal rate)', 520_00)]),
                          (Lot.ASSESSMENT, [('Residential family centre: parent and child', 4_200_00),
                                            ('Parenting assessment service', 2_100_00)])):
            exists = db.session.scalar(select(LocalRequirements.id).where(
                LocalRequirements.authority_code == code, LocalRequirements.lot == lot).limit(1))
            if exists:
                continue
            factor = 1 + rng.uniform(-0.05, 0.05)
            db.session.add(LocalRequirements(
                authority_code=code, lot=lot, version=1, questions=[], documents=[],
                price_schedule=[{'placement_type': name, 'weekly_price_pence': int(round(pence * factor / 500) * 500)}
                                for name, pence in rows], published_at=utcnow()))
            published += 1
    return published


def load(rng: random.Random, echo: Callable[[str], None] = print, *, count: int = REFERRALS,
         today: date | None = None, leeds_share: float = 0.04) -> str:
    """Add the demo referrals, responses, offers and placements in the current unit of work.

    :param leeds_share: the share of referrals from Leeds (the demo commissioner's authority); the benchmark
        raises it to load one authority's pages heavily.
    """
    today = today or date.today()
    authorities = {la.code: la for la in db.session.scalars(select(LocalAuthority))}
    centroids = authority_centroids()
    settings = list(db.session.scalars(select(Setting).where(Setting.suspended_at.is_(None))))
    if not settings:
        return 'No settings to refer to: load the core demo first.'
    by_type: dict[ProvisionType, list[Setting]] = defaultdict(list)
    hosted: dict[tuple[ProvisionType, str], list[Setting]] = defaultdict(list)
    for setting in settings:
        by_type[setting.provision_type].append(setting)
        hosted[setting.provision_type, setting.authority_code].append(setting)
    hosts: dict[tuple[ProvisionType, str], list[str]] = defaultdict(list)
    for kind, code in sorted(hosted):
        if code in authorities and code in centroids:
            hosts[kind, authorities[code].region_name].append(code)
    nearest_cache: dict[tuple[ProvisionType, str], list[Setting]] = {}
    types = [kind for kind in TYPE_WEIGHTS if by_type.get(kind)]
    weights = [TYPE_WEIGHTS[kind] for kind in types]
    codes = sorted(code for code in authorities if code in centroids)
    demo_commissioner = db.session.scalar(select(User).where(User.role == Role.COMMISSIONER,
                                                             User.authority_code == 'E08000035').limit(1))
    schedules = _price_schedules(rng)
    retention_cutoff = subtract_months(datetime.combine(today, time(12), tzinfo=UTC),
                                       int(current_app.config['REFERRAL_RETENTION_MONTHS']))
    now = utcnow()

    echo(f'Planning {count} referrals over {DAYS} days…')
    referral_rows, plans = [], []
    for _ in range(count):
        # more recent referrals are a little more common (the registry is growing)
        days_ago = int(DAYS * (1 - math.sqrt(rng.random())))
        sent = _moment(today - timedelta(days=days_ago), rng)
        if sent > now:
            sent = now - timedelta(minutes=rng.randint(5, 600))
        home = 'E08000035' if rng.random() < leeds_share else rng.choice(codes)
        kind = rng.choices(types, weights)[0]
        region = authorities[home].region_name
        local = rng.random() < LOCAL_FIRST[kind] * REGION_LOCAL.get(region, 1.0)
        if local and not hosted[kind, home] and home != 'E08000035':
            home = rng.choice(hosts[kind, region] or [home])  # a child from an authority with such a setting
        low, high = AGES[kind]
        age = rng.randint(low, high)
        children = 1
        if kind.lot == Lot.FOSTERING and rng.random() < 0.15:
            children = rng.choice((2, 2, 2, 3, 4))
        pool = NEEDS_BY_TYPE[kind]
        needs = sorted(set(rng.sample(pool, k=min(len(pool), rng.choice((1, 1, 2, 2, 3))))))
        if children > 1 and 'sibling-groups' not in needs:
            needs.append('sibling-groups')
        start = sent.date() + timedelta(days=rng.choice((0, 1, 2, 3, 7, 14, 21, 28)))
        deadline = min(start, sent.date() + timedelta(days=rng.choice((1, 2, 3, 5))))
        home_centre = centroids[home]
        own = hosted[kind, home]
        wider = not local and rng.random() < REGION_WIDER.get(region, WIDER)
        nearest = _nearest(nearest_cache, by_type[kind], kind, home, home_centre, wider)
        if local and own:
            others = [setting for setting in nearest if setting.authority_code != home]
            chosen = rng.sample(own, k=min(len(own), rng.randint(1, 3))) + rng.sample(
                others, k=min(len(others), rng.randint(1, 3)))
        else:
            chosen = rng.sample(nearest, k=min(len(nearest), rng.randint(2, 6)))
        budget = None
        if rng.random() < 0.35:
            budget = int(round(PRICES[kind][0] * REGION_PRICE.get(region, 1.0) / 5000) * 5000)
        max_distance = rng.choice((None, 20, 30, 50, 80)) if kind.lot != Lot.ASSESSMENT else None
        referral_rows.append({
            'authority_code': home, 'created_by_id': demo_commissioner.id if demo_commissioner and home ==
            'E08000035' else None, 'created_at': sent, 'status': ReferralStatus.OPEN, 'age_band': age_band(age),
            'sex': rng.choice(('female', 'male')), 'needs': needs, 'provision_type': kind, 'children': children,
            'start_date': start, 'expected_duration_weeks': rng.choice((None, 4, 12, 26, 52, 104)),
            'max_distance_miles': max_distance, 'origin_authority_code': home,
            'response_deadline': deadline, 'indicative_budget_pence': budget, 'age': age,
            'origin_label': authorities[home].name, 'origin_easting': home_centre[0],
            'origin_northing': home_centre[1], 'location_notes': '', 'risk_notes': '',
            'education_notes': rng.choice(NOTES), 'other_notes': ''})
        plans.append((sent, home, kind, region, needs, children, chosen, home_centre))

    echo('Writing referrals…')
    referral_ids = list(db.session.scalars(bulk_insert(Referral).returning(Referral.id, sort_by_parameter_order=True),
                                           referral_rows))
    response_rows, response_meta = [], []
    for referral_id, row, (sent, _home, kind, region, needs, children, chosen, centre) in zip(
            referral_ids, referral_rows, plans, strict=True):
        settled = row['response_deadline'] < today
        for setting in chosen:
            roll = rng.random()
            answered = settled or roll < 0.6
            offered = answered and roll < 0.5
            status = ResponseStatus.AWAITING
            if answered:
                status = ResponseStatus.OFFERED if offered else ResponseStatus.DECLINED
            distance = round(miles(metres_between(centre[0], centre[1], setting.easting, setting.northing)), 1)
            responded = sent + timedelta(hours=rng.randint(1, 60)) if answered else None
            if responded is not None and responded > now:
                responded = now
            response_rows.append({
                'referral_id': referral_id, 'setting_id': setting.id, 'organisation_id': setting.organisation_id,
                'host_authority_code': setting.authority_code, 'provision_type': setting.provision_type,
                'distance_miles': distance,
                'finder_reasons': [{'kind': 'distance', 'met': True,
                                    'text': f'{distance:.1f} miles from {row["origin_label"]}'}],
                'status': status, 'responded_at': responded,
                'decline_reason': None if status != ResponseStatus.DECLINED else rng.choices(
                    list(DeclineReason), (0.45, 0.2, 0.12, 0.18, 0.05))[0],
                'decline_notes': '' if status != ResponseStatus.DECLINED else 'Declined (demonstration data).'})
            response_meta.append((referral_id, setting, region, needs, children, kind, sent, responded))
    echo(f'Writing {len(response_rows)} responses…')
    response_ids = list(db.session.scalars(
        bulk_insert(ReferralResponse).returning(ReferralResponse.id, sort_by_parameter_order=True), response_rows))

    offer_rows, offer_meta = [], []
    for response_id, row, (referral_id, setting, region, needs, children, kind, sent, responded) in zip(
            response_ids, response_rows, response_meta, strict=True):
        if row['status'] != ResponseStatus.OFFERED:
            continue
        available = max(sent.date(), sent.date() + timedelta(days=rng.choice((0, 1, 3, 7, 14))))
        offer_rows.append({'response_id': response_id, 'referral_id': referral_id, 'setting_id': setting.id,
                           'weekly_price_pence': _price(rng, kind, region, needs, children),
                           'available_from': available, 'valid_until': available + timedelta(days=14),
                           'conditions': rng.choice(('', '', 'Matching visit before moving in.',
                                                     'Price includes 1:1 staffing for the first 4 weeks.')),
                           'created_at': responded})
        offer_meta.append((response_id, referral_id, setting))
    echo(f'Writing {len(offer_rows)} offers…')
    offer_ids = list(db.session.scalars(bulk_insert(Offer).returning(Offer.id, sort_by_parameter_order=True),
                                        offer_rows))

    offers_by_referral: dict[int, list] = defaultdict(list)
    for offer_id, row, (response_id, referral_id, setting) in zip(offer_ids, offer_rows, offer_meta, strict=True):
        offers_by_referral[referral_id].append((offer_id, row, response_id, setting))
    distance_of = {response_id: row['distance_miles'] or 0.0 for response_id, row in zip(response_ids, response_rows,
                                                                                          strict=True)}
    responses_by_referral: dict[int, list[int]] = defaultdict(list)
    for response_id, row in zip(response_ids, response_rows, strict=True):
        responses_by_referral[row['referral_id']].append(response_id)

    placement_rows, referral_updates, response_updates = [], [], []
    out_of_area = 0
    for referral_id, row in zip(referral_ids, referral_rows, strict=True):
        if row['response_deadline'] >= today and rng.random() < 0.7:
            continue  # still open
        offers = offers_by_referral.get(referral_id, [])
        closed = row['created_at'] + timedelta(days=rng.randint(1, 6))
        closed = min(closed, now)
        if offers and rng.random() < 0.8:
            # commissioners weigh price against distance from home (and same-authority settings are preferred)
            offer_id, offer, accepted_response, setting = min(offers, key=lambda item: (
                item[1]['weekly_price_pence'] * rng.uniform(0.85, 1.15) * (1 + distance_of[item[2]] / 25)
                * (0.3 if item[3].authority_code == row['authority_code'] else 1)))
            start = max(row['start_date'], offer['available_from'])
            planned = start + timedelta(weeks=row['expected_duration_weeks']) if row['expected_duration_weeks'] \
                else None
            status, ended_on, end_reason = PlacementStatus.ACTIVE, None, None
            if start < today - timedelta(days=30) and rng.random() < 0.45:
                ended_on = min(today - timedelta(days=1), start + timedelta(days=rng.randint(14, 400)))
                status, end_reason = PlacementStatus.ENDED, rng.choices(list(EndReason), (0.55, 0.3, 0.15))[0]
            distance = round(miles(metres_between(row['origin_easting'], row['origin_northing'], setting.easting,
                                                  setting.northing)), 1)
            out_of_area += setting.authority_code != row['authority_code']
            placement_rows.append({
                'referral_id': referral_id, 'offer_id': offer_id, 'setting_id': setting.id,
                'organisation_id': setting.organisation_id, 'provision_type': setting.provision_type,
                'home_authority_code': row['authority_code'], 'host_authority_code': setting.authority_code,
                'start_date': start, 'planned_end_date': planned, 'weekly_price_pence': offer['weekly_price_pence'],
                'distance_miles': distance, 'children': row['children'], 'status': status, 'ended_on': ended_on,
                'end_reason': end_reason, 'created_at': closed, 'created_by_id': row['created_by_id']})
            referral_updates.append({'id': referral_id, 'status': ReferralStatus.PLACED, 'closed_at': closed,
                                     'close_reason': None})
            for response_id in responses_by_referral[referral_id]:
                if response_id == accepted_response:
                    response_updates.append({'id': response_id, 'status': ResponseStatus.ACCEPTED})
                else:
                    response_updates.append({'id': response_id, 'status': 'not-selected-if-open'})
        else:
            reason = CloseReason.NO_SUITABLE_OFFER if not offers else rng.choice(list(CloseReason))
            referral_updates.append({'id': referral_id, 'status': ReferralStatus.CLOSED, 'closed_at': closed,
                                     'close_reason': reason})
            for response_id in responses_by_referral[referral_id]:
                response_updates.append({'id': response_id, 'status': 'closed-if-open'})

    echo(f'Writing {len(placement_rows)} placements…')
    if placement_rows:
        db.session.execute(bulk_insert(Placement), placement_rows)
    status_by_response = {response_id: row['status'] for response_id, row in zip(response_ids, response_rows,
                                                                                 strict=True)}
    final = []
    for update_row in response_updates:
        current = status_by_response[update_row['id']]
        wanted = update_row['status']
        if wanted == 'not-selected-if-open':
            wanted = ResponseStatus.NOT_SELECTED if current in {ResponseStatus.AWAITING, ResponseStatus.OFFERED} \
                else current
        elif wanted == 'closed-if-open':
            wanted = ResponseStatus.CLOSED if current in {ResponseStatus.AWAITING, ResponseStatus.OFFERED} \
                else current
        if wanted != current:
            final.append({'id': update_row['id'], 'status': wanted})
    if final:
        db.session.execute(db.update(ReferralResponse), final)
    deleted = 0
    for update_row in referral_updates:
        if update_row['closed_at'] <= retention_cutoff:
            update_row.update(age=None, origin_label='', origin_easting=None, origin_northing=None,
                              education_notes='', details_deleted_at=now)
            deleted += 1
    if referral_updates:
        for keys in {tuple(sorted(row)) for row in referral_updates}:
            db.session.execute(db.update(Referral), [row for row in referral_updates if tuple(sorted(row)) == keys])
    regions = len({authorities[row['authority_code']].region_name for row in referral_rows})
    return (f'Added {len(referral_rows)} referrals from {len({r["authority_code"] for r in referral_rows})} '
            f'authorities in {regions} regions, {len(response_rows)} settings approached, {len(offer_rows)} offers, '
            f'{len(placement_rows)} placements ({out_of_area} out of area); child details already deleted from '
            f'{deleted} referrals closed over the retention period ago; {schedules} price schedules published.')
