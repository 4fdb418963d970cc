"""The market pages' figures, read from the pre-aggregated tables: one builder per page, returning tables.

Every figure is a row of a :class:`Table` that knows its source and date, so the same object draws the page (chart
and data table side by side), the CSV download and the sufficiency pack. Builders take an :class:`Area` the caller
has already been allowed to see (see :mod:`market.permissions`); per-authority comparisons are asked for separately.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select

from market.models import DemandFigure, FlowFigure, OwnershipFigure, PriceFigure, RegisterSnapshot
from market.refresh import FAR_MILES, MIN_PLACEMENTS, refreshed_at
from market.supply import top_owners
from registry import charts
from registry.errors import DomainError
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.settings.taxonomy import NEEDS, NOT_PUBLISHED, PLACES_NOT_PUBLISHED, PLACES_NOTE, ProvisionType

SUPPRESSED = 'suppressed'
DEMAND_SOURCE = 'Registry demand log (placement finder searches and referrals by commissioners)'
PRICE_SOURCE = 'Registry placements (agreed weekly prices)'
OFFER_SOURCE = 'Registry offers (weekly prices offered by providers)'
FLOW_SOURCE = 'Registry placements (home and host authority, straight-line distance)'
DIRECTORY_SOURCE = 'Registry directory (listed settings and vacancies now)'
#: Rows a flow table shows on the page (its CSV has every row).
FLOWS_SHOWN = 50
EXTRA_TYPES = {'any': 'Any type', 'several': 'Several types'}
#: Spreadsheet programs run cells starting with these as formulas.
FORMULA_START = ('=', '+', '-', '@', '\t', '\r')


class UnknownAreaError(DomainError):
    """The area asked for is not England, a region or an authority."""


@dataclass(frozen=True)
class Area:
    """England, one region or one authority."""

    kind: str
    key: str = ''
    label: str = 'England'
    region: str = ''

    @property
    def value(self) -> str:
        return self.key


NATIONAL = Area('national')


def regions() -> list[str]:
    return list(db.session.scalars(select(LocalAuthority.region_name).distinct().order_by(LocalAuthority.region_name)))


def authorities() -> list[tuple[str, str]]:
    return [(code, name) for code, name in db.session.execute(
        select(LocalAuthority.code, LocalAuthority.name).order_by(LocalAuthority.name))]


def resolve_area(value: str | None) -> Area:
    """``''`` (England), a region's name or an authority's code.

    :raises UnknownAreaError: for anything else.
    """
    value = (value or '').strip()
    if not value or value == 'england':
        return NATIONAL
    authority = db.session.get(LocalAuthority, value)
    if authority is not None:
        return Area('authority', authority.code, authority.name, authority.region_name)
    if value in regions():
        return Area('region', value, value, value)
    raise UnknownAreaError(f'Unknown area: {value}')


def type_label(value: str) -> str:
    if value in EXTRA_TYPES:
        return EXTRA_TYPES[value]
    try:
        return ProvisionType(value).label
    except ValueError:
        return value


def need_label(value: str) -> str:
    return NEEDS.get(value, value)


def share(part: int | None, whole: int | None) -> float | None:
    """A percentage to one decimal place, or None when there is nothing to divide by."""
    if not whole or part is None:
        return None
    return round(100 * part / whole, 1)


# --- tables -------------------------------------------------------------------------------------------------------


@dataclass
class Column:
    key: str
    label: str
    #: ``text``, ``int``, ``pounds`` (pence shown as pounds), ``pct`` or ``miles``.
    kind: str = 'int'

    @property
    def numeric(self) -> bool:
        return self.kind != 'text'


def display(value, kind: str) -> str:
    """A cell as shown on the page."""
    if value is None:
        return '–'
    if value == SUPPRESSED:
        return 'Suppressed'
    if value == NOT_PUBLISHED:
        return 'Not published'
    if kind == 'pounds':
        return f'£{value / 100:,.0f}'
    if kind == 'pct':
        return f'{value:.1f}%'
    if kind == 'miles':
        return f'{value:.1f}'
    if kind == 'int':
        return f'{value:,}'
    return str(value)


def raw(value, kind: str) -> str:
    """A cell as written to CSV: pounds with pence, percentages as numbers, blanks empty."""
    if value is None:
        return ''
    if value in (SUPPRESSED, NOT_PUBLISHED):
        return value
    if kind == 'pounds':
        return f'{value / 100:.2f}'
    if kind == 'text' and str(value).startswith(FORMULA_START):
        return "'" + str(value)  # an owner's name from the register must not run as a spreadsheet formula
    return str(value)


def _kind(column: Column, row: dict) -> str:
    """A column of kind ``row`` takes each row's own kind (the pack mixes counts, pounds and percentages)."""
    return row.get('kind', 'text') if column.kind == 'row' else column.kind


