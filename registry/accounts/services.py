"""Account verbs: create and register users, verify email, sign in with throttling, reset passwords, TOTP.

Every state change is one transaction (:func:`registry.db.unit_of_work`) with an audit event. Sign-in
failures are committed before the error is raised, so that throttling counts them.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

import pyotp
from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_request_context, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import and_, case, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from registry import throttle
from registry.accounts.models import LoginAttempt, Role, User
from registry.accounts.passwords import hash_password, needs_rehash, verify_password
from registry.audit.services import record
from registry.db import UTCDateTime, unit_of_work, utcnow
from registry.errors import DomainError, PermissionDenied
from registry.extensions import db
from registry.notifications.services import queue_email

#: Salts keep one kind of token from being accepted as another.
VERIFY_EMAIL_SALT = 'accounts.verify-email'
RESET_PASSWORD_SALT = 'accounts.reset-password'

MIN_PASSWORD_LENGTH = 12
#: Window over which failures from one address are counted.
ADDRESS_WINDOW = timedelta(minutes=15)
#: Window of the email throttles (password reset, registration, invitations).
EMAIL_WINDOW = timedelta(hours=1)
#: Roles an administrator can invite; providers register themselves.
STAFF_ROLES = (Role.COMMISSIONER, Role.ASSESSOR, Role.BOARD_MEMBER, Role.ADMIN)

#: Very common passwords that pass the length rule; compared case-insensitively.
COMMON_PASSWORDS = frozenset({
    '123456789012', '1234567890123', '12345678901234', '123456123456', '111111111111', '000000000000',
    'qwertyuiopas', 'qwertyuiop123', 'qwerty123456', 'password1234', 'password12345', 'password123456',
    'passwordpassword', 'letmein12345', 'iloveyou1234', 'welcome12345', 'administrator', 'abcdefghijkl',
    'abc123abc123', 'changeme1234', 'football1234', 'monkey123456', 'trustno1trustno1', 'aaaaaaaaaaaa',
    'passw0rd1234', 'p@ssw0rd1234', 'qazwsxedcrfv', '1q2w3e4r5t6y', 'zaq12wsxcde3', 'letmeinplease',
    'sunshine1234', 'princess1234', 'baseball1234', 'superman1234',
})

#: One message for every sign-in failure, so it never says whether an account exists or is locked.
SIGN_IN_FAILED = ('Enter a correct email address and password. After {failures} wrong tries an account is locked '
                  'for {minutes} minutes; you can reset your password at any time.')


class AccountError(DomainError):
    """An account rule was broken; ``field`` names the form field the message belongs to, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class AccountLockedError(AccountError):
    """Too many wrong security codes: the account is locked and the half-finished sign-in must end."""


class TooManyAttemptsError(AccountError):
    """Too many attempts (sign-ins, emails asked for) from one address: the view answers 429 with Retry-After."""

    def __init__(self, message: str, retry_after: int, field: str | None = None):
        super().__init__(message, field)
        self.retry_after = retry_after


# --- helpers -----------------------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    """Trim and lower-case an email address."""
    return (email or '').strip().lower()


