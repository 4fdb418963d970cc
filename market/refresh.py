"""Rebuild the pre-aggregated market tables (``flask market refresh``, and the end of the demo step).

Demand is extended incrementally: only log rows after the last one counted are read, and their counts added. Prices
(quartiles cannot be added up) and flows are rebuilt from placements and offers whenever one was added since the
last refresh (and skipped otherwise). The register snapshot of the latest import is retaken, so supply is current too.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, delete, func, insert, literal, select, update

from market.models import DemandFigure, DemandLog, FlowFigure, PriceFigure, RefreshState
from market.supply import record_release
from placements.models import Offer, Placement, Referral, ReferralResponse
from registry.db import bulk_insert, utcnow
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.ofsted.models import OfstedImport, OfstedRegisterEntry
from registry.ofsted.services import latest_release_date

#: A price cell built from fewer placements than this is never shown.
MIN_PLACEMENTS = 5
#: ...nor one whose placements are all with a single provider (its price would be that provider's).
MIN_PROVIDERS = 2
#: "Far from home": more than this many straight-line miles.
FAR_MILES = 20
BATCH = 5000


def _state(name: str) -> RefreshState:
    state = db.session.get(RefreshState, name)
    if state is None:
        state = RefreshState(name=name, last_id=0, refreshed_at=utcnow())
        db.session.add(state)
    return state


def _regions() -> dict[str, str]:
    return dict(db.session.execute(select(LocalAuthority.code, LocalAuthority.region_name)).all())


def _insert(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(bulk_insert(model), rows[start:start + BATCH])


def refresh_demand() -> int:
    """Add log rows written since the last refresh to the demand figures. Returns how many rows were read."""
    state = _state('demand')
    regions = _regions()
    added: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    last_id, read = state.last_id, 0
    rows = db.session.execute(
        select(DemandLog.id, DemandLog.authority_code, DemandLog.kind, DemandLog.provision_type, DemandLog.needs,
               DemandLog.matches).where(DemandLog.id > state.last_id).order_by(DemandLog.id)
        .execution_options(yield_per=BATCH))
    for row_id, authority, kind, provision_type, needs, matches in rows:
        read += 1
        last_id = max(last_id, row_id)
        assessed = matches is not None
        unmet = matches == 0
        for need in ('', *(needs.split(',') if needs else ())):
            figures = added[(authority, kind, provision_type, need)]
            figures[0] += 1
            figures[1] += assessed
            figures[2] += unmet
    if added:
        existing = {(row.authority_code, row.kind, row.provision_type, row.need): row for row in db.session.execute(
            select(DemandFigure.id, DemandFigure.authority_code, DemandFigure.kind, DemandFigure.provision_type,
                   DemandFigure.need, DemandFigure.searches, DemandFigure.assessed, DemandFigure.unmet)
            .where(DemandFigure.authority_code != ''))}
        changed, new = [], []
        for key, (searches, assessed, unmet) in added.items():
            row = existing.get(key)
            if row is None:
                new.append({'authority_code': key[0], 'region': regions.get(key[0], ''), 'kind': key[1],
                            'provision_type': key[2], 'need': key[3], 'searches': searches, 'assessed': assessed,
                            'unmet': unmet})
            else:
                changed.append({'id': row.id, 'searches': row.searches + searches,
                                'assessed': row.assessed + assessed, 'unmet': row.unmet + unmet})
        for start in range(0, len(changed), BATCH):
            db.session.execute(update(DemandFigure), changed[start:start + BATCH])
        _insert(DemandFigure, new)
    if added or not db.session.scalar(select(DemandFigure.id).where(DemandFigure.authority_code == '').limit(1)):
        _roll_up_demand()
    state.last_id, state.refreshed_at = last_id, utcnow()
    return read


def _roll_up_demand() -> None:
    """Rebuild the regions' and England's totals from the authorities' rows."""
    db.session.execute(delete(DemandFigure).where(DemandFigure.authority_code == ''))
    columns = ['authority_code', 'region', 'kind', 'provision_type', 'need', 'searches', 'assessed', 'unmet']
    for region in (DemandFigure.region, literal('')):
        grouped = (select(literal(''), region, DemandFigure.kind, DemandFigure.provision_type, DemandFigure.need,
                          func.sum(DemandFigure.searches), func.sum(DemandFigure.assessed),
                          func.sum(DemandFigure.unmet))
                   .where(DemandFigure.authority_code != '')
                   .group_by(region, DemandFigure.kind, DemandFigure.provision_type, DemandFigure.need))
        db.session.execute(insert(DemandFigure).from_select(columns, grouped))


