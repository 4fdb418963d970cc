"""The page each person lands on after signing in: what needs their attention, by role.

A consumer of the other packages (qualification, workspace, notifications), read-only.
"""

from flask import Blueprint

bp = Blueprint('attention', __name__, template_folder='templates')

from attention import views  # noqa: E402,F401