def find_user_by_email(email: str) -> User | None:
    """The user with this email address (any case), or None."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def check_password_strength(password: str, *, email: str = '') -> None:
    """Raise :class:`AccountError` (field ``password``) unless the password follows the rules.

    :raises AccountError: shorter than 12 characters, the email address, or a very common password.
    """
    if len(password or '') < MIN_PASSWORD_LENGTH:
        raise AccountError(f'Password must be {MIN_PASSWORD_LENGTH} characters or more', field='password')
    folded = password.strip().lower()
    if email and folded in {normalise_email(email), normalise_email(email).split('@')[0]}:
        raise AccountError('Password must not be your email address', field='password')
    if folded.replace(' ', '') in COMMON_PASSWORDS or len(set(folded)) < 3:
        raise AccountError('Password is too common: choose a phrase that is harder to guess', field='password')


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config['SECRET_KEY'], salt=salt)


def _max_age() -> int:
    return int(current_app.config['TOKEN_MAX_AGE_HOURS']) * 3600


def _load_token(token: str, salt: str, what: str) -> dict:
    try:
        data = _serializer(salt).loads(token, max_age=_max_age())
    except SignatureExpired:
        raise AccountError(f'This {what} link has expired. Ask for a new one.') from None
    except BadSignature:
        raise AccountError(f'This {what} link is not valid. Check you copied the whole link from the email.') from None
    if not isinstance(data, dict) or not isinstance(data.get('uid'), int):
        raise AccountError(f'This {what} link is not valid.')
    return data


def _password_fingerprint(user: User) -> str:
    # Part of the current hash goes into reset tokens: once the password changes the token stops working.
    return user.password_hash[-12:]


def make_verify_email_token(user: User) -> str:
    """A signed token proving the holder received mail at the user's current address."""
    return _serializer(VERIFY_EMAIL_SALT).dumps({'uid': user.id, 'email': user.email})


def make_reset_token(user: User) -> str:
    """A signed, single-use token for setting a new password."""
    return _serializer(RESET_PASSWORD_SALT).dumps({'uid': user.id, 'pw': _password_fingerprint(user)})


def _external_url(endpoint: str, **values) -> str:
    """A link for an email, on the service's public address whatever host the request came in on."""
    if has_request_context():
        path = url_for(endpoint, _external=False, **values)
    else:
        with current_app.test_request_context():
            path = url_for(endpoint, _external=False, **values)
    return current_app.config['SERVER_BASE_URL'].rstrip('/') + path


def _unusable_password() -> str:
    # Not an argon2 hash, so verify_password always fails; random so that reset tokens differ per user.
    return '!' + secrets.token_urlsafe(32)


def _snapshot(user: User) -> dict:
    return {'email': user.email, 'role': user.role, 'authority_code': user.authority_code,
            'is_active_account': user.is_active_account}


def _queue_verification(user: User) -> None:
    link = _external_url('accounts.verify_email', token=make_verify_email_token(user))
    queue_email(user.email, 'verify-email', 'Confirm your email address', user=user, link=link)


