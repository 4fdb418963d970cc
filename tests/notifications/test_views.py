"""The notification pages: the list, the unread count in the header, marking read, and email preferences."""

from __future__ import annotations

import re

from flask import url_for
from sqlalchemy import select

from notifications.models import Notification, NotificationPreference
from qualification.qualifications import change_status
from registry.extensions import db


def _suspend(world):
    change_status(world.qualification, 'suspend', actor=world.people['board_member'], reason='Safeguarding concerns')


def _badge(html: str) -> str | None:
    match = re.search(r'Notifications <strong class="govuk-tag govuk-tag--red app-count">(\d+)', html)
    return match and match.group(1)


def test_header_shows_the_unread_count_and_the_list_shows_each_notification(world, client, login_as):
    _suspend(world)
    login_as(world.people['leeds_1'])

    page = client.get(url_for('notifications.list_notifications')).get_data(as_text=True)

    assert _badge(page) == '2'
    assert "Aire Valley Homes Ltd: national qualification for Children&#39;s homes suspended" in page
    assert 'Zephyr House on your shortlist &#34;Girl, 12, Leeds&#34; is no longer listed' in page
    assert page.count('>Unread</strong>') == 2
    assert 'Reason: Safeguarding concerns' in page


def test_someone_with_nothing_unread_sees_no_count(world, client, login_as):
    _suspend(world)
    login_as(world.people['manchester'])

    page = client.get(url_for('notifications.list_notifications')).get_data(as_text=True)

    assert _badge(page) is None
    assert 'No notifications yet' in page


def test_marking_one_read_lowers_the_count_and_can_open_its_link(world, client, login_as):
    _suspend(world)
    login_as(world.people['leeds_1'])
    note = db.session.scalars(select(Notification).where(Notification.user_id == world.people['leeds_1'].id,
                                                         Notification.kind == 'shortlist.listing_removed')).one()

    response = client.post(url_for('notifications.mark_read', notification_id=note.id), data={'open': '1'})

    assert response.status_code == 302
    assert response.headers['Location'] == f'/workspace/shortlists/{world.shortlists["leeds"].id}'
    db.session.refresh(note)
    assert note.read_at is not None
    assert _badge(client.get(url_for('notifications.list_notifications')).get_data(as_text=True)) == '1'


def test_marking_all_read_clears_the_count_and_leaves_others_unread(world, client, login_as):
    _suspend(world)
    login_as(world.people['leeds_1'])

    response = client.post(url_for('notifications.mark_all_read'), follow_redirects=True)

    page = response.get_data(as_text=True)
    assert '2 notifications marked as read' in page
    assert _badge(page) is None
    unread = db.session.scalars(select(Notification.user_id).where(Notification.read_at.is_(None))).all()
    assert world.people['leeds_1'].id not in unread and world.people['leeds_2'].id in unread


def test_nobody_can_mark_someone_elses_notification_read(world, client, login_as):
    _suspend(world)
    note = db.session.scalars(select(Notification).where(
        Notification.user_id == world.people['leeds_2'].id)).first()
    login_as(world.people['leeds_1'])

    assert client.post(url_for('notifications.mark_read', notification_id=note.id)).status_code == 403
    db.session.refresh(note)
    assert note.read_at is None


def test_preferences_page_saves_a_daily_digest(world, client, login_as):
    officer = login_as(world.people['leeds_1'])
    page = client.get(url_for('notifications.preferences')).get_data(as_text=True)
    assert 'Email me about each one' in page and 'Email me a daily summary' in page
    assert re.search(r'value="each"\s+checked', page)

    response = client.post(url_for('notifications.preferences'), data={'email_frequency': 'daily'})

    assert response.status_code == 302
    assert db.session.get(NotificationPreference, officer.id).email_frequency == 'daily'


def test_preferences_form_refuses_a_missing_or_unknown_choice_with_an_error_summary(world, client, login_as):
    officer = login_as(world.people['leeds_1'])

    for data in ({}, {'email_frequency': 'hourly'}):
        response = client.post(url_for('notifications.preferences'), data=data)
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert 'There is a problem' in page and 'govuk-error-summary' in page
    assert db.session.get(NotificationPreference, officer.id) is None


def test_signed_out_visitors_are_sent_to_sign_in(client, app_ctx):
    response = client.get(url_for('notifications.list_notifications'))

    assert response.status_code == 302 and '/sign-in' in response.headers['Location']
