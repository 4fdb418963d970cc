"""Referral and placement pages: thin views that parse, authorise, call one service and respond."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from placements import bp, permissions, queries, services
from placements.forms import AcceptForm, CloseForm, DeclineForm, EndForm, OfferForm, ReferralForm
from placements.models import Offer, Placement, Referral, ReferralResponse
from placements.pricing import pounds
from placements.states import PlacementStatus, ReferralStatus, ResponseStatus
from registry.accounts.models import Role
from registry.db import get_or_404
from registry.errors import InvalidTransition
from registry.extensions import db
from registry.organisations.forms import add_form_error
from registry.permissions import require, roles_required
from registry.settings.models import Setting
from registry.settings.taxonomy import NEEDS, Judgement
from registry.templating import format_date
from workspace import permissions as workspace_permissions
from workspace import services as workspace_services
from workspace.forms import FinderForm
from workspace.models import Shortlist

BOTH = (Role.COMMISSIONER, Role.PROVIDER)


@bp.app_template_filter('pounds')
def _pounds_filter(pence):
    return pounds(pence)


def _page_number() -> int:
    try:
        return max(1, int(request.args.get('page', 1)))
    except ValueError:
        return 1


# ---------------------------------------------------------------------------------------------------------------
# Sending a referral


def _chosen_ids() -> list[int]:
    ids = []
    for value in request.values.getlist('setting'):
        if value.isdecimal():
            ids.append(int(value))
    return list(dict.fromkeys(ids))


def _source():
    """(candidates by setting id, finder criteria, back link) from a shortlist or the finder's query string."""
    shortlist_id = request.args.get('shortlist', '')
    if shortlist_id:
        if not shortlist_id.isdecimal():
            abort(404)
        shortlist = get_or_404(Shortlist, int(shortlist_id))
        require(workspace_permissions.can_view_shortlist(current_user, shortlist))
        return (services.candidates_from_shortlist(shortlist), shortlist.criteria,
                url_for('workspace.view_shortlist', shortlist_id=shortlist.id))
    finder_args = {key: values for key, values in request.args.to_dict(flat=False).items()
                   if key not in {'setting', 'shortlist'}}
    finder_form = FinderForm(formdata=request.args)
    back = url_for('workspace.finder', **finder_args)
    if not finder_form.validate():
        return None, None, back
    try:
        child = workspace_services.child_from_criteria(finder_form.criteria())
    except workspace_services.WorkspaceError:
        return None, None, back
    matches = workspace_services.find_placements(child, current_user.authority_code)
    return services.candidates_from_matches(matches), finder_form.criteria(), back


@bp.route('/referrals/start', methods=['POST'])
@roles_required(Role.COMMISSIONER)
def start_referral():
    """From the finder: carry the ticked settings and the search to the referral form."""
    require(permissions.can_refer(current_user))
    args = {key: values for key, values in request.args.to_dict(flat=False).items() if key != 'setting'}
    chosen = _chosen_ids()
    if not chosen:
        flash('Select at least one setting to refer', 'error')
        return redirect(url_for('workspace.finder', **args))
    return redirect(url_for('placements.new_referral', **args, setting=chosen))


def _initial_data(criteria: dict, chosen_settings: list[Setting]) -> dict:
    start = date.fromisoformat(criteria['start_date']) if criteria.get('start_date') else None
    if start is not None and start < date.today():
        start = None
    types = Counter(setting.provision_type.value for setting in chosen_settings)
    wanted = criteria.get('provision_types') or []
    provision_type = wanted[0] if len(wanted) == 1 else (types.most_common(1)[0][0] if types else None)
    deadline = None
    if start is not None:
        deadline = min(start, date.today() + timedelta(days=2))
    return {
        'settings': [setting.id for setting in chosen_settings], 'age': criteria.get('age'),
        'sex': criteria.get('sex'), 'needs': criteria.get('needs') or [], 'provision_type': provision_type,
        'children': criteria.get('children') or 1, 'start_date': start,
        'origin_postcode': criteria.get('postcode') or '', 'origin_authority': criteria.get('authority') or '',
        'max_distance': criteria.get('max_distance_miles'), 'response_deadline': deadline,
    }


