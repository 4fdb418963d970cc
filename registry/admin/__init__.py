"""Administration: board, commissioner and admin accounts."""

from flask import Blueprint

bp = Blueprint('admin', __name__, template_folder='templates', url_prefix='/admin')

from registry.admin import views  # noqa: E402,F401
