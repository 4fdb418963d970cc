"""Market pages: demand, prices, distance, supply, and each authority's sufficiency pack; every table as CSV."""

from __future__ import annotations

from flask import Response, abort, render_template, request, url_for
from flask_login import current_user

from market import bp, permissions, services
from market.refresh import refreshed_at
from registry.permissions import require, roles_required
from registry.settings.taxonomy import ProvisionType

PAGES = {
    'demand': ('Demand', 'Placement finder searches and referrals by need and type, and how often nothing met every '
                         'requirement.'),
    'prices': ('Prices', 'Weekly prices agreed in placements and offered by providers: medians and interquartile '
                         'ranges by provision type, need and quarter.'),
    'distance': ('Distance and out-of-area placements', 'Where children are placed: outside their home authority, '
                                                        'and more than 20 miles from home.'),
    'supply': ('Supply and ownership', "Registered settings and places at each Ofsted release, who owns them, and "
                                       "places listed and vacant in the directory now."),
}


def _area() -> services.Area:
    """The area asked for (a commissioner starts at their own authority, the board at England), if allowed."""
    default = current_user.authority_code if not permissions.is_board(current_user) else ''
    try:
        area = services.resolve_area(request.args.get('area', default))
    except services.UnknownAreaError:
        abort(404)
    if area.kind == 'authority':
        require(permissions.can_view_authority(current_user, area.key))
    return area


def _provision_type() -> str:
    value = request.args.get('type') or ProvisionType.CHILDRENS_HOME.value
    if value not in {kind.value for kind in ProvisionType}:
        abort(404)
    return value


def _tables(page: str, area: services.Area, *, download: bool = False) -> list[services.Table]:
    compare = permissions.can_compare_authorities(current_user)
    if page == 'demand':
        return services.demand_tables(area, compare=compare)
    if page == 'prices':
        return services.price_tables(area, _provision_type())
    if page == 'distance':
        return services.distance_tables(area, compare=compare, all_flows=download)
    return services.supply_tables(area)


def _area_choices() -> list[tuple[str, str]]:
    choices = [('', 'England')] + [(name, name) for name in services.regions()]
    if permissions.is_board(current_user):
        return choices + services.authorities()
    authority = current_user.authority
    return choices + ([(authority.code, authority.name)] if authority else [])


@bp.route('/')
@roles_required(*permissions.MARKET_ROLES)
def index():
    """What the market pages hold, and the way to each."""
    require(permissions.can_view_market(current_user))
    return render_template('market/index.html', pages=PAGES, refreshed=refreshed_at(),
                           own_authority=None if permissions.is_board(current_user) else current_user.authority)


@bp.route('/<any("demand", "prices", "distance", "supply"):page>')
@roles_required(*permissions.MARKET_ROLES)
def show_page(page: str):
    """One market page for England, a region or an authority: charts with their data tables."""
    require(permissions.can_view_market(current_user))
    area = _area()
    title, intro = PAGES[page]
    return render_template(
        'market/page.html', page=page, title=title, intro=intro, area=area, tables=_tables(page, area),
        area_choices=_area_choices(), provision_type=_provision_type() if page == 'prices' else None,
        provision_types=[(kind.value, kind.label) for kind in ProvisionType], refreshed=refreshed_at(),
        can_see_pack=area.kind == 'authority')


@bp.route('/<any("demand", "prices", "distance", "supply"):page>/<table_id>.csv')
@roles_required(*permissions.MARKET_ROLES)
def download_table(page: str, table_id: str):
    """One table of a page as CSV, with its source and date."""
    require(permissions.can_view_market(current_user))
    area = _area()
    table = next((table for table in _tables(page, area, download=True) if table.id == table_id), None)
    if table is None:
        abort(404)
    slug = (area.key or 'england').lower().replace(' ', '-')
    return _csv(table.to_csv(), f'market-{page}-{table_id}-{slug}.csv')


def _csv(text: str, name: str) -> Response:
    return Response(text, mimetype='text/csv', headers={'Content-Disposition': f'attachment; filename="{name}"',
                                                        'Cache-Control': 'no-store'})


def _pack_area(code: str) -> services.Area:
    require(permissions.can_view_authority(current_user, code))
    try:
        area = services.resolve_area(code)
    except services.UnknownAreaError:
        abort(404)
    if area.kind != 'authority':
        abort(404)
    return area


@bp.route('/packs/<code>')
@roles_required(*permissions.MARKET_ROLES)
def show_pack(code: str):
    """An authority's sufficiency pack: one printable page."""
    area = _pack_area(code)
    return render_template('market/pack.html', area=area, pack=services.sufficiency_pack(area),
                           csv_url=url_for('market.download_pack', code=area.key))


@bp.route('/packs/<code>.csv')
@roles_required(*permissions.MARKET_ROLES)
def download_pack(code: str):
    """An authority's sufficiency pack as CSV."""
    area = _pack_area(code)
    return _csv(services.sufficiency_pack(area).to_csv(), f'sufficiency-pack-{area.key}.csv')
