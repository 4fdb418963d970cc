"""Account pages: register, confirm email, sign in (with a second factor), sign out, account, password reset."""

from __future__ import annotations

from urllib.parse import urlsplit

import segno
from flask import abort, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from markupsafe import Markup

from registry.accounts import bp, services
from registry.accounts.forms import (
    ChangePasswordForm,
    CodeForm,
    ConfirmForm,
    RegisterForm,
    RequestResetForm,
    ResendForm,
    ResetPasswordForm,
    SignInForm,
)

#: Session keys for the second factor and the page to return to after it.
SECOND_FACTOR_KEY = 'second_factor_verified'
NEXT_KEY = 'next_after_sign_in'
SETUP_SECRET_KEY = 'totp_setup_secret'
REGISTERED_EMAIL_KEY = 'registered_email'

#: Endpoints reachable whatever state the signed-in account is in.
ALWAYS_ALLOWED = frozenset({'static', 'govuk_assets', 'main.healthcheck', 'main.liveness', 'accounts.sign_out'})
#: Reachable by a signed-in user who has not yet confirmed their email address.
UNVERIFIED_ALLOWED = ALWAYS_ALLOWED | {'accounts.check_email', 'accounts.verify_email'}
#: Reachable by a board or admin user who has not yet passed the second factor.
SECOND_FACTOR_ALLOWED = ALWAYS_ALLOWED | {'accounts.two_factor', 'accounts.set_up_two_factor'}


def _add_error(field, message: str) -> None:
    field.errors = [*field.errors, message]


def _apply_error(form, error: services.AccountError, default_field: str) -> None:
    field = getattr(form, error.field or default_field, None) or getattr(form, default_field)
    _add_error(field, str(error))


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a same-site relative path, else None (stops open redirects)."""
    if not target or not target.startswith('/') or target.startswith('//') or '\\' in target:
        return None
    if any(ord(char) < 32 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _start_session(user, *, second_factor_passed: bool = False, next_url: str | None = None) -> None:
    """Sign ``user`` in on a brand-new session so no pre-sign-in value survives (session fixation)."""
    session.clear()
    login_user(user)
    session.permanent = True
    if second_factor_passed:
        session[SECOND_FACTOR_KEY] = True
    if next_url:
        session[NEXT_KEY] = next_url


def _uses_second_factor(user) -> bool:
    # Board and admin roles must; anyone else who chose to set one up is held to it too.
    return user.role.needs_second_factor or user.has_second_factor


def _needs_second_factor(user) -> bool:
    return _uses_second_factor(user) and not session.get(SECOND_FACTOR_KEY)


def _after_sign_in():
    """Where the person was going, else the page of what needs their attention (when that package is there)."""
    landing = 'attention.index' if 'attention.index' in current_app.view_functions else 'main.index'
    return redirect(session.pop(NEXT_KEY, None) or url_for(landing))


@bp.before_app_request
def enforce_account_state():
    """Hold signed-in users on the confirm-email and second-factor pages until they have done them."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in ALWAYS_ALLOWED or not current_user.is_authenticated:
        return None
    if not current_user.is_verified:
        if endpoint not in UNVERIFIED_ALLOWED:
            return redirect(url_for('accounts.check_email'))
        return None
    if _needs_second_factor(current_user) and endpoint not in SECOND_FACTOR_ALLOWED:
        if current_user.has_second_factor:
            return redirect(url_for('accounts.two_factor'))
        return redirect(url_for('accounts.set_up_two_factor'))
    return None


# --- registration and email confirmation -------------------------------------------------------------


@bp.route('/register', methods=['GET', 'POST'])
def register():
    if current_user.is_authenticated:
        return redirect(url_for('accounts.account'))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            services.register_provider(email=form.email.data, full_name=form.full_name.data,
                                       password=form.password.data, ip=request.remote_addr or '')
        except services.TooManyAttemptsError as exc:
            return _too_many_attempts('accounts/register.html', form, exc)
        except services.AccountError as exc:
            _apply_error(form, exc, 'email')
        else:
            # The same answer whether or not the address already had an account: the email tells its owner.
            session[REGISTERED_EMAIL_KEY] = services.normalise_email(form.email.data)
            return redirect(url_for('accounts.registered'))
    return render_template('accounts/register.html', form=form)


@bp.route('/register/check-your-email')
def registered():
    email = session.get(REGISTERED_EMAIL_KEY)
    if not email:
        return redirect(url_for('accounts.register'))
    return render_template('accounts/registered.html', email=email)


def _too_many_attempts(template: str, form, error: services.TooManyAttemptsError):
    """The form again with the message, as 429 with Retry-After."""
    _add_error(getattr(form, error.field or 'email'), str(error))
    response = make_response(render_template(template, form=form), 429)
    response.headers['Retry-After'] = str(error.retry_after)
    return response


@bp.route('/verify-email', methods=['GET', 'POST'])
@login_required
def check_email():
    if current_user.is_verified:
        return redirect(url_for('accounts.account'))
    form = ResendForm()
    if form.validate_on_submit():
        try:
            services.resend_verification(current_user)
        except services.TooManyAttemptsError as exc:
            flash(str(exc), 'error')
            response = make_response(render_template('accounts/check_email.html', form=form), 429)
            response.headers['Retry-After'] = str(exc.retry_after)
            return response
        flash(f'We have sent another email to {current_user.email}', 'success')
        return redirect(url_for('accounts.check_email'))
    return render_template('accounts/check_email.html', form=form)