@dataclass
class Table:
    """One figure: its rows, where they come from and when, and a chart of them if it has one."""

    id: str
    heading: str
    columns: list[Column]
    rows: list[dict]
    source: str
    as_at: date | datetime | None
    chart: charts.Chart | None = None
    note: str = ''
    def cells(self, row: dict) -> list[tuple[str, bool]]:
        return [(display(row.get(column.key), _kind(column, row)), column.numeric) for column in self.columns]

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator='\n')
        writer.writerow([column.label for column in self.columns])
        if any(column.kind == 'row' for column in self.columns):
            for row in self.rows:
                writer.writerow([raw(row.get(column.key), _kind(column, row)) for column in self.columns])
        else:
            plan = [(column.key, column.kind) for column in self.columns]
            writer.writerows([raw(row.get(key), kind) for key, kind in plan] for row in self.rows)
        as_at = self.as_at.isoformat() if self.as_at else ''
        writer.writerow([])
        writer.writerow(['Source', self.source])
        writer.writerow(['As at', as_at])
        if self.note:
            writer.writerow(['Note', self.note])
        return out.getvalue()


def _area_filter(model, area: Area, *, authority_column=None, region_column=None) -> list:
    if area.kind == 'authority':
        return [(authority_column if authority_column is not None else model.authority_code) == area.key]
    if area.kind == 'region':
        return [(region_column if region_column is not None else model.region) == area.key]
    return []


# --- demand -------------------------------------------------------------------------------------------------------


def _demand_filter(area: Area) -> list:
    """The rows holding an area's demand: an authority's own, or the region's or England's totals."""
    if area.kind == 'authority':
        return [DemandFigure.authority_code == area.key]
    return [DemandFigure.authority_code == '', DemandFigure.region == (area.key if area.kind == 'region' else '')]


def _demand_counts(rows) -> dict:
    counts: dict = defaultdict(lambda: [0, 0, 0])
    for key, searches, assessed, unmet in rows:
        figures = counts[key]
        figures[0] += int(searches or 0)
        figures[1] += int(assessed or 0)
        figures[2] += int(unmet or 0)
    return counts


def _demand_row(label: str, search: list, referral: list) -> dict:
    return {'label': label, 'searches': search[0], 'unmet': search[2], 'unmet_share': share(search[2], search[1]),
            'referrals': referral[0], 'referrals_unmet': referral[2],
            'referrals_unmet_share': share(referral[2], referral[1])}


DEMAND_COLUMNS = [
    Column('searches', 'Finder searches'), Column('unmet', 'Searches with no match meeting every requirement'),
    Column('unmet_share', 'Share with no full match', 'pct'), Column('referrals', 'Referrals'),
    Column('referrals_unmet_share', 'Referrals with no full match (share)', 'pct')]


def demand_tables(area: Area, *, compare: bool = False) -> list[Table]:
    """Searches and referrals by need and by type, the share with no match meeting every requirement, and the
    needs most often unmet; with ``compare``, a line per region (England) or per authority (a region)."""
    as_at = refreshed_at().get('demand')
    grouped = db.session.execute(
        select(DemandFigure.kind, DemandFigure.provision_type, DemandFigure.need, func.sum(DemandFigure.searches),
               func.sum(DemandFigure.assessed), func.sum(DemandFigure.unmet))
        .where(*_demand_filter(area))
        .group_by(DemandFigure.kind, DemandFigure.provision_type, DemandFigure.need)).all()
    totals = _demand_counts(((kind,), s, a, u) for kind, _t, need, s, a, u in grouped if need == '')
    by_type = _demand_counts(((kind, ptype), s, a, u) for kind, ptype, need, s, a, u in grouped if need == '')
    by_need = _demand_counts(((kind, need), s, a, u) for kind, _t, need, s, a, u in grouped if need != '')
    summary = Table('summary', f'Demand in {area.label}', [Column('label', 'Figure', 'text'), *DEMAND_COLUMNS],
                    [_demand_row('All searches and referrals', totals[('search',)], totals[('referral',)])],
                    DEMAND_SOURCE, as_at)
    needs = sorted({need for _kind, need in by_need})
    need_rows = [dict(_demand_row(need_label(need), by_need[('search', need)], by_need[('referral', need)]),
                      need=need) for need in needs]
    need_rows.sort(key=lambda row: (-row['unmet'], -(row['unmet_share'] or 0), row['label']))
    top = need_rows[:15]
    need_table = Table(
        'needs', 'Needs most often unmet', [Column('label', 'Need', 'text'), *DEMAND_COLUMNS], need_rows,
        DEMAND_SOURCE, as_at,
        charts.bar_chart('Share of searches with no match meeting every requirement, by need',
                         [row['label'] for row in top], [('Share with no full match', [row['unmet_share']
                                                                                       for row in top])],
                         lambda value: f'{value:.0f}%'),
        note='A search asking for several needs counts once under each of them.')
    types = sorted({ptype for _kind, ptype in by_type}, key=lambda value: (value in EXTRA_TYPES, type_label(value)))
    type_rows = [_demand_row(type_label(ptype), by_type[('search', ptype)], by_type[('referral', ptype)])
                 for ptype in types]
    type_table = Table(
        'types', 'Searches and referrals by provision type', [Column('label', 'Provision type', 'text'),
                                                              *DEMAND_COLUMNS], type_rows, DEMAND_SOURCE, as_at,
        charts.bar_chart('Searches and referrals by provision type', [row['label'] for row in type_rows],
                         [('Finder searches', [row['searches'] for row in type_rows]),
                          ('Referrals', [row['referrals'] for row in type_rows])]))
    tables = [summary, need_table, type_table]
    if compare and area.kind != 'authority':
        tables.append(_demand_comparison(area, as_at))
    return tables


