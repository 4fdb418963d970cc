"""Administration pages: list users, invite staff, deactivate and reactivate, reset a second factor."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from registry.accounts import services
from registry.accounts.models import Role, User
from registry.admin import bp
from registry.admin.forms import InviteUserForm, RoleFilterForm, UserActionForm
from registry.db import get_or_404
from registry.extensions import db
from registry.permissions import roles_required


def _authority_choices() -> list[tuple[str, str]]:
    from registry.geography.models import LocalAuthority

    authorities = db.session.execute(select(LocalAuthority.code, LocalAuthority.name).order_by(LocalAuthority.name))
    return [('', 'Select a local authority')] + [(code, name) for code, name in authorities]


@bp.route('/users')
@roles_required(Role.ADMIN)
def list_users():
    form = RoleFilterForm(formdata=request.args)
    query = select(User).order_by(User.role, User.full_name, User.id)
    role = request.args.get('role', '')
    if role in {member.value for member in Role}:
        query = query.where(User.role == Role(role))
    else:
        form.role.data = ''
    users = db.session.scalars(query).all()
    return render_template('admin/users_list.html', users=users, filter_form=form, selected_role=form.role.data)


@bp.route('/users/invite', methods=['GET', 'POST'])
@roles_required(Role.ADMIN)
def invite_user():
    form = InviteUserForm()
    form.authority_code.choices = _authority_choices()
    if form.validate_on_submit():
        try:
            user = services.invite_staff_user(
                email=form.email.data, full_name=form.full_name.data, role=Role(form.role.data),
                authority_code=form.authority_code.data or None, actor=current_user)
        except services.AccountError as exc:
            field = getattr(form, exc.field or 'email', form.email)
            field.errors = [*field.errors, str(exc)]
        else:
            flash(f'We have sent an invitation to {user.email}', 'success')
            return redirect(url_for('admin.user_detail', user_id=user.id))
    return render_template('admin/user_invite.html', form=form)


@bp.route('/users/<int:user_id>')
@roles_required(Role.ADMIN)
def user_detail(user_id: int):
    from registry.audit.services import events_for

    user = get_or_404(User, user_id)
    return render_template('admin/user_detail.html', user=user, events=events_for(user)[:20])


#: action name -> (service, page heading, button text, success message)
ACTIONS = {
    'deactivate': (services.deactivate_user, 'Deactivate {name}', 'Deactivate account',
                   '{name} can no longer sign in'),
    'reactivate': (services.reactivate_user, 'Reactivate {name}', 'Reactivate account', '{name} can sign in again'),
    'reset-second-factor': (services.reset_second_factor, 'Reset the second factor for {name}',
                            'Reset second factor', '{name} will set up a new second factor at their next sign-in'),
}


def _user_action(user_id: int, action: str):
    user = get_or_404(User, user_id)
    service, heading, button, success = ACTIONS[action]
    form = UserActionForm()
    if form.validate_on_submit():
        try:
            service(user, actor=current_user, reason=form.reason.data or '')
        except services.AccountError as exc:
            flash(str(exc), 'error')
        else:
            flash(success.format(name=user.full_name), 'success')
        return redirect(url_for('admin.user_detail', user_id=user.id))
    return render_template('admin/user_action.html', user=user, form=form, action=action,
                           heading=heading.format(name=user.full_name), button=button)


@bp.route('/users/<int:user_id>/deactivate', methods=['GET', 'POST'])
@roles_required(Role.ADMIN)
def deactivate_user(user_id: int):
    return _user_action(user_id, 'deactivate')


@bp.route('/users/<int:user_id>/reactivate', methods=['GET', 'POST'])
@roles_required(Role.ADMIN)
def reactivate_user(user_id: int):
    return _user_action(user_id, 'reactivate')


@bp.route('/users/<int:user_id>/reset-second-factor', methods=['GET', 'POST'])
@roles_required(Role.ADMIN)
def reset_second_factor(user_id: int):
    return _user_action(user_id, 'reset-second-factor')
