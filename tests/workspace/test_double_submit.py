"""A double click (or a form sent twice) saves one shortlist and one note, and lands on the same page both times."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import func, select

from registry.extensions import db
from tests.house_checks import problems
from workspace.models import Shortlist, ShortlistNote
from workspace.services import create_shortlist


def _ids(known) -> list[int]:
    return [known.fresh.id, known.stale.id]


def test_saving_a_shortlist_twice_in_a_row_saves_it_once(known, client, login_as, finder_args):
    login_as(known.leeds_officer)
    url = url_for('workspace.create_shortlist', **finder_args())
    first = client.post(url, data={'name': 'AB 23 Nov', 'setting': _ids(known)})
    second = client.post(url, data={'name': 'AB 23 Nov', 'setting': _ids(known)})

    assert first.status_code == second.status_code == 302
    assert first.headers['Location'] == second.headers['Location']
    assert db.session.scalar(select(func.count(Shortlist.id))) == 1
    # a different name, or different ticks, is a new shortlist
    client.post(url, data={'name': 'AB 23 Nov (2)', 'setting': _ids(known)})
    client.post(url, data={'name': 'AB 23 Nov', 'setting': _ids(known)[:1]})
    assert db.session.scalar(select(func.count(Shortlist.id))) == 3


def test_adding_a_note_twice_in_a_row_adds_it_once(known, criteria, client, login_as):
    shortlist = create_shortlist('AB', criteria(), setting_ids=_ids(known), actor=known.leeds_officer)
    login_as(known.leeds_officer)
    url = url_for('workspace.add_note', shortlist_id=shortlist.id)
    for _ in range(2):
        assert client.post(url, data={'body': 'Phoned Zephyr'}).status_code == 302
    client.post(url, data={'body': 'Abbey full'})
    assert list(db.session.scalars(select(ShortlistNote.body).order_by(ShortlistNote.id))) == \
        ['Phoned Zephyr', 'Abbey full']
    page = client.get(url_for('workspace.view_shortlist', shortlist_id=shortlist.id)).get_data(as_text=True)
    assert 'data-prevent-double-click="true"' in page
    assert problems(page) == []