@bp.route('/referrals/new', methods=['GET', 'POST'])
@roles_required(Role.COMMISSIONER)
def new_referral():
    """The standard referral form, for the settings ticked in the finder or on a shortlist."""
    require(permissions.can_refer(current_user))
    candidates, criteria, back = _source()
    if candidates is None:
        flash('Run the search again, then tick the settings to refer', 'error')
        return redirect(back)
    chosen = [setting_id for setting_id in _chosen_ids() if setting_id in candidates]
    if not chosen:
        flash('Select at least one setting to refer', 'error')
        return redirect(back)
    settings = {setting.id: setting for setting in db.session.scalars(
        db.select(Setting).where(Setting.id.in_(chosen)).options(db.selectinload(Setting.organisation)))}
    ordered = [settings[setting_id] for setting_id in chosen if setting_id in settings]
    choices = [(setting.id, f'{setting.name} ({setting.organisation.display_name}, {setting.district_name})')
               for setting in ordered]
    form = ReferralForm(setting_choices=choices, data=None if request.method == 'POST'
                        else _initial_data(criteria or {}, ordered))
    status = 200
    if form.validate_on_submit():
        try:
            referral = services.send_referral(
                services.ReferralDetails(**form.details_kwargs()),
                [candidates[setting_id] for setting_id in form.settings.data], actor=current_user)
        except services.PlacementError as exc:
            add_form_error(form, exc.field if exc.field in form else 'settings', str(exc))
        else:
            count = len(referral.responses)
            flash(f'Referral {referral.reference} sent to {count} setting{"" if count == 1 else "s"}', 'success')
            return redirect(url_for('placements.view_referral', referral_id=referral.id))
    if request.method == 'POST':
        status = 400
    return render_template('placements/referral_new.html', form=form, back=back, candidates=candidates,
                           settings=ordered, needs_labels=NEEDS), status


# ---------------------------------------------------------------------------------------------------------------
# Seeing and answering a referral


def _load_referral(referral_id: int) -> Referral:
    referral = get_or_404(Referral, referral_id)
    require(permissions.can_view_referral(current_user, referral))
    return referral


@bp.route('/referrals')
@roles_required(Role.COMMISSIONER)
def list_referrals():
    """The authority's referrals, newest first."""
    require(permissions.is_commissioner(current_user))
    status = request.args.get('status') or None
    page, rows = queries.authority_referrals(current_user.authority_code, status, _page_number())
    return render_template('placements/referral_list.html', page=page, rows=rows, status=status,
                           statuses=list(ReferralStatus))


@bp.route('/inbox')
@roles_required(Role.PROVIDER)
def inbox():
    """Referrals sent to the provider's settings."""
    status = request.args.get('status') or None
    page = queries.inbox(current_user, status, _page_number())
    return render_template('placements/inbox.html', page=page, status=status, statuses=list(ResponseStatus))


@bp.route('/referrals/<int:referral_id>')
@roles_required(*BOTH)
def view_referral(referral_id: int):
    """The commissioner compares responses; a provider sees the referral and answers for its own settings."""
    referral = _load_referral(referral_id)
    services.record_view(referral, actor=current_user)
    common = {'referral': referral, 'needs_labels': NEEDS,
              'judgements': {judgement.value: judgement.label for judgement in Judgement}}
    if permissions.is_referring_commissioner(current_user, referral):
        return render_template('placements/referral_detail.html', rows=queries.comparison(referral), **common)
    mine = permissions.organisation_ids(current_user)
    responses = [response for response in referral.responses if response.organisation_id in mine]
    return render_template('placements/referral_provider.html', responses=responses, **common)


