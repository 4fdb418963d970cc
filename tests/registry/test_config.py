"""Configuration comes from typed defaults, overridden from the environment; production refuses unsafe settings."""

from __future__ import annotations

import pytest

from registry.config import Config, check_production, load_env_overrides, normalise_database_url


def _defaults() -> dict:
    return {key: getattr(Config, key) for key in dir(Config) if key.isupper()}


def test_operator_can_override_an_integer_setting_from_the_environment():
    config = _defaults()
    load_env_overrides(config, {'REGISTRY_MAX_UPLOAD_MB': '50', 'REGISTRY_LOGIN_MAX_FAILURES': '3'})
    assert config['MAX_UPLOAD_MB'] == 50
    assert config['LOGIN_MAX_FAILURES'] == 3


@pytest.mark.parametrize(('raw', 'expected'), [('false', False), ('0', False), ('off', False), ('No', False),
                                               ('true', True), ('1', True), ('ON', True), ('yes', True)])
def test_operator_can_override_a_boolean_setting_in_the_usual_spellings(raw, expected):
    config = _defaults()
    load_env_overrides(config, {'REGISTRY_SESSION_COOKIE_SECURE': raw})
    assert config['SESSION_COOKIE_SECURE'] is expected


def test_operator_cannot_start_with_an_unreadable_boolean():
    with pytest.raises(RuntimeError, match='REGISTRY_SESSION_COOKIE_SECURE'):
        load_env_overrides(_defaults(), {'REGISTRY_SESSION_COOKIE_SECURE': 'maybe'})


def test_operator_cannot_start_with_a_non_numeric_integer():
    with pytest.raises(RuntimeError, match='REGISTRY_MAX_UPLOAD_MB'):
        load_env_overrides(_defaults(), {'REGISTRY_MAX_UPLOAD_MB': 'twenty'})


def test_unknown_registry_variables_are_ignored():
    config = _defaults()
    load_env_overrides(config, {'REGISTRY_NO_SUCH_SETTING': 'x'})
    assert 'NO_SUCH_SETTING' not in config


def test_platform_variables_are_read_without_the_prefix():
    config = _defaults()
    load_env_overrides(config, {'ELASTICSEARCH_URL': 'http://127.0.0.1:9200', 'S3_BUCKET': 'evidence',
                                'S3_ENDPOINT_URL': 'http://127.0.0.1:5001'})
    assert config['ELASTICSEARCH_URL'] == 'http://127.0.0.1:9200'
    assert config['S3_BUCKET'] == 'evidence'
    assert config['S3_ENDPOINT_URL'] == 'http://127.0.0.1:5001'


@pytest.mark.parametrize('url', ['postgres://u:p@db:5432/registry', 'postgresql://u:p@db:5432/registry'])
def test_database_url_is_normalised_to_the_psycopg_driver(url):
    config = _defaults()
    load_env_overrides(config, {'DATABASE_URL': url})
    assert config['SQLALCHEMY_DATABASE_URI'] == 'postgresql+psycopg://u:p@db:5432/registry'


def test_database_urls_that_name_a_driver_or_sqlite_are_left_alone():
    assert normalise_database_url('postgresql+psycopg://db/x') == 'postgresql+psycopg://db/x'
    assert normalise_database_url('sqlite:////tmp/x.sqlite') == 'sqlite:////tmp/x.sqlite'


def test_development_defaults_start_without_secrets():
    check_production(_defaults())


def test_production_refuses_the_development_secret_key():
    config = {**_defaults(), 'ENV_NAME': 'production'}
    with pytest.raises(RuntimeError, match='REGISTRY_SECRET_KEY'):
        check_production(config)
    with pytest.raises(RuntimeError, match='REGISTRY_SECRET_KEY'):
        check_production({**config, 'SECRET_KEY': ''})


def test_production_refuses_insecure_cookies():
    config = {**_defaults(), 'ENV_NAME': 'production', 'SECRET_KEY': 'a-long-random-secret'}
    check_production(config)
    with pytest.raises(RuntimeError, match='SESSION_COOKIE_SECURE'):
        check_production({**config, 'SESSION_COOKIE_SECURE': False})


def test_production_settings_come_through_the_environment():
    config = _defaults()
    load_env_overrides(config, {'REGISTRY_ENV_NAME': 'production', 'REGISTRY_SESSION_COOKIE_SECURE': 'false',
                                'REGISTRY_SECRET_KEY': 'a-long-random-secret'})
    with pytest.raises(RuntimeError, match='SESSION_COOKIE_SECURE'):
        check_production(config)
