"""Upload attacks through the real evidence route: disguised types, oversize files, hostile names, direct downloads."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from qualification.applications import Evidence
from registry.app import create_app
from registry.extensions import db
from tests.qualification.conftest import PDF_BYTES, PNG_BYTES
from tests.security.conftest import EVIDENCE_QUESTION, build_world, sign_in

SECTION, QUESTION = EVIDENCE_QUESTION
HTML_BYTES = b'<!doctype html><html><body><script>alert(document.cookie)</script></body></html>'
KEY_PATTERN = re.compile(r'^evidence/\d+/[A-Za-z0-9_\-]{32,}$')


@pytest.fixture
def upload_app(app, app_config, tmp_path):
    """The shared database, a 1MB upload limit and a storage folder of its own to inspect."""
    small = create_app({**app_config, 'MAX_UPLOAD_MB': 1, 'STORAGE_LOCAL_DIR': str(tmp_path / 'documents')})
    yield small
    with small.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def setup(upload_app):
    world = build_world(upload_app)
    client = upload_app.test_client()
    sign_in(upload_app, client, world.a.users['provider'])
    return upload_app, client, world


def stored_files(app) -> set[str]:
    root = Path(app.config['STORAGE_LOCAL_DIR'])
    return {str(path.relative_to(root)) for path in root.rglob('*') if path.is_file()}


def upload(client, world, content: bytes, filename: str):
    url = f'/qualification/applications/{world.a.ids["application"]}/sections/{SECTION}'
    return client.post(url, data={QUESTION: (io.BytesIO(content), filename), 'save_and_return': 'Save'},
                       content_type='multipart/form-data')


def evidence_rows(app) -> list[Evidence]:
    with app.app_context():
        rows = db.session.scalars(select(Evidence).order_by(Evidence.id)).all()
        db.session.expunge_all()
        db.session.remove()
    return rows


def zip_bomb() -> bytes:
    """A DOCX-shaped archive that inflates to 200MB from a few hundred kilobytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr('[Content_Types].xml', b'<Types/>')
        archive.writestr('word/document.xml', b'\0' * (200 * 1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize(('content', 'filename', 'message'), [
    (PNG_BYTES, 'certificate.pdf', 'is not a real PDF: its content is a PNG image'),
    (HTML_BYTES, 'policy.pdf', 'must be a PDF, DOCX, XLSX, ODT, PNG or JPEG'),
    (HTML_BYTES, 'policy.html', 'must be a PDF, DOCX, XLSX, ODT, PNG or JPEG'),
    (b'MZ\x90\x00' + b'\x00' * 60, 'invoice.pdf.exe', 'must be a PDF, DOCX, XLSX, ODT, PNG or JPEG'),
    (PDF_BYTES + b'0' * (1024 * 1024), 'large.pdf', 'must be smaller than 1MB'),
])
def test_disguised_or_oversize_uploads_are_refused_and_nothing_is_stored(setup, content, filename, message):
    app, client, world = setup
    before_files, before_rows = stored_files(app), evidence_rows(app)
    response = upload(client, world, content, filename)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert stored_files(app) == before_files
    assert len(evidence_rows(app)) == len(before_rows)


def test_a_body_far_over_the_limit_is_cut_off_with_413_before_it_is_read(setup):
    app, client, world = setup
    before = stored_files(app)
    response = upload(client, world, PDF_BYTES + b'0' * (3 * 1024 * 1024), 'huge.pdf')
    assert response.status_code == 413
    assert stored_files(app) == before


def test_a_zip_bomb_is_never_inflated_by_the_server(setup):
    app, client, world = setup
    bomb = zip_bomb()
    assert len(bomb) < 1024 * 1024
    before = stored_files(app)
    response = upload(client, world, bomb, 'policy.docx')
    # accepted or refused, the server keeps only the bytes it was sent and never expands them
    assert response.status_code in (302, 400)
    new = stored_files(app) - before
    for name in new:
        assert (Path(app.config['STORAGE_LOCAL_DIR']) / name).stat().st_size == len(bomb)
    assert sum((Path(app.config['STORAGE_LOCAL_DIR']) / name).stat().st_size for name in stored_files(app)) < 2 ** 21


@pytest.mark.parametrize(('raw', 'expected'), [
    ('../../etc/passwd.pdf', 'passwd.pdf'),
    ('..\\..\\windows\\system.ini.pdf', None),  # multipart unquoting may eat the backslashes first
    ('a\x00b.pdf', None),
    ('x' * 300 + '.pdf', 'x' * 140 + '.pdf'),
    ('invoice\u202efdp.exe.pdf', 'invoicefdp.exe.pdf'),  # right-to-left override hides the real extension
    ('<img src=x onerror=alert(1)>.pdf', None),
])
def test_hostile_file_names_are_sanitised_and_stored_under_random_keys(setup, raw, expected):
    app, client, world = setup
    outside = set(Path(app.config['STORAGE_LOCAL_DIR']).parent.rglob('*'))
    response = upload(client, world, PDF_BYTES, raw)
    assert response.status_code in (302, 400)
    new_rows = [row for row in evidence_rows(app) if row.uploaded_by_id == world.a.users['provider']][1:]
    if response.status_code == 400:
        assert new_rows == []
        return
    (row,) = new_rows
    if expected is not None:
        assert row.filename == expected
    assert not set(row.filename) & {'/', '\\', '\x00', '\u202e'} and len(row.filename) <= 150
    assert KEY_PATTERN.match(row.storage_key), row.storage_key
    assert row.filename not in row.storage_key
    stored = Path(app.config['STORAGE_LOCAL_DIR']) / row.storage_key
    assert stored.read_bytes() == PDF_BYTES
    created = set(Path(app.config['STORAGE_LOCAL_DIR']).parent.rglob('*')) - outside
    assert all(path.is_relative_to(app.config['STORAGE_LOCAL_DIR']) for path in created), created
    page = client.get(f'/qualification/applications/{world.a.ids["application"]}/sections/{SECTION}')
    body = page.get_data(as_text=True)
    assert row.storage_key not in body
    assert '<img src=x' not in body


def test_documents_are_downloaded_only_through_the_permission_checked_route(setup):
    app, client, world = setup
    (evidence,) = [row for row in evidence_rows(app) if row.id == world.a.ids['evidence']]
    download = f'/qualification/evidence/{evidence.id}'
    response = client.get(download)
    assert response.status_code == 302
    link = response.headers['Location']
    assert evidence.storage_key not in link
    file_response = client.get(link)
    assert file_response.status_code == 200 and file_response.data == PDF_BYTES
    assert 'attachment' in file_response.headers['Content-Disposition']
    # the storage key is not a URL: neither the documents route nor static files serve it
    key = evidence.storage_key
    for guess in (f'/documents/{key}', f'/static/{key}', f'/documents/{key.rsplit("/", 1)[1]}',
                  f'/static/../documents/{key}'):
        assert client.get(guess).status_code == 404, guess
    other = app.test_client()
    sign_in(app, other, world.b.users['provider'])
    assert other.get(download).status_code == 403
    anonymous = app.test_client()
    assert anonymous.get(download).status_code == 302
    assert anonymous.get(download).headers['Location'].startswith('/sign-in')
