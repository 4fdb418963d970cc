"""Domain errors and the HTTP error responses: GOV.UK pages, or JSON under ``/api/``.

Error responses never need the database: when it is the database that failed, the error page must still render
(no signed-in user is looked up, the failed transaction is rolled back and any error doing so is ignored).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, has_request_context, jsonify, render_template, request
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from registry import database
from registry.extensions import db, login_manager

log = logging.getLogger(__name__)

#: Paths answered in JSON, with the API's one error shape ``{"errors": {name: message}}``.
API_PREFIX = '/api/'
#: Status codes with their own GOV.UK page; others use the 500 page's wording.
PAGES = {400: '400', 403: '403', 404: '404', 405: '404', 409: '409', 413: '413', 429: '429', 500: '500',
         503: '503'}
MESSAGES = {
    400: 'The request is not valid',
    403: 'You do not have permission to see this',
    404: 'There is nothing at this address',
    405: 'This address does not accept that method',
    409: 'Someone else changed this at the same time. Reload it and try again',
    413: 'The request is too large',
    429: 'Too many requests. Wait and try again',
    500: 'Sorry, there is a problem with the service. Try again later',
    503: 'Sorry, the service is unavailable. Try again later',
}
CONFLICT_MESSAGE = ('Someone else changed this at the same time as you, so your change was not saved. '
                    'Check the page as it is now and try again.')


class DomainError(Exception):
    """A rule of the service was broken; the message is safe to show to the user."""


class InvalidTransition(DomainError):
    """A workflow was asked to make a move its transition table does not allow."""


class PermissionDenied(DomainError):
    """The actor may not do this to this object."""


class ConflictError(DomainError):
    """Two people changed the same thing at once and this change lost; answered 409."""


def is_api_request() -> bool:
    """Whether the current request is for the JSON API."""
    return request.path.startswith(API_PREFIX)


def safe_rollback(*, reattach_user: bool = True) -> None:
    # roll back so that rendering the page cannot trip over a failed transaction; with the database gone the
    # rollback itself can fail, and that must not turn the error page into a bare "Internal Server Error"
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - nothing more can be done for this transaction
        log.warning('rollback failed while answering an error', exc_info=True)
    try:
        db.session.remove()
    except Exception:  # noqa: BLE001
        log.warning('closing the session failed while answering an error', exc_info=True)
    if reattach_user:
        _reattach_signed_in_user()


def _reattach_signed_in_user() -> None:
    """The rollback expired the signed-in user and ``remove()`` detached it, so the error page's header could not
    read it (DetachedInstanceError, a bare "Internal Server Error"): load it again in the fresh session, or show
    the page signed out when even that fails."""
    user = g.get('_login_user') if has_request_context() else None
    state = sa_inspect(user, raiseerr=False) if user is not None else None
    if state is None or state.identity is None:
        return
    try:
        g._login_user = db.session.get(type(user), state.identity[0]) or login_manager.anonymous_user()
    except Exception:  # noqa: BLE001 - the page must still render
        log.warning('reloading the signed-in user failed while answering an error', exc_info=True)
        g._login_user = login_manager.anonymous_user()


def _without_database() -> None:
    """Answer as a signed-out visitor: looking the user up would need the database."""
    g._login_user = login_manager.anonymous_user()
    g.database_unavailable = True


def error_response(code: int, message: str | None = None, *, headers: dict | None = None,
                   field: str = 'request', **page_context) -> Response:
    """The response for an error: JSON under /api/, otherwise the GOV.UK page for ``code``."""
    message = message or MESSAGES.get(code, MESSAGES[500])
    if is_api_request():
        response = jsonify({'errors': {field: message}})
    else:
        response = Response(render_template(f'errors/{PAGES.get(code, "500")}.html', message=message,
                                            **page_context))
    response.status_code = code
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def database_unavailable_response(retry_after: int) -> Response:
    """503 with Retry-After, rendered without touching the database."""
    safe_rollback(reattach_user=False)
    _without_database()
    return error_response(503, headers={'Retry-After': str(retry_after)})


def register_error_handlers(app: Flask) -> None:
    """HTTP errors and database failures become GOV.UK pages (or JSON under /api/) with the right status."""

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if error.code is None:
            return error
        if error.code >= 500:
            original = getattr(error, 'original_exception', None)
            if original is not None and database.is_unavailable(original):
                return database_unavailable(original)
            safe_rollback()
        headers = {name: value for name, value in error.get_headers() if name.lower() not in {'content-type'}}
        if is_api_request() or error.code in PAGES:
            message = None
            if is_api_request() and error.code not in MESSAGES:
                message = error.description
            return error_response(error.code, message, headers=headers)
        return error

    @app.errorhandler(sa_exc.SQLAlchemyError)
    def _database_error(error: sa_exc.SQLAlchemyError):
        if database.is_unavailable(error):
            return database_unavailable(error)
        if database.is_conflict(error):
            safe_rollback()
            log.info('conflicting concurrent change answered 409: %s', error)
            return error_response(409, CONFLICT_MESSAGE)
        safe_rollback()
        log.error('database error', exc_info=error)
        return error_response(500)

    @app.errorhandler(StaleDataError)
    @app.errorhandler(ObjectDeletedError)
    def _stale(error: Exception):
        safe_rollback()
        log.info('stale update answered 409: %s', error)
        return error_response(409, CONFLICT_MESSAGE)

    @app.errorhandler(ConflictError)
    def _conflict(error: ConflictError):
        safe_rollback()
        return error_response(409, str(error))

    @app.errorhandler(PermissionDenied)
    def _forbidden(error: PermissionDenied):
        # a service's refusal says why (a conflict of interest, a second signature needed): show it
        return error_response(403, str(error) or None, reason=str(error))

    def database_unavailable(error: BaseException):
        log.error('database unavailable: %s', error)
        return database_unavailable_response(int(app.config['DATABASE_RETRY_AFTER']))

    @app.errorhandler(InternalServerError)
    def _internal(error: InternalServerError):
        # reached for uncaught exceptions of any kind (error.original_exception)
        original = getattr(error, 'original_exception', None)
        if original is not None and database.is_unavailable(original):
            return database_unavailable(original)
        safe_rollback()
        return error_response(500)
