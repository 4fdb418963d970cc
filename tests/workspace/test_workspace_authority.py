"""The authority's own view: its local list with qualification expiry dates, and applications waiting."""

from __future__ import annotations

from flask import url_for

from registry.accounts.models import Role
from tests.factories import make_user


def test_commissioner_can_see_accepted_providers_and_pending_applications(known, client, login_as):
    login_as(known.leeds_officer)

    response = client.get(url_for('workspace.authority_view'))

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    accepted = page[page.index('id="accepted"'):page.index('id="pending"')]
    pending = page[page.index('id="pending"'):]
    assert 'Aire Valley Homes Ltd' in accepted
    assert 'Pennine Care Ltd' not in accepted
    assert 'Pennine Care Ltd' in pending
    assert 'Expires within 60 days' not in accepted


def test_authority_view_highlights_qualifications_expiring_within_60_days(known, client, login_as):
    from qualification.models import LocalApplication, LocalApplicationStatus
    from registry.extensions import db

    application = db.session.scalars(db.select(LocalApplication).where(
        LocalApplication.organisation_id == known.pennine.id)).one()
    application.status = LocalApplicationStatus.ACCEPTED
    db.session.commit()
    login_as(known.leeds_officer)

    page = client.get(url_for('workspace.authority_view')).get_data(as_text=True)

    accepted = page[page.index('id="accepted"'):]
    assert 'Pennine Care Ltd' in accepted
    assert accepted.count('Expires within 60 days') == 1


def test_another_authority_sees_only_its_own_list(known, client, login_as):
    login_as(known.westminster_officer)
    page = client.get(url_for('workspace.authority_view')).get_data(as_text=True)
    assert 'Aire Valley Homes Ltd' not in page
    assert 'Pennine Care Ltd' not in page


def test_provider_cannot_see_the_authority_view(app_ctx, client, login_as):
    login_as(make_user(Role.PROVIDER))
    assert client.get(url_for('workspace.authority_view')).status_code == 403


def test_pending_applications_link_to_the_local_application_page_when_there_is_one(known, client, login_as, app):
    login_as(known.leeds_officer)
    page = client.get(url_for('workspace.authority_view')).get_data(as_text=True)
    pending = page[page.index('id="pending"'):]
    if 'qualification.local_application' in app.view_functions:
        assert '/local/applications/' in pending
    else:
        assert '<a class="govuk-link"' not in pending
