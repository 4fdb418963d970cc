"""What an administrator reads about an account: its state and its history in words, not codes."""

from __future__ import annotations

import re

from sqlalchemy import select

from registry.accounts.models import Role, User
from registry.audit.labels import action_label
from registry.extensions import db
from tests.factories import make_user
from tests.house_checks import problems
from tests.registry.admin.test_views import INVITE


def test_an_invited_account_reads_as_invited_with_its_history_in_words(app_ctx, client, login_as):
    login_as(make_user(Role.ADMIN))
    assert client.post('/admin/users/invite', data=INVITE).status_code == 302
    cora = db.session.scalar(select(User).where(User.email == 'cora@council.example'))

    html = client.get(f'/admin/users/{cora.id}').get_data(as_text=True)
    account = re.search(r'Account\s*</dt>\s*<dd[^>]*>\s*([^<]+)', html).group(1).strip()
    assert account.startswith('Invited')
    assert 'user.invite' not in html and 'Invited' in html.split('Recent activity')[1]
    assert problems(html) == []


def test_every_audit_action_reads_as_words():
    assert action_label('user.invite') == 'Invited'
    assert action_label('shortlist.note_add') == 'Shortlist: note add'
    assert '.' not in action_label('something.new') and '_' not in action_label('a.b_c')


def test_new_password_fields_ask_for_a_new_password_and_sign_in_for_the_current_one(app_ctx, client):
    register = client.get('/register').get_data(as_text=True)
    sign_in = client.get('/sign-in').get_data(as_text=True)
    for html in (register, sign_in):
        assert problems(html) == []
    fields = dict(re.findall(r'name="(\w*password)"[^>]*autocomplete="([\w-]+)"', register))
    assert fields == {'password': 'new-password', 'confirm_password': 'new-password'}
    assert re.search(r'name="password"[^>]*autocomplete="current-password"', sign_in)
