"""What every response carries: security headers, a CSP nonce, safe cookies, GOV.UK error pages, a health check."""

from __future__ import annotations

import re

import pytest

from registry.app import create_app


def test_visitor_gets_security_headers_on_the_start_page(client):
    response = client.get('/')
    assert response.status_code == 200
    headers = response.headers
    assert headers['X-Frame-Options'] == 'DENY'
    assert headers['X-Content-Type-Options'] == 'nosniff'
    assert headers['Referrer-Policy'] == 'strict-origin-when-cross-origin'
    assert 'camera=()' in headers['Permissions-Policy']
    assert headers['Cache-Control'] == 'no-store'
    csp = headers['Content-Security-Policy']
    for directive in ("default-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'self'",
                      "form-action 'self'"):
        assert directive in csp


def test_inline_script_nonce_matches_the_content_security_policy(client):
    response = client.get('/')
    csp_nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", response.headers['Content-Security-Policy']).group(1)
    inline_nonces = re.findall(r'<script nonce="([^"]+)">', response.get_data(as_text=True))
    assert inline_nonces, 'the GOV.UK template sets js-enabled with an inline script'
    assert set(inline_nonces) == {csp_nonce}


def test_each_response_gets_a_fresh_nonce(client):
    first = client.get('/').headers['Content-Security-Policy']
    second = client.get('/').headers['Content-Security-Policy']
    assert first != second


def test_unknown_page_uses_the_gov_uk_not_found_template(client):
    response = client.get('/no-such-page')
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">Page not found</h1>' in page
    assert 'govuk-header' in page and 'govuk-footer' in page
    assert '<title>Page not found' in page


def test_load_balancer_gets_ok_from_the_healthcheck(client):
    for path in ('/healthcheck', '/healthcheck/ready'):
        response = client.get(path)
        assert response.status_code == 200
        assert response.get_json() == {'status': 'ok', 'database': 'ok'}
    live = client.get('/healthcheck/live')
    assert live.status_code == 200 and live.get_json() == {'status': 'ok'}


def test_hsts_is_sent_only_when_cookies_are_secure(client):
    # The test app runs on plain http, as `make run` does.
    assert 'Strict-Transport-Security' not in client.get('/').headers


@pytest.fixture
def default_app(tmp_path):
    """An app on the production-like cookie defaults (secure cookies, CSRF on), with its own throwaway database."""
    return create_app({'TESTING': True, 'SECRET_KEY': 'cookie-test', 'SERVER_NAME': 'localhost',
                       'SQLALCHEMY_DATABASE_URI': f'sqlite:///{tmp_path / "cookies.sqlite"}'})


def test_session_cookie_is_secure_http_only_and_same_site(default_app):
    # The sign-in form stores its CSRF token in the session, so the response sets the session cookie.
    response = default_app.test_client().get('/sign-in')
    cookies = [value for value in response.headers.getlist('Set-Cookie') if value.startswith('session=')]
    assert cookies, response.headers
    flags = [part.strip().lower() for part in cookies[0].split(';')]
    assert 'httponly' in flags
    assert 'secure' in flags
    assert 'samesite=lax' in flags
    assert response.headers['Strict-Transport-Security'].startswith('max-age=')


def test_remember_cookie_is_configured_secure_and_http_only(default_app):
    assert default_app.config['REMEMBER_COOKIE_SECURE'] is True
    assert default_app.config['REMEMBER_COOKIE_HTTPONLY'] is True
