"""In-house services: an authority's commissioners record and close their own homes and fostering service."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from registry.accounts.models import Role
from registry.db import get_or_404
from registry.errors import DomainError, PermissionDenied
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.permissions import require, roles_required
from unlisted import bp, services
from unlisted.forms import CloseForm, InHouseForm
from unlisted.models import UnlistedSetting


@bp.route('/in-house', methods=['GET', 'POST'])
@roles_required(Role.COMMISSIONER)
def in_house():
    """The authority's in-house services, and a form to record another."""
    code = current_user.authority_code
    require(bool(code))
    form = InHouseForm()
    if form.validate_on_submit():
        try:
            entry = services.record_in_house(code, form.data_for_service(), actor=current_user)
        except DomainError as exc:
            field = form.postcode if 'postcode' in str(exc).lower() or 'could not find' in str(exc) else form.name
            field.errors = [*field.errors, str(exc)]
        else:
            flash(f'{entry.name} is recorded: your commissioners and consortium partners find it in search, marked '
                  'as in-house', 'success')
            return redirect(url_for('unlisted.in_house'))
    return render_template('unlisted/in_house.html', form=form, close_form=CloseForm(),
                           authority=db.session.get(LocalAuthority, code), entries=services.in_house_of(code)), \
        (400 if form.errors else 200)


@bp.route('/in-house/<int:unlisted_setting_id>/close', methods=['POST'])
@roles_required(Role.COMMISSIONER)
def close_in_house(unlisted_setting_id: int):
    entry = get_or_404(UnlistedSetting, unlisted_setting_id)
    if CloseForm().validate_on_submit():
        try:
            services.close_in_house(entry, actor=current_user)
        except PermissionDenied:
            require(False)
        except DomainError as exc:
            flash(str(exc), 'error')
        else:
            flash(f'{entry.name} is closed and has left search', 'success')
    return redirect(url_for('unlisted.in_house'))
