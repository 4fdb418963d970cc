"""Ofsted's register: import, verification of settings' URNs, register-driven demo data and the capacity picture."""

from flask import Blueprint

bp = Blueprint('ofsted', __name__, template_folder='templates', url_prefix='/capacity')

from registry.ofsted import views  # noqa: E402,F401
