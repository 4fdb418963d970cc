"""Shortlists: saving freezes the results, notes are append-only and audited, sharing, exports and who may see them."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import openpyxl
import pytest
from flask import url_for

from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.organisations.models import MemberRole, Membership
from registry.settings.services import update_vacancies
from tests.factories import make_user
from workspace import services
from workspace.models import AppendOnlyError, Shortlist, ShortlistNote

EXPECTED_ORDER = ['Zephyr House', 'Abbey House', 'Roundhay Siblings Home', 'Bradford Moor House',
                  'Headingley Home', 'Kirkstall Lodge', 'Chapel Allerton House']


def _actions(shortlist) -> list[str]:
    return list(db.session.scalars(db.select(AuditEvent.action).where(
        AuditEvent.object_type == 'shortlists', AuditEvent.object_id == str(shortlist.id)).order_by(AuditEvent.id)))


def _all_ids(known) -> list[int]:
    return [setting.id for setting in (known.fresh, known.stale, known.short_of_needs, known.below_minimum,
                                       known.no_vacancy, known.bradford, known.siblings_home)]


def test_commissioner_can_save_the_finder_results_as_a_shortlist(known, client, login_as, finder_args):
    login_as(known.leeds_officer)

    response = client.post(url_for('workspace.create_shortlist', **finder_args()),
                           data={'name': 'AB 23 Nov', 'setting': _all_ids(known)})

    assert response.status_code == 302
    shortlist = db.session.scalars(db.select(Shortlist)).one()
    assert response.headers['Location'].endswith(f'/workspace/shortlists/{shortlist.id}')
    assert shortlist.owner_id == known.leeds_officer.id
    assert shortlist.authority_code == 'E08000035'
    assert shortlist.is_shared is False
    assert shortlist.criteria['postcode'] == 'LS1 4DY'
    assert shortlist.criteria['needs'] == ['autism', 'emotional-behavioural']
    assert [entry.snapshot['setting_name'] for entry in shortlist.entries] == EXPECTED_ORDER
    assert [entry.rank for entry in shortlist.entries] == list(range(1, 8))
    top = shortlist.entries[0].snapshot
    assert top['vacancies'] == 2 and top['vacancies_confirmed_at']
    assert {'kind': 'accepted', 'met': True, 'text': 'Accepted by Leeds'} in top['reasons']
    assert _actions(shortlist) == ['shortlist.create']

    page = client.get(response.headers['Location']).get_data(as_text=True)
    assert page.index('Zephyr House') < page.index('Abbey House')
    assert 'Meets 1 of 2 needs: missing autism' in page


def test_save_as_shortlist_saves_only_the_ticked_results_in_rank_order(known, client, login_as, finder_args):
    login_as(known.leeds_officer)

    response = client.post(url_for('workspace.create_shortlist', **finder_args()),
                           data={'name': 'Two ticked', 'setting': [known.bradford.id, known.fresh.id]})

    assert response.status_code == 302
    shortlist = db.session.scalars(db.select(Shortlist)).one()
    assert [(entry.rank, entry.snapshot['setting_name']) for entry in shortlist.entries] == [
        (1, 'Zephyr House'), (4, 'Bradford Moor House')]


def test_save_as_shortlist_with_nothing_ticked_is_refused_with_an_error(known, client, login_as, finder_args):
    login_as(known.leeds_officer)

    response = client.post(url_for('workspace.create_shortlist', **finder_args()), data={'name': 'Nothing'})

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'govuk-error-summary' in page and 'Select at least one setting to save in the shortlist' in page
    assert db.session.scalar(db.select(db.func.count()).select_from(Shortlist)) == 0


def test_commissioner_cannot_save_a_shortlist_without_a_name(known, client, login_as, finder_args):
    login_as(known.leeds_officer)

    response = client.post(url_for('workspace.create_shortlist', **finder_args()), data={'name': ' '})

    assert response.status_code == 200
    assert 'Enter a name for the shortlist' in response.get_data(as_text=True)
    assert 'govuk-error-summary' in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Shortlist)) == 0


def test_saved_shortlist_is_not_changed_by_a_later_vacancy_change(known, criteria, app_ctx):
    shortlist = services.create_shortlist('Frozen', criteria(), setting_ids=_all_ids(known), actor=known.leeds_officer)
    before = [dict(entry.snapshot) for entry in shortlist.entries]
    provider = make_user(Role.PROVIDER)
    db.session.add(Membership(user_id=provider.id, organisation_id=known.aire.id, role=MemberRole.OWNER))
    db.session.commit()

    update_vacancies(known.fresh, 0, actor=provider)
    db.session.expire_all()

    saved = db.session.get(Shortlist, shortlist.id)
    assert [entry.snapshot for entry in saved.entries] == before
    assert saved.entries[0].snapshot['setting_name'] == 'Zephyr House'
    assert saved.entries[0].snapshot['vacancies'] == 2
    # ...while the finder itself now sees no vacancy at Zephyr House.
    now = services.find_placements(services.child_from_criteria(criteria()), 'E08000035')
    assert now[0].entry.name == 'Abbey House'


def _shortlist(known, criteria, **kwargs):
    return services.create_shortlist('Export me', criteria(**kwargs), setting_ids=_all_ids(known),
                                     actor=known.leeds_officer)


def test_commissioner_can_export_a_shortlist_as_csv_in_rank_order(known, criteria, client, login_as):
    shortlist = _shortlist(known, criteria)
    login_as(known.leeds_officer)

    response = client.get(url_for('workspace.export_csv', shortlist_id=shortlist.id))

    assert response.status_code == 200
    assert response.mimetype == 'text/csv'
    assert 'attachment' in response.headers['Content-Disposition']
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:5] == ['Rank', 'Setting', 'Provider', 'Provision type', 'Authority']
    assert [row[1] for row in rows[1:]] == EXPECTED_ORDER
    assert [row[0] for row in rows[1:]] == [str(n) for n in range(1, 8)]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first['Provider'] == 'Aire Valley Homes Ltd'
    assert first['Vacancies'] == '2'
    assert first['Accepted by us'] == 'Yes'
    assert first['Ofsted judgement'] == 'Good'
    assert 'Met: Accepted by Leeds' in first['Reasons']
    bradford = dict(zip(rows[0], rows[4], strict=True))
    assert bradford['Accepted by us'] == 'No'
    assert 0 < float(bradford['Distance (miles)']) < 20
    # readable labels, real dates and each setting's contact (commissioners only)
    assert re.fullmatch(r'\d{4}-\d{2}-\d{2} \d{2}:\d{2}', first['Vacancies confirmed'])
    assert first['Address'] == '2 Example Road, Leeds' and first['Postcode'] == 'LS6 2QB'
    assert first['Telephone'] == '0113 000 0000' and first['Email'] == 'alex@example.org'
    assert first['Contact name'] == 'Alex Example'


def test_commissioner_can_export_a_shortlist_as_xlsx_in_rank_order(known, criteria, client, login_as):
    shortlist = _shortlist(known, criteria)
    login_as(known.leeds_officer)

    response = client.get(url_for('workspace.export_xlsx', shortlist_id=shortlist.id))

    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    rows = list(workbook['Results'].iter_rows(values_only=True))
    assert rows[0][:3] == ('Rank', 'Setting', 'Provider')
    assert [row[1] for row in rows[1:]] == EXPECTED_ORDER
    assert [row[0] for row in rows[1:]] == list(range(1, 8))
    header = rows[0]
    first = dict(zip(header, rows[1], strict=True))
    assert first['Vacancies'] == 2
    assert isinstance(first['Vacancies confirmed'], datetime)
    assert first['Telephone'] == '0113 000 0000' and first['Email'] == 'alex@example.org'
    assert 'Search' in workbook.sheetnames
    search = dict(workbook['Search'].iter_rows(values_only=True))
    assert search["Child's age"] == 12
    assert search['Needs'] == 'Autism, Emotional and behavioural difficulties'
    assert isinstance(search['Placement start date'], datetime)  # a date cell, not text
    assert search['Authority'] == 'Leeds'
    assert search['Lowest Ofsted judgement'] == 'Good'


def test_xlsx_export_names_the_types_of_placement_the_search_asked_for(known, criteria, client, login_as):
    # A search limited to some provision types made the Excel download fail with a server error on Python 3.11
    # (``'text' in SomeEnum`` raised TypeError there); the Search sheet names the types instead.
    shortlist = _shortlist(known, criteria, provision_types=['childrens-home', 'no-longer-a-type'])
    login_as(known.leeds_officer)

    response = client.get(url_for('workspace.export_xlsx', shortlist_id=shortlist.id))

    assert response.status_code == 200
    search = dict(openpyxl.load_workbook(io.BytesIO(response.data))['Search'].iter_rows(values_only=True))
    assert search['Types of placement'] == "Children's home"


def test_notes_are_appended_with_author_and_time_and_audited(known, criteria, client, login_as):
    shortlist = _shortlist(known, criteria)
    login_as(known.leeds_officer)

    first = client.post(url_for('workspace.add_note', shortlist_id=shortlist.id), data={'body': 'Phoned Zephyr'})
    second = client.post(url_for('workspace.add_note', shortlist_id=shortlist.id), data={'body': 'Abbey full'})

    assert first.status_code == second.status_code == 302
    notes = db.session.scalars(db.select(ShortlistNote).order_by(ShortlistNote.id)).all()
    assert [note.body for note in notes] == ['Phoned Zephyr', 'Abbey full']
    assert {note.author_id for note in notes} == {known.leeds_officer.id}
    assert all(note.created_at is not None for note in notes)
    assert _actions(shortlist) == ['shortlist.create', 'shortlist.note_add', 'shortlist.note_add']
    page = client.get(url_for('workspace.view_shortlist', shortlist_id=shortlist.id)).get_data(as_text=True)
    assert page.index('Phoned Zephyr') < page.index('Abbey full')
    assert 'Lee Officer' in page


def test_notes_cannot_be_changed_once_written(known, criteria, app_ctx):
    shortlist = _shortlist(known, criteria)
    note = services.add_note(shortlist, 'Original', actor=known.leeds_officer)

    note.body = 'Rewritten'
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(ShortlistNote, note.id).body == 'Original'


def test_blank_note_is_refused_with_an_error(known, criteria, client, login_as):
    shortlist = _shortlist(known, criteria)
    login_as(known.leeds_officer)

    response = client.post(url_for('workspace.add_note', shortlist_id=shortlist.id), data={'body': '  '})

    assert response.status_code == 400
    assert 'Enter a note' in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(ShortlistNote)) == 0


@pytest.mark.parametrize(('body', 'message'), [
    ('Child DOB 12/03/2012', 'Note must not include a date of birth (“12/03/2012”)'),
    ('NHS 9434765919', 'Note must not include an NHS number (“9434765919”)'),
    ('lives at LS6 1AA', 'Note must not include a full postcode (“LS6 1AA”). Give the district only, like “LS6”'),
])
def test_note_holding_a_childs_identifier_is_refused_as_on_the_referral(known, criteria, client, login_as, body,
                                                                        message):
    shortlist = _shortlist(known, criteria)
    login_as(known.leeds_officer)

    response = client.post(url_for('workspace.add_note', shortlist_id=shortlist.id), data={'body': body})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(ShortlistNote)) == 0
    assert _actions(shortlist) == ['shortlist.create']
    with pytest.raises(services.WorkspaceError, match='Note must not include') as error:
        services.add_note(shortlist, body, actor=known.leeds_officer)
    assert error.value.field == 'body'


def test_unshared_shortlist_is_visible_only_to_its_owner(known, criteria, client, login_as):
    shortlist = _shortlist(known, criteria)
    login_as(known.leeds_colleague)

    assert client.get(url_for('workspace.view_shortlist', shortlist_id=shortlist.id)).status_code == 403
    assert 'Export me' not in client.get(url_for('workspace.list_shortlists')).get_data(as_text=True)


def test_owner_can_share_a_shortlist_with_colleagues_in_the_authority(known, criteria, client, login_as):
    shortlist = _shortlist(known, criteria)
    login_as(known.leeds_officer)
    assert client.post(url_for('workspace.share_shortlist', shortlist_id=shortlist.id),
                       data={'shared': '1'}).status_code == 302
    db.session.refresh(shortlist)
    assert shortlist.is_shared is True

    login_as(known.leeds_colleague)
    assert client.get(url_for('workspace.view_shortlist', shortlist_id=shortlist.id)).status_code == 200
    assert 'Export me' in client.get(url_for('workspace.list_shortlists')).get_data(as_text=True)
    assert client.post(url_for('workspace.add_note', shortlist_id=shortlist.id),
                       data={'body': 'I will call Bradford'}).status_code == 302
    # Only the owner may unshare.
    assert client.post(url_for('workspace.share_shortlist', shortlist_id=shortlist.id),
                       data={'shared': '0'}).status_code == 403

    login_as(known.leeds_officer)
    client.post(url_for('workspace.share_shortlist', shortlist_id=shortlist.id), data={'shared': '0'})
    db.session.refresh(shortlist)
    assert shortlist.is_shared is False
    assert _actions(shortlist) == ['shortlist.create', 'shortlist.share', 'shortlist.note_add', 'shortlist.unshare']


@pytest.mark.parametrize('route, method, data', [
    ('workspace.view_shortlist', 'get', None),
    ('workspace.add_note', 'post', {'body': 'Sneaky'}),
    ('workspace.share_shortlist', 'post', {'shared': '0'}),
    ('workspace.export_csv', 'get', None),
    ('workspace.export_xlsx', 'get', None),
])
def test_commissioner_cannot_reach_another_authoritys_shortlist(known, criteria, client, login_as, route, method,
                                                                 data):
    shortlist = _shortlist(known, criteria)
    services.set_shared(shortlist, True, actor=known.leeds_officer)
    login_as(known.westminster_officer)

    response = getattr(client, method)(url_for(route, shortlist_id=shortlist.id), data=data)

    assert response.status_code in {403, 404}
    assert 'Zephyr' not in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(ShortlistNote)) == 0
    assert 'Export me' not in client.get(url_for('workspace.list_shortlists')).get_data(as_text=True)


@pytest.mark.parametrize('route', ['workspace.view_shortlist', 'workspace.export_csv', 'workspace.export_xlsx'])
@pytest.mark.parametrize('role', [Role.PROVIDER, Role.BOARD_MEMBER])
def test_non_commissioners_cannot_reach_shortlists(known, criteria, client, login_as, route, role):
    shortlist = _shortlist(known, criteria)
    login_as(make_user(role))
    assert client.get(url_for(route, shortlist_id=shortlist.id)).status_code == 403
    assert client.get(url_for('workspace.list_shortlists')).status_code == 403


@pytest.mark.parametrize('route', ['workspace.list_shortlists', 'workspace.authority_view', 'workspace.finder'])
def test_anonymous_visitor_is_sent_to_sign_in_from_the_workspace(app_ctx, client, route):
    response = client.get(url_for(route))
    assert response.status_code == 302
    assert '/sign-in' in response.headers['Location'] or 'login' in response.headers['Location']


def test_provider_cannot_save_a_shortlist(known, client, login_as, finder_args):
    login_as(make_user(Role.PROVIDER))
    assert client.post(url_for('workspace.create_shortlist', **finder_args()), data={'name': 'x'}).status_code == 403
    assert db.session.scalar(db.select(db.func.count()).select_from(Shortlist)) == 0


def test_shortlist_shows_the_searched_start_date_in_govuk_format(known, criteria, client, login_as):
    # The page showed the start date as saved, "2027-01-01".
    shortlist = services.create_shortlist('New year', criteria(start_date='2027-01-01'),
                                          setting_ids=[known.fresh.id], actor=known.leeds_officer)
    login_as(known.leeds_officer)

    page = client.get(url_for('workspace.view_shortlist', shortlist_id=shortlist.id)).get_data(as_text=True)

    assert '1 January 2027' in page and '2027-01-01' not in page
