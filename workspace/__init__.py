"""The commissioner workspace: placement finder, shortlists with exports, and the authority's own view.

``workspace`` is a consumer of ``search`` (like the directory pages): it generates candidates through
``search.search`` and ranks them with :func:`workspace.finder.rank`. It also reads registry and qualification.
"""

from flask import Blueprint

bp = Blueprint('workspace', __name__, template_folder='templates', url_prefix='/workspace')

from workspace import views  # noqa: E402,F401
