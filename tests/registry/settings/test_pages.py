"""Every organisation and setting page renders for the people who use it."""

from __future__ import annotations

from registry.accounts.models import Role
from tests.factories import make_user
from tests.registry.organisations.helpers import make_organisation, make_setting


def test_owner_can_open_every_organisation_and_setting_page(app_ctx, client, login_as):
    owner = make_user(Role.PROVIDER)
    organisation = make_organisation(owner)
    setting = make_setting(organisation, owner, provision_type='independent-fostering-agency',
                           coverage=['E08000035'])
    membership = organisation.memberships[0].id
    login_as(owner)

    for page in ['/organisations/', '/organisations/new', f'/organisations/{organisation.id}',
                 f'/organisations/{organisation.id}/colleagues',
                 f'/organisations/{organisation.id}/colleagues/{membership}/role',
                 f'/organisations/{organisation.id}/colleagues/{membership}/remove',
                 f'/organisations/{organisation.id}/settings/new', f'/settings/{setting.id}',
                 f'/settings/{setting.id}/edit', f'/settings/{setting.id}/vacancies',
                 f'/settings/{setting.id}/history']:
        assert client.get(page).status_code == 200, page


def test_edit_setting_page_shows_coverage_grouped_by_region_with_current_choices(app_ctx, client, login_as):
    owner = make_user(Role.PROVIDER)
    organisation = make_organisation(owner)
    setting = make_setting(organisation, owner, provision_type='independent-fostering-agency',
                           coverage=['E08000035'])
    login_as(owner)

    body = client.get(f'/settings/{setting.id}/edit').get_data(as_text=True)

    assert 'value="E08000035" checked' in body
    assert 'Yorkshire and The Humber' in body
    assert body.count('name="coverage"') == 153


def test_board_member_sees_every_organisation_in_the_list(app_ctx, client, login_as):
    make_organisation(make_user(Role.PROVIDER), legal_name='First Ltd', trading_name='')
    make_organisation(make_user(Role.PROVIDER), legal_name='Second Ltd', trading_name='')
    login_as(make_user(Role.BOARD_MEMBER))

    body = client.get('/organisations/').get_data(as_text=True)

    assert 'First Ltd' in body and 'Second Ltd' in body
    assert 'Add an organisation' not in body


def test_commissioner_cannot_list_organisations(app_ctx, client, login_as):
    login_as(make_user(Role.COMMISSIONER))

    assert client.get('/organisations/').status_code == 403
