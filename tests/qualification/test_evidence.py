"""Upload checks: types recognised by content, names matched to content, size limit, safe display names."""

from __future__ import annotations

import hashlib
import io

import pytest

from qualification.evidence import EvidenceRejected, check_upload, sanitise_filename, sniff
from tests.qualification.conftest import DOCX_BYTES, ODT_BYTES, PDF_BYTES, PNG_BYTES, XLSX_BYTES, zip_bytes

JPEG_BYTES = b'\xff\xd8\xff\xe0\x00\x10JFIF\x00' + b'\x00' * 32
LIMIT = 1024 * 1024


@pytest.mark.parametrize(('filename', 'content', 'content_type'), [
    ('accounts.pdf', PDF_BYTES, 'application/pdf'),
    ('Policy.DOCX', DOCX_BYTES, 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'),
    ('matrix.xlsx', XLSX_BYTES, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'),
    ('policy.odt', ODT_BYTES, 'application/vnd.oasis.opendocument.text'),
    ('certificate.png', PNG_BYTES, 'image/png'),
    ('photo.jpeg', JPEG_BYTES, 'image/jpeg'),
    ('photo.jpg', JPEG_BYTES, 'image/jpeg'),
])
def test_allowed_types_are_accepted_by_content(filename, content, content_type):
    checked = check_upload(io.BytesIO(content), filename, LIMIT)
    assert checked.content_type == content_type and checked.size == len(content)
    assert checked.sha256 == hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize(('filename', 'content', 'message'), [
    ('image.pdf', PNG_BYTES, 'is not a real PDF: its content is a PNG image'),
    ('letter.docx', XLSX_BYTES, 'is not a real Word document (DOCX): its content is a Excel spreadsheet'),
    ('letter.docx', zip_bytes({'word/document.xml': b'x'}), 'must be a PDF, DOCX'),  # no [Content_Types].xml
    ('letter.odt', zip_bytes({'mimetype': b'application/zip'}), 'must be a PDF, DOCX'),
    ('archive.zip', zip_bytes({'a.txt': b'x'}), 'must be a PDF, DOCX'),
    ('script.pdf', b'<script>alert(1)</script>', 'must be a PDF, DOCX'),
    ('noextension', PDF_BYTES, 'must be a PDF, DOCX'),
    ('empty.pdf', b'', 'The selected file is empty'),
    ('big.pdf', PDF_BYTES + b'0' * LIMIT, 'must be smaller than 1MB'),
])
def test_disallowed_or_mismatched_uploads_are_rejected(filename, content, message):
    with pytest.raises(EvidenceRejected, match=message.replace('(', r'\(').replace(')', r'\)')):
        check_upload(io.BytesIO(content), filename, LIMIT)


@pytest.mark.parametrize(('raw', 'clean'), [
    ('../../etc/passwd.pdf', 'passwd.pdf'),
    ('C:\\Users\\pat\\accounts.pdf', 'accounts.pdf'),
    ('acc\x00ou\nnts\r.pdf', 'accounts.pdf'),
    ('.hidden.pdf', 'hidden.pdf'),
    ('   ', 'document'),
    ('a' * 300 + '.pdf', 'a' * 140 + '.pdf'),
])
def test_hostile_filenames_are_sanitised(raw, clean):
    assert sanitise_filename(raw) == clean


def test_sniff_ignores_the_extension_entirely():
    assert sniff(PDF_BYTES) == 'pdf' and sniff(b'GIF89a') is None