def _demand_comparison(area: Area, as_at) -> Table:
    if area.kind == 'national':
        column, labels, first = DemandFigure.region, {name: name for name in regions()}, 'Region'
        rows_of = [DemandFigure.authority_code == '', DemandFigure.region != '']
    else:
        column = DemandFigure.authority_code
        labels = {code: name for code, name in db.session.execute(
            select(LocalAuthority.code, LocalAuthority.name).where(LocalAuthority.region_name == area.key))}
        first = 'Local authority'
        rows_of = [DemandFigure.authority_code != '', DemandFigure.region == area.key]
    counts = _demand_counts(((key, kind), s, a, u) for key, kind, s, a, u in db.session.execute(
        select(column, DemandFigure.kind, func.sum(DemandFigure.searches), func.sum(DemandFigure.assessed),
               func.sum(DemandFigure.unmet)).where(DemandFigure.need == '', *rows_of)
        .group_by(column, DemandFigure.kind)))
    rows = [_demand_row(label, counts[(key, 'search')], counts[(key, 'referral')])
            for key, label in sorted(labels.items(), key=lambda item: item[1])]
    return Table('areas', f'Demand by {first.lower()}', [Column('label', first, 'text'), *DEMAND_COLUMNS], rows,
                 DEMAND_SOURCE, as_at,
                 charts.bar_chart(f'Share of searches with no full match, by {first.lower()}',
                                  [row['label'] for row in rows], [('Share with no full match',
                                                                    [row['unmet_share'] for row in rows])],
                                  lambda value: f'{value:.0f}%'))


# --- prices -------------------------------------------------------------------------------------------------------

PRICE_COLUMNS = [Column('count', 'Placements'), Column('p25', 'Lower quartile', 'pounds'),
                 Column('median', 'Median', 'pounds'), Column('p75', 'Upper quartile', 'pounds')]
PRICE_NOTE = (f'Weekly prices. A cell built from fewer than {MIN_PLACEMENTS} placements, or from a single '
              f'provider\'s, is suppressed. Areas are the placing (home) authority and its region.')


def _quartiles(figure: PriceFigure | None) -> dict:
    if figure is None:
        return {'count': 0, 'p25': None, 'median': None, 'p75': None}
    if figure.suppressed:
        return {'count': figure.count, 'p25': SUPPRESSED, 'median': SUPPRESSED, 'p75': SUPPRESSED}
    return {'count': figure.count, 'p25': figure.p25, 'median': figure.median, 'p75': figure.p75}


def _median(figure: PriceFigure | None):
    return _quartiles(figure)['median']


def _price_figures(*conditions) -> list[PriceFigure]:
    return list(db.session.scalars(select(PriceFigure).where(*conditions)))


def _area_condition(area: Area):
    return (PriceFigure.area_kind == area.kind) & (PriceFigure.area == area.key)


def schedule_price(authority_code: str, provision_type: str,
                   cache: dict | None = None) -> tuple[int | None, str, datetime | None]:
    """(weekly pence, row name, published at) of the authority's published schedule row for a type, if any.

    :param cache: requirements already read, by lot (several types share a lot's schedule).
    """
    from placements.pricing import ScheduleRow, reference_row
    from qualification.local import current_requirements

    kind = ProvisionType(provision_type)
    cache = {} if cache is None else cache
    if kind.lot not in cache:
        cache[kind.lot] = current_requirements(authority_code, kind.lot)
    requirements = cache[kind.lot]
    if requirements is None:
        return None, '', None
    schedule = tuple(ScheduleRow(str(row['placement_type']), int(row['weekly_price_pence']))
                     for row in requirements.price_schedule or ())
    row = reference_row(schedule, kind)
    if row is None:
        return None, '', requirements.published_at
    return row.weekly_price_pence, row.placement_type, requirements.published_at


def _range(row: dict):
    if isinstance(row.get('median'), int) and isinstance(row.get('p25'), int):
        return row['p25'], row['median'], row['p75']
    return None


