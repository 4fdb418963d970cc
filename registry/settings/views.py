"""Setting pages: add, view, change, keep vacancies current and see the history."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from registry.accounts.models import User
from registry.audit.services import events_for
from registry.db import get_or_404
from registry.extensions import db
from registry.ofsted.services import verify_setting
from registry.organisations import permissions as organisation_permissions
from registry.organisations.forms import add_form_error
from registry.organisations.models import Organisation
from registry.permissions import require
from registry.settings import permissions, services
from registry.settings.forms import ChangeVacanciesForm, ConfirmVacanciesForm, SettingForm
from registry.settings.models import Setting
from registry.settings.public_text import setting_findings
from registry.settings.taxonomy import NEEDS

bp = Blueprint('settings', __name__, template_folder='templates')


@bp.context_processor
def _public_text_helpers():
    # the setting page tells the provider when its name or description is withheld from the directory, and why
    return {'address_in_public_text': setting_findings}


def _users_by_id(ids) -> dict[int, User]:
    ids = {user_id for user_id in ids if user_id is not None}
    if not ids:
        return {}
    return {user.id: user for user in db.session.scalars(db.select(User).where(User.id.in_(ids)))}


@bp.route('/organisations/<int:organisation_id>/settings/new', methods=['GET', 'POST'])
@login_required
def add_setting(organisation_id: int):
    """Add a children's home, fostering branch or assessment service."""
    organisation = get_or_404(Organisation, organisation_id)
    require(organisation_permissions.can_edit_organisation(current_user, organisation))
    form = SettingForm()
    if form.validate_on_submit():
        try:
            setting = services.create_setting(organisation, form.values(), actor=current_user)
        except services.SettingError as exc:
            add_form_error(form, exc.field or 'name', str(exc))
        else:
            flash(f'{setting.name} has been added', 'success')
            return redirect(url_for('settings.view_setting', setting_id=setting.id))
    return render_template('settings/setting_form.html', form=form, organisation=organisation, setting=None)


@bp.route('/settings/<int:setting_id>')
@login_required
def view_setting(setting_id: int):
    """Everything about a setting, for its organisation and the board."""
    setting = get_or_404(Setting, setting_id)
    require(permissions.can_view_setting(current_user, setting))
    return render_template('settings/setting_detail.html', setting=setting, needs_labels=NEEDS,
                           can_edit=permissions.can_edit_setting(current_user, setting),
                           verification=verify_setting(setting) if setting.provision_type.info.ofsted_registered
                           else None)


@bp.route('/settings/<int:setting_id>/edit', methods=['GET', 'POST'])
@login_required
def edit_setting(setting_id: int):
    """Change a setting's details."""
    setting = get_or_404(Setting, setting_id)
    require(permissions.can_edit_setting(current_user, setting))
    form = SettingForm(obj=setting)
    if form.validate_on_submit():
        try:
            services.update_setting(setting, form.values(), actor=current_user)
        except services.SettingError as exc:
            add_form_error(form, exc.field or 'name', str(exc))
        else:
            flash('Setting details saved', 'success')
            return redirect(url_for('settings.view_setting', setting_id=setting.id))
    return render_template('settings/setting_form.html', form=form, organisation=setting.organisation,
                           setting=setting)


@bp.route('/settings/<int:setting_id>/vacancies', methods=['GET', 'POST'])
@login_required
def update_vacancies(setting_id: int):
    """Confirm the vacancies are still right, or enter the new number; shows the history."""
    setting = get_or_404(Setting, setting_id)
    require(permissions.can_edit_setting(current_user, setting))
    confirm_form = ConfirmVacanciesForm(prefix='confirm', data={'vacancies': str(setting.vacancies)})
    change_form = ChangeVacanciesForm(prefix='change')
    if request.method == 'POST' and 'confirm-vacancies' in request.form:
        if confirm_form.validate_on_submit():
            if confirm_form.vacancies.data != str(setting.vacancies):
                # a colleague changed the number after this page was loaded: do not confirm a stale figure
                flash(f'The vacancies have just been changed to {setting.vacancies}. Check the number and confirm '
                      'again', 'error')
                return redirect(url_for('settings.update_vacancies', setting_id=setting.id))
            services.update_vacancies(setting, setting.vacancies, actor=current_user)
            flash(f'You confirmed {setting.name} has {setting.vacancies} '
                  f'vacanc{"y" if setting.vacancies == 1 else "ies"}', 'success')
            return redirect(url_for('settings.update_vacancies', setting_id=setting.id))
    elif change_form.validate_on_submit():
        try:
            services.update_vacancies(setting, change_form.vacancies.data, actor=current_user,
                                      note=change_form.note.data or '')
        except services.SettingError as exc:
            add_form_error(change_form, 'vacancies', str(exc))
        else:
            flash(f'{setting.name} now has {setting.vacancies} vacanc{"y" if setting.vacancies == 1 else "ies"}',
                  'success')
            return redirect(url_for('settings.update_vacancies', setting_id=setting.id))
    history = setting.vacancy_history
    return render_template('settings/vacancies.html', setting=setting, form=change_form, confirm_form=confirm_form,
                           history=history, users=_users_by_id(change.changed_by_id for change in history))


@bp.route('/settings/<int:setting_id>/history')
@login_required
def setting_history(setting_id: int):
    """The audit trail for a setting, newest first."""
    setting = get_or_404(Setting, setting_id)
    require(permissions.can_view_setting(current_user, setting))
    events = events_for(setting)
    return render_template('settings/setting_history.html', setting=setting, events=events,
                           users=_users_by_id(event.actor_id for event in events))
