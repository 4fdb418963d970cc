"""Consortium pages: admins create consortia, choose members and give roles; consortium commissioners publish the
consortium's requirements and decide applications to its list (the decision page is the local list's own)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from consortia import bp, services
from consortia.forms import ConsortiumForm, GrantRoleForm, InviteCommissionerForm, RevokeRoleForm
from consortia.models import Consortium
from qualification import local, permissions
from qualification.board_forms import LocalRequirementsForm
from registry.accounts.models import Role, User
from registry.accounts.services import AccountError
from registry.audit.services import events_for
from registry.db import get_or_404
from registry.errors import DomainError, PermissionDenied
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.permissions import require, roles_required


def _authority_choices() -> list[tuple[str, str]]:
    return [(code, name) for code, name in
            db.session.execute(select(LocalAuthority.code, LocalAuthority.name).order_by(LocalAuthority.name))]


@bp.route('/')
@roles_required(Role.ADMIN)
def list_consortia():
    return render_template('consortia/list.html', consortia=services.all_consortia())


@bp.route('/new', methods=['GET', 'POST'])
@roles_required(Role.ADMIN)
def new_consortium():
    form = ConsortiumForm()
    form.members.choices = _authority_choices()
    if form.validate_on_submit():
        try:
            consortium = services.create_consortium(form.name.data, form.members.data, actor=current_user)
        except DomainError as exc:
            form.members.errors = [*form.members.errors, str(exc)]
        else:
            flash(f'{consortium.name} is created with {len(consortium.members)} member authorities', 'success')
            return redirect(url_for('consortia.consortium_detail', consortium_id=consortium.id))
    return render_template('consortia/form.html', form=form, consortium=None), (400 if form.errors else 200)


@bp.route('/<int:consortium_id>/edit', methods=['GET', 'POST'])
@roles_required(Role.ADMIN)
def edit_consortium(consortium_id: int):
    consortium = get_or_404(Consortium, consortium_id)
    form = ConsortiumForm(data=None if request.method == 'POST' else
                          {'name': consortium.name, 'members': consortium.authority_codes})
    form.members.choices = _authority_choices()
    if form.validate_on_submit():
        try:
            services.update_consortium(consortium, form.name.data, form.members.data, actor=current_user)
        except DomainError as exc:
            form.members.errors = [*form.members.errors, str(exc)]
        else:
            flash(f'{consortium.name} is saved', 'success')
            return redirect(url_for('consortia.consortium_detail', consortium_id=consortium.id))
    return render_template('consortia/form.html', form=form, consortium=consortium), (400 if form.errors else 200)


def _role_choices(consortium: Consortium) -> list[tuple[str, str]]:
    taken = {role.user_id for role in consortium.commissioners}
    users = db.session.scalars(select(User).where(User.role == Role.COMMISSIONER,
                                                  User.authority_code.in_(consortium.authority_codes))
                               .order_by(User.full_name))
    return [('', 'Select a commissioner')] + [(str(user.id), f'{user.full_name} ({user.authority.name})')
                                              for user in users if user.id not in taken]


@bp.route('/<int:consortium_id>', methods=['GET', 'POST'])
@roles_required(Role.ADMIN)
def consortium_detail(consortium_id: int):
    """Members, commissioners with a role (give and remove roles here) and the consortium's history."""
    consortium = get_or_404(Consortium, consortium_id)
    form = GrantRoleForm()
    form.user_id.choices = _role_choices(consortium)
    invite_form = InviteCommissionerForm()
    invite_form.invite_authority.choices = [('', 'Select their authority')] + [
        (authority.code, authority.name) for authority in consortium.authorities]
    if invite_form.invite.data:
        if invite_form.validate_on_submit():
            try:
                user = services.invite_commissioner(consortium, email=invite_form.invite_email.data,
                                                    full_name=invite_form.invite_name.data,
                                                    authority_code=invite_form.invite_authority.data,
                                                    actor=current_user)
            except (DomainError, AccountError) as exc:
                field = invite_form.invite_email if getattr(exc, 'field', None) == 'email' else \
                    invite_form.invite_authority if isinstance(exc, DomainError) else invite_form.invite_name
                field.errors = [*field.errors, str(exc)]
            else:
                flash(f'We have sent an invitation to {user.email}; they will act for {consortium.name}', 'success')
                return redirect(url_for('consortia.consortium_detail', consortium_id=consortium.id))
        return _detail(consortium, form, invite_form)
    if form.validate_on_submit():
        user = db.session.get(User, int(form.user_id.data)) if form.user_id.data.isdecimal() else None
        try:
            if user is None:
                raise DomainError('Select a commissioner')
            services.grant_role(consortium, user, actor=current_user)
        except DomainError as exc:
            form.user_id.errors = [*form.user_id.errors, str(exc)]
        else:
            flash(f'{user.full_name} now acts for {consortium.name}', 'success')
            return redirect(url_for('consortia.consortium_detail', consortium_id=consortium.id))
    return _detail(consortium, form, invite_form)


def _detail(consortium: Consortium, form, invite_form):
    # the base template's error summary reads ``form``: the one with the errors
    shown = invite_form if invite_form.errors else form
    return render_template('consortia/detail.html', consortium=consortium, form=shown, grant_form=form,
                           invite_form=invite_form, revoke_form=RevokeRoleForm(), events=events_for(consortium)[:20]), \
        (400 if shown.errors else 200)


@bp.route('/<int:consortium_id>/roles/<int:user_id>/remove', methods=['POST'])
@roles_required(Role.ADMIN)
def revoke_role(consortium_id: int, user_id: int):
    consortium = get_or_404(Consortium, consortium_id)
    user = get_or_404(User, user_id)
    if RevokeRoleForm().validate_on_submit():
        try:
            services.revoke_role(consortium, user, actor=current_user)
        except DomainError as exc:
            flash(str(exc), 'error')
        else:
            flash(f'{user.full_name} no longer acts for {consortium.name}', 'success')
    return redirect(url_for('consortia.consortium_detail', consortium_id=consortium.id))


# --- consortium commissioners -------------------------------------------------------------------------------------

def _acting_for(consortium_id: int) -> Consortium:
    consortium = get_or_404(Consortium, consortium_id)
    require(permissions.is_consortium_commissioner(current_user, consortium.id))
    return consortium


@bp.route('/<int:consortium_id>/requirements')
@login_required
def requirements(consortium_id: int):
    """The consortium's published requirements and the applications to its list."""
    consortium = _acting_for(consortium_id)
    return render_template('qualification/local_requirements.html', owner=consortium, authority=consortium,
                           requirements=local.requirements_of(consortium),
                           applications=local.local_applications_for(consortium),
                           publish_url=url_for('consortia.publish_requirements', consortium_id=consortium.id))


@bp.route('/<int:consortium_id>/requirements/new', methods=['GET', 'POST'])
@login_required
def publish_requirements(consortium_id: int):
    consortium = _acting_for(consortium_id)
    form = LocalRequirementsForm()
    if form.validate_on_submit():
        try:
            published = local.publish_requirements(
                consortium, form.lot.data, questions=form.parsed_questions(), documents=form.parsed_documents(),
                price_schedule=getattr(form, 'price_rows', []), actor=current_user)
        except (DomainError, PermissionDenied) as exc:
            form.questions.errors = [str(exc)]
        else:
            flash(f'Version {published.version} of {consortium.name}\'s {published.lot_label} requirements is '
                  'published', 'success')
            return redirect(url_for('consortia.requirements', consortium_id=consortium.id))
    return render_template('qualification/local_requirements_form.html', form=form, owner=consortium), \
        (400 if form.errors else 200)