def price_tables(area: Area, provision_type: str = ProvisionType.CHILDRENS_HOME.value, *,
                 types_only: bool = False) -> list[Table]:
    """Weekly price quartiles by type (against region, England and the published schedule), over time, by need,
    offered prices, and (for England) by region (``types_only``: the table by type alone, for the pack)."""
    as_at = refreshed_at().get('prices')
    pound = lambda value: f'£{value / 100:,.0f}'  # noqa: E731
    scopes = [area] + ([Area('region', area.region, area.region)] if area.kind == 'authority' else []) + (
        [NATIONAL] if area.kind != 'national' else [])
    figures = _price_figures(PriceFigure.period == 'all', PriceFigure.need == '',
                             or_(*[_area_condition(scope) for scope in scopes]))
    cell = {(f.source, f.area_kind, f.area, f.provision_type): f for f in figures}
    columns = [Column('label', 'Provision type', 'text'), *PRICE_COLUMNS]
    if area.kind == 'authority':
        columns += [Column('region_median', f'Median in {area.region}', 'pounds'),
                    Column('national_median', 'Median in England', 'pounds'),
                    Column('schedule', 'Published schedule', 'pounds'),
                    Column('schedule_difference', 'Median against schedule', 'pounds')]
    elif area.kind == 'region':
        columns.append(Column('national_median', 'Median in England', 'pounds'))
    type_rows, schedules = [], {}
    for kind in ProvisionType:
        row = {'label': kind.label, 'type': kind.value,
               **_quartiles(cell.get(('placement', area.kind, area.key, kind.value)))}
        if area.kind != 'national':
            row['national_median'] = _median(cell.get(('placement', 'national', '', kind.value)))
        if area.kind == 'authority':
            row['region_median'] = _median(cell.get(('placement', 'region', area.region, kind.value)))
            pence, name, published = schedule_price(area.key, kind.value, schedules)
            row.update(schedule=pence, schedule_name=name, schedule_published=published)
            row['schedule_difference'] = (row['median'] - pence if pence and isinstance(row['median'], int)
                                          else None)
        type_rows.append(row)
    source = PRICE_SOURCE + (f"; {area.label}'s published price schedule (local requirements)"
                             if area.kind == 'authority' else '')
    types = Table('types', f'Weekly prices by provision type: {area.label}', columns, type_rows, source, as_at,
                  charts.range_chart(f'Weekly price by provision type: {area.label}',
                                     [row['label'] for row in type_rows], [_range(row) for row in type_rows], pound),
                  note=PRICE_NOTE)
    if types_only:
        return [types]

    label = type_label(provision_type)
    over_time = sorted(_price_figures(PriceFigure.source == 'placement', PriceFigure.need == '',
                                      PriceFigure.period != 'all', PriceFigure.provision_type == provision_type,
                                      _area_condition(area)), key=lambda f: f.period)
    time_rows = [{'label': f.period, **_quartiles(f)} for f in over_time]
    time_table = Table('time', f'{label}: weekly prices by quarter placements started, {area.label}',
                       [Column('label', 'Quarter', 'text'), *PRICE_COLUMNS], time_rows, PRICE_SOURCE, as_at,
                       charts.range_chart(f'{label}: weekly price by quarter, {area.label}',
                                          [row['label'] for row in time_rows], [_range(row) for row in time_rows],
                                          pound), note=PRICE_NOTE)

    need_area = Area('region', area.region, area.region) if area.kind == 'authority' else area
    by_need = _price_figures(PriceFigure.source == 'placement', PriceFigure.need != '', PriceFigure.period == 'all',
                             PriceFigure.provision_type == provision_type, _area_condition(need_area))
    need_rows = sorted(({'label': need_label(f.need), **_quartiles(f)} for f in by_need),
                       key=lambda row: (-row['count'], row['label']))
    need_table = Table('needs', f'{label}: weekly prices by need, {need_area.label}',
                       [Column('label', 'Need', 'text'), *PRICE_COLUMNS], need_rows, PRICE_SOURCE, as_at,
                       note=PRICE_NOTE + ' A placement for a child with several needs counts under each of them.')

    offer_rows = [{'label': kind.label, **_quartiles(cell.get(('offer', area.kind, area.key, kind.value)))}
                  for kind in ProvisionType]
    offer_columns = [Column('label', 'Provision type', 'text'), Column('count', 'Offers'),
                     *PRICE_COLUMNS[1:]]
    offers = Table('offers', f'Weekly prices offered by providers: {area.label}', offer_columns, offer_rows,
                   OFFER_SOURCE, as_at, note=PRICE_NOTE.replace('placements', 'offers'))
    tables = [types, time_table, need_table, offers]
    if area.kind == 'national':
        by_region = {f.area: f for f in _price_figures(
            PriceFigure.source == 'placement', PriceFigure.need == '', PriceFigure.period == 'all',
            PriceFigure.provision_type == provision_type, PriceFigure.area_kind == 'region')}
        region_rows = [{'label': name, **_quartiles(by_region.get(name))} for name in regions()]
        tables.append(Table('regions', f'{label}: weekly prices by region', [Column('label', 'Region', 'text'),
                                                                            *PRICE_COLUMNS],
                            region_rows, PRICE_SOURCE, as_at,
                            charts.range_chart(f'{label}: weekly price by region', [r['label'] for r in region_rows],
                                               [_range(row) for row in region_rows], pound), note=PRICE_NOTE))
    return tables


