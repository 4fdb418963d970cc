"""Document storage: the local folder with signed, expiring links, and S3 against moto's server over real HTTP."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from registry.storage import LocalStorage, S3Storage, StorageError, attachment_disposition, get_storage
from tests.live import ThreadedServer

ROOT = Path(__file__).resolve().parents[2]
MOTO_SERVER = ROOT / '.venv' / 'bin' / 'moto_server'


def test_local_storage_round_trip(tmp_path):
    storage = LocalStorage(tmp_path, 'secret')
    assert storage.save('evidence/1/abc', io.BytesIO(b'hello'), 'application/pdf') == 'evidence/1/abc'
    assert storage.open('evidence/1/abc').read() == b'hello'
    storage.delete('evidence/1/abc')
    with pytest.raises(StorageError):
        storage.open('evidence/1/abc')
    storage.delete('evidence/1/abc')  # deleting twice is harmless


@pytest.mark.parametrize('key', ['../outside', 'a/../../b', '/etc/passwd', 'a b', '', 'a\\b'])
def test_local_storage_refuses_keys_that_could_escape_its_folder(tmp_path, key):
    with pytest.raises(StorageError):
        LocalStorage(tmp_path, 'secret').save(key, io.BytesIO(b'x'), 'text/plain')


def test_local_signed_link_serves_the_file_then_expires(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, 'STORAGE_LOCAL_DIR', str(tmp_path))
    client = app.test_client()
    with app.test_request_context():
        storage = get_storage()
        storage.save('evidence/9/key', io.BytesIO(b'%PDF-1.4 doc'), 'application/pdf')
        url = storage.url('evidence/9/key', 'My accounts.pdf')
        expired = storage.url('evidence/9/key', 'My accounts.pdf', expires=-1)
    response = client.get(url)
    assert response.status_code == 200 and response.data == b'%PDF-1.4 doc'
    assert response.mimetype == 'application/pdf'
    assert 'attachment' in response.headers['Content-Disposition']
    assert response.headers['Cache-Control'] == 'private, no-store'
    assert client.get(expired).status_code == 404


def _local_link(app, tmp_path, monkeypatch, filename: str) -> str:
    """A signed link to a small PDF saved in a local store in ``tmp_path``, to be downloaded as ``filename``."""
    monkeypatch.setitem(app.config, 'STORAGE_LOCAL_DIR', str(tmp_path))
    with app.test_request_context():
        storage = get_storage()
        storage.save('evidence/9/key', io.BytesIO(b'%PDF-1.4 doc'), 'application/pdf')
        return storage.url('evidence/9/key', filename)


def test_local_download_keeps_a_non_ascii_filename_with_an_ascii_fallback(app, tmp_path, monkeypatch):
    url = _local_link(app, tmp_path, monkeypatch, 'Ünï cödé.pdf')
    # it used to be sent as "_n_ c_d_.pdf"
    disposition = app.test_client().get(url).headers['Content-Disposition']
    assert disposition == "attachment; filename=\"Uni code.pdf\"; filename*=UTF-8''%C3%9Cn%C3%AF%20c%C3%B6d%C3%A9.pdf"
    assert disposition.isascii()
    assert urllib.parse.unquote(disposition.split("filename*=UTF-8''")[1]) == 'Ünï cödé.pdf'


@pytest.mark.parametrize(('filename', 'disposition'), [
    ('My accounts.pdf', 'attachment; filename="My accounts.pdf"'),
    ('a"; filename="evil.exe', 'attachment; filename="a__ filename__evil.exe"'),
    ('line\r\nSet-Cookie: x=1.pdf', 'attachment; filename="line__Set-Cookie_ x_1.pdf"'),
    ('../../etc/passwd', 'attachment; filename=".._.._etc_passwd"'),
    ('\u202egnp.exe', 'attachment; filename="_gnp.exe"'),
    ('', 'attachment; filename="document"'),
    ('Zoë\'s "plan";.pdf', "attachment; filename=\"Zoe_s _plan__.pdf\"; filename*=UTF-8''Zo%C3%AB_s%20_plan__.pdf"),
    ('文件.pdf', "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E6%96%87%E4%BB%B6.pdf"),
])
def test_a_download_filename_can_never_break_the_header(filename, disposition):
    assert attachment_disposition(filename) == disposition


def test_a_local_download_has_one_date_header_over_real_http(app, tmp_path, monkeypatch):
    url = _local_link(app, tmp_path, monkeypatch, 'My accounts.pdf')
    # send_file used to add a Date of its own to the one the server sends
    with ThreadedServer(app) as server, urllib.request.urlopen(server.url + url, timeout=10) as response:  # noqa: S310
        assert response.read() == b'%PDF-1.4 doc'
        assert len(response.headers.get_all('Date')) == 1


def test_local_signed_link_that_was_tampered_with_is_refused(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, 'STORAGE_LOCAL_DIR', str(tmp_path))
    with app.test_request_context():
        storage = get_storage()
        storage.save('evidence/9/key', io.BytesIO(b'secret'), 'application/pdf')
        token = storage.make_token('evidence/9/key', 'a.pdf')
        forged = LocalStorage(tmp_path, 'another-secret').make_token('evidence/9/key', 'a.pdf')
    client = app.test_client()
    assert client.get(f'/documents/{token}').status_code == 200
    assert client.get(f'/documents/{token[:-2]}xx').status_code == 404
    assert client.get(f'/documents/{forged}').status_code == 404
    with pytest.raises(StorageError, match='expired'):
        storage.read_token(storage.make_token('evidence/9/key', 'a.pdf', expires=-5))


def test_get_storage_follows_config(app, monkeypatch):
    monkeypatch.setitem(app.config, 'STORAGE_BACKEND', 's3')
    monkeypatch.setitem(app.config, 'S3_BUCKET', 'documents')
    storage = get_storage(app)
    assert isinstance(storage, S3Storage) and storage._client is None  # the boto3 client is created lazily
    monkeypatch.setitem(app.config, 'STORAGE_BACKEND', 'local')
    assert isinstance(get_storage(app), LocalStorage)
    monkeypatch.setitem(app.config, 'STORAGE_BACKEND', 'ftp')
    with pytest.raises(StorageError, match='unknown STORAGE_BACKEND'):
        get_storage(app)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='session')
def moto_endpoint():
    """moto's standalone S3 server on 127.0.0.1, started once for the session."""
    if not MOTO_SERVER.exists():
        pytest.skip(f'moto_server is not installed at {MOTO_SERVER} (pip install "moto[server]")')
    port = _free_port()
    process = subprocess.Popen([str(MOTO_SERVER), '-H', '127.0.0.1', '-p', str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f'http://127.0.0.1:{port}'
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f'{endpoint}/moto-api/', timeout=1)  # noqa: S310 - local test server
            break
        except (urllib.error.URLError, ConnectionError, OSError):
            if process.poll() is not None:
                pytest.skip(f'moto_server exited with code {process.returncode} before it started')
            time.sleep(0.2)
    else:
        process.terminate()
        pytest.skip('moto_server did not start within 20 seconds')
    yield endpoint
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def s3_storage(moto_endpoint, monkeypatch):
    import boto3

    monkeypatch.setenv('AWS_ACCESS_KEY_ID', 'testing')
    monkeypatch.setenv('AWS_SECRET_ACCESS_KEY', 'testing')
    bucket = f'registry-test-{os.getpid()}-{time.monotonic_ns()}'
    boto3.client('s3', endpoint_url=moto_endpoint, region_name='eu-west-2').create_bucket(
        Bucket=bucket, CreateBucketConfiguration={'LocationConstraint': 'eu-west-2'})
    return S3Storage(bucket, prefix='test/', endpoint_url=moto_endpoint, region='eu-west-2')


def test_s3_storage_round_trip_against_moto_server(s3_storage):
    s3_storage.save('evidence/1/abc', io.BytesIO(b'%PDF-1.4 in s3'), 'application/pdf')
    assert s3_storage.open('evidence/1/abc').read() == b'%PDF-1.4 in s3'
    head = s3_storage.client.head_object(Bucket=s3_storage.bucket, Key='test/evidence/1/abc')
    assert head['ContentType'] == 'application/pdf'
    s3_storage.delete('evidence/1/abc')
    with pytest.raises(StorageError):
        s3_storage.open('evidence/1/abc')


def test_s3_presigned_url_serves_the_bytes_over_http(s3_storage):
    s3_storage.save('evidence/2/def', io.BytesIO(b'signed bytes'), 'application/pdf')
    url = s3_storage.url('evidence/2/def', 'Insurance "certificate".pdf', expires=60)
    assert 'X-Amz-Signature=' in url and 'X-Amz-Expires=60' in url
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - local test server
        assert response.read() == b'signed bytes'
        assert 'attachment; filename="Insurance _certificate_.pdf"' == response.headers['Content-Disposition']
    # moto does not verify signatures, so tampering is only checked against real S3 (and LocalStorage above)
