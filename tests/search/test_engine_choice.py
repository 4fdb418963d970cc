"""Which engine ``search.engine()`` returns for the configuration."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

import search
from search.es_engine import ElasticsearchEngine
from search.sql_engine import SqlEngine


def _engine_for(config: dict):
    app = Flask(__name__)
    app.config.update({'SEARCH_INDEX_ALIAS': 'registry-settings', **config})
    with app.app_context():
        return search.engine()


def test_sql_engine_is_the_default():
    assert isinstance(_engine_for({'SEARCH_ENGINE': 'sql'}), SqlEngine)


def test_elasticsearch_without_a_url_falls_back_to_sql_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger='search'):
        chosen = _engine_for({'SEARCH_ENGINE': 'elasticsearch', 'ELASTICSEARCH_URL': ''})
    assert isinstance(chosen, SqlEngine)
    assert 'ELASTICSEARCH_URL is not set' in caplog.text


def test_elasticsearch_with_a_url_uses_the_alias_from_config():
    chosen = _engine_for({'SEARCH_ENGINE': 'elasticsearch', 'ELASTICSEARCH_URL': 'http://localhost:9200'})
    assert isinstance(chosen, ElasticsearchEngine)
    assert chosen.alias == 'registry-settings'


def test_each_environment_reads_its_own_alias_unless_one_is_set():
    staging = _engine_for({'SEARCH_ENGINE': 'elasticsearch', 'ELASTICSEARCH_URL': 'http://localhost:9200',
                           'SEARCH_INDEX_ALIAS': '', 'ENV_NAME': 'Staging'})
    assert staging.alias == 'registry-staging-settings'
    production = _engine_for({'SEARCH_ENGINE': 'elasticsearch', 'ELASTICSEARCH_URL': 'http://localhost:9200',
                              'SEARCH_INDEX_ALIAS': '', 'ENV_NAME': 'production'})
    assert production.alias == 'registry-production-settings'


def test_a_cloud_id_alone_selects_elasticsearch():
    import base64

    cloud_id = 'registry:' + base64.b64encode(b'eu-west-2.aws.found.io:443$abc$def').decode()
    chosen = _engine_for({'SEARCH_ENGINE': 'elasticsearch', 'ELASTICSEARCH_URL': '', 'ELASTICSEARCH_CLOUD_ID': cloud_id,
                          'ELASTICSEARCH_API_KEY': 'id:key'})
    assert isinstance(chosen, ElasticsearchEngine)


def test_elasticsearch_settings_come_from_the_environment():
    from registry.config import Config, load_env_overrides

    config = {key: getattr(Config, key) for key in dir(Config) if key.isupper()}
    load_env_overrides(config, {'ELASTICSEARCH_API_KEY': 'abc', 'ELASTICSEARCH_CLOUD_ID': 'x:eHl6',
                                'REGISTRY_ELASTICSEARCH_CA_CERTS': '/etc/ca.pem',
                                'REGISTRY_ELASTICSEARCH_TIMEOUT': '2.5', 'REGISTRY_SEARCH_AFTER_COMMIT_SECONDS': '0'})
    assert (config['ELASTICSEARCH_API_KEY'], config['ELASTICSEARCH_CLOUD_ID']) == ('abc', 'x:eHl6')
    assert config['ELASTICSEARCH_CA_CERTS'] == '/etc/ca.pem'
    assert config['ELASTICSEARCH_TIMEOUT'] == 2.5 and config['SEARCH_AFTER_COMMIT_SECONDS'] == 0.0


@pytest.mark.parametrize(('settings', 'message'), [
    ({'ELASTICSEARCH_VERIFY_CERTS': False}, 'REGISTRY_ELASTICSEARCH_VERIFY_CERTS must stay on'),
    ({'ELASTICSEARCH_URL': 'http://es.internal:9200', 'ELASTICSEARCH_API_KEY': 'id:key'}, 'must use https'),
    ({'ELASTICSEARCH_URL': 'https://a:9200,http://b:9200', 'ELASTICSEARCH_PASSWORD': 'x'}, 'must use https'),
])
def test_production_refuses_elasticsearch_settings_that_leak_credentials(settings, message):
    from registry.config import check_production

    config = {'ENV_NAME': 'production', 'SECRET_KEY': 'long-random', 'SESSION_COOKIE_SECURE': True,
              'SEARCH_ENGINE': 'elasticsearch', 'ELASTICSEARCH_URL': 'https://es.internal:9200', **settings}
    with pytest.raises(RuntimeError, match=message):
        check_production(config)
    check_production({**config, 'SEARCH_ENGINE': 'sql'})