# --- distance and out-of-area -------------------------------------------------------------------------------------

DISTANCE_COLUMNS = [Column('placements', 'Placements'), Column('outside', 'Outside the home authority'),
                    Column('outside_share', 'Share outside', 'pct'),
                    Column('far', f'More than {FAR_MILES} miles from home'),
                    Column('far_share', f'Share more than {FAR_MILES} miles', 'pct'),
                    Column('average_miles', 'Average miles', 'miles')]


@dataclass
class _Flows:
    """Placements summed over some flows: how many, how many out of area, distances known, far, total miles."""

    placements: int = 0
    outside: int = 0
    known: int = 0
    far: int = 0
    miles: float = 0.0

    def add(self, same: bool, placements, known, far, miles) -> None:
        self.placements += int(placements or 0)
        self.outside += 0 if same else int(placements or 0)
        self.known += int(known or 0)
        self.far += int(far or 0)
        self.miles += float(miles or 0)


def _distance_row(label: str, flows: _Flows) -> dict:
    return {'label': label, 'placements': flows.placements, 'outside': flows.outside,
            'outside_share': share(flows.outside, flows.placements), 'far': flows.far,
            'far_share': share(flows.far, flows.known),
            'average_miles': round(flows.miles / flows.known, 1) if flows.known else None}


def _authority_names() -> dict[str, str]:
    return dict(authorities())


_FLOW_SUMS = (func.sum(FlowFigure.placements), func.sum(FlowFigure.with_distance),
              func.sum(FlowFigure.beyond_20_miles), func.sum(FlowFigure.total_miles))


def distance_tables(area: Area, *, compare: bool = False, all_flows: bool = False) -> list[Table]:
    """Placements by the area's authorities: the share outside the home authority and beyond 20 miles, by type, and
    where they go (an authority's own flows both ways; with ``compare``, the flows between authorities, the largest
    :data:`FLOWS_SHOWN` unless ``all_flows``)."""
    as_at = refreshed_at().get('flows')
    everything, by_type, by_region = _Flows(), defaultdict(_Flows), defaultdict(_Flows)
    if area.kind == 'authority':
        same = FlowFigure.home_authority_code == FlowFigure.host_authority_code
        grouped = db.session.execute(
            select(FlowFigure.provision_type, FlowFigure.home_region, same, *_FLOW_SUMS)
            .where(FlowFigure.home_authority_code == area.key, FlowFigure.provision_type != '')
            .group_by(FlowFigure.provision_type, FlowFigure.home_region, same)).all()
    else:
        # the refresh's totals: a region's, or England's and (for its table by region) every region's
        totals = select(FlowFigure.provision_type, FlowFigure.home_region, FlowFigure.host_authority_code == 'same',
                        *_FLOW_SUMS).where(FlowFigure.home_authority_code == '')
        if area.kind == 'region':
            totals = totals.where(FlowFigure.home_region == area.key)
        grouped = db.session.execute(totals.group_by(FlowFigure.provision_type, FlowFigure.home_region,
                                                     FlowFigure.host_authority_code)).all()
    for kind, region, is_same, *sums in grouped:
        if area.kind == 'national' and region:
            by_region[region].add(bool(is_same), *sums)
            continue
        for target in (everything, by_type[kind]):
            target.add(bool(is_same), *sums)
    summary = Table('summary', f'Placements made by {area.label}', [Column('label', 'Figure', 'text'),
                                                                    *DISTANCE_COLUMNS],
                    [_distance_row('All placements', everything)], FLOW_SOURCE, as_at,
                    note=f'Out of area: the setting is in another authority. Far: more than {FAR_MILES} miles in a '
                         "straight line from the child's home (or the home authority's centre).")
    type_rows = [_distance_row(type_label(kind), by_type[kind]) for kind in sorted(by_type, key=type_label)]
    types = Table('types', 'By provision type', [Column('label', 'Provision type', 'text'), *DISTANCE_COLUMNS],
                  type_rows, FLOW_SOURCE, as_at,
                  charts.bar_chart('Share placed out of area and far from home, by provision type',
                                   [row['label'] for row in type_rows],
                                   [('Outside the home authority', [row['outside_share'] for row in type_rows]),
                                    (f'More than {FAR_MILES} miles', [row['far_share'] for row in type_rows])],
                                   lambda value: f'{value:.0f}%'))
    tables = [summary, types]
    names = _authority_names()
    if area.kind == 'authority':
        rows = []
        for host, *sums in db.session.execute(
                select(FlowFigure.host_authority_code, *_FLOW_SUMS)
                .where(FlowFigure.home_authority_code == area.key, FlowFigure.provision_type == '')
                .group_by(FlowFigure.host_authority_code)):
            flows = _Flows()
            flows.add(host == area.key, *sums)
            rows.append(dict(_distance_row(names.get(host, host), flows), code=host))
        rows.sort(key=lambda row: (-row['placements'], row['label']))
        tables.append(Table('destinations', f'Where {area.label} places children (host authority)',
                            [Column('label', 'Host authority', 'text'), Column('placements', 'Placements'),
                             Column('far', f'More than {FAR_MILES} miles'),
                             Column('average_miles', 'Average miles', 'miles')], rows, FLOW_SOURCE, as_at))
        arriving = db.session.execute(
            select(FlowFigure.home_authority_code, func.sum(FlowFigure.placements))
            .where(FlowFigure.host_authority_code == area.key, FlowFigure.home_authority_code != area.key,
                   FlowFigure.provision_type == '')
            .group_by(FlowFigure.home_authority_code)).all()
        rows = sorted(({'label': names.get(code, code), 'placements': int(count)} for code, count in arriving),
                      key=lambda row: (-row['placements'], row['label']))
        tables.append(Table('arrivals', f'Other authorities placing children in {area.label}',
                            [Column('label', 'Placing (home) authority', 'text'), Column('placements', 'Placements')],
                            rows, FLOW_SOURCE, as_at))
    if area.kind == 'national':
        rows = [_distance_row(name, by_region.get(name, _Flows())) for name in regions()]
        tables.append(Table('regions', 'By region of the placing authority', [Column('label', 'Region', 'text'),
                                                                              *DISTANCE_COLUMNS],
                            rows, FLOW_SOURCE, as_at,
                            charts.bar_chart('Share placed out of area and far from home, by region',
                                             [row['label'] for row in rows],
                                             [('Outside the home authority', [row['outside_share'] for row in rows]),
                                              (f'More than {FAR_MILES} miles', [row['far_share'] for row in rows])],
                                             lambda value: f'{value:.0f}%')))
    if compare and area.kind != 'authority':
        query = (select(FlowFigure.home_authority_code, FlowFigure.host_authority_code, FlowFigure.placements,
                        FlowFigure.with_distance, FlowFigure.beyond_20_miles, FlowFigure.total_miles)
                 .where(FlowFigure.provision_type == '', FlowFigure.home_authority_code != '',
                        FlowFigure.home_authority_code != FlowFigure.host_authority_code)
                 .order_by(FlowFigure.placements.desc(), FlowFigure.home_authority_code,
                           FlowFigure.host_authority_code))
        if area.kind == 'region':
            query = query.where(FlowFigure.home_region == area.key)
        if not all_flows:
            query = query.limit(FLOWS_SHOWN)
        rows = [{'home': names.get(home, home), 'host': names.get(host, host), 'placements': count, 'far': far,
                 'average_miles': round(miles / known, 1) if known else None}
                for home, host, count, known, far, miles in db.session.execute(query)]
        tables.append(Table('flows', 'Flows between authorities (out-of-area placements)',
                            [Column('home', 'Placing (home) authority', 'text'),
                             Column('host', 'Host authority', 'text'), Column('placements', 'Placements'),
                             Column('far', f'More than {FAR_MILES} miles'),
                             Column('average_miles', 'Average miles', 'miles')], rows, FLOW_SOURCE, as_at,
                            note=f'The page shows the {FLOWS_SHOWN} largest flows; the CSV has every one.'))
    return tables