def _load_response(referral_id: int, response_id: int) -> ReferralResponse:
    response = get_or_404(ReferralResponse, response_id)
    if response.referral_id != referral_id:
        abort(404)
    require(permissions.can_respond(current_user, response))
    return response


def _response_page(template: str, response: ReferralResponse, form, status: int = 200):
    # a closed referral shows why instead of a form whose answer would only be refused
    closed = services.why_no_response(response) if request.method == 'GET' else None
    return render_template(template, response=response, referral=response.referral, form=form,
                           needs_labels=NEEDS, closed=closed), status


@bp.route('/referrals/<int:referral_id>/responses/<int:response_id>/offer', methods=['GET', 'POST'])
@roles_required(Role.PROVIDER)
def make_offer(referral_id: int, response_id: int):
    """Offer a place at the approached setting."""
    response = _load_response(referral_id, response_id)
    form = OfferForm()
    if form.validate_on_submit():
        try:
            services.make_offer(response, weekly_price_pence=form.weekly_price.data,
                                available_from=form.available_from.data, valid_until=form.valid_until.data,
                                conditions=form.conditions.data or '', actor=current_user)
        except services.PlacementError as exc:
            add_form_error(form, exc.field if exc.field in form else 'weekly_price', str(exc))
        except InvalidTransition as exc:
            flash(str(exc), 'error')
            return redirect(url_for('placements.view_referral', referral_id=referral_id))
        else:
            flash(f'Offer sent to {response.referral.authority.name}', 'success')
            return redirect(url_for('placements.view_referral', referral_id=referral_id))
    return _response_page('placements/offer_form.html', response, form, 400 if request.method == 'POST' else 200)


@bp.route('/referrals/<int:referral_id>/responses/<int:response_id>/decline', methods=['GET', 'POST'])
@roles_required(Role.PROVIDER)
def decline(referral_id: int, response_id: int):
    """Decline with a coded reason."""
    response = _load_response(referral_id, response_id)
    form = DeclineForm()
    if form.validate_on_submit():
        try:
            services.decline(response, reason=form.reason.data, notes=form.notes.data or '', actor=current_user)
        except services.PlacementError as exc:
            add_form_error(form, exc.field if exc.field in form else 'reason', str(exc))
        except InvalidTransition as exc:
            flash(str(exc), 'error')
            return redirect(url_for('placements.view_referral', referral_id=referral_id))
        else:
            flash(f'You declined referral {response.referral.reference}', 'success')
            return redirect(url_for('placements.view_referral', referral_id=referral_id))
    return _response_page('placements/decline_form.html', response, form, 400 if request.method == 'POST' else 200)


@bp.route('/referrals/<int:referral_id>/offers/<int:offer_id>/accept', methods=['GET', 'POST'])
@roles_required(Role.COMMISSIONER)
def accept_offer(referral_id: int, offer_id: int):
    """Check the offer and record the placement."""
    offer = get_or_404(Offer, offer_id)
    if offer.referral_id != referral_id:
        abort(404)
    referral = offer.response.referral
    require(permissions.is_referring_commissioner(current_user, referral))
    earliest, latest = services.start_date_range(offer, date.today())
    start = max(offer.available_from, referral.start_date, date.today())
    if earliest <= latest:
        start = min(max(start, earliest), latest)
    planned_end = start + timedelta(weeks=referral.expected_duration_weeks) if referral.expected_duration_weeks \
        else None
    form = AcceptForm(data=None if request.method == 'POST' else {'start_date': start,
                                                                  'planned_end_date': planned_end})
    if earliest <= latest:
        form.start_date.description = f'Between {format_date(earliest)} and {format_date(latest)}'
    problem, status = None, 200
    if form.validate_on_submit():
        try:
            placement = services.accept_offer(offer, start_date=form.start_date.data,
                                              planned_end_date=form.planned_end_date.data, actor=current_user)
        except services.NoVacancyError as exc:
            problem, status = str(exc), 409
        except services.PlacementError as exc:
            if exc.field in form:
                add_form_error(form, exc.field, str(exc))
                status = 400
            else:
                problem, status = str(exc), 409
        except InvalidTransition as exc:
            problem, status = str(exc), 409
        else:
            flash(f'Placement {placement.reference} recorded. The other providers have been told they were not '
                  'selected', 'success')
            return redirect(url_for('placements.view_placement', placement_id=placement.id))
    elif request.method == 'POST':
        status = 400
    comparison = next((row for row in queries.comparison(referral) if row.offer and row.offer.id == offer.id), None)
    return render_template('placements/accept.html', offer=offer, referral=referral, form=form, problem=problem,
                           row=comparison), status


