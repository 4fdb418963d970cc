"""What needs your attention: the landing page after sign-in."""

from __future__ import annotations

from datetime import date

from flask import render_template
from flask_login import current_user, login_required

from attention import bp, services


@bp.route('/your-attention')
@login_required
def index():
    """Applications and their next step, decisions waiting, expiries, notifications: whatever the role needs."""
    today = date.today()
    return render_template('attention/index.html', attention=services.attention_for(current_user, today),
                           warning_days=services.EXPIRY_WARNING_DAYS, today=today)
