"""Consortia: named groups of local authorities that publish local requirements on their members' behalf.

A consortium owns a layer of local requirements between the national qualification and each member authority's own
items (``qualification.local``): one acceptance by the consortium counts for every member authority. Admins create
consortia and choose their members; commissioners of member authorities can be given a consortium role, which lets
them publish the consortium's requirements and decide applications to its list.
"""

from flask import Blueprint

bp = Blueprint('consortia', __name__, template_folder='templates', url_prefix='/consortia')

from consortia import views  # noqa: E402,F401
