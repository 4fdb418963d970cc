"""Notification pages: the list (mark one or all read) and email preferences."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from notifications import bp, services
from notifications.events import EVENTS
from notifications.forms import MarkReadForm, PreferencesForm
from notifications.models import Notification
from registry.db import get_or_404
from registry.permissions import require


@bp.route('/')
@login_required
def list_notifications():
    """Your notifications, newest first; unread ones are marked."""
    number = request.args.get('page', '1')
    page = int(number) if number.isdecimal() and 0 < int(number) < 100000 else 1
    unread_only = request.args.get('show') == 'unread'
    rows, total = services.notifications_for(current_user, page=page, unread_only=unread_only)
    pages = max(1, -(-total // services.PAGE_SIZE))
    return render_template('notifications/list.html', notifications=rows, total=total, page=page, pages=pages,
                           unread=services.unread_count(current_user), unread_only=unread_only, events=EVENTS,
                           form=MarkReadForm())


@bp.route('/<int:notification_id>/read', methods=['POST'])
@login_required
def mark_read(notification_id: int):
    """Mark one notification as read; follow its link when asked to."""
    notification = get_or_404(Notification, notification_id)
    require(notification.user_id == current_user.id)
    form = MarkReadForm()
    if form.validate_on_submit():
        services.mark_read(notification, actor=current_user)
        if request.form.get('open') and notification.link.startswith('/'):
            return redirect(notification.link)
    return redirect(url_for('notifications.list_notifications'))


@bp.route('/read-all', methods=['POST'])
@login_required
def mark_all_read():
    """Mark every notification as read."""
    form = MarkReadForm()
    if form.validate_on_submit():
        count = services.mark_all_read(actor=current_user)
        flash(f'{count} notification{"s" if count != 1 else ""} marked as read', 'success')
    return redirect(url_for('notifications.list_notifications'))


@bp.route('/preferences', methods=['GET', 'POST'])
@login_required
def preferences():
    """Choose an email for each notification, or one daily summary."""
    form = PreferencesForm()
    if request.method == 'GET':
        form.email_frequency.data = services.preference_of(current_user).value
    if form.validate_on_submit():
        choice = services.set_preference(current_user, form.email_frequency.data, actor=current_user)
        flash('Your email preferences have been saved: ' + choice.label.lower(), 'success')
        return redirect(url_for('notifications.list_notifications'))
    return render_template('notifications/preferences.html', form=form), 400 if form.errors else 200
