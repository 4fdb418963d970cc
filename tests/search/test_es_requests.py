"""Every request the Elasticsearch engine sends, pinned (method, path, parameters, headers, body) and checked against
the Elasticsearch 8.x/9.x REST API, through the real client over real HTTP to a stand-in on loopback.

``REST_API`` below is this project's own summary of the REST API reference (and its rest-api-spec) for the
endpoints the registry calls: their methods, paths and query parameters, and the body fields it may send. A request
that the reference would not accept fails here before it can fail against a cluster.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from importlib.metadata import version

import pytest

from search.entries import DirectoryEntry
from search.es_engine import ElasticsearchEngine, client_from_config, mapping, to_document
from search.es_query import build_query, by_id_body, count_body
from search.query import DeepPageError, PageOutOfRangeError, Query, SearchUnavailableError
from tests.search.es_standin import Recorded, StandIn

ALIAS = 'registry-test-settings'
COMMON_PARAMS = {'pretty', 'human', 'error_trace', 'filter_path', 'source'}
COMPAT_JSON = 'application/vnd.elasticsearch+json; compatible-with=8'
COMPAT_NDJSON = 'application/vnd.elasticsearch+x-ndjson; compatible-with=8'
INDEX = r'(?!_)[^/]+'


@dataclass(frozen=True)
class Endpoint:
    """One REST endpoint: methods, path patterns, the query parameters it takes and the body fields we may send."""

    name: str
    methods: frozenset[str]
    paths: tuple[str, ...]
    params: frozenset[str] = frozenset()
    body: frozenset[str] | None = None
    booleans: frozenset[str] = field(default_factory=frozenset)


def _endpoint(name, methods, paths, params='', body=None, booleans=''):
    return Endpoint(name, frozenset(methods.split()), tuple(paths), frozenset(params.split()),
                    None if body is None else frozenset(body.split()), frozenset(booleans.split()))


#: From the Elasticsearch REST API reference (8.x and 9.x agree on everything listed here).
REST_API = [
    _endpoint('info', 'GET', [r'/']),
    _endpoint('ping', 'HEAD', [r'/']),
    _endpoint('search', 'GET POST', [r'/_search', rf'/{INDEX}/_search'],
              'allow_no_indices allow_partial_search_results analyzer analyze_wildcard batched_reduce_size '
              'ccs_minimize_roundtrips default_operator df docvalue_fields expand_wildcards explain from '
              'ignore_throttled ignore_unavailable include_named_queries_score lenient max_concurrent_shard_requests '
              'pre_filter_shard_size preference q request_cache rest_total_hits_as_int routing scroll search_type '
              'seq_no_primary_term size sort _source _source_excludes _source_includes stats stored_fields '
              'suggest_field suggest_mode suggest_size suggest_text terminate_after timeout track_scores '
              'track_total_hits typed_keys version',
              body='aggs aggregations collapse docvalue_fields explain ext fields from highlight indices_boost knn '
                   'min_score pit post_filter profile query rank rescore retriever runtime_mappings script_fields '
                   'search_after seq_no_primary_term size slice sort _source stats stored_fields suggest '
                   'terminate_after timeout track_scores track_total_hits version',
              booleans='allow_no_indices ignore_unavailable'),
    _endpoint('count', 'GET POST', [r'/_count', rf'/{INDEX}/_count'],
              'allow_no_indices analyzer analyze_wildcard default_operator df expand_wildcards ignore_throttled '
              'ignore_unavailable lenient min_score preference q routing terminate_after',
              body='query'),
    _endpoint('bulk', 'POST PUT', [r'/_bulk', rf'/{INDEX}/_bulk'],
              'include_source_on_error list_executed_pipelines pipeline refresh require_alias require_data_stream '
              'routing _source _source_excludes _source_includes timeout wait_for_active_shards',
              booleans='require_alias'),
    _endpoint('get', 'GET', [rf'/{INDEX}/_doc/[^/]+'],
              'preference realtime refresh routing _source _source_excludes _source_includes stored_fields version '
              'version_type'),
    _endpoint('indices.create', 'PUT', [rf'/{INDEX}'], 'master_timeout timeout wait_for_active_shards',
              body='aliases mappings settings'),
    _endpoint('indices.delete', 'DELETE', [rf'/{INDEX}'],
              'allow_no_indices expand_wildcards ignore_unavailable master_timeout timeout'),
    _endpoint('indices.get_alias', 'GET',
              [r'/_alias', r'/_alias/[^/]+', rf'/{INDEX}/_alias', rf'/{INDEX}/_alias/[^/]+'],
              'allow_no_indices expand_wildcards ignore_unavailable master_timeout',
              booleans='allow_no_indices ignore_unavailable'),
    _endpoint('indices.update_aliases', 'POST', [r'/_aliases'], 'master_timeout timeout', body='actions'),
    _endpoint('indices.refresh', 'GET POST', [r'/_refresh', rf'/{INDEX}/_refresh'],
              'allow_no_indices expand_wildcards ignore_unavailable'),
]
#: Bulk action metadata the REST API accepts.
BULK_META = {'_index', '_id', 'version', 'version_type', 'routing', 'if_seq_no', 'if_primary_term', 'pipeline',
             'require_alias', 'dynamic_templates'}


def endpoint_for(request: Recorded) -> Endpoint:
    """The one REST endpoint this request is, after checking its parameters, headers and body fields."""
    matches = [endpoint for endpoint in REST_API if request.method in endpoint.methods
               and any(re.fullmatch(path, request.path) for path in endpoint.paths)]
    assert len(matches) == 1, f'{request.method} {request.path} is not one REST endpoint: {matches}'
    endpoint = matches[0]
    unknown = set(request.params) - endpoint.params - COMMON_PARAMS
    assert not unknown, f'{endpoint.name} takes no parameters {unknown}'
    for name in endpoint.booleans & set(request.params):
        assert request.params[name] in {'true', 'false'}, (name, request.params[name])
    if 'refresh' in request.params:
        assert request.params['refresh'] in {'true', 'false', 'wait_for'}
    # The 8.x client's compatibility header, which Elasticsearch 8 requires and 9 accepts.
    assert request.headers['accept'] == COMPAT_JSON
    if request.body is not None:
        expected = COMPAT_NDJSON if endpoint.name == 'bulk' else COMPAT_JSON
        assert request.headers['content-type'] == expected
    if endpoint.body is not None and isinstance(request.body, dict):
        assert set(request.body) <= endpoint.body, f'{endpoint.name} body has {set(request.body) - endpoint.body}'
    if endpoint.name == 'bulk':
        lines = list(request.operations)
        while lines:
            (op, meta), = lines.pop(0).items()
            assert op in {'index', 'create', 'update', 'delete'}
            assert set(meta) <= BULK_META
            assert meta.get('version_type', 'external_gte') in {'internal', 'external', 'external_gte'}
            if op != 'delete':
                assert isinstance(lines.pop(0), dict)
    if endpoint.name == 'indices.update_aliases':
        for action in request.body['actions']:
            (kind, spec), = action.items()
            assert kind in {'add', 'remove', 'remove_index'} and set(spec) <= {'index', 'alias', 'is_write_index'}
    return endpoint


@pytest.fixture
def standin():
    with StandIn() as server:
        yield server


@pytest.fixture
def es(standin):
    return ElasticsearchEngine.from_url(standin.url, ALIAS, refresh='wait_for')


@pytest.fixture
def live(es, standin):
    """An index behind the alias, holding Oak House; the requests that made it are forgotten."""
    name = es.create_index()
    es.point_alias(name)
    es.index([_entry(1, 'Oak House')], version=1)
    standin.clear()
    return name


def _entry(entry_id: int, name: str, **changes) -> DirectoryEntry:
    values = dict(
        id=entry_id, organisation_id=2, name=name, organisation_name='Northern Lights', provision_type='childrens-home',
        provision_type_label="Children's home", lot='childrens-homes', description='A home.', needs=('autism',),
        age_min=8, age_max=17, sex='female', places=4, vacancies=1, vacancies_confirmed_at=None, judgement='good',
        judgement_rank=3, judgement_date=None, urn='SC123456', authority_code='E08000032', authority_name='Bradford',
        region_code='E12000003', region_name='Yorkshire and The Humber', district_name='Bradford',
        confidential_address=True, easting=416350.0, northing=432917.0, address='', postcode='', accepted_by=())
    values.update(changes)
    return DirectoryEntry(**values)


def only(standin: StandIn) -> Recorded:
    [request] = standin.requests
    return request


def test_the_client_is_the_8x_line_which_speaks_to_elasticsearch_8_and_9():
    assert version('elasticsearch').split('.')[0] == '8'


def test_a_server_refusing_compatible_with_9_accepts_every_request_the_engine_sends(es, standin, app_ctx):
    """The stand-in refuses compatible-with=9 as Elasticsearch 8 does; nothing the engine sends is refused."""
    name = es.create_index()
    es.point_alias(name)
    es.index([_entry(1, 'Oak House')], version=3)
    es.query(Query(words='oak'))
    assert es.get(1).name == 'Oak House'
    assert standin.requests and all(endpoint_for(request) for request in standin.requests)


def test_create_index_sends_the_mapping_and_settings_to_a_dated_name(es, standin):
    name = es.create_index()
    request = only(standin)
    assert re.fullmatch(rf'{ALIAS}-\d{{20}}', name)
    assert (request.method, request.path, request.params) == ('PUT', f'/{name}', {})
    assert request.body == {'settings': mapping()['settings'], 'mappings': mapping()['mappings']}
    assert endpoint_for(request).name == 'indices.create'


def test_moving_the_alias_is_one_atomic_aliases_call(es, standin, live):
    newer = es.create_index()
    standin.clear()
    assert es.point_alias(newer) == [live]
    reading, moving = standin.requests
    assert (reading.method, reading.path) == ('GET', f'/_alias/{ALIAS}')
    assert (moving.method, moving.path, moving.params) == ('POST', '/_aliases', {})
    assert moving.body == {'actions': [{'remove': {'index': live, 'alias': ALIAS}},
                                       {'add': {'index': newer, 'alias': ALIAS}}]}
    assert [endpoint_for(request).name for request in standin.requests] == ['indices.get_alias',
                                                                            'indices.update_aliases']


def test_index_writes_through_the_alias_with_require_alias_and_the_lock_version(es, standin, live, app_ctx):
    entry = _entry(7, 'Willow Lodge')
    assert es.index([entry], version=42) == 1
    request = only(standin)
    assert (request.method, request.path) == ('PUT', '/_bulk')
    assert request.params == {'refresh': 'wait_for', 'require_alias': 'true'}
    assert request.body == [
        {'index': {'_index': ALIAS, '_id': '7', 'version': 42, 'version_type': 'external_gte'}}, to_document(entry)]
    assert endpoint_for(request).name == 'bulk'


def test_remove_sends_versioned_deletes(es, standin, live):
    es.remove([1, 9, 1], version=43)
    request = only(standin)
    assert request.params == {'refresh': 'wait_for', 'require_alias': 'true'}
    assert request.body == [{'delete': {'_index': ALIAS, '_id': '1', 'version': 43, 'version_type': 'external_gte'}},
                            {'delete': {'_index': ALIAS, '_id': '9', 'version': 43, 'version_type': 'external_gte'}}]
    assert standin.docs(ALIAS) == {}
    endpoint_for(request)


def test_loading_a_new_index_writes_to_it_by_name_without_require_alias(es, standin, live, app_ctx):
    newer = es.create_index()
    standin.clear()
    es.load(newer, [_entry(1, 'Oak House'), _entry(2, 'Willow Lodge')], version=5)
    request = only(standin)
    assert request.params == {'refresh': 'wait_for'}
    assert [line for line in request.body if 'index' in line] == [
        {'index': {'_index': newer, '_id': '1', 'version': 5, 'version_type': 'external_gte'}},
        {'index': {'_index': newer, '_id': '2', 'version': 5, 'version_type': 'external_gte'}}]
    endpoint_for(request)


def test_search_sends_the_built_body_as_json(es, standin, live):
    query = Query(words='oak house bradf', provision_types=('childrens-home',), age=9)
    standin.answer(rf'/{ALIAS}/_search', {'hits': {'total': {'value': 1, 'relation': 'eq'}, 'hits': [
        {'_id': '1', '_score': 11.5, '_source': standin.docs(ALIAS)['1'][1],
         'highlight': {'name': ['\x02Oak\x03 \x02House\x03']}}]}})
    results = es.query(query)
    request = only(standin)
    assert (request.method, request.path, request.params) == ('POST', f'/{ALIAS}/_search', {})
    assert request.body == build_query(query)
    assert endpoint_for(request).name == 'search'
    assert [hit.entry.name for hit in results.hits] == ['Oak House']
    assert results.hits[0].highlights['name'] == '<mark>Oak</mark> <mark>House</mark>'
    assert results.hits[0].score == 11.5


def test_a_deep_page_is_counted_first_and_never_sent(es, standin, live):
    """from + size past 10,000 was a 500 (even with 3 results): now the total decides, as on the SQL engine."""
    query = Query(words='oak ', page=600, page_size=20)
    with pytest.raises(PageOutOfRangeError) as error:
        es.query(query)
    assert not isinstance(error.value, DeepPageError)
    assert error.value.errors == {'page': 'Page 600 is past the end of the results: there is only 1 page'}
    request = only(standin)
    assert (request.method, request.path) == ('POST', f'/{ALIAS}/_count')
    assert request.body == count_body(query)
    assert endpoint_for(request).name == 'count'


def test_a_deep_page_within_the_total_asks_the_person_to_narrow_the_search(es, standin, live, app_ctx):
    es.max_result_window = 4  # as if the index held more entries than the window
    es.index([_entry(entry_id, f'Home {entry_id}') for entry_id in range(2, 8)], version=2)
    standin.clear()
    with pytest.raises(DeepPageError) as error:
        es.query(Query(page=3, page_size=2))
    assert error.value.last_page == 2
    assert error.value.errors['page'].startswith('Only the first 4 of the 7 results can be shown')
    assert [request.path for request in standin.requests] == [f'/{ALIAS}/_count']


def test_ids_and_hashes_walk_the_index_in_id_order_with_search_after(es, standin, live, app_ctx):
    es.index([_entry(entry_id, f'Home {entry_id}') for entry_id in range(2, 12)], version=2)
    standin.clear()
    es.walk_size = 4
    assert es.ids() == set(range(1, 12))
    assert [request.body for request in standin.requests] == [
        by_id_body(4, source=False), by_id_body(4, after_id=4, source=False), by_id_body(4, after_id=8, source=False)]
    assert all(endpoint_for(request).name == 'search' for request in standin.requests)
    standin.clear()
    hashes = es.hashes()
    assert standin.requests[0].body['_source'] == {'excludes': ['body']}
    from search.entries import entry_hash

    assert hashes[5] == entry_hash(_entry(5, 'Home 5'))


def test_get_reads_one_document_through_the_alias(es, standin, live):
    assert es.get(1).name == 'Oak House'
    assert es.get(99) is None
    first, second = standin.requests
    assert (first.method, first.path, first.params) == ('GET', f'/{ALIAS}/_doc/1', {})
    assert second.path == f'/{ALIAS}/_doc/99'
    assert endpoint_for(first).name == endpoint_for(second).name == 'get'


def test_export_pages_past_the_result_window_by_walking_ids(es, standin, live, app_ctx):
    es.max_result_window = 3
    es.index([_entry(entry_id, f'Home {entry_id}') for entry_id in range(2, 10)], version=2)
    standin.clear()
    page = es.export(offset=7, size=2)
    assert [entry.id for entry in page] == [8, 9]
    assert [request.body for request in standin.requests] == [
        by_id_body(3, source=False), by_id_body(3, after_id=3, source=False), by_id_body(1, after_id=6, source=False),
        by_id_body(2, after_id=7)]
    assert all(endpoint_for(request).name == 'search' for request in standin.requests)
    standin.clear()
    assert [entry.id for entry in es.export(offset=0, size=2)] == [1, 2]
    assert only(standin).body == by_id_body(2)


def test_count_and_refresh(es, standin, live):
    assert es.count() == 1
    es.refresh_index(live)
    counting, refreshing = standin.requests
    assert (counting.method, counting.path, counting.body) == ('POST', f'/{ALIAS}/_count', None)
    assert (refreshing.method, refreshing.path) == ('POST', f'/{live}/_refresh')
    assert [endpoint_for(request).name for request in standin.requests] == ['count', 'indices.refresh']


def test_managed_indices_are_listed_by_pattern_and_others_ignored(es, standin, live):
    standin.indices[f'{ALIAS}-staging-20250101000000000000'] = {}  # another environment's, sharing a prefix
    standin.indices[f'{ALIAS}-backup'] = {}
    assert list(es.managed_indices()) == [live]
    request = only(standin)
    assert (request.path, request.params) == (f'/{ALIAS}-*/_alias', {'ignore_unavailable': 'true',
                                                                      'allow_no_indices': 'true'})
    assert endpoint_for(request).name == 'indices.get_alias'


def test_drop_index_deletes_by_exact_name_and_never_the_live_index(es, standin, live):
    newer = es.create_index()
    standin.clear()
    es.drop_index(newer)
    assert [(request.method, request.path) for request in standin.requests] == [
        ('GET', f'/_alias/{ALIAS}'), ('DELETE', f'/{newer}')]
    assert [endpoint_for(request).name for request in standin.requests] == ['indices.get_alias', 'indices.delete']
    with pytest.raises(ValueError, match='behind the alias'):
        es.drop_index(live)


# -- connection settings ------------------------------------------------------------------------------------------


def _client_request(standin: StandIn, config: dict) -> Recorded:
    client = client_from_config({'ELASTICSEARCH_URL': standin.url, **config})
    client.info()
    request = standin.requests[-1]
    endpoint_for(request)
    return request


def test_an_api_key_is_sent_as_an_apikey_header(standin):
    request = _client_request(standin, {'ELASTICSEARCH_API_KEY': 'key-id:key-secret'})
    assert request.headers['authorization'] == 'ApiKey ' + base64.b64encode(b'key-id:key-secret').decode()
    encoded = base64.b64encode(b'other-id:other-secret').decode()
    request = _client_request(standin, {'ELASTICSEARCH_API_KEY': encoded})
    assert request.headers['authorization'] == f'ApiKey {encoded}'


def test_a_user_name_and_password_are_sent_as_basic_auth(standin):
    request = _client_request(standin, {'ELASTICSEARCH_USERNAME': 'registry', 'ELASTICSEARCH_PASSWORD': 's3cret'})
    assert request.headers['authorization'] == 'Basic ' + base64.b64encode(b'registry:s3cret').decode()


def test_no_credentials_send_no_authorization_header(standin):
    assert 'authorization' not in _client_request(standin, {}).headers


def test_a_cloud_id_points_the_client_at_the_deployment_over_https():
    cloud_id = 'registry:' + base64.b64encode(b'eu-west-2.aws.found.io:443$abc123$kib456').decode()
    client = client_from_config({'ELASTICSEARCH_URL': '', 'ELASTICSEARCH_CLOUD_ID': cloud_id,
                                 'ELASTICSEARCH_API_KEY': 'id:secret'})
    [node] = client.transport.node_pool.all()
    assert node.base_url == 'https://abc123.eu-west-2.aws.found.io:443'


def test_several_node_urls_are_all_used():
    client = client_from_config({'ELASTICSEARCH_URL': 'https://es1.internal:9200, https://es2.internal:9200'})
    assert sorted(node.base_url for node in client.transport.node_pool.all()) == [
        'https://es1.internal:9200', 'https://es2.internal:9200']


@pytest.fixture
def certificates(tmp_path):
    """A private CA and a certificate for 127.0.0.1 signed by it, as a self-managed cluster would have."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'Registry test CA')])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'es')]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {name: tmp_path / f'{name}.pem' for name in ('ca', 'cert', 'key')}
    paths['ca'].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths['cert'].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths['key'].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return paths


def test_a_ca_certificate_lets_the_client_trust_a_private_cluster(certificates):
    with StandIn(tls=(str(certificates['cert']), str(certificates['key']))) as secured:
        trusted = ElasticsearchEngine.from_config({
            'ELASTICSEARCH_URL': secured.url, 'SEARCH_INDEX_ALIAS': ALIAS,
            'ELASTICSEARCH_CA_CERTS': str(certificates['ca']), 'ELASTICSEARCH_API_KEY': 'id:secret'})
        assert trusted.live_indices() == []
        assert secured.requests[-1].headers['authorization'].startswith('ApiKey ')
        untrusted = ElasticsearchEngine.from_url(secured.url, ALIAS)
        with pytest.raises(SearchUnavailableError, match='cannot connect .*CERTIFICATE_VERIFY_FAILED'):
            untrusted.live_indices()
