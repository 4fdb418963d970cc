"""Local list pages: commissioners publish requirements and decide; qualified providers join; who accepted whom."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from qualification import bp, local, permissions, qualifications
from qualification.board_forms import LocalDecisionForm, LocalRequirementsForm, local_apply_form
from qualification.listing import accepted_authority_codes
from qualification.models import LocalApplication, LocalRequirements, QualificationStatus
from registry.accounts.models import Role
from registry.db import get_or_404
from registry.errors import DomainError
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.organisations.models import Organisation
from registry.permissions import require


def _commissioner_authority() -> str:
    require(current_user.role == Role.COMMISSIONER and bool(current_user.authority_code))
    return current_user.authority_code


@bp.route('/local/requirements')
@login_required
def local_requirements():
    """The commissioner's authority: its published requirements and the applications to its lists."""
    from consortia.services import consortia_of_authority, consortia_of_commissioner

    code = _commissioner_authority()
    return render_template('qualification/local_requirements.html', authority=db.session.get(LocalAuthority, code),
                           requirements=local.requirements_of(code),
                           applications=local.local_applications_for(code),
                           consortia=consortia_of_authority(code), my_consortia=consortia_of_commissioner(current_user))


@bp.route('/local/requirements/new', methods=['GET', 'POST'])
@login_required
def publish_local_requirements():
    """Publish a new version of the authority's requirements for a lot."""
    code = _commissioner_authority()
    form = LocalRequirementsForm()
    if form.validate_on_submit():
        try:
            requirements = local.publish_requirements(
                code, form.lot.data, questions=form.parsed_questions(), documents=form.parsed_documents(),
                price_schedule=getattr(form, 'price_rows', []), actor=current_user)
        except DomainError as exc:
            form.questions.errors = [str(exc)]
        else:
            flash(f'Version {requirements.version} of your {requirements.lot_label} requirements is published',
                  'success')
            return redirect(url_for('qualification.local_requirements'))
    return render_template('qualification/local_requirements_form.html', form=form), (400 if form.errors else 200)


@bp.route('/local/applications/<int:local_application_id>', methods=['GET', 'POST'])
@login_required
def local_application(local_application_id: int):
    """A local application: the provider and the board read it; the authority's commissioners decide it."""
    item = get_or_404(LocalApplication, local_application_id)
    require(permissions.can_view_local_application(current_user, item))
    can_decide = permissions.can_decide_local_application(current_user, item)
    form = LocalDecisionForm()
    if form.is_submitted():
        require(can_decide)
        if form.validate():
            try:
                local.decide(item, form.decision.data == 'accept', actor=current_user, reason=form.reason.data or '')
            except DomainError as exc:
                flash(str(exc), 'error')
            else:
                flash(f'{item.organisation.display_name} is {item.status.value}', 'success')
                if item.is_consortium:
                    return redirect(url_for('consortia.requirements', consortium_id=item.consortium_id))
                return redirect(url_for('qualification.local_requirements'))
    layers = local.layers_below(item.organisation_id, item.requirements) if item.requirements else []
    return render_template('qualification/local_application.html', item=item, form=form, can_decide=can_decide,
                           layers=layers), (400 if form.errors else 200)


@bp.route('/organisations/<int:organisation_id>/qualifications')
@login_required
def organisation_qualifications(organisation_id: int):
    """A provider's qualifications, its local applications, the lists it can join and who accepted it."""
    organisation = get_or_404(Organisation, organisation_id)
    require(permissions.can_view_organisation_qualifications(current_user, organisation.id))
    held = qualifications.qualifications_of(organisation.id)
    active_lots = [q.lot.value for q in held if q.status == QualificationStatus.ACTIVE]
    applied = local.local_applications_of(organisation.id)
    live = {(item.owner_key, item.lot.value) for item in applied if item.status.value in
            {'draft', 'submitted', 'accepted'}}
    joinable = [item for item in local.open_requirements(active_lots)
                if (item.owner_key, item.lot.value) not in live]
    return render_template('qualification/organisation_qualifications.html', organisation=organisation,
                           qualifications=held, local_applications=applied, joinable=joinable,
                           accepted=_authorities(accepted_authority_codes(organisation.id)),
                           is_member=permissions.is_member(current_user, organisation.id))


@bp.route('/organisations/<int:organisation_id>/local/<int:requirements_id>/apply', methods=['GET', 'POST'])
@login_required
def apply_locally(organisation_id: int, requirements_id: int):
    """Join an authority's or consortium's list by answering only its local items (for a member authority, the
    consortium's accepted answers are shown as done)."""
    organisation = get_or_404(Organisation, organisation_id)
    requirements = get_or_404(LocalRequirements, requirements_id)
    require(permissions.can_apply_locally(current_user, organisation.id, requirements.lot))
    form = local_apply_form(requirements)
    if form.validate_on_submit():
        try:
            item = local.apply_locally(organisation, requirements, form.answers(),
                                       accepts_terms=bool(getattr(form, 'accepts_terms', None)
                                                          and form.accepts_terms.data),
                                       actor=current_user)
        except DomainError as exc:
            flash(str(exc), 'error')
        else:
            flash(f'Your application to join {requirements.owner.name}\'s list has been sent', 'success')
            return redirect(url_for('qualification.local_application', local_application_id=item.id))
    return render_template('qualification/local_apply.html', organisation=organisation, requirements=requirements,
                           form=form, layers=local.layers_below(organisation.id, requirements)), \
        (400 if form.errors else 200)


def _authorities(codes: list[str]) -> list[LocalAuthority]:
    if not codes:
        return []
    return list(db.session.scalars(db.select(LocalAuthority).where(LocalAuthority.code.in_(codes))
                                   .order_by(LocalAuthority.name)))


@bp.app_context_processor
def _accepted_by():
    """``accepted_authorities(organisation_id)`` for the directory's provider pages (see ``_accepted_by.html``)."""
    return {'accepted_authorities': lambda organisation_id: _authorities(accepted_authority_codes(organisation_id))}
