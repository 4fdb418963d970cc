"""Two commissioners accept offers for the last vacancy of a setting at the same moment: exactly one succeeds.

A real HTTP server (werkzeug, threaded) runs the app on this test session's database (SQLite or PostgreSQL), and
real threads post the two acceptances at once. A second test holds the setting's row in another connection while
an acceptance runs, then takes the vacancy: the waiting acceptance must see that and refuse, which a
read-then-write would not.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from placements.models import Placement, Referral
from registry.extensions import db
from registry.settings.models import Setting
from tests.placements.conftest import offer, send
from tests.workspace.conftest import make_setting

NO_VACANCY = 'no longer has a vacancy'


@pytest.fixture
def server(app):
    """The app on a free loopback port, answering requests in threads."""
    http = make_server('127.0.0.1', 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{http.server_port}'
    http.shutdown()
    thread.join(timeout=10)


def _session_cookie(app, login_as_user) -> str:
    client = app.test_client()
    with client.session_transaction() as session:
        session['_user_id'] = login_as_user.get_id()
        session['_fresh'] = True
    return client.get_cookie('session').value


def _post(base: str, path: str, cookie: str, data: dict) -> tuple[int, str]:
    body = urllib.parse.urlencode(data, doseq=True).encode()
    request = urllib.request.Request(base + path, data=body, method='POST', headers={
        'Cookie': f'session={cookie}', 'Host': 'localhost',
        'Content-Type': 'application/x-www-form-urlencoded'})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _accept_args(referral, made) -> tuple[str, dict]:
    today = date.today()
    return (f'/placements/referrals/{referral.id}/offers/{made.id}/accept',
            {'start_date': [str(today.day), str(today.month), str(today.year)]})


def _two_offers_for_the_last_place(world, setting):
    """A Leeds referral and a Westminster referral, each with an offer for ``setting`` (1 vacancy)."""
    leeds = send(world, setting)
    westminster = send(world, setting, actor=world.westminster_officer)
    organisation_user = world.aire_user
    return ((leeds, offer(world, leeds, setting, organisation_user, available_from=date.today())),
            (westminster, offer(world, westminster, setting, organisation_user, available_from=date.today())))


def test_two_commissioners_accepting_the_last_vacancy_at_once_exactly_one_succeeds(world, app, server):
    cookies = {world.leeds_officer.id: _session_cookie(app, world.leeds_officer),
               world.westminster_officer.id: _session_cookie(app, world.westminster_officer)}
    for round_number in range(4):
        setting = make_setting(world.aire, f'Last Place {round_number}', 'LS6 2QB', vacancies=1)
        db.session.commit()
        pairs = _two_offers_for_the_last_place(world, setting)
        # everything the threads need is worked out here: they have no application context of their own
        requests = [(*_accept_args(*pairs[0]), cookies[world.leeds_officer.id]),
                    (*_accept_args(*pairs[1]), cookies[world.westminster_officer.id])]
        losing_ids = [pairs[0][0].id, pairs[1][0].id]
        barrier = threading.Barrier(2)
        results: list = [None, None]

        def accept(index: int, requests=requests, barrier=barrier, results=results) -> None:
            path, data, cookie = requests[index]
            barrier.wait()
            results[index] = _post(server, path, cookie, data)

        threads = [threading.Thread(target=accept, args=(index,)) for index in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        statuses = sorted(status for status, _body in results)
        assert statuses == [302, 409], results
        loser = next(body for status, body in results if status == 409)
        assert NO_VACANCY in loser and 'Nothing has been saved' in loser
        db.session.expire_all()
        assert db.session.get(Setting, setting.id).vacancies == 0
        placements = db.session.scalars(db.select(Placement).where(Placement.setting_id == setting.id)).all()
        assert len(placements) == 1
        losing_id = losing_ids[[status for status, _ in results].index(409)]
        assert db.session.get(Referral, losing_id).status.value == 'open'  # nothing half-saved


def test_an_acceptance_waiting_on_a_locked_setting_sees_the_vacancy_go_and_refuses(world, app, server):
    setting = make_setting(world.aire, 'Locked Place', 'LS6 2QB', vacancies=1)
    db.session.commit()
    (referral, made), _other = _two_offers_for_the_last_place(world, setting)
    cookie = _session_cookie(app, world.leeds_officer)
    path, data = _accept_args(referral, made)
    setting_id = setting.id
    result: list = []

    with db.engine.connect() as other:
        if db.engine.dialect.name == 'sqlite':
            other.exec_driver_sql('BEGIN IMMEDIATE')
        else:
            other.begin()
        # another transaction takes the last vacancy and holds the row (and, on SQLite, the write lock)
        other.execute(text('UPDATE settings SET vacancies = vacancies - 1 WHERE id = :id'), {'id': setting_id})
        thread = threading.Thread(target=lambda: result.append(_post(server, path, cookie, data)))
        thread.start()
        time.sleep(1.0)
        assert thread.is_alive(), f'the acceptance did not wait for the lock: {result}'
        other.commit() if db.engine.dialect.name != 'sqlite' else other.exec_driver_sql('COMMIT')
        thread.join(timeout=30)

    status, body = result[0]
    assert status == 409 and NO_VACANCY in body
    db.session.expire_all()
    assert db.session.get(Setting, setting_id).vacancies == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(Placement)) == 0
