"""Sign-in under attack, against a real threaded server on loopback (and the real database, SQLite or PostgreSQL).

- wrong passwords sent at once all count, and lock the account exactly once;
- wrong security codes count per account across fresh sign-ins (a right password does not reset them), lock the
  account after TOTP_MAX_FAILURES within the window, and the owner is told;
- one address is slowed down (429 with Retry-After), never locked out, and only the address the trusted proxy
  reports counts.
"""

from __future__ import annotations

import re
import time

import pyotp
import pytest
import requests
from sqlalchemy import func, select

from registry.accounts.models import LoginAttempt, Role, User
from registry.app import create_app
from registry.extensions import db
from registry.notifications.models import OutboxEmail
from tests.factories import PASSWORD, make_user
from tests.live import ThreadedServer, run_together

WRONG = 'not the right password at all'


@pytest.fixture
def attack_app(app, app_config):
    """The shared database, with production-like password hashing (so requests really overlap) and one trusted
    proxy in front (so each test can speak for a different client address with X-Forwarded-For)."""
    attacked = create_app({**app_config, 'PASSWORD_HASH_TIME_COST': 2, 'PASSWORD_HASH_MEMORY_KIB': 19456,
                           'TRUSTED_PROXIES': 1, 'LOGIN_MAX_FAILURES_PER_ADDRESS': 1000})
    yield attacked
    with attacked.app_context():
        db.session.remove()
        db.engine.dispose()


def _user(app, role=Role.PROVIDER, **kwargs) -> tuple[int, str]:
    with app.app_context():
        user = make_user(role, **kwargs)
        result = user.id, user.email
        db.session.remove()
    return result


def _read(app, query):
    with app.app_context():
        try:
            return db.session.execute(query).all()
        finally:
            db.session.remove()


def _emails(app, to: str, template: str) -> int:
    return _read(app, select(func.count(OutboxEmail.id)).where(OutboxEmail.to_address == to,
                                                               OutboxEmail.template == template))[0][0]


def _locked(app, user_id: int) -> bool:
    with app.app_context():
        try:
            return db.session.get(User, user_id).is_locked()
        finally:
            db.session.remove()


def _post_sign_in(url, email, password, address='203.0.113.7', http=None):
    return (http or requests).post(f'{url}/sign-in', data={'email': email, 'password': password},
                                   headers={'X-Forwarded-For': address}, allow_redirects=False, timeout=60)


def test_sixteen_wrong_passwords_at_once_all_count_and_lock_the_account_once(attack_app):
    user_id, email = _user(attack_app)
    with ThreadedServer(attack_app) as server:
        responses = run_together([lambda: _post_sign_in(server.url, email, WRONG) for _ in range(16)])
        assert [response.status_code for response in responses] == [200] * 16
        # locked: the right password is refused like any other failure
        assert _post_sign_in(server.url, email, PASSWORD).status_code == 200
    assert _locked(attack_app, user_id)
    assert _emails(attack_app, email, 'account-locked') == 1
    assert _read(attack_app, select(func.count(LoginAttempt.id)).where(LoginAttempt.email == email))[0][0] == 17


def _two_factor_code(secret: str, wrong: bool) -> str:
    code = int(pyotp.TOTP(secret).now())
    return str((code + 500_000) % 1_000_000).zfill(6) if wrong else str(code).zfill(6)


def _sign_in_with_password(url, email, address='198.51.100.30') -> requests.Session:
    http = requests.Session()
    response = _post_sign_in(url, email, PASSWORD, address, http)
    assert response.status_code == 302 and response.headers['Location'].endswith('/sign-in/two-factor'), \
        response.status_code
    return http


def _send_code(url, http, code, address='198.51.100.30'):
    return http.post(f'{url}/sign-in/two-factor', data={'code': code}, headers={'X-Forwarded-For': address},
                     allow_redirects=False, timeout=60)


