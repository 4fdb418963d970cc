"""Organisation pages: my organisations, register, overview, edit, colleagues and invitations."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from registry.accounts.models import Role
from registry.db import get_or_404
from registry.errors import DomainError
from registry.extensions import db
from registry.organisations import bp, permissions, services
from registry.organisations.forms import (
    ConfirmForm,
    InviteColleagueForm,
    MemberRoleForm,
    OrganisationForm,
    add_form_error,
)
from registry.organisations.models import Invitation, Membership, Organisation
from registry.permissions import require, roles_required


def _form_data(form) -> dict:
    return {field: form[field].data for field in services.ORGANISATION_FIELDS}


def _show_number_errors(form: OrganisationForm, error: services.NumberTakenError) -> None:
    """Show each taken number next to its field."""
    for field, message in error.errors.items():
        add_form_error(form, field, message)


def _membership_in(organisation: Organisation, membership_id: int) -> Membership:
    membership = get_or_404(Membership, membership_id)
    if membership.organisation_id != organisation.id:
        abort(404)
    return membership


@bp.route('/')
@login_required
def list_organisations():
    """A provider's organisations; the board and admins see every organisation."""
    if current_user.role == Role.PROVIDER:
        organisations = db.session.scalars(
            db.select(Organisation).join(Membership).where(Membership.user_id == current_user.id)
            .order_by(Organisation.legal_name)).all()
    elif current_user.role in permissions.READ_ONLY_ROLES:
        organisations = db.session.scalars(db.select(Organisation).order_by(Organisation.legal_name)).all()
    else:
        abort(403)
    return render_template('organisations/organisation_list.html', organisations=organisations,
                           can_add=permissions.can_create_organisation(current_user))


@bp.route('/new', methods=['GET', 'POST'])
@roles_required(Role.PROVIDER)
def create_organisation():
    """Register a new organisation; the provider becomes its owner."""
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = services.create_organisation(_form_data(form), actor=current_user)
        except services.NumberTakenError as exc:
            _show_number_errors(form, exc)
        else:
            flash(f'{organisation.display_name} has been added', 'success')
            return redirect(url_for('organisations.view_organisation', organisation_id=organisation.id))
    return render_template('organisations/organisation_form.html', form=form, organisation=None)


@bp.route('/<int:organisation_id>')
@login_required
def view_organisation(organisation_id: int):
    """Overview: details, settings and colleagues."""
    organisation = get_or_404(Organisation, organisation_id)
    require(permissions.can_view_organisation(current_user, organisation))
    invitations = db.session.scalars(db.select(Invitation).where(
        Invitation.organisation_id == organisation.id, Invitation.accepted_at.is_(None))
        .order_by(Invitation.created_at.desc())).all()
    return render_template('organisations/organisation_detail.html', organisation=organisation,
                           invitations=invitations,
                           can_edit=permissions.can_edit_organisation(current_user, organisation),
                           can_manage=permissions.can_manage_members(current_user, organisation))


@bp.route('/<int:organisation_id>/edit', methods=['GET', 'POST'])
@login_required
def edit_organisation(organisation_id: int):
    """Change the organisation's details."""
    organisation = get_or_404(Organisation, organisation_id)
    require(permissions.can_edit_organisation(current_user, organisation))
    form = OrganisationForm(obj=organisation)
    if form.validate_on_submit():
        try:
            services.update_organisation(organisation, _form_data(form), actor=current_user)
        except services.NumberTakenError as exc:
            _show_number_errors(form, exc)
        else:
            flash('Organisation details saved', 'success')
            return redirect(url_for('organisations.view_organisation', organisation_id=organisation.id))
    return render_template('organisations/organisation_form.html', form=form, organisation=organisation)


@bp.route('/<int:organisation_id>/colleagues', methods=['GET', 'POST'])
@login_required
def manage_colleagues(organisation_id: int):
    """Owners: see colleagues and pending invitations, and invite someone."""
    organisation = get_or_404(Organisation, organisation_id)
    require(permissions.can_manage_members(current_user, organisation))
    form = InviteColleagueForm()
    if form.validate_on_submit():
        try:
            services.invite_colleague(organisation, form.email.data, form.role.data, actor=current_user,
                                      message=form.message.data or '')
        except DomainError as exc:
            add_form_error(form, 'email', str(exc))
        else:
            flash(f'Invitation sent to {form.email.data.lower()}', 'success')
            return redirect(url_for('organisations.manage_colleagues', organisation_id=organisation.id))
    invitations = db.session.scalars(db.select(Invitation).where(
        Invitation.organisation_id == organisation.id, Invitation.accepted_at.is_(None))
        .order_by(Invitation.created_at.desc())).all()
    return render_template('organisations/colleagues.html', organisation=organisation, form=form,
                           invitations=invitations)


@bp.route('/<int:organisation_id>/colleagues/<int:membership_id>/role', methods=['GET', 'POST'])
@login_required
def change_member_role(organisation_id: int, membership_id: int):
    """Owners: make a colleague an owner or an editor."""
    organisation = get_or_404(Organisation, organisation_id)
    require(permissions.can_manage_members(current_user, organisation))
    membership = _membership_in(organisation, membership_id)
    form = MemberRoleForm(data={'role': membership.role.value})
    if form.validate_on_submit():
        try:
            services.change_member_role(membership, form.role.data, actor=current_user)
        except DomainError as exc:
            flash(str(exc), 'error')
        else:
            flash(f'{membership.user.full_name} is now {membership.role.value}', 'success')
        return redirect(url_for('organisations.manage_colleagues', organisation_id=organisation.id))
    return render_template('organisations/member_role.html', organisation=organisation, membership=membership,
                           form=form)


@bp.route('/<int:organisation_id>/colleagues/<int:membership_id>/remove', methods=['GET', 'POST'])
@login_required
def remove_member(organisation_id: int, membership_id: int):
    """Owners: remove a colleague, after confirming."""
    organisation = get_or_404(Organisation, organisation_id)
    require(permissions.can_manage_members(current_user, organisation))
    membership = _membership_in(organisation, membership_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = membership.user.full_name
        try:
            services.remove_member(membership, actor=current_user)
        except DomainError as exc:
            flash(str(exc), 'error')
            return redirect(url_for('organisations.manage_colleagues', organisation_id=organisation.id))
        flash(f'{name} has been removed from {organisation.display_name}', 'success')
        if permissions.can_manage_members(current_user, organisation):
            return redirect(url_for('organisations.manage_colleagues', organisation_id=organisation.id))
        return redirect(url_for('organisations.list_organisations'))
    return render_template('organisations/member_remove.html', organisation=organisation, membership=membership,
                           form=form)


@bp.route('/invitations/<token>', methods=['GET', 'POST'])
@login_required
def accept_invitation(token: str):
    """Join an organisation through an emailed invitation link."""
    form = ConfirmForm()
    try:
        invitation = services.find_invitation(token)
    except DomainError as exc:
        return render_template('organisations/invitation_problem.html', message=str(exc)), 400
    if form.validate_on_submit():
        try:
            membership = services.accept_invitation(token, user=current_user)
        except DomainError as exc:
            return render_template('organisations/invitation_problem.html', message=str(exc)), 400
        flash(f'You have joined {membership.organisation.display_name}', 'success')
        return redirect(url_for('organisations.view_organisation', organisation_id=membership.organisation_id))
    return render_template('organisations/invitation_accept.html', invitation=invitation, form=form)