# --- supply over time, ownership and vacancies -------------------------------------------------------------------


def register_source(as_at: date | None) -> str:
    when = f'{as_at.day} {as_at:%B %Y}' if as_at else 'not yet imported'
    return f"Ofsted's register of social care providers (active registrations), release imported {when}"


def _snapshot_filter(area: Area) -> list:
    return _area_filter(RegisterSnapshot, area)


def releases() -> list[date]:
    return list(db.session.scalars(select(RegisterSnapshot.as_at).distinct().order_by(RegisterSnapshot.as_at)))


def listed_capacity(area: Area) -> dict[str, tuple[int, int, int]]:
    """Listed settings, places and vacancies in the area by provision type, from the directory now."""
    from qualification.listing import listed_condition
    from registry.settings.models import Setting

    query = (select(Setting.provision_type, func.count(Setting.id), func.coalesce(func.sum(Setting.places), 0),
                    func.coalesce(func.sum(Setting.vacancies), 0))
             .where(listed_condition()).group_by(Setting.provision_type))
    if area.kind == 'authority':
        query = query.where(Setting.authority_code == area.key)
    elif area.kind == 'region':
        query = query.join(LocalAuthority, LocalAuthority.code == Setting.authority_code).where(
            LocalAuthority.region_name == area.key)
    return {getattr(kind, 'value', kind): (count, int(places), int(vacancies))
            for kind, count, places, vacancies in db.session.execute(query)}