def test_wrong_security_codes_count_across_fresh_sign_ins_and_lock_the_account(attack_app):
    secret = pyotp.random_base32()
    user_id, email = _user(attack_app, Role.BOARD_MEMBER, totp_secret=secret)
    limit = attack_app.config['TOTP_MAX_FAILURES']
    with ThreadedServer(attack_app) as server:
        for attempt in range(limit):
            # each guess on a brand-new sign-in with the right password, as the attacker did
            http = _sign_in_with_password(server.url, email)
            response = _send_code(server.url, http, _two_factor_code(secret, wrong=True))
            if attempt < limit - 1:
                assert response.status_code == 200, attempt
                assert 'not right' in response.text
        assert response.status_code == 302 and response.headers['Location'].endswith('/sign-in')
        assert _locked(attack_app, user_id)
        # while locked neither the password nor the right code gets in
        assert _post_sign_in(server.url, email, PASSWORD, '198.51.100.30').status_code == 200
    assert _emails(attack_app, email, 'account-locked-second-factor') == 1
    with attack_app.app_context():
        notice = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == email))
        assert 'wrong security code' in notice.body and 'someone knows your password' in notice.body
        db.session.remove()


def test_wrong_security_codes_sent_at_once_all_count_and_the_right_code_then_fails(attack_app):
    secret = pyotp.random_base32()
    user_id, email = _user(attack_app, Role.ADMIN, totp_secret=secret)
    with ThreadedServer(attack_app) as server:
        sessions = [_sign_in_with_password(server.url, email) for _ in range(13)]
        wrong = _two_factor_code(secret, wrong=True)
        responses = run_together([lambda http=http: _send_code(server.url, http, wrong) for http in sessions[:12]])
        assert all(response.status_code in (200, 302) for response in responses), [r.status_code for r in responses]
        assert _locked(attack_app, user_id)
        right = _send_code(server.url, sessions[12], _two_factor_code(secret, wrong=False))
        assert right.status_code == 302 and right.headers['Location'].endswith('/sign-in')
        assert sessions[12].get(f'{server.url}/account', allow_redirects=False, timeout=30).status_code == 302
    assert _emails(attack_app, email, 'account-locked-second-factor') == 1


def test_a_busy_address_is_slowed_with_retry_after_and_nobody_behind_it_is_locked_out(attack_app, monkeypatch):
    monkeypatch.setitem(attack_app.config, 'LOGIN_MAX_FAILURES_PER_ADDRESS', 5)
    monkeypatch.setitem(attack_app.config, 'LOGIN_ADDRESS_MAX_DELAY', 4)
    _victim, email = _user(attack_app)
    office = '203.0.113.50'  # an attacker and a colleague behind one address
    with ThreadedServer(attack_app) as server:
        for n in range(5):
            assert _post_sign_in(server.url, f'guess{n}@example.org', WRONG, office).status_code == 200
        # flooding the address achieves nothing: one attempt per slot, and refused ones do not push the slot away
        time.sleep(1.1)
        burst = run_together([lambda: _post_sign_in(server.url, 'guess@example.org', WRONG, office)
                              for _ in range(10)])
        codes = [response.status_code for response in burst]
        # one attempt per slot (a second only if the loaded machine spread the burst over a whole slot)
        assert set(codes) == {200, 429} and codes.count(200) <= 2, codes
        refused = next(response for response in burst if response.status_code == 429)
        wait = int(refused.headers['Retry-After'])
        assert 1 <= wait <= 4
        assert f'Wait {wait} seconds' in refused.text
        # someone at another address is not affected at all
        assert _post_sign_in(server.url, email, PASSWORD, '198.51.100.77').status_code == 302
        # the colleague behind the busy address gets in once the slot opens
        time.sleep(wait)
        colleague = _post_sign_in(server.url, email, PASSWORD, office)
        assert colleague.status_code == 302, colleague.text


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(app, app_config, monkeypatch):
    # no trusted proxy (the default): X-Forwarded-For is the client's own claim, so it is ignored
    monkeypatch.setitem(app.config, 'LOGIN_MAX_FAILURES_PER_ADDRESS', 3)
    monkeypatch.setitem(app.config, 'LOGIN_ADDRESS_MAX_DELAY', 30)
    _user_id, email = _user(app)
    with ThreadedServer(app) as server:
        spoofed = [_post_sign_in(server.url, 'guess@example.org', WRONG, f'192.0.2.{n}') for n in range(4)]
        assert [response.status_code for response in spoofed] == [200, 200, 200, 429]
    with app.app_context():
        addresses = set(db.session.scalars(select(LoginAttempt.ip_address)))
        db.session.remove()
    assert addresses == {'127.0.0.1'}


def test_the_trusted_proxy_setting_is_documented():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[3] / 'README.md').read_text(encoding='utf-8')
    assert re.search(r'`REGISTRY_TRUSTED_PROXIES`.*X-Forwarded-For', readme)
