"""Start page, accessibility, privacy and cookies pages, and a health check for load balancers."""

from __future__ import annotations

from flask import jsonify, render_template
from sqlalchemy import text

from registry.extensions import db
from registry.main import bp


@bp.route('/')
def index():
    return render_template('main/index.html')


@bp.route('/accessibility')
def accessibility():
    return render_template('main/accessibility.html')


@bp.route('/privacy')
def privacy():
    return render_template('main/privacy.html')


@bp.route('/cookies')
def cookies():
    return render_template('main/cookies.html')


@bp.route('/healthcheck')
def healthcheck():
    """Answers 200 when the database answers; load balancers poll this."""
    db.session.execute(text('SELECT 1'))
    return jsonify(status='ok')
