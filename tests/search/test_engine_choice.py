"""Which engine ``search.engine()`` returns for the configuration."""

from __future__ import annotations

import logging

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