def quantile(ordered: list[int], fraction: float) -> float:
    """Linear interpolation between the closest ranks (the "inclusive" method): the median of 1, 2, 3, 10 is 2.5,
    its lower quartile 1.75."""
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def quarter(day: date) -> str:
    """``2026-Q3``."""
    return f'{day.year}-Q{(day.month - 1) // 3 + 1}'


@dataclass
class _Cell:
    prices: list
    providers: set


def _price_keys(source: str, kind: str, home: str, region: str, day: date, needs: list[str]):
    for period in ('all', quarter(day)):
        for need in ('', *needs):
            yield (source, period, kind, 'national', '', need)
            if region:
                yield (source, period, kind, 'region', region, need)
        yield (source, period, kind, 'authority', home, '')


def _unchanged(name: str, model, force: bool) -> bool:
    """True when no ``model`` row was added since the last rebuild named ``name`` (placements and offers are never
    changed in ways these figures read: prices, authorities and distances are fixed once made)."""
    state = _state(name)
    newest = db.session.scalar(select(func.max(model.id))) or 0
    if not force and state.last_id and state.last_id == newest:
        state.refreshed_at = utcnow()
        return True
    state.last_id = newest
    return False


def refresh_prices(force: bool = False) -> int:
    """Rebuild weekly price quartiles by source, period, provision type, area and need (skipped when no placement
    or offer was added since the last time, unless ``force``). Returns the cells written."""
    placements_unchanged = _unchanged('prices', Placement, force)
    if _unchanged('offers', Offer, force) and placements_unchanged:
        return 0
    regions = _regions()
    cells: dict[tuple, _Cell] = defaultdict(lambda: _Cell([], set()))
    placements = (select(Placement.weekly_price_pence, Placement.organisation_id, Placement.provision_type,
                         Placement.home_authority_code, Placement.start_date, Referral.needs)
                  .join(Referral, Referral.id == Placement.referral_id))
    offers = (select(Offer.weekly_price_pence, ReferralResponse.organisation_id, ReferralResponse.provision_type,
                     Referral.authority_code, Offer.created_at, Referral.needs)
              .join(ReferralResponse, ReferralResponse.id == Offer.response_id)
              .join(Referral, Referral.id == Offer.referral_id))
    for source, query in (('placement', placements), ('offer', offers)):
        for price, organisation, kind, home, when, needs in db.session.execute(
                query.execution_options(yield_per=BATCH)):
            day = when.date() if hasattr(when, 'date') and callable(when.date) else when
            kind = getattr(kind, 'value', kind)
            for key in _price_keys(source, kind, home, regions.get(home, ''), day, sorted(set(needs or ()))):
                cell = cells[key]
                cell.prices.append(price)
                cell.providers.add(organisation)
    rows = []
    for (source, period, kind, area_kind, area, need), cell in cells.items():
        ordered = sorted(cell.prices)
        shown = len(ordered) >= MIN_PLACEMENTS and len(cell.providers - {None}) >= MIN_PROVIDERS
        rows.append({'source': source, 'period': period, 'provision_type': kind, 'area_kind': area_kind,
                     'area': area, 'need': need, 'count': len(ordered), 'providers': len(cell.providers - {None}),
                     'p25': round(quantile(ordered, 0.25)) if shown else None,
                     'median': round(quantile(ordered, 0.5)) if shown else None,
                     'p75': round(quantile(ordered, 0.75)) if shown else None})
    db.session.execute(delete(PriceFigure))
    _insert(PriceFigure, rows)
    _state('prices').refreshed_at = _state('offers').refreshed_at = utcnow()
    return len(rows)


