"""Start page, accessibility, contact, privacy and cookies pages, and a health check for load balancers."""

from __future__ import annotations

import logging

from flask import current_app, jsonify, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from registry.errors import safe_rollback
from registry.extensions import db
from registry.main import bp

log = logging.getLogger(__name__)


@bp.route('/')
def index():
    return render_template('main/index.html')


@bp.route('/accessibility')
def accessibility():
    return render_template('main/accessibility.html')


@bp.route('/contact')
def contact():
    """Feedback and help: the configured support mailbox, which the beta banner and the footer link to."""
    return render_template('main/contact.html')


@bp.route('/privacy')
def privacy():
    return render_template('main/privacy.html')


@bp.route('/cookies')
def cookies():
    return render_template('main/cookies.html')


@bp.route('/healthcheck/live')
def liveness():
    """Liveness: the process is up and answering (never touches the database, so a database fault never gets
    a healthy process restarted)."""
    return jsonify(status='ok')


@bp.route('/healthcheck')
@bp.route('/healthcheck/ready')
def healthcheck():
    """Readiness: 200 while the database answers, else 503 with Retry-After; load balancers route by this."""
    try:
        db.session.execute(text('SELECT 1'))
        db.session.rollback()
    except SQLAlchemyError as exc:
        log.warning('readiness check failed: %s', exc)
        safe_rollback(reattach_user=False)
        response = jsonify(status='unavailable', database='not answering')
        response.status_code = 503
        response.headers['Retry-After'] = str(current_app.config['DATABASE_RETRY_AFTER'])
        return response
    return jsonify(status='ok', database='ok')
