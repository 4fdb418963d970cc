"""Every organisation and setting page checks who is asking."""

from __future__ import annotations

import pytest

from registry.accounts.models import Role
from registry.extensions import db
from registry.organisations.models import Invitation, Organisation
from registry.settings.models import Setting, VacancyChange
from tests.factories import make_user
from tests.registry.organisations.helpers import make_organisation, make_setting, organisation_form, setting_form

GET_PAGES = [
    '/organisations/{org}',
    '/organisations/{org}/edit',
    '/organisations/{org}/colleagues',
    '/organisations/{org}/colleagues/{membership}/role',
    '/organisations/{org}/colleagues/{membership}/remove',
    '/organisations/{org}/settings/new',
    '/settings/{setting}',
    '/settings/{setting}/edit',
    '/settings/{setting}/vacancies',
    '/settings/{setting}/history',
]
MANAGEMENT_PAGES = [page for page in GET_PAGES if page not in {'/organisations/{org}', '/settings/{setting}',
                                                               '/settings/{setting}/history'}]


def _posts():
    return [
        ('/organisations/{org}/edit', organisation_form(trading_name='Hijacked')),
        ('/organisations/{org}/colleagues', {'email': 'intruder@example.org', 'role': 'owner'}),
        ('/organisations/{org}/colleagues/{membership}/role', {'role': 'editor'}),
        ('/organisations/{org}/colleagues/{membership}/remove', {}),
        ('/organisations/{org}/settings/new', setting_form(urn='SC777777')),
        ('/settings/{setting}/edit', setting_form(name='Hijacked')),
        ('/settings/{setting}/vacancies', {'change-vacancies': '1'}),
        ('/settings/{setting}/vacancies', {'confirm-vacancies': '0'}),
    ]


@pytest.fixture
def target(app_ctx):
    """Organisation B, with an owner and a setting."""
    owner = make_user(Role.PROVIDER)
    organisation = make_organisation(owner, trading_name='Organisation B')
    setting = make_setting(organisation, owner)
    return {'org': organisation.id, 'setting': setting.id, 'membership': organisation.memberships[0].id}


def _assert_nothing_changed(target):
    db.session.expire_all()
    assert db.session.get(Organisation, target['org']).trading_name == 'Organisation B'
    assert db.session.scalar(db.select(db.func.count(Setting.id))) == 1
    assert db.session.get(Setting, target['setting']).name == 'Oak House'
    assert db.session.scalars(db.select(Invitation)).all() == []
    assert db.session.scalars(db.select(VacancyChange)).all() == []


@pytest.mark.parametrize('page', GET_PAGES)
def test_provider_of_another_organisation_cannot_see_any_page(client, login_as, target, page):
    other = make_user(Role.PROVIDER)
    make_organisation(other, trading_name='Organisation A')
    login_as(other)

    assert client.get(page.format(**target)).status_code == 403


@pytest.mark.parametrize(('page', 'data'), _posts())
def test_provider_of_another_organisation_cannot_post_to_any_page(client, login_as, target, page, data):
    other = make_user(Role.PROVIDER)
    make_organisation(other, trading_name='Organisation A')
    login_as(other)

    assert client.post(page.format(**target), data=data).status_code == 403
    _assert_nothing_changed(target)


@pytest.mark.parametrize('page', GET_PAGES)
def test_anonymous_user_is_sent_to_sign_in(client, target, page):
    response = client.get(page.format(**target))

    assert response.status_code == 302
    assert '/sign-in' in response.headers['Location']


@pytest.mark.parametrize(('page', 'data'), _posts())
def test_anonymous_user_cannot_post(client, target, page, data):
    response = client.post(page.format(**target), data=data)

    assert response.status_code == 302
    assert '/sign-in' in response.headers['Location']
    _assert_nothing_changed(target)


@pytest.mark.parametrize('page', GET_PAGES)
def test_commissioner_cannot_see_provider_management_pages(client, login_as, target, page):
    login_as(make_user(Role.COMMISSIONER))

    assert client.get(page.format(**target)).status_code == 403


@pytest.mark.parametrize(('page', 'data'), _posts())
def test_commissioner_cannot_post(client, login_as, target, page, data):
    login_as(make_user(Role.COMMISSIONER))

    assert client.post(page.format(**target), data=data).status_code == 403
    _assert_nothing_changed(target)


@pytest.mark.parametrize('page', ['/organisations/{org}', '/settings/{setting}', '/settings/{setting}/history'])
def test_assessor_can_view_organisation_and_setting_pages(client, login_as, target, page):
    login_as(make_user(Role.ASSESSOR))

    response = client.get(page.format(**target))

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '/edit"' not in body, 'no links to change anything'
    assert '/vacancies"' not in body


def test_assessor_sees_the_full_address_of_a_childrens_home(client, login_as, target):
    login_as(make_user(Role.ASSESSOR))

    body = client.get(f'/settings/{target["setting"]}').get_data(as_text=True)

    assert '2 Oak Lane' in body
    assert 'LS1 4DY' in body


@pytest.mark.parametrize('page', MANAGEMENT_PAGES)
def test_assessor_cannot_open_editing_pages(client, login_as, target, page):
    login_as(make_user(Role.ASSESSOR))

    assert client.get(page.format(**target)).status_code == 403


@pytest.mark.parametrize(('page', 'data'), _posts())
def test_assessor_cannot_post(client, login_as, target, page, data):
    login_as(make_user(Role.ASSESSOR))

    assert client.post(page.format(**target), data=data).status_code == 403
    _assert_nothing_changed(target)


def test_organisation_page_returns_404_for_unknown_ids(client, login_as, target):
    login_as(make_user(Role.PROVIDER))

    assert client.get('/organisations/999999').status_code == 404
    assert client.get('/settings/999999').status_code == 404
