"""Market intelligence: demand, prices, distance, supply over time and ownership, and each authority's sufficiency pack.

``market`` consumes the rest: it reads the register (registry.ofsted), placements (referrals, offers, placements)
and its own anonymous log of finder searches and referrals, which workspace and placements write through one call,
:func:`market.demand.log_search`. Pages read pre-aggregated tables that ``flask market refresh`` rebuilds, so they
stay fast whatever the volume; nothing in the core imports this package.
"""

from flask import Blueprint

bp = Blueprint('market', __name__, template_folder='templates', static_folder='static', url_prefix='/market')

from market import cli, views  # noqa: E402,F401
