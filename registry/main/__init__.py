"""Service-wide pages: the start page, legal pages and the health check."""

from flask import Blueprint

bp = Blueprint('main', __name__, template_folder='templates')

from registry.main import views  # noqa: E402,F401
