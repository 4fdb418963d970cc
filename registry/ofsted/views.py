"""The capacity picture (tables, charts and CSV downloads) and the board's list of register mismatches."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.db import get_or_404
from registry.ofsted import bp, capacity, permissions, services
from registry.ofsted.forms import ResolveReviewForm
from registry.ofsted.models import OfstedReviewItem, ReviewOutcome
from registry.ofsted.services import latest_import, settings_with_problems
from registry.organisations.forms import add_form_error
from registry.permissions import require, roles_required


def _breakdown(name: str, region: str | None):
    if name == 'region':
        return capacity.by_region()
    if name == 'authority':
        return capacity.by_authority(region)
    if name == 'provision-type':
        return capacity.by_provision_type()
    abort(404)


@bp.route('')
@roles_required(*permissions.CAPACITY_ROLES)
def show_capacity():
    """Registered places, listed places and vacancies by region, provision type and authority."""
    require(permissions.can_view_capacity(current_user))
    regions = capacity.regions()
    region = request.args.get('region') or None
    if region not in regions:
        region = None
    by_region = capacity.by_region()
    by_type = capacity.by_provision_type()
    by_authority = capacity.by_authority(region)
    if region:
        authority_chart_rows, authority_chart_title = by_authority, f'Capacity by authority in {region}'
    else:
        authority_chart_rows = sorted(by_authority, key=lambda row: -row.registered_places)[:20]
        authority_chart_title = 'Capacity in the 20 authorities with most registered places'
    tables = [
        {'id': 'region', 'heading': 'By region', 'first': 'Region', 'rows': by_region,
         'total': capacity.total(by_region), 'note': capacity.note(by_region),
         'chart': capacity.chart(by_region, 'Capacity by region')},
        {'id': 'provision-type', 'heading': 'By provision type', 'first': 'Provision type', 'rows': by_type,
         'total': capacity.total(by_type), 'note': capacity.note(by_type),
         'chart': capacity.chart(by_type, 'Capacity by provision type')},
        {'id': 'authority', 'heading': 'By local authority', 'first': 'Local authority', 'rows': by_authority,
         'total': capacity.total(by_authority), 'note': capacity.note(by_authority),
         'chart': capacity.chart(authority_chart_rows, authority_chart_title)},
    ]
    return render_template('ofsted/capacity.html', tables=tables, regions=regions, region=region,
                           columns=capacity.CSV_COLUMNS, register_import=latest_import())


@bp.route('/<any("region", "authority", "provision-type"):breakdown>.csv')
@roles_required(*permissions.CAPACITY_ROLES)
def download_capacity(breakdown: str):
    """One capacity table as CSV."""
    require(permissions.can_view_capacity(current_user))
    region = request.args.get('region') or None
    if region not in capacity.regions():
        region = None
    rows = _breakdown(breakdown, region)
    suffix = f'-{region.lower().replace(" ", "-")}' if region and breakdown == 'authority' else ''
    return Response(capacity.to_csv(rows, capacity.BREAKDOWNS[breakdown]), mimetype='text/csv',
                    headers={'Content-Disposition': f'attachment; filename=capacity-by-{breakdown}{suffix}.csv'})


@bp.route('/verification')
@roles_required(*permissions.VERIFICATION_ROLES)
def list_verification_problems():
    """Every setting whose Ofsted URN, type or registration does not match the register."""
    require(permissions.can_view_verification(current_user))
    return render_template('ofsted/verification.html', results=settings_with_problems(),
                           register_import=latest_import())


@bp.route('/reviews')
@roles_required(*permissions.REVIEW_VIEW_ROLES)
def list_reviews():
    """Settings an import of Ofsted's register took out of the directory, waiting for the board's outcome."""
    require(permissions.can_view_reviews(current_user))
    return render_template('ofsted/reviews.html', items=services.open_review_items(),
                           resolved=services.resolved_review_items(), register_import=latest_import(),
                           can_resolve=permissions.can_resolve_review(current_user))


@bp.route('/reviews/<int:item_id>', methods=['GET', 'POST'])
@roles_required(*permissions.REVIEW_VIEW_ROLES)
def resolve_review(item_id: int):
    """One review item: the facts, and (for board members) the form recording an outcome."""
    require(permissions.can_view_reviews(current_user))
    item = get_or_404(OfstedReviewItem, item_id)
    can_resolve = permissions.can_resolve_review(current_user) and item.is_open
    form = ResolveReviewForm()
    allowed = services.allowed_outcomes(item)
    form.outcome.choices = [(outcome.value, outcome.label) for outcome in allowed]
    if request.method == 'POST':
        require(can_resolve)
        if form.validate_on_submit():
            try:
                services.resolve_review_item(item, ReviewOutcome(form.outcome.data), actor=current_user,
                                             reason=form.reason.data)
            except services.ReviewError as exc:
                add_form_error(form, 'outcome', str(exc))
            else:
                flash(f'Outcome recorded for {item.setting.name}: {item.outcome.label.lower()}', 'success')
                return redirect(url_for('ofsted.list_reviews'))
    return render_template('ofsted/review.html', item=item, form=form, can_resolve=can_resolve,
                           verification=services.verify_setting(item.setting)), 400 if form.errors else 200