def supply_tables(area: Area, *, types_only: bool = False) -> list[Table]:
    """Registered homes and places at every release (the chart grows with each import), by type at the latest
    release, ownership concentration, the largest owners, and listed places and vacancies now (``types_only``: the
    table by type alone, for the pack)."""
    history = [] if types_only else db.session.execute(
        select(RegisterSnapshot.as_at, func.sum(RegisterSnapshot.homes), func.sum(RegisterSnapshot.places))
        .where(*_snapshot_filter(area)).group_by(RegisterSnapshot.as_at).order_by(RegisterSnapshot.as_at)).all()
    dates = releases()
    latest = dates[-1] if dates else None
    previous = dates[-2] if len(dates) > 1 else None
    history_rows = [{'label': f'{day.day} {day:%b %Y}', 'as_at': day.isoformat(), 'homes': int(homes),
                     'places': int(places)} for day, homes, places in history]
    over_time = Table('history', f'Registered settings and places at each Ofsted release: {area.label}',
                      [Column('label', 'Release', 'text'), Column('homes', 'Registered settings'),
                       Column('places', 'Registered places')], history_rows, register_source(latest), latest,
                      charts.bar_chart(f'Registered places at each release: {area.label}',
                                       [row['label'] for row in history_rows],
                                       [('Registered places', [row['places'] for row in history_rows]),
                                        ('Registered settings', [row['homes'] for row in history_rows])]),
                      note=PLACES_NOTE)
    by_type: dict = defaultdict(lambda: {latest: [0, 0], previous: [0, 0]})
    if latest:
        for day, kind, homes, places in db.session.execute(
                select(RegisterSnapshot.as_at, RegisterSnapshot.provision_type, func.sum(RegisterSnapshot.homes),
                       func.sum(RegisterSnapshot.places))
                .where(RegisterSnapshot.as_at.in_([d for d in (latest, previous) if d]), *_snapshot_filter(area))
                .group_by(RegisterSnapshot.as_at, RegisterSnapshot.provision_type)):
            by_type[kind][day] = [int(homes), int(places)]
    listed = listed_capacity(area)
    type_rows = []
    for kind in ProvisionType:
        now = by_type[kind.value][latest] if latest else [0, 0]
        before = by_type[kind.value][previous] if previous else None
        count, places, vacancies = listed.get(kind.value, (0, 0, 0))
        published = kind.value not in PLACES_NOT_PUBLISHED
        type_rows.append({'label': kind.label, 'homes': now[0], 'places': now[1] if published else NOT_PUBLISHED,
                          'change': None if before is None or not published else now[1] - before[1],
                          'listed': count, 'listed_places': places, 'vacancies': vacancies})
    types = Table('types', f'Supply by provision type: {area.label}',
                  [Column('label', 'Provision type', 'text'), Column('homes', 'Registered settings'),
                   Column('places', 'Registered places'), Column('change', 'Change in places since last release'),
                   Column('listed', 'Listed settings'), Column('listed_places', 'Listed places'),
                   Column('vacancies', 'Vacancies')], type_rows,
                  f'{register_source(latest)}; {DIRECTORY_SOURCE}', latest,
                  charts.bar_chart(f'Registered and listed places, and vacancies: {area.label}',
                                   [row['label'] for row in type_rows],
                                   [('Registered places', [None if row['places'] == NOT_PUBLISHED else row['places']
                                                           for row in type_rows]),
                                    ('Listed places', [row['listed_places'] for row in type_rows]),
                                    ('Vacancies', [row['vacancies'] for row in type_rows])]),
                  note=PLACES_NOTE)
    if types_only:
        return [types]
    ownership_rows = []
    if latest:
        figures = {(f.area_kind, f.area): f for f in db.session.scalars(
            select(OwnershipFigure).where(OwnershipFigure.as_at == latest))}
        for key, label in [(('national', ''), 'England'), *((('region', name), name) for name in regions())]:
            figure = figures.get(key)
            if figure is not None:
                ownership_rows.append({'label': label, 'owners': figure.owners, 'places': figure.places,
                                       'top10_share': round(figure.top10_share, 1), 'hhi': round(figure.hhi)})
    ownership = Table('ownership', 'Ownership concentration of registered places',
                      [Column('label', 'Area', 'text'), Column('owners', 'Owners'), Column('places', 'Places'),
                       Column('top10_share', "Top 10 owners' share of places", 'pct'),
                       Column('hhi', 'HHI (0 to 10,000)')], ownership_rows, register_source(latest), latest,
                      charts.bar_chart("Top 10 owners' share of registered places",
                                       [r['label'] for r in ownership_rows],
                                       [("Top 10 owners' share", [r['top10_share'] for r in ownership_rows])],
                                       lambda value: f'{value:.0f}%'),
                      note='HHI: the sum of the squares of each owner\'s percentage share of places; above 1,500 '
                           'is usually read as moderately concentrated, above 2,500 as highly concentrated.')
    owner_region = area.region if area.kind != 'national' else None
    owners = top_owners(owner_region)
    owner_total = sum(f['places'] for f in ownership_rows if f['label'] == (owner_region or 'England'))
    owner_rows = [{'label': name, 'homes': homes, 'places': places, 'share': share(places, owner_total)}
                  for name, homes, places in owners]
    largest = Table('owners', f'Largest owners by registered places: {owner_region or "England"}',
                    [Column('label', 'Owner', 'text'), Column('homes', 'Registered settings'),
                     Column('places', 'Places'), Column('share', 'Share of places', 'pct')], owner_rows,
                    register_source(latest), latest)
    return [over_time, types, ownership, largest]


