"""Workspace pages: the placement finder, shortlists (notes, sharing, exports) and the authority's own view."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.accounts.models import Role
from registry.db import get_or_404
from registry.organisations.forms import add_form_error
from registry.permissions import require, roles_required
from registry.settings.taxonomy import NEEDS, Judgement, ProvisionType
from search.views import pagination
from workspace import bp, exports, finder, permissions, services
from workspace.forms import FinderForm, NoteForm, ShareForm, ShortlistForm, criteria_args
from workspace.models import Shortlist, ShortlistEntry

FINDER_ROLES = (Role.COMMISSIONER, Role.ASSESSOR, Role.BOARD_MEMBER, Role.ADMIN)
# the finder, shortlists and referrals (placements) all show reasons through workspace/_reasons.html
bp.add_app_template_global(finder.reason_tag, 'reason_tag')
bp.add_app_template_global(finder.match_tag, 'match_tag')


def _run_finder(form: FinderForm, *, log: bool = False) -> list | None:
    """Validate the finder form and run it; None when the answers need correcting (errors are on the form).

    ``log`` records the search in the anonymous demand log (once per search: not again for its other pages).
    """
    if not form.validate():
        return None
    try:
        child = services.child_from_criteria(form.criteria())
    except services.WorkspaceError as exc:
        add_form_error(form, exc.field or 'postcode', str(exc))
        return None
    from search.views import in_house_viewer

    authority_code = current_user.authority_code if current_user.role == Role.COMMISSIONER else None
    if log:
        return services.run_finder(child, authority_code, in_house_for=in_house_viewer(current_user))
    return services.find_placements(child, authority_code, in_house_for=in_house_viewer(current_user))


def _contacts(setting_ids) -> dict:
    """Contacts for commissioners only; everyone else gets none."""
    if not permissions.can_see_contacts(current_user):
        return {}
    return services.contacts_for(setting_ids)


def _finder_page(form: FinderForm, matches, save_form: ShortlistForm, *, error_form=None, ticked=()):
    page = None
    if matches is not None:
        number = request.args.get('page', '1')
        page = services.finder_page(matches, int(number) if number.isdecimal() else 1)
    query_args = request.args.to_dict(flat=False)
    query_args.pop('page', None)
    can_save = permissions.can_create_shortlist(current_user)
    return render_template(
        'workspace/finder.html', form=error_form or form, finder_form=form, page=page,
        matches=page.matches if page else None, save_form=save_form, can_save=can_save, query_args=query_args,
        needs_labels=NEEDS, pagination=pagination('workspace.finder', page) if page else None,
        contacts=_contacts(match.entry.id for match in (page.matches if page else ())),
        ticked={str(value) for value in ticked},
        can_refer='placements.start_referral' in current_app.view_functions and can_save)


@bp.route('/finder')
@roles_required(*FINDER_ROLES)
def finder():
    """Describe the child; see ranked matches with the reasons each matched or fell short."""
    form = FinderForm(formdata=request.args if request.args else None)
    matches = _run_finder(form, log=request.args.get('page', '1') == '1') if request.args else None
    return _finder_page(form, matches, ShortlistForm())


@bp.route('/shortlists', methods=['POST'])
@roles_required(Role.COMMISSIONER)
def create_shortlist():
    """Save the finder's results for the criteria in the query string, frozen as they are now."""
    require(permissions.can_create_shortlist(current_user))
    finder_form = FinderForm(formdata=request.args)
    save_form = ShortlistForm()
    if not finder_form.validate():
        return redirect(url_for('workspace.finder', **request.args.to_dict(flat=False)))
    if save_form.validate_on_submit():
        try:
            shortlist = services.create_shortlist(save_form.name.data, finder_form.criteria(),
                                                  setting_ids=_ticked(), actor=current_user)
        except services.WorkspaceError as exc:
            target = save_form if exc.field in {None, 'name'} else finder_form
            add_form_error(target, exc.field or 'name', str(exc))
        else:
            flash(f'Shortlist “{shortlist.name}” saved with {len(shortlist.entries)} results', 'success')
            return redirect(url_for('workspace.view_shortlist', shortlist_id=shortlist.id))
    matches = _run_finder(finder_form)
    return _finder_page(finder_form, matches, save_form, error_form=save_form, ticked=request.form.getlist('setting'))


def _ticked() -> list[int]:
    return [int(value) for value in request.form.getlist('setting') if value.isdecimal()]


@bp.route('/shortlists')
@roles_required(Role.COMMISSIONER)
def list_shortlists():
    """Your shortlists and those your colleagues in the authority have shared."""
    mine, shared = services.visible_shortlists(current_user)
    return render_template('workspace/shortlists.html', mine=mine, shared=shared)


def _load_shortlist(shortlist_id: int) -> Shortlist:
    shortlist = get_or_404(Shortlist, shortlist_id)
    require(permissions.can_view_shortlist(current_user, shortlist))
    return shortlist