def _check_new_account(*, email: str, full_name: str, password: str | None, role: Role,
                       authority_code: str | None) -> tuple[str, str, str | None]:
    """Check everything about a new account except whether the email is taken.

    :returns: the normalised (email, full name, authority code).
    :raises AccountError: a missing name, a malformed email, a missing authority or a weak password.
    """
    from registry.geography.models import LocalAuthority

    full_name = (full_name or '').strip()
    if not full_name:
        raise AccountError('Enter your full name', field='full_name')
    try:
        email = validate_email((email or '').strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise AccountError('Enter an email address in the correct format, like name@example.com',
                           field='email') from None
    if role == Role.COMMISSIONER:
        if not authority_code or db.session.get(LocalAuthority, authority_code) is None:
            raise AccountError('Select the local authority the commissioner works for', field='authority_code')
    else:
        authority_code = None
    if password is not None:
        check_password_strength(password, email=email)
    return email, full_name, authority_code


def _add_user(*, email: str, full_name: str, password: str | None, role: Role, authority_code: str | None,
              verified: bool, actor: User | None) -> User:
    """Validate and add a user to the current transaction (no commit)."""
    role = Role(role)
    email, full_name, authority_code = _check_new_account(email=email, full_name=full_name, password=password,
                                                          role=role, authority_code=authority_code)
    if find_user_by_email(email) is not None:
        raise AccountError('An account already uses this email address. Sign in or reset your password.',
                           field='email')
    password_hash = _unusable_password() if password is None else hash_password(password)
    user = User(email=email, full_name=full_name, password_hash=password_hash, role=role,
                authority_code=authority_code, email_verified_at=utcnow() if verified else None)
    db.session.add(user)
    db.session.flush()
    record('user.create', user, actor=actor, after=_snapshot(user))
    return user


# --- creating accounts ---------------------------------------------------------------------------------


def create_user(*, email: str, full_name: str, password: str, role: Role, authority_code: str | None = None,
                verified: bool = False, actor: User | None = None) -> User:
    """Create an account.

    :param role: the user's role; commissioners need ``authority_code`` of a real local authority.
    :param verified: True when the email address is already known to be theirs (CLI, tests).
    :raises AccountError: a bad or duplicate email, a weak password or a missing authority.
    """
    with unit_of_work():
        user = _add_user(email=email, full_name=full_name, password=password, role=role,
                         authority_code=authority_code, verified=verified, actor=actor)
    return user


def register_provider(*, email: str, full_name: str, password: str, ip: str = '') -> User | None:
    """Public registration: an unverified provider account, and an email with a link to confirm the address.

    The answer never says whether the address already has an account: if it has, nothing is created and its
    owner is emailed instead (with links to sign in or reset the password), so the page looks the same.

    :returns: the new user, or None when the address already had an account.
    :raises AccountError: a bad name, email or password (the same whether or not the address is taken).
    :raises TooManyAttemptsError: too many registrations from ``ip`` this hour.
    """
    config = current_app.config
    email, full_name, _ = _check_new_account(email=email, full_name=full_name, password=password,
                                             role=Role.PROVIDER, authority_code=None)
    # hash whether or not the address is taken, so the time taken does not tell
    password_hash = hash_password(password)
    try:
        with unit_of_work():
            if throttle.over_limit(f'register-address:{(ip or "unknown")[:45]}',
                                   config['REGISTRATIONS_PER_ADDRESS_PER_HOUR'], EMAIL_WINDOW, session=db.session):
                raise _too_many('There have been too many attempts to create an account from your network.')
            emails_allowed = not throttle.over_limit(f'register-email:{email}',
                                                     config['REGISTRATION_EMAILS_PER_EMAIL_PER_HOUR'], EMAIL_WINDOW,
                                                     session=db.session)
            existing = find_user_by_email(email)
            if existing is not None:
                _tell_owner_of_registration_attempt(existing, emails_allowed)
                return None
            user = User(email=email, full_name=full_name, password_hash=password_hash, role=Role.PROVIDER)
            db.session.add(user)
            db.session.flush()
            record('user.create', user, actor=None, after=_snapshot(user))
            if emails_allowed:
                _queue_verification(user)
    except IntegrityError:
        # someone registered the same address at the same moment: answer as for any taken address
        existing = find_user_by_email(email)
        if existing is None:
            raise
        with unit_of_work():
            _tell_owner_of_registration_attempt(existing, True)
        return None
    return user


def _tell_owner_of_registration_attempt(user: User, send: bool) -> None:
    """Someone tried to register an address that has an account: tell its owner, not the visitor (no commit)."""
    record('user.register_existing', user, reason='registration attempted with an address that has an account')
    if send and user.is_active_account:
        queue_email(user.email, 'register-existing-account', 'You already have an account', user=user,
                    sign_in_link=_external_url('accounts.sign_in'),
                    reset_link=_external_url('accounts.request_password_reset'))


def _too_many(message: str, retry_after: int = 3600) -> TooManyAttemptsError:
    minutes = max(1, round(retry_after / 60))
    wait = f'{retry_after} seconds' if retry_after < 120 else f'{minutes} minutes'
    return TooManyAttemptsError(f'{message} Wait {wait} and try again.', retry_after=retry_after, field='email')


def resend_verification(user: User) -> None:
    """Send the confirm-your-email link again (no-op when already verified).

    :raises TooManyAttemptsError: ``REGISTRATION_EMAILS_PER_EMAIL_PER_HOUR`` emails have gone to the address.
    """
    if user.is_verified:
        return
    with unit_of_work():
        if throttle.over_limit(f'register-email:{user.email}',
                               current_app.config['REGISTRATION_EMAILS_PER_EMAIL_PER_HOUR'], EMAIL_WINDOW,
                               session=db.session):
            raise _too_many('We have sent several emails to this address in the last hour.')
        _queue_verification(user)
        record('user.resend_verification', user, actor=user)


def verify_email(token: str) -> User:
    """Mark the address in ``token`` as verified. A link works once.

    :raises AccountError: the link is tampered with, expired, already used or for an old address.
    """
    data = _load_token(token, VERIFY_EMAIL_SALT, 'confirmation')
    user = db.session.get(User, data['uid'])
    if user is None or user.email != data.get('email'):
        raise AccountError('This confirmation link is not valid.')
    if user.is_verified:
        raise AccountError('This confirmation link has already been used. Your email address is confirmed.')
    with unit_of_work():
        user.email_verified_at = utcnow()
        record('user.verify_email', user, actor=user)
    return user


# --- signing in --------------------------------------------------------------------------------------

_dummy_hash_cache: dict[tuple, str] = {}


def _dummy_hash() -> str:
    # Hashing for unknown emails too keeps response times from revealing which emails have accounts.
    config = current_app.config
    key = (config['PASSWORD_HASH_TIME_COST'], config['PASSWORD_HASH_MEMORY_KIB'], config['PASSWORD_HASH_PARALLELISM'])
    if key not in _dummy_hash_cache:
        _dummy_hash_cache[key] = hash_password(secrets.token_urlsafe(16))
    return _dummy_hash_cache[key]


def sign_in_failed_message() -> str:
    """The one message shown for any failed sign-in."""
    config = current_app.config
    return SIGN_IN_FAILED.format(failures=config['LOGIN_MAX_FAILURES'], minutes=config['LOGIN_LOCKOUT_MINUTES'])


def _locked_now(now):
    return and_(User.locked_until.is_not(None), User.locked_until > literal(now, UTCDateTime))


def _lock_notice(user: User, locked_until, reason: str, template: str) -> None:
    """Audit the lock and tell the owner (no commit)."""
    config = current_app.config
    record('user.lock', user, reason=reason, after={'locked_until': locked_until})
    queue_email(user.email, template, 'Your account has been locked for a short time',
                user=user, minutes=config['LOGIN_LOCKOUT_MINUTES'],
                reset_link=_external_url('accounts.request_password_reset'))


def _count_password_failure(user: User, now) -> None:
    """One more consecutive wrong password, counted in the database in one statement (concurrent failures all
    count); at the limit the account locks and its owner is told, exactly once."""
    config = current_app.config
    until = now + timedelta(minutes=config['LOGIN_LOCKOUT_MINUTES'])
    counted = User.failed_logins + 1
    locks = counted >= int(config['LOGIN_MAX_FAILURES'])
    locked_now = _locked_now(now)
    row = db.session.execute(
        update(User).where(User.id == user.id).values(
            failed_logins=case((locked_now, User.failed_logins), (locks, 0), else_=counted),
            locked_until=case((locked_now, User.locked_until), (locks, literal(until, UTCDateTime)),
                              else_=User.locked_until))
        .returning(User.locked_until).execution_options(synchronize_session=False)).one()
    db.session.expire(user, ['failed_logins', 'locked_until'])
    if row.locked_until == until:
        _lock_notice(user, until, 'too many failed sign-in attempts', 'account-locked')


def _count_totp_failure(user: User, now) -> None:
    """One more wrong security code in the current window, counted in the database in one statement; at
    ``TOTP_MAX_FAILURES`` within ``LOGIN_LOCKOUT_MINUTES`` the account locks and its owner is told, exactly once."""
    config = current_app.config
    window = timedelta(minutes=config['LOGIN_LOCKOUT_MINUTES'])
    until = now + window
    stale = or_(User.totp_failures_since.is_(None), User.totp_failures_since < literal(now - window, UTCDateTime))
    counted = case((stale, 1), else_=User.totp_failures + 1)
    locks = counted >= int(config['TOTP_MAX_FAILURES'])
    locked_now = _locked_now(now)
    row = db.session.execute(
        update(User).where(User.id == user.id).values(
            totp_failures=case((locked_now, User.totp_failures), (locks, 0), else_=counted),
            totp_failures_since=case((locked_now, User.totp_failures_since), (locks, _null_datetime()),
                                     (stale, literal(now, UTCDateTime)), else_=User.totp_failures_since),
            locked_until=case((locked_now, User.locked_until), (locks, literal(until, UTCDateTime)),
                              else_=User.locked_until))
        .returning(User.locked_until).execution_options(synchronize_session=False)).one()
    db.session.expire(user, ['totp_failures', 'totp_failures_since', 'locked_until'])
    if row.locked_until == until:
        _lock_notice(user, until, 'too many wrong security codes', 'account-locked-second-factor')


def _null_datetime():
    """A typed SQL NULL for a timestamp column inside CASE."""
    return literal(None, UTCDateTime)


def authenticate(email: str, password: str, ip: str) -> User:
    """Check an email and password, with per-account lock-out and per-address slowing down.

    Every attempt is recorded. After ``LOGIN_MAX_FAILURES`` consecutive failures the account is locked
    for ``LOGIN_LOCKOUT_MINUTES`` and its owner is emailed. One address gets ``LOGIN_MAX_FAILURES_PER_ADDRESS``
    failures at full speed in 15 minutes, then one attempt per slot of 1, 2, 4 ... seconds (at most
    ``LOGIN_ADDRESS_MAX_DELAY``): everyone behind a busy address is slowed, nobody is locked out.

    :raises TooManyAttemptsError: the address must wait before its next attempt (``retry_after`` seconds).
    :raises AccountError: anything else; the message never says whether the email has an account.
    """
    config = current_app.config
    email = normalise_email(email)[:254]
    ip = (ip or 'unknown')[:45]
    address_key = f'sign-in:{ip}'
    verdict = throttle.admit(address_key, free=int(config['LOGIN_MAX_FAILURES_PER_ADDRESS']), window=ADDRESS_WINDOW,
                             max_delay=float(config['LOGIN_ADDRESS_MAX_DELAY']))
    if not verdict.allowed:
        raise _too_many('There have been too many attempts to sign in from your network.', verdict.retry_after)
    now = utcnow()
    user = find_user_by_email(email)
    succeeded = False
    with unit_of_work():
        if user is None or user.is_locked(now) or not user.is_active_account:
            verify_password(_dummy_hash(), password or '')
        elif verify_password(user.password_hash, password or ''):
            succeeded = True
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = now
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            record('user.sign_in', user, actor=user)
            throttle.forgive(address_key, session=db.session)
        else:
            _count_password_failure(user, now)
        db.session.add(LoginAttempt(email=email, ip_address=ip, attempted_at=now, succeeded=succeeded))
    if not succeeded:
        raise AccountError(sign_in_failed_message())
    return user


# --- passwords ---------------------------------------------------------------------------------------


def request_password_reset(email: str, ip: str = '') -> None:
    """Email a reset link if the address has an active account; the caller always answers the same way.

    At most ``PASSWORD_RESETS_PER_EMAIL_PER_HOUR`` links go to one address an hour (further requests are
    answered the same way and send nothing).

    :raises TooManyAttemptsError: more than ``PASSWORD_RESETS_PER_ADDRESS_PER_HOUR`` requests from ``ip``.
    """
    config = current_app.config
    if throttle.over_limit(f'reset-address:{(ip or "unknown")[:45]}', config['PASSWORD_RESETS_PER_ADDRESS_PER_HOUR'],
                           EMAIL_WINDOW):
        raise _too_many('There have been too many requests to reset a password from your network.')
    email = normalise_email(email)[:254]
    if throttle.over_limit(f'reset-email:{email}', config['PASSWORD_RESETS_PER_EMAIL_PER_HOUR'], EMAIL_WINDOW):
        return
    user = find_user_by_email(email)
    if user is None or not user.is_active_account:
        return
    with unit_of_work():
        link = _external_url('accounts.reset_password', token=make_reset_token(user))
        queue_email(user.email, 'reset-password', 'Reset your password', user=user, link=link,
                    hours=current_app.config['TOKEN_MAX_AGE_HOURS'])
        record('user.request_password_reset', user)


def user_for_reset_token(token: str) -> User:
    """The user a reset link is for.

    :raises AccountError: tampered, expired or already used (the password has changed since).
    """
    data = _load_token(token, RESET_PASSWORD_SALT, 'password reset')
    user = db.session.get(User, data['uid'])
    if user is None or not user.is_active_account or not hmac.compare_digest(
            str(data.get('pw', '')), _password_fingerprint(user)):
        raise AccountError('This password reset link has already been used or is no longer valid. Ask for a new one.')
    return user


def _set_password(user: User, new_password: str) -> None:
    check_password_strength(new_password, email=user.email)
    user.password_hash = hash_password(new_password)
    # A new session version signs out every other session.
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    user.totp_failures, user.totp_failures_since = 0, None


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from an emailed link; the link then stops working and other sessions end.

    The link also proves the address, so an unverified (or invited) account becomes verified.

    :raises AccountError: a bad link or a weak password.
    """
    user = user_for_reset_token(token)
    with unit_of_work():
        _set_password(user, new_password)
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
        record('user.reset_password', user, actor=user)
    return user


def sign_out(user: User) -> None:
    """End every session of ``user``.

    Sessions are signed cookies, so clearing this browser's cookie would leave any copy of it valid; bumping
    the session version makes every earlier cookie worthless, on this device and all others.
    """
    with unit_of_work():
        user.session_version += 1
        record('account.sign_out', user, actor=user)


def change_password(user: User, current_password: str, new_password: str) -> User:
    """Change a signed-in user's password; their other sessions end.

    :raises AccountError: the current password is wrong (field ``current_password``) or the new one is weak.
    """
    if not verify_password(user.password_hash, current_password or ''):
        raise AccountError('Your current password is not right', field='current_password')
    with unit_of_work():
        _set_password(user, new_password)
        record('user.change_password', user, actor=user)
    return user


# --- second factor (TOTP) ------------------------------------------------------------------------------


def start_totp_setup(user: User) -> str:
    """A new random base32 secret for the user to add to an authenticator app (not saved until confirmed)."""
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email,
                                               issuer_name=current_app.config['SERVICE_NAME'].replace(':', ''))


def _matching_step(secret: str, code: str) -> int | None:
    """The time step (now, or one either side for clock drift) whose code equals ``code``."""
    code = (code or '').replace(' ', '').strip()
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(utcnow())
    for step in (now_step - 1, now_step, now_step + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def confirm_totp(user: User, secret: str, code: str) -> User:
    """Save the second factor once the user proves their app produces the right codes.

    :raises AccountError: the code is wrong (field ``code``).
    """
    step = _matching_step(secret, code)
    if step is None:
        raise AccountError('The security code is not right. Enter the 6-digit code your app shows now.', field='code')
    with unit_of_work():
        user.totp_secret = secret
        user.totp_last_step = step
        record('user.set_up_second_factor', user, actor=user)
    return user


def verify_totp(user: User, code: str) -> User:
    """Check a sign-in code; a code is accepted only once (its time step must be newer than the last).

    :raises AccountLockedError: too many wrong codes (or passwords): the account is locked.
    :raises AccountError: wrong, expired or replayed code (field ``code``).
    """
    if not user.totp_secret:
        raise AccountError('Set up your second factor first', field='code')
    if user.is_locked():
        raise AccountLockedError(sign_in_failed_message())
    step = _matching_step(user.totp_secret, code)
    with unit_of_work():
        accepted = False
        if step is not None:
            # compare-and-set: of two requests carrying the same code, only one is accepted
            claimed = db.session.execute(
                update(User).where(User.id == user.id,
                                   or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                .values(totp_last_step=step, totp_failures=0, totp_failures_since=_null_datetime())
                .execution_options(synchronize_session=False))
            accepted = claimed.rowcount == 1
        if not accepted:
            # counted per account across sign-ins: signing in again with the password does not reset it
            _count_totp_failure(user, utcnow())
    db.session.expire(user)
    if user.is_locked():
        raise AccountLockedError(sign_in_failed_message())
    if not accepted:
        raise AccountError('The security code is not right or has already been used. Wait for a new code.',
                           field='code')
    return user


# --- administration ------------------------------------------------------------------------------------


def _require_admin(actor: User | None) -> None:
    if actor is None or actor.role != Role.ADMIN or not actor.is_active_account:
        raise PermissionDenied('Only administrators can manage accounts')


def invite_staff_user(*, email: str, full_name: str, role: Role, authority_code: str | None, actor: User) -> User:
    """Create a staff account with no usable password and email them a link to set one.

    :raises PermissionDenied: the actor is not an administrator.
    :raises AccountError: a bad or duplicate email, a role that cannot be invited, a missing authority, or too many
        invitations this hour (from the actor, or to the address).
    """
    _require_admin(actor)
    if Role(role) not in STAFF_ROLES:
        raise AccountError('Select a staff role', field='role')
    with unit_of_work():
        user = _add_user(email=email, full_name=full_name, password=None, role=role, authority_code=authority_code,
                         verified=False, actor=actor)
        refusal = throttle.invitation_refusal(actor.id, user.email)
        if refusal:
            raise AccountError(refusal, field='email')
        record('user.invite', user, actor=actor, after=_snapshot(user))
        link = _external_url('accounts.reset_password', token=make_reset_token(user))
        queue_email(user.email, 'staff-invite', f"You have been invited to the {current_app.config['SERVICE_NAME']}",
                    user=user, link=link, inviter=actor, hours=current_app.config['TOKEN_MAX_AGE_HOURS'])
    return user


def deactivate_user(user: User, *, actor: User, reason: str = '') -> User:
    """Stop a user signing in and end their sessions.

    :raises AccountError: administrators cannot deactivate themselves.
    """
    _require_admin(actor)
    if user.id == actor.id:
        raise AccountError('You cannot deactivate your own account')
    if not user.is_active_account:
        return user
    with unit_of_work():
        user.is_active_account = False
        user.session_version += 1
        record('user.deactivate', user, actor=actor, reason=reason,
               before={'is_active_account': True}, after={'is_active_account': False})
    return user


def reactivate_user(user: User, *, actor: User, reason: str = '') -> User:
    """Let a deactivated user sign in again."""
    _require_admin(actor)
    if user.is_active_account:
        return user
    with unit_of_work():
        user.is_active_account = True
        user.failed_logins = 0
        user.locked_until = None
        record('user.reactivate', user, actor=actor, reason=reason,
               before={'is_active_account': False}, after={'is_active_account': True})
    return user


def reset_second_factor(user: User, *, actor: User, reason: str = '') -> User:
    """Remove a user's TOTP secret (lost phone); they set up a new one at their next sign-in."""
    _require_admin(actor)
    with unit_of_work():
        had = user.has_second_factor
        user.totp_secret = None
        user.totp_last_step = None
        user.session_version += 1
        record('user.reset_second_factor', user, actor=actor, reason=reason,
               before={'has_second_factor': had}, after={'has_second_factor': False})
    return user