@bp.route('/referrals/<int:referral_id>/close', methods=['GET', 'POST'])
@roles_required(Role.COMMISSIONER)
def close_referral(referral_id: int):
    """Close the referral without a placement."""
    referral = get_or_404(Referral, referral_id)
    require(permissions.is_referring_commissioner(current_user, referral))
    form = CloseForm()
    if form.validate_on_submit():
        try:
            services.close_referral(referral, reason=form.reason.data, actor=current_user)
        except (services.PlacementError, InvalidTransition) as exc:
            flash(str(exc), 'error')
        else:
            flash(f'Referral {referral.reference} closed. Providers still waiting have been told', 'success')
        return redirect(url_for('placements.view_referral', referral_id=referral.id))
    return render_template('placements/close.html', referral=referral, form=form), \
        400 if request.method == 'POST' else 200


# ---------------------------------------------------------------------------------------------------------------
# Placements


@bp.route('/')
@roles_required(*BOTH)
def list_placements():
    """Commissioners: placements the authority made, or placements into its area. Providers: their placements."""
    view = request.args.get('view', 'home')
    if view not in {'home', 'host'}:
        view = 'home'
    status = request.args.get('status') or None
    page = queries.placements_for(current_user, view, status, _page_number())
    return render_template('placements/placement_list.html', page=page, view=view, status=status,
                           statuses=list(PlacementStatus), is_commissioner=permissions.is_commissioner(current_user))


def _load_placement(placement_id: int) -> Placement:
    placement = get_or_404(Placement, placement_id)
    require(permissions.can_view_placement(current_user, placement))
    return placement


@bp.route('/<int:placement_id>')
@roles_required(*BOTH)
def view_placement(placement_id: int):
    """A placement: where, from when, at what price, and how it ended."""
    placement = _load_placement(placement_id)
    services.record_placement_view(placement, actor=current_user)
    return render_template('placements/placement_detail.html', placement=placement,
                           can_end=permissions.can_end_placement(current_user, placement)
                           and placement.status == PlacementStatus.ACTIVE,
                           show_referral=permissions.can_see_referral_of(current_user, placement))


@bp.route('/<int:placement_id>/end', methods=['GET', 'POST'])
@roles_required(Role.COMMISSIONER)
def end_placement(placement_id: int):
    """Record the end of a placement with a coded reason."""
    placement = _load_placement(placement_id)
    require(permissions.can_end_placement(current_user, placement))
    form = EndForm()
    if form.validate_on_submit():
        try:
            services.end_placement(placement, reason=form.reason.data, ended_on=form.ended_on.data,
                                   actor=current_user)
        except services.PlacementError as exc:
            add_form_error(form, exc.field if exc.field in form else 'reason', str(exc))
        except InvalidTransition as exc:
            flash(str(exc), 'error')
            return redirect(url_for('placements.view_placement', placement_id=placement.id))
        else:
            flash(f'Placement {placement.reference} ended', 'success')
            return redirect(url_for('placements.view_placement', placement_id=placement.id))
    return render_template('placements/placement_end.html', placement=placement, form=form), \
        400 if request.method == 'POST' else 200