@bp.route('/verify-email/<token>')
def verify_email(token: str):
    try:
        user = services.verify_email(token)
    except services.AccountError as exc:
        return render_template('accounts/link_problem.html', message=str(exc)), 400
    flash('Your email address is confirmed', 'success')
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(url_for('main.index'))
    return redirect(url_for('accounts.sign_in'))


# --- signing in and out ------------------------------------------------------------------------------


@bp.route('/sign-in', methods=['GET', 'POST'])
def sign_in():
    form = SignInForm()
    if request.method == 'GET':
        form.next.data = safe_next(request.args.get('next')) or ''
    if form.validate_on_submit():
        next_url = safe_next(form.next.data)
        try:
            user = services.authenticate(form.email.data, form.password.data, request.remote_addr or '')
        except services.TooManyAttemptsError as exc:
            return _too_many_attempts('accounts/sign_in.html', form, exc)
        except services.AccountError as exc:
            _add_error(form.email, str(exc))
        else:
            _start_session(user, next_url=next_url)
            if _uses_second_factor(user):
                endpoint = 'accounts.two_factor' if user.has_second_factor else 'accounts.set_up_two_factor'
                return redirect(url_for(endpoint))
            return _after_sign_in()
    return render_template('accounts/sign_in.html', form=form)


@bp.route('/sign-in/two-factor', methods=['GET', 'POST'])
@login_required
def two_factor():
    if not _needs_second_factor(current_user):
        return redirect(url_for('main.index'))
    if not current_user.has_second_factor:
        return redirect(url_for('accounts.set_up_two_factor'))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            services.verify_totp(current_user, form.code.data)
        except services.AccountLockedError as exc:
            logout_user()
            session.clear()
            flash(str(exc), 'error')
            return redirect(url_for('accounts.sign_in'))
        except services.AccountError as exc:
            _add_error(form.code, str(exc))
        else:
            session[SECOND_FACTOR_KEY] = True
            return _after_sign_in()
    return render_template('accounts/two_factor.html', form=form)


def _qr_svg(data: str) -> Markup:
    # Inline SVG: no image request, nothing leaves the service, and the CSP allows it.
    svg = segno.make(data, error='m').svg_inline(scale=5, border=2, dark='#0b0c0c', light='#ffffff',
                                               title='QR code for your authenticator app')
    return Markup(svg)


@bp.route('/account/two-factor/set-up', methods=['GET', 'POST'])
@login_required
def set_up_two_factor():
    # Someone with a second factor must use it; an admin can reset it if the phone is lost.
    if current_user.has_second_factor:
        if _needs_second_factor(current_user):
            return redirect(url_for('accounts.two_factor'))
        return redirect(url_for('accounts.account'))
    secret = session.get(SETUP_SECRET_KEY)
    if not secret:
        secret = session[SETUP_SECRET_KEY] = services.start_totp_setup(current_user)
    form = CodeForm()
    if form.validate_on_submit():
        try:
            services.confirm_totp(current_user, secret, form.code.data)
        except services.AccountError as exc:
            _add_error(form.code, str(exc))
        else:
            session.pop(SETUP_SECRET_KEY, None)
            session[SECOND_FACTOR_KEY] = True
            flash('Your second factor is set up. You will need a code from your app each time you sign in.',
                  'success')
            return _after_sign_in()
    uri = services.totp_uri(current_user, secret)
    spaced = ' '.join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render_template('accounts/two_factor_set_up.html', form=form, secret=spaced, qr_svg=_qr_svg(uri))


@bp.route('/sign-out', methods=['GET', 'POST'])
def sign_out():
    form = ConfirmForm()
    if request.method == 'POST':
        if not form.validate_on_submit():
            abort(400)
        if current_user.is_authenticated:
            services.sign_out(current_user)
        logout_user()
        session.clear()
        flash('You have signed out', 'success')
        return redirect(url_for('main.index'))
    if not current_user.is_authenticated:
        return redirect(url_for('main.index'))
    return render_template('accounts/sign_out.html', form=form)


# --- your account and passwords ------------------------------------------------------------------------


@bp.route('/account')
@login_required
def account():
    return render_template('accounts/account.html', form=ChangePasswordForm())


@bp.route('/account/change-password', methods=['POST'])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            user = services.change_password(current_user, form.current_password.data, form.password.data)
        except services.AccountError as exc:
            _apply_error(form, exc, 'password')
        else:
            # The new session version ended every session, this one included: start a fresh one here.
            _start_session(user, second_factor_passed=True)
            flash('Your password has been changed. Other devices have been signed out.', 'success')
            return redirect(url_for('accounts.account'))
    return render_template('accounts/account.html', form=form)


@bp.route('/reset-password', methods=['GET', 'POST'])
def request_password_reset():
    form = RequestResetForm()
    if form.validate_on_submit():
        try:
            services.request_password_reset(form.email.data, request.remote_addr or '')
        except services.TooManyAttemptsError as exc:
            return _too_many_attempts('accounts/request_reset.html', form, exc)
        # The same answer whether or not the address has an account.
        return render_template('accounts/reset_sent.html', email=form.email.data)
    return render_template('accounts/request_reset.html', form=form)


@bp.route('/reset-password/<token>', methods=['GET', 'POST'])
def reset_password(token: str):
    try:
        user = services.user_for_reset_token(token)
    except services.AccountError as exc:
        return render_template('accounts/link_problem.html', message=str(exc)), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except services.AccountError as exc:
            _apply_error(form, exc, 'password')
        else:
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash('Your password has been saved. Sign in with your new password.', 'success')
            return redirect(url_for('accounts.sign_in'))
    return render_template('accounts/reset_password.html', form=form, user=user)
