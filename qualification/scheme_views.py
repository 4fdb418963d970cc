"""Board pages for scheme versions: the list, upload (checked by the loader), preview and diff, publication."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from qualification import bp, permissions, scheme_publishing, services
from qualification.applications import SchemeVersion
from qualification.board_forms import SchemePublishForm, SchemeUploadForm
from qualification.schemes import SchemeError, list_versions, version_key
from registry.errors import DomainError, InvalidTransition
from registry.extensions import db
from registry.organisations.forms import add_form_error
from registry.permissions import require


@bp.route('/board/schemes/')
@login_required
def board_schemes():
    """Every scheme version: which one new applications use today, drafts waiting to be published."""
    require(permissions.can_use_board(current_user))
    return render_template('qualification/board_schemes.html', versions=scheme_publishing.versions(),
                           in_effect=services.effective_version(),
                           can_publish=permissions.can_publish_schemes(current_user))


@bp.route('/board/schemes/upload', methods=['GET', 'POST'])
@login_required
def board_scheme_upload():
    """Upload a new version: a file the loader refuses comes back with the loader's message."""
    require(permissions.can_publish_schemes(current_user))
    form = SchemeUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            recorded = scheme_publishing.upload_draft(upload.read(scheme_publishing.MAX_UPLOAD_BYTES + 1),
                                                      upload.filename, actor=current_user)
        except SchemeError as exc:
            add_form_error(form, 'file', str(exc))
        else:
            flash(f'Version {recorded.version} is valid. Check the preview and the changes, then publish it.',
                  'success')
            return redirect(url_for('qualification.board_scheme', version=recorded.version))
    return render_template('qualification/board_scheme_upload.html', form=form)


def _baseline(version: str) -> str | None:
    """The newest published version before ``version``: what providers see until it takes effect."""
    published = [name for name, recorded in scheme_publishing.versions()
                 if scheme_publishing.is_published(name, recorded) and version_key(name) < version_key(version)]
    return max(published, key=version_key, default=None)


@bp.route('/board/schemes/<version>', methods=['GET', 'POST'])
@login_required
def board_scheme(version: str):
    """A version as providers will see it, what changed since the version before, and (for a draft) publication."""
    require(permissions.can_use_board(current_user))
    if request.method == 'POST':
        require(permissions.can_publish_schemes(current_user))
    recorded = db.session.get(SchemeVersion, version)
    if recorded is None and version not in list_versions(services.schemes_dir()):
        abort(404)
    try:
        scheme = services.get_scheme(version)
    except SchemeError as exc:
        flash(str(exc), 'error')
        return redirect(url_for('qualification.board_schemes'))
    baseline = _baseline(version)
    diff = scheme_publishing.diff_schemes(services.get_scheme(baseline) if baseline else None, scheme)
    can_publish = (permissions.can_publish_schemes(current_user) and recorded is not None
                   and recorded.is_uploaded and not recorded.is_published)
    form = SchemePublishForm() if can_publish else None
    if form is not None and not form.is_submitted():
        form.sha256.data = recorded.sha256
    if form is not None and form.validate_on_submit():
        try:
            scheme_publishing.publish(recorded, effective_from=form.effective_from.data, actor=current_user,
                                      reason=form.reason.data or '', expected_sha256=form.sha256.data or None)
        except (DomainError, InvalidTransition) as exc:
            add_form_error(form, 'effective_from', str(exc))
        else:
            flash(f'Version {version} is published. Applications started from '
                  f'{recorded.effective_from:%-d %B %Y} use it.', 'success')
            return redirect(url_for('qualification.board_scheme', version=version))
    return render_template('qualification/board_scheme.html', scheme=scheme, recorded=recorded, baseline=baseline,
                           diff=diff, sections=scheme_publishing.preview_sections(scheme), form=form,
                           in_effect=services.effective_version())