def refresh_flows(force: bool = False) -> int:
    """Rebuild placements by home authority, host authority and type, with distances (skipped when no placement was
    added since the last time, unless ``force``). Returns the rows written."""
    if _unchanged('flows', Placement, force):
        return 0
    regions = _regions()
    far = func.sum(case((Placement.distance_miles > FAR_MILES, 1), else_=0))
    query = (select(Placement.home_authority_code, Placement.host_authority_code, Placement.provision_type,
                    func.count(), func.count(Placement.distance_miles), far,
                    func.coalesce(func.sum(Placement.distance_miles), 0.0))
             .group_by(Placement.home_authority_code, Placement.host_authority_code, Placement.provision_type))
    rows = [{'home_authority_code': home, 'home_region': regions.get(home, ''), 'host_authority_code': host,
             'provision_type': getattr(kind, 'value', kind), 'placements': count, 'with_distance': known,
             'beyond_20_miles': int(beyond or 0), 'total_miles': float(miles or 0)}
            for home, host, kind, count, known, beyond, miles in db.session.execute(query)]
    # Totals the pages read instead of adding up every flow as they are drawn: each pair of authorities over all
    # types (type ''), and each region's and England's (home ''), split into placements in the home authority
    # (host 'same') and outside it (host 'other').
    totals: dict[tuple[str, str, str, str], list] = defaultdict(lambda: [0, 0, 0, 0.0])
    for row in rows:
        where = 'same' if row['home_authority_code'] == row['host_authority_code'] else 'other'
        for key in ((row['home_authority_code'], row['home_region'], row['host_authority_code'], ''),
                    ('', row['home_region'], where, row['provision_type']), ('', '', where, row['provision_type'])):
            figures = totals[key]
            for index, name in enumerate(('placements', 'with_distance', 'beyond_20_miles', 'total_miles')):
                figures[index] += row[name]
    rows += [{'home_authority_code': home, 'home_region': region, 'host_authority_code': host, 'provision_type': kind,
              'placements': count, 'with_distance': known, 'beyond_20_miles': beyond, 'total_miles': miles}
             for (home, region, host, kind), (count, known, beyond, miles) in totals.items()]
    db.session.execute(delete(FlowFigure))
    _insert(FlowFigure, rows)
    _state('flows').refreshed_at = utcnow()
    return len(rows)


def refresh_supply() -> int:
    """Retake the snapshot of the latest import's release (the register as it stands), if a register is loaded."""
    if db.session.scalar(select(OfstedRegisterEntry.urn).limit(1)) is None:
        return 0
    as_at = latest_release_date()
    if as_at is None:  # imports from before releases were dated
        latest = db.session.scalars(select(OfstedImport).order_by(OfstedImport.id.desc()).limit(1)).first()
        as_at = (latest.finished_at or latest.started_at).date() if latest else utcnow().date()
    written = record_release(as_at)
    _state('supply').refreshed_at = utcnow()
    return written


def refresh_all(force: bool = False) -> dict[str, int]:
    """Every aggregate, in the caller's transaction: {name: rows read or written}. ``force`` rebuilds prices and
    flows even when no placement or offer was added (after placements were deleted, say)."""
    return {'demand log rows read': refresh_demand(), 'price cells': refresh_prices(force),
            'flows': refresh_flows(force), 'register rows': refresh_supply()}


def refreshed_at() -> dict[str, object]:
    """When each aggregate was last refreshed (the "as at" of the pages' figures)."""
    return {state.name: state.refreshed_at for state in db.session.scalars(select(RefreshState))}
