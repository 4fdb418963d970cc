"""Contacts where commissioners need them, and taking settings off a shortlist."""

from __future__ import annotations

from flask import url_for

from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.extensions import db
from tests.factories import make_user
from workspace import services
from workspace.models import ShortlistEntry


def _shortlist(known, criteria):
    ids = [known.fresh.id, known.stale.id, known.bradford.id]
    return services.create_shortlist('Contacts', criteria(), setting_ids=ids, actor=known.leeds_officer)


def test_commissioner_sees_each_settings_contact_in_the_finder(known, client, login_as, finder_args):
    login_as(known.leeds_officer)

    page = client.get(url_for('workspace.finder', **finder_args())).get_data(as_text=True)

    assert '2 Example Road, Leeds, LS6 2QB' in page
    assert 'href="tel:01130000000"' in page and 'mailto:alex@example.org' in page


def test_board_member_using_the_finder_sees_no_contacts(known, client, login_as, finder_args):
    login_as(make_user(Role.BOARD_MEMBER))

    page = client.get(url_for('workspace.finder', **finder_args())).get_data(as_text=True)

    assert 'Zephyr House' in page
    assert 'alex@example.org' not in page and '0113 000 0000' not in page


def test_public_directory_never_shows_a_settings_contact(known, client):
    page = client.get(url_for('search.directory', q='Zephyr')).get_data(as_text=True)

    assert 'alex@example.org' not in page and '2 Example Road' not in page


def test_shortlist_page_shows_contacts_to_its_commissioners(known, criteria, client, login_as):
    shortlist = _shortlist(known, criteria)
    login_as(known.leeds_officer)

    page = client.get(url_for('workspace.view_shortlist', shortlist_id=shortlist.id)).get_data(as_text=True)

    assert 'mailto:alex@example.org' in page and '2 Example Road, Leeds, LS6 2QB' in page


def test_owner_can_remove_a_setting_from_a_shortlist(known, criteria, client, login_as):
    shortlist = _shortlist(known, criteria)
    entry = next(item for item in shortlist.entries if item.setting_id == known.stale.id)
    login_as(known.leeds_officer)

    response = client.post(url_for('workspace.remove_entry', shortlist_id=shortlist.id, entry_id=entry.id))

    assert response.status_code == 302
    remaining = db.session.scalars(db.select(ShortlistEntry.setting_id).where(
        ShortlistEntry.shortlist_id == shortlist.id).order_by(ShortlistEntry.rank)).all()
    assert remaining == [known.fresh.id, known.bradford.id]
    event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == 'shortlist.entry_remove')).one()
    assert event.before['setting_name'] == 'Abbey House' and event.actor_id == known.leeds_officer.id
    page = client.get(response.headers['Location']).get_data(as_text=True)
    assert 'Abbey House removed from the shortlist' in page


def test_colleague_cannot_remove_a_setting_from_a_shared_shortlist(known, criteria, client, login_as):
    shortlist = _shortlist(known, criteria)
    services.set_shared(shortlist, True, actor=known.leeds_officer)
    entry = shortlist.entries[0]
    login_as(known.leeds_colleague)

    response = client.post(url_for('workspace.remove_entry', shortlist_id=shortlist.id, entry_id=entry.id))

    assert response.status_code == 403
    assert db.session.scalar(db.select(db.func.count()).select_from(ShortlistEntry)) == 3


def test_another_authority_cannot_remove_a_setting(known, criteria, client, login_as):
    shortlist = _shortlist(known, criteria)
    login_as(known.westminster_officer)

    response = client.post(url_for('workspace.remove_entry', shortlist_id=shortlist.id,
                                   entry_id=shortlist.entries[0].id))

    assert response.status_code == 403
    assert db.session.scalar(db.select(db.func.count()).select_from(ShortlistEntry)) == 3
