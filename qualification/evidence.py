"""Checking uploaded evidence: allow-listed types recognised by content, a size limit and safe display names."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from typing import BinaryIO

from registry import uploads

#: Extension -> (content type, human name). The content must match the extension.
ALLOWED: dict[str, tuple[str, str]] = {
    'pdf': ('application/pdf', 'PDF'),
    'docx': ('application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'Word document (DOCX)'),
    'xlsx': ('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'Excel spreadsheet (XLSX)'),
    'odt': ('application/vnd.oasis.opendocument.text', 'OpenDocument text (ODT)'),
    'png': ('image/png', 'PNG image'),
    'jpg': ('image/jpeg', 'JPEG image'),
    'jpeg': ('image/jpeg', 'JPEG image'),
}
ALLOWED_DESCRIPTION = 'PDF, DOCX, XLSX, ODT, PNG or JPEG'


class EvidenceRejected(ValueError):
    """The upload cannot be accepted; the message is shown to the user."""


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check, read into memory (uploads are at most MAX_UPLOAD_MB)."""

    filename: str
    content_type: str
    size: int
    sha256: str
    content: bytes

    def stream(self) -> BinaryIO:
        return io.BytesIO(self.content)


def sanitise_filename(raw: str) -> str:
    """A display name safe to store and show: no path, no control characters, bounded length."""
    name = unicodedata.normalize('NFC', raw or '')
    name = re.split(r'[\\/]', name)[-1]
    name = ''.join(ch for ch in name if unicodedata.category(ch)[0] != 'C')
    name = re.sub(r'\s+', ' ', name).strip().lstrip('.').strip()
    if len(name) > 150:
        stem, dot, ext = name.rpartition('.')
        name = (stem[:140] + dot + ext) if dot and len(ext) <= 8 else name[:150]
    return name or 'document'


def sniff(content: bytes) -> str | None:
    """The allow-listed extension that ``content`` really is (``jpg`` for any JPEG), or None.

    ZIP-based formats are told apart by their central directory; only ODT's tiny ``mimetype`` member is ever
    inflated, and only up to a bound (see :mod:`registry.uploads`), so a zip bomb is never expanded.
    """
    if content.startswith(b'%PDF-'):
        return 'pdf'
    if content.startswith(b'\x89PNG\r\n\x1a\n'):
        return 'png'
    if content.startswith(b'\xff\xd8\xff'):
        return 'jpg'
    if content.startswith(b'PK\x03\x04'):
        members = uploads.zip_members(content)
        if members is None:
            return None
        if '[Content_Types].xml' in members:
            if any(name.startswith('word/') for name in members):
                return 'docx'
            if any(name.startswith('xl/') for name in members):
                return 'xlsx'
            return None
        if 'mimetype' in members:
            mimetype = uploads.read_zip_member(content, 'mimetype', max_bytes=256)
            if mimetype is not None and mimetype.decode('ascii', 'replace').strip() == ALLOWED['odt'][0]:
                return 'odt'
    return None


def check_upload(fileobj: BinaryIO, filename: str, max_bytes: int) -> CheckedUpload:
    """Read and check an upload; raise :class:`EvidenceRejected` with a GOV.UK-style message."""
    display = sanitise_filename(filename)
    extension = display.rpartition('.')[2].lower() if '.' in display else ''
    if extension not in ALLOWED:
        raise EvidenceRejected(f'The selected file must be a {ALLOWED_DESCRIPTION}')
    content = fileobj.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise EvidenceRejected(f'The selected file must be smaller than {max_bytes // (1024 * 1024)}MB')
    if not content:
        raise EvidenceRejected('The selected file is empty')
    kind = sniff(content)
    expected = 'jpg' if extension == 'jpeg' else extension
    if kind is None:
        raise EvidenceRejected(f'The selected file must be a {ALLOWED_DESCRIPTION}')
    if kind != expected:
        raise EvidenceRejected(f'The selected file is not a real {ALLOWED[expected][1]}: its content is a '
                               f'{ALLOWED[kind][1]}. Check the file and its name')
    try:
        uploads.scan(content)
    except uploads.ScannerUnavailableError:
        raise EvidenceRejected('The selected file could not be checked for viruses at the moment, so it has not '
                               'been saved. Try again in a few minutes') from None
    except uploads.UploadRejected as exc:
        raise EvidenceRejected(str(exc)) from None
    return CheckedUpload(filename=display, content_type=ALLOWED[kind][0], size=len(content),
                         sha256=hashlib.sha256(content).hexdigest(), content=content)
