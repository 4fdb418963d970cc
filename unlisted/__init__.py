"""Unlisted settings, the whole market in year one: settings not (yet) on the national list, for commissioners only.

Two kinds of :class:`unlisted.models.UnlistedSetting`, indexed as directory entries with a ``standing``
(``search.entries``): Ofsted-registered settings from the imported register whose provider is not qualified
(``not_qualified``; children's homes at authority level only, never an address or postcode), and an authority's own
in-house homes and fostering service (``in_house``), recorded without the national qualification. Commissioners'
search and the finder include them, marked and ranked after qualified ones; the public directory, the public API and
the HSDS export never do. In-house entries are visible to the owning authority's commissioners, to commissioners of
authorities that share a consortium with it (partners commission together), and to the national board.
"""

from flask import Blueprint

bp = Blueprint('unlisted', __name__, template_folder='templates', url_prefix='/unlisted')

from unlisted import cli, views  # noqa: E402,F401
