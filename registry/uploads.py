"""Looking inside uploaded files safely, and scanning them for malware.

ZIP-based formats (DOCX, XLSX, ODT) are recognised from their central directory, which lists the members
without inflating anything; the directory's size is checked before it is parsed, and the one member ever read
(ODT's ``mimetype``) is inflated only up to a small bound, so a zip bomb costs a few kilobytes of memory.

Malware scanning is a hook: :func:`scan` asks the app's scanner, which is clamd (over its INSTREAM protocol on a
Unix socket) when ``CLAMD_SOCKET`` is set, or any object registered with :func:`register_scanner`.
"""

from __future__ import annotations

import io
import logging
import socket
import struct
import zipfile
from dataclasses import dataclass
from typing import Protocol

from flask import Flask, current_app, has_app_context

log = logging.getLogger(__name__)

#: Defaults when no app is at hand (the app's ZIP_INSPECT_MAX_BYTES and ZIP_MAX_MEMBERS win).
DEFAULT_INSPECT_MAX_BYTES = 64 * 1024
DEFAULT_MAX_MEMBERS = 5000

_EOCD = b'PK\x05\x06'
_ZIP64_LOCATOR = b'PK\x06\x07'
_ZIP64_EOCD = b'PK\x06\x06'


class UploadRejected(ValueError):
    """The upload cannot be accepted; the message is shown to the person who sent it."""


class ScannerUnavailableError(UploadRejected):
    """The malware scanner could not give a verdict (down, too slow, or refused the file)."""


def _setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default)) if has_app_context() else default


def zip_member_count(content: bytes) -> int | None:
    """The number of members the archive's end-of-central-directory record declares, or None if there is none."""
    tail_start = max(0, len(content) - (65535 + 22))
    at = content.rfind(_EOCD, tail_start)
    if at < 0 or len(content) < at + 22:
        return None
    count = struct.unpack_from('<H', content, at + 10)[0]
    if count != 0xFFFF:
        return count
    locator = at - 20
    if locator < 0 or content[locator:locator + 4] != _ZIP64_LOCATOR:
        return None
    record = struct.unpack_from('<Q', content, locator + 8)[0]
    if record + 56 > len(content) or content[record:record + 4] != _ZIP64_EOCD:
        return None
    return struct.unpack_from('<Q', content, record + 32)[0]


def zip_members(content: bytes, *, max_members: int | None = None) -> dict[str, zipfile.ZipInfo] | None:
    """The members of a ZIP archive by name, read from its central directory only (nothing is inflated).

    :returns: None when ``content`` is not a readable archive or lists more than ``max_members`` members.
    """
    limit = max_members if max_members is not None else _setting('ZIP_MAX_MEMBERS', DEFAULT_MAX_MEMBERS)
    count = zip_member_count(content)
    if count is None or count > limit:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return None
    if len(infos) > limit:
        return None
    return {info.filename: info for info in infos}


def read_zip_member(content: bytes, name: str, *, max_bytes: int | None = None) -> bytes | None:
    """A member's bytes, inflating at most ``max_bytes`` (whatever size the archive claims), or None."""
    limit = max_bytes if max_bytes is not None else _setting('ZIP_INSPECT_MAX_BYTES', DEFAULT_INSPECT_MAX_BYTES)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            info = archive.getinfo(name)
            if info.file_size > limit:
                return None
            with archive.open(info) as member:
                data = member.read(limit + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, OSError, EOFError, NotImplementedError,
            RuntimeError):
        return None
    return data if len(data) <= limit else None


# --- malware scanning ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    """A scanner's verdict: clean, or infected with a named signature."""

    infected: bool
    signature: str = ''


class Scanner(Protocol):
    """Anything that can judge an upload; raise :class:`ScannerUnavailableError` when it cannot."""

    def scan(self, content: bytes) -> ScanResult: ...


class ClamdScanner:
    """clamd over a Unix socket, speaking its INSTREAM protocol.

    The command ``zINSTREAM\\0`` is followed by chunks, each a 4-byte big-endian length and that many bytes, and a
    zero-length chunk to finish; clamd answers ``stream: OK``, ``stream: <signature> FOUND`` or ``... ERROR``,
    terminated by a NUL byte.
    """

    CHUNK = 64 * 1024

    def __init__(self, socket_path: str, timeout: float = 30):
        self.socket_path, self.timeout = socket_path, timeout

    def scan(self, content: bytes) -> ScanResult:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(self.socket_path)
                try:
                    sock.sendall(b'zINSTREAM\0')
                    for start in range(0, len(content), self.CHUNK):
                        chunk = content[start:start + self.CHUNK]
                        sock.sendall(struct.pack('!I', len(chunk)) + chunk)
                    sock.sendall(struct.pack('!I', 0))
                except BrokenPipeError:
                    pass  # clamd stopped reading (e.g. its size limit): its reply says why
                reply = self._read_reply(sock)
        except OSError as exc:
            log.error('clamd at %s could not be reached: %s', self.socket_path, exc)
            raise ScannerUnavailableError(f'clamd could not be reached: {exc}') from None
        return self._verdict(reply)

    @staticmethod
    def _read_reply(sock: socket.socket) -> str:
        data = b''
        while b'\0' not in data and len(data) < 4096:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.split(b'\0', 1)[0].decode('utf-8', 'replace').strip()

    def _verdict(self, reply: str) -> ScanResult:
        if reply.endswith('FOUND'):
            signature = reply.removeprefix('stream:').removesuffix('FOUND').strip()
            return ScanResult(True, signature or 'unknown')
        if reply == 'stream: OK':
            return ScanResult(False)
        log.error('clamd at %s gave no verdict: %r', self.socket_path, reply)
        raise ScannerUnavailableError(f'clamd gave no verdict: {reply!r}')


def register_scanner(app: Flask, scanner: Scanner | None) -> None:
    """Use ``scanner`` for every upload to ``app`` (instead of clamd from ``CLAMD_SOCKET``)."""
    app.extensions['registry.scanner'] = scanner


def get_scanner(app: Flask | None = None) -> Scanner | None:
    """The app's scanner: a registered one, else clamd when ``CLAMD_SOCKET`` is set, else None (no scanning)."""
    app = app or current_app
    if 'registry.scanner' in app.extensions:
        return app.extensions['registry.scanner']
    path = app.config.get('CLAMD_SOCKET')
    return ClamdScanner(path, float(app.config.get('CLAMD_TIMEOUT', 30))) if path else None


def scan(content: bytes) -> None:
    """Scan an upload with the app's scanner, if it has one.

    :raises UploadRejected: the file is infected.
    :raises ScannerUnavailableError: the scanner gave no verdict (uploads are refused until it does).
    """
    if not has_app_context():
        return
    scanner = get_scanner()
    if scanner is None:
        return
    result = scanner.scan(content)
    if result.infected:
        log.warning('upload refused: malware %s', result.signature)
        raise UploadRejected('The selected file contains a virus or other malware, so it has not been saved')
