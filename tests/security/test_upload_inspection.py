"""Uploads are inspected without trusting them: ZIP containers by their central directory with a bounded read (a zip
bomb is never inflated), and every file scanned by clamd over its INSTREAM protocol when ``CLAMD_SOCKET`` is set
(a fake clamd on a Unix socket here: clean, infected, erroring and down).
"""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from flask import url_for
from sqlalchemy import func, select

from qualification import services
from qualification.applications import Evidence
from qualification.evidence import EvidenceRejected, check_upload, sniff
from registry.extensions import db
from tests.fake_clamd import EICAR, FakeClamd
from tests.qualification.conftest import ODT_BYTES, PDF_BYTES, make_member, make_organisation


def bomb(member: str, inflated: int, **extra: bytes) -> bytes:
    """A ZIP whose ``member`` inflates to ``inflated`` bytes from a few dozen kilobytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in extra.items():
            archive.writestr(name, content)
        with archive.open(member, 'w') as out:
            block = b'\0' * (1024 * 1024)
            for _ in range(inflated // len(block)):
                out.write(block)
    return buffer.getvalue()


def peak_memory(call) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture
def section_post(app_ctx, client, login_as, tmp_path, monkeypatch):
    monkeypatch.setitem(app_ctx.config, 'STORAGE_LOCAL_DIR', str(tmp_path / 'documents'))
    organisation = make_organisation()
    provider = make_member(organisation)
    application = services.start_application(organisation, ['childrens-homes'], actor=provider)
    login_as(provider)
    url = url_for('qualification.edit_section', application_id=application.id, section_id='policies')

    def post(content: bytes, name: str):
        return client.post(url, content_type='multipart/form-data', data={
            'pol-complaints': (io.BytesIO(content), name), 'save_and_return': 'Save and come back later'})

    post.folder = tmp_path / 'documents'
    return post


def stored(folder: Path) -> list[Path]:
    return [path for path in folder.rglob('*') if path.is_file()] if folder.exists() else []


def evidence_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Evidence.id)))


# --- ZIP containers -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name', ['policy.pdf', 'policy.odt', 'policy.docx'])
def test_a_zip_bomb_under_any_name_is_refused_without_being_inflated(section_post, name):
    payload = bomb('mimetype', 64 * 1024 * 1024)
    assert len(payload) < 256 * 1024
    responses = []
    peak = peak_memory(lambda: responses.append(section_post(payload, name)))
    assert responses[0].status_code == 400
    assert 'must be a PDF, DOCX, XLSX, ODT, PNG or JPEG' in responses[0].get_data(as_text=True) or \
        'is not a real' in responses[0].get_data(as_text=True)
    # the whole request (parsing the upload, checking it, rendering the form again) stays far below 64 MiB
    assert peak < 8 * 1024 * 1024, peak
    assert stored(section_post.folder) == [] and evidence_count() == 0


def test_the_odt_mimetype_member_is_read_with_a_bound_whatever_size_it_claims():
    from registry import uploads

    payload = bomb('mimetype', 32 * 1024 * 1024)
    assert peak_memory(lambda: sniff(payload)) < 2 * 1024 * 1024
    assert sniff(payload) is None
    assert uploads.read_zip_member(payload, 'mimetype', max_bytes=1024) is None


def test_real_office_documents_are_still_recognised_from_their_central_directory():
    from tests.qualification.conftest import DOCX_BYTES, XLSX_BYTES

    assert (sniff(DOCX_BYTES), sniff(XLSX_BYTES), sniff(ODT_BYTES)) == ('docx', 'xlsx', 'odt')
    # a big DOCX body is listed, never read
    big_docx = bomb('word/document.xml', 32 * 1024 * 1024, **{'[Content_Types].xml': b'<Types/>'})
    assert peak_memory(lambda: sniff(big_docx)) < 2 * 1024 * 1024
    assert sniff(big_docx) == 'docx'


def test_an_archive_listing_too_many_members_is_refused_before_its_directory_is_parsed(app_ctx, monkeypatch):
    from registry import uploads

    monkeypatch.setitem(app_ctx.config, 'ZIP_MAX_MEMBERS', 100)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as archive:
        archive.writestr('[Content_Types].xml', b'<Types/>')
        for n in range(150):
            archive.writestr(f'word/part{n}.xml', b'')
    crowded = buffer.getvalue()
    assert uploads.zip_member_count(crowded) == 151
    assert uploads.zip_members(crowded) is None
    with pytest.raises(EvidenceRejected, match='must be a PDF, DOCX'):
        check_upload(io.BytesIO(crowded), 'crowded.docx', 10 ** 7)


def test_a_zip64_directory_is_counted_from_its_zip64_record():
    from registry import uploads

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as archive:
        for n in range(66_000):  # more than the classic 16-bit count holds, so ZIP64 records are written
            archive.writestr(f'{n}', b'')
    started = time.monotonic()
    assert uploads.zip_member_count(buffer.getvalue()) == 66_000
    assert uploads.zip_members(buffer.getvalue(), max_members=5000) is None
    assert time.monotonic() - started < 1


# --- malware scanning with clamd --------------------------------------------------------------------------------

@pytest.fixture
def clamd(app_ctx, monkeypatch):
    server = FakeClamd()
    monkeypatch.setitem(app_ctx.config, 'CLAMD_SOCKET', server.path)
    monkeypatch.setitem(app_ctx.config, 'CLAMD_TIMEOUT', 5)
    with server:
        yield server
    server.remove()


def test_a_clean_file_is_streamed_to_clamd_and_stored(section_post, clamd):
    document = PDF_BYTES + b'%' + b'x' * (200 * 1024)  # several INSTREAM chunks
    response = section_post(document, 'complaints.pdf')
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    assert clamd.commands == [b'zINSTREAM\0'] and clamd.streams == [document]
    [path] = stored(section_post.folder)
    assert path.read_bytes() == document and evidence_count() == 1


def test_an_infected_file_is_refused_with_a_clear_message_and_nothing_is_stored(section_post, clamd):
    infected = PDF_BYTES + b'%' + EICAR + b'\n'
    response = section_post(infected, 'complaints.pdf')
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'govuk-error-summary' in page and 'contains a virus or other malware' in page
    assert clamd.streams == [infected]
    assert stored(section_post.folder) == [] and evidence_count() == 0


@pytest.mark.parametrize('outage', ['stopped', 'erroring', 'missing'])
def test_uploads_are_refused_while_clamd_cannot_give_a_verdict(section_post, app_ctx, monkeypatch, outage):
    server = FakeClamd(mode='error' if outage == 'erroring' else 'scan')
    monkeypatch.setitem(app_ctx.config, 'CLAMD_SOCKET', server.path)
    monkeypatch.setitem(app_ctx.config, 'CLAMD_TIMEOUT', 2)
    with server:
        if outage == 'stopped':
            server.stop()
        elif outage == 'missing':
            server.remove()
        started = time.monotonic()
        response = section_post(PDF_BYTES, 'complaints.pdf')
    server.remove()
    assert time.monotonic() - started < 5
    assert response.status_code == 400
    assert 'could not be checked for viruses at the moment' in response.get_data(as_text=True)
    assert stored(section_post.folder) == [] and evidence_count() == 0


def test_without_clamd_configured_nothing_is_scanned(app_ctx):
    from registry import uploads

    assert app_ctx.config['CLAMD_SOCKET'] == ''
    assert uploads.get_scanner() is None
    assert check_upload(io.BytesIO(PDF_BYTES + EICAR), 'a.pdf', 10 ** 6).size == len(PDF_BYTES + EICAR)


def test_a_registered_scanner_replaces_clamd(app_ctx):
    from registry import uploads

    class Refuses:
        def scan(self, content):
            return uploads.ScanResult(True, 'Test.Signature')

    uploads.register_scanner(app_ctx, Refuses())
    try:
        with pytest.raises(EvidenceRejected, match='contains a virus'):
            check_upload(io.BytesIO(PDF_BYTES), 'a.pdf', 10 ** 6)
    finally:
        app_ctx.extensions.pop('registry.scanner')


def test_clamd_is_documented():
    readme = (Path(__file__).resolve().parents[2] / 'README.md').read_text(encoding='utf-8')
    assert '`REGISTRY_CLAMD_SOCKET`' in readme and 'INSTREAM' in readme
