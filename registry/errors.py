"""Domain errors and the HTTP error pages."""

from __future__ import annotations

from flask import Flask, render_template

from registry.extensions import db


class DomainError(Exception):
    """A rule of the service was broken; the message is safe to show to the user."""


class InvalidTransition(DomainError):
    """A workflow was asked to make a move its transition table does not allow."""


class PermissionDenied(DomainError):
    """The actor may not do this to this object."""


def register_error_handlers(app: Flask) -> None:
    """Render GOV.UK error pages for the common HTTP errors."""

    def render(code: int, template: str):
        def handler(_error):
            if code == 500:
                # roll back so that rendering the page cannot trip over a failed transaction
                db.session.rollback()
            return render_template(f'errors/{template}.html'), code

        return handler

    for code, template in ((400, '400'), (403, '403'), (404, '404'), (405, '404'), (413, '413'),
                           (429, '429'), (500, '500')):
        app.register_error_handler(code, render(code, template))
    # a service's refusal says why (a conflict of interest, a second signature needed): show it
    app.register_error_handler(PermissionDenied,
                               lambda error: (render_template('errors/403.html', reason=str(error)), 403))
