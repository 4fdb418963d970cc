"""From shortlist to placement: standard referrals, provider offers and declines, placements and their ending.

``placements`` consumes ``workspace`` (the finder's matches and shortlists, to choose who to approach) and reads
registry (settings, organisations, authorities) and qualification (the authority's published price schedule).
Nothing in the core imports it: the app factory registers its blueprint, CLI and demo step.
"""

from flask import Blueprint

bp = Blueprint('placements', __name__, template_folder='templates', url_prefix='/placements')

from placements import cli, views  # noqa: E402,F401
