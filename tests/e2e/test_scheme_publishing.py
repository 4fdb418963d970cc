"""A board member publishes scheme version 2026.2 in a browser, and the next application uses it.

The first upload has a mistake and comes back with the loader's message; the corrected file is previewed and
compared with 2026.1, then published from today. A provider who starts an application afterwards is offered
the supported accommodation lot and answers its section.
"""

from datetime import date

import pytest

from qualification.demo import BOARD_SCHEMES_DIR
from tests.e2e import journeys
from tests.e2e.conftest import assert_accessible, serve

pytestmark = pytest.mark.e2e


@pytest.fixture(scope='module')
def live_server(tmp_path_factory):
    """A server of its own: this journey starts with no board-published version, and the journeys that load the
    demo publish 2026.2 (``qualification.demo``) on the shared one."""
    yield from serve(tmp_path_factory)


def test_board_member_publishes_a_scheme_version_that_the_next_application_uses(new_person, live_server, tmp_path):
    person = new_person
    good = (BOARD_SCHEMES_DIR / '2026.2.yaml').read_bytes()
    broken = tmp_path / '2026.2-draft.yaml'
    broken.write_bytes(good.replace(b'rule: {auto: {equals: yes}}', b'rule: {auto: {equals: perhaps}}', 1))
    correct = tmp_path / '2026.2.yaml'
    correct.write_bytes(good)

    live_server.flask('registry', 'create-admin', '--email', 'admin-schemes@board.example', '--name', 'Ada Admin',
                      '--password', journeys.PASSWORD)
    admin = person()
    journeys.sign_in(admin, 'admin-schemes@board.example')
    journeys.set_up_second_factor(admin)
    journeys.invite_staff(admin, 'Bea Board', 'bea-schemes@board.example', 'Board member')

    board = person()
    journeys.accept_staff_invite(board, live_server, 'bea-schemes@board.example', second_factor=True)
    board.goto('/qualification/board/schemes/')
    assert_accessible(board)
    assert 'New applications use version 2026.1 today' in board.locator('main').inner_text()
    board.get_by_role('link', name='Upload a new version').click()
    assert_accessible(board)

    board.get_by_label('Scheme file').set_input_files(str(broken))
    journeys.click_button(board, 'Upload and check')
    summary = board.locator('.govuk-error-summary')
    summary.wait_for()
    assert_accessible(board)
    assert ("2026.2-draft.yaml: sections[0].questions[6] (org-model-contract): rule: 'perhaps' is not one of "
            'the choices (yes, no)') in summary.inner_text()

    board.get_by_label('Scheme file').set_input_files(str(correct))
    journeys.click_button(board, 'Upload and check')
    board.wait_for_url('**/qualification/board/schemes/2026.2')
    assert_accessible(board)
    main = board.locator('main').inner_text()
    assert 'Changes since version 2026.1' in main
    assert 'Added: Supported accommodation (16 and 17 year olds)' in main
    assert 'Which kinds of supported accommodation do you provide?' in main

    today = date.today()
    board.get_by_label('Day').fill(str(today.day))
    board.get_by_label('Month').fill(str(today.month))
    board.get_by_label('Year').fill(str(today.year))
    journeys.click_button(board, 'Publish this version')
    board.locator('.govuk-notification-banner').wait_for()
    assert_accessible(board)
    assert 'Version 2026.2 is published' in board.locator('main').inner_text()

    provider = person()
    journeys.register_provider(provider, live_server, 'sam@nextsteps.example', 'Sam Provider')
    journeys.create_organisation(provider, 'Next Steps Housing Limited')
    application_id = journeys.start_application(provider, ('supported-accommodation',))
    assert live_server.query('SELECT scheme_version, lots FROM applications WHERE id = ?',
                             (application_id,))[0][0] == '2026.2'
    provider.goto(f'/qualification/applications/{application_id}/sections/supported-accommodation')
    assert_accessible(provider)
    assert 'Which kinds of supported accommodation do you provide?' in provider.locator('main').inner_text()