# --- the sufficiency pack -----------------------------------------------------------------------------------------


PACK_COLUMNS = [Column('section', 'Section', 'text'), Column('figure', 'Figure', 'text'),
                Column('value', 'Value', 'row'), Column('region', 'Region', 'row'),
                Column('england', 'England', 'row'), Column('source', 'Source', 'text'),
                Column('as_at', 'As at', 'text')]


def _when(value) -> str:
    if value is None:
        return ''
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat()


def sufficiency_pack(area: Area) -> Table:
    """One authority's figures for its sufficiency statement, each beside its region and England where that
    helps, with its source and date: demand, supply, vacancies, prices and distance."""
    assert area.kind == 'authority'
    region, england = Area('region', area.region, area.region), NATIONAL
    rows: list[dict] = []

    def add(section, figure, values, kind, source, as_at):
        rows.append({'section': section, 'figure': figure, 'kind': kind,
                     **dict(zip(('value', 'region', 'england'), values, strict=True)),
                     'source': source, 'as_at': _when(as_at)})

    own = demand_tables(area)
    demand = [own[0].rows[0]] + [demand_tables(scope)[0].rows[0] for scope in (region, england)]
    needs = own[1].rows
    as_at = refreshed_at().get('demand')
    add('Demand', 'Placement finder searches', [d['searches'] for d in demand], 'int', DEMAND_SOURCE, as_at)
    add('Demand', 'Share of searches with no match meeting every requirement',
        [d['unmet_share'] for d in demand], 'pct', DEMAND_SOURCE, as_at)
    add('Demand', 'Referrals', [d['referrals'] for d in demand], 'int', DEMAND_SOURCE, as_at)
    for row in [row for row in needs if row['unmet']][:5]:
        add('Demand', f'Need most often unmet: {row["label"]} (searches with no full match)',
            [row['unmet'], None, None], 'int', DEMAND_SOURCE, as_at)

    supply = [supply_tables(scope, types_only=True)[0] for scope in (area, region)]
    latest = supply[0].as_at
    national_types = {row['label']: row for row in supply_tables(england, types_only=True)[0].rows}
    present = [(row, region_row, national_types[row['label']])
               for row, region_row in zip(supply[0].rows, supply[1].rows, strict=True)
               if row['homes'] or region_row['homes'] or row['listed']]
    for row, region_row, whole in present:
        add('Supply', f'{row["label"]}: registered settings', [row['homes'], region_row['homes'], whole['homes']],
            'int', register_source(latest), latest)
        add('Supply', f'{row["label"]}: registered places', [row['places'], region_row['places'], whole['places']],
            'int', register_source(latest), latest)
    for row, region_row, whole in present:
        add('Vacancies', f'{row["label"]}: listed places', [row['listed_places'], region_row['listed_places'],
                                                             whole['listed_places']], 'int', DIRECTORY_SOURCE,
            date.today())
        add('Vacancies', f'{row["label"]}: vacancies', [row['vacancies'], region_row['vacancies'],
                                                         whole['vacancies']], 'int', DIRECTORY_SOURCE, date.today())

    prices = price_tables(area, types_only=True)[0]
    price_as_at = refreshed_at().get('prices')
    for row in prices.rows:
        if not row['count']:
            continue
        placed = f'{row["count"]} placement{"" if row["count"] == 1 else "s"}'
        add('Prices', f'{row["label"]}: median weekly price of our placements ({placed})',
            [row['median'], row['region_median'], row['national_median']], 'pounds', PRICE_SOURCE, price_as_at)
        if row['schedule']:
            add('Prices', f'{row["label"]}: our published schedule ({row["schedule_name"]})',
                [row['schedule'], None, None], 'pounds',
                f"{area.label}'s published price schedule (local requirements)", row['schedule_published'])

    distance = [distance_tables(scope)[0].rows[0] for scope in (area, region, england)]
    flow_as_at = refreshed_at().get('flows')
    add('Distance', 'Placements made', [d['placements'] for d in distance], 'int', FLOW_SOURCE, flow_as_at)
    add('Distance', 'Share placed outside the authority', [d['outside_share'] for d in distance], 'pct',
        FLOW_SOURCE, flow_as_at)
    add('Distance', f'Share placed more than {FAR_MILES} miles from home', [d['far_share'] for d in distance],
        'pct', FLOW_SOURCE, flow_as_at)
    add('Distance', 'Average distance from home (miles)', [d['average_miles'] for d in distance], 'miles',
        FLOW_SOURCE, flow_as_at)
    places_note = any(NOT_PUBLISHED in (row['value'], row['region'], row['england']) for row in rows)
    return Table('pack', f'Sufficiency pack: {area.label}', PACK_COLUMNS, rows,
                 'Each row names its source', latest, note=f'{PRICE_NOTE} {PLACES_NOTE}' if places_note else PRICE_NOTE)