def _shortlist_page(shortlist: Shortlist, note_form: NoteForm):
    return render_template(
        'workspace/shortlist_detail.html', shortlist=shortlist, form=note_form, note_form=note_form,
        share_form=ShareForm(data={'shared': '0' if shortlist.is_shared else '1'}),
        can_share=permissions.can_share(current_user, shortlist), needs_labels=NEEDS,
        can_remove=permissions.can_remove_entry(current_user, shortlist),
        contacts=_contacts(entry.setting_id for entry in shortlist.entries),
        can_refer='placements.new_referral' in current_app.view_functions,
        judgements={judgement.value: judgement.label for judgement in Judgement},
        provision_types={kind.value: kind.label for kind in ProvisionType},
        finder_args=criteria_args(shortlist.criteria),
        unlisted=services.unlisted_entries(shortlist))


@bp.route('/shortlists/<int:shortlist_id>')
@roles_required(Role.COMMISSIONER)
def view_shortlist(shortlist_id: int):
    """The saved results exactly as they were, the search that found them, and the notes."""
    shortlist = _load_shortlist(shortlist_id)
    return _shortlist_page(shortlist, NoteForm())


@bp.route('/shortlists/<int:shortlist_id>/notes', methods=['POST'])
@roles_required(Role.COMMISSIONER)
def add_note(shortlist_id: int):
    """Append a note to the shortlist."""
    shortlist = _load_shortlist(shortlist_id)
    require(permissions.can_add_note(current_user, shortlist))
    form = NoteForm()
    if form.validate_on_submit():
        try:
            services.add_note(shortlist, form.body.data, actor=current_user)
        except services.WorkspaceError as exc:
            add_form_error(form, 'body', str(exc))
        else:
            flash('Note added', 'success')
            return redirect(url_for('workspace.view_shortlist', shortlist_id=shortlist.id, _anchor='notes'))
    return _shortlist_page(shortlist, form), 400


@bp.route('/shortlists/<int:shortlist_id>/share', methods=['POST'])
@roles_required(Role.COMMISSIONER)
def share_shortlist(shortlist_id: int):
    """Share the shortlist with the authority's commissioners, or stop sharing it."""
    shortlist = _load_shortlist(shortlist_id)
    require(permissions.can_share(current_user, shortlist))
    form = ShareForm()
    if not form.validate_on_submit():
        flash('Choose whether to share the shortlist', 'error')
        return redirect(url_for('workspace.view_shortlist', shortlist_id=shortlist.id))
    services.set_shared(shortlist, form.shared.data == '1', actor=current_user)
    flash('Shortlist shared with your authority' if shortlist.is_shared else 'Shortlist is now private to you',
          'success')
    return redirect(url_for('workspace.view_shortlist', shortlist_id=shortlist.id))


@bp.route('/shortlists/<int:shortlist_id>/entries/<int:entry_id>/remove', methods=['POST'])
@roles_required(Role.COMMISSIONER)
def remove_entry(shortlist_id: int, entry_id: int):
    """Take one setting off the shortlist."""
    shortlist = _load_shortlist(shortlist_id)
    require(permissions.can_remove_entry(current_user, shortlist))
    entry = get_or_404(ShortlistEntry, entry_id)
    if entry.shortlist_id != shortlist.id:
        abort(404)
    name = entry.snapshot.get('setting_name', 'The setting')
    services.remove_entry(shortlist, entry, actor=current_user)
    flash(f'{name} removed from the shortlist', 'success')
    return redirect(url_for('workspace.view_shortlist', shortlist_id=shortlist.id, _anchor='results'))


def _download_name(shortlist: Shortlist, extension: str) -> str:
    return f'shortlist-{shortlist.id}-{shortlist.created_at:%Y%m%d}.{extension}'


@bp.route('/shortlists/<int:shortlist_id>.csv')
@roles_required(Role.COMMISSIONER)
def export_csv(shortlist_id: int):
    """The shortlist's results as CSV, in rank order."""
    shortlist = _load_shortlist(shortlist_id)
    contacts = _contacts(entry.setting_id for entry in shortlist.entries)
    return Response(exports.to_csv(shortlist, contacts), mimetype='text/csv', headers={
        'Content-Disposition': f'attachment; filename="{_download_name(shortlist, "csv")}"',
        'Cache-Control': 'no-store'})


@bp.route('/shortlists/<int:shortlist_id>.xlsx')
@roles_required(Role.COMMISSIONER)
def export_xlsx(shortlist_id: int):
    """The shortlist's results as an Excel workbook, in rank order."""
    shortlist = _load_shortlist(shortlist_id)
    return Response(exports.to_xlsx(shortlist, _contacts(entry.setting_id for entry in shortlist.entries)),
                    mimetype='application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
                    headers={'Content-Disposition': f'attachment; filename="{_download_name(shortlist, "xlsx")}"',
                             'Cache-Control': 'no-store'})


@bp.route('/authority')
@roles_required(Role.COMMISSIONER)
def authority_view():
    """Providers on our local list with their qualifications' expiry dates, and applications waiting for us."""
    require(permissions.can_use_authority_view(current_user))
    overview = services.authority_overview(current_user.authority_code)
    # Link to the local application pages when the qualification package provides them.
    endpoint = 'qualification.local_application'
    return render_template('workspace/authority.html', authority=current_user.authority,
                           application_endpoint=endpoint if endpoint in current_app.view_functions else None,
                           **overview)
