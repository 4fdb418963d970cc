"""Document storage behind one interface: a local folder (the default) or S3 via boto3.

Keys are chosen by the caller (random, never guessable). Downloads go through :meth:`Storage.url`:
for S3 a presigned GET URL, for the local folder an app route carrying an itsdangerous-signed token
that names the key and expires, so files are never served from a guessable path.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import re
import secrets
import shutil
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import quote

from flask import Blueprint, Flask, abort, current_app, send_file, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from registry.errors import DomainError

log = logging.getLogger(__name__)

#: Keys are path-like but restricted, so a key can never climb out of the storage root.
KEY_PATTERN = re.compile(r'^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-.]+)*$')
_TOKEN_SALT = 'registry.storage.download'

bp = Blueprint('storage', __name__, url_prefix='/documents')


#: Suffix of the temporary files LocalStorage writes before renaming them into place.
PARTIAL_SUFFIX = '.partial'


class StorageError(Exception):
    """A key is malformed or missing."""


class StorageUnavailableError(DomainError):
    """The document store refused a write (full, read-only, unreachable): nothing was stored; try again later."""

    def __init__(self, detail: str = ''):
        super().__init__('The document could not be saved because the document store is not available at the '
                         'moment. Nothing has been saved: try again in a few minutes.')
        self.detail = detail


@dataclass(frozen=True)
class StoredBlob:
    """One object in the store, as :meth:`Storage.blobs` lists it."""

    key: str
    size: int
    modified_at: datetime
    #: A temporary file (LocalStorage) or multipart upload (S3) left by a write that never finished.
    is_partial: bool = False
    #: S3's id of an unfinished multipart upload.
    upload_id: str = ''


class Storage(Protocol):
    """Where uploaded documents live."""

    def save(self, key: str, fileobj: BinaryIO, content_type: str) -> str: ...

    def open(self, key: str) -> BinaryIO: ...

    def delete(self, key: str) -> None: ...

    def url(self, key: str, filename: str, expires: int | None = None) -> str: ...

    def blobs(self) -> Iterator[StoredBlob]: ...

    def delete_blob(self, blob: StoredBlob) -> None: ...


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe storage key, else raise :class:`StorageError`."""
    if not isinstance(key, str) or not KEY_PATTERN.match(key) or '..' in key or len(key) > 200:
        raise StorageError(f'invalid storage key {key!r}')
    return key


def _content_disposition_name(filename: str) -> str:
    """A filename safe inside a Content-Disposition header: letters of any alphabet, digits, spaces and ``._()-``.

    Anything else (quotes, semicolons, slashes, control and direction-changing characters) becomes ``_``, so a
    hostile name can never end the header value, add a parameter or disguise its extension.
    """
    name = unicodedata.normalize('NFC', filename or 'document')
    cleaned = re.sub(r'[^\w .()\-]', '_', name)[:150].strip()
    return cleaned or 'document'


def attachment_disposition(filename: str) -> str:
    """The ``Content-Disposition`` of a download, the same from either store (RFC 6266).

    ``filename`` is plain ASCII for old clients ("Ünï cödé.pdf" reads "Uni code.pdf"); a name that is not ASCII
    also goes out exactly, percent-encoded, as RFC 5987's ``filename*=UTF-8''...``, which browsers prefer.
    """
    name = _content_disposition_name(filename)
    letters = ''.join(char for char in unicodedata.normalize('NFKD', name) if not unicodedata.combining(char))
    fallback = re.sub(r'[^A-Za-z0-9 ._()\-]', '_', letters)
    if fallback == name:
        return f'attachment; filename="{name}"'
    encoded = quote(name, safe="!#$&+-.^_`|~")  # RFC 5987 attr-char, as Werkzeug's send_file encodes it
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


class LocalStorage:
    """Files in a folder; the download URL is an app route with a signed, expiring token."""

    def __init__(self, root: str | Path, secret_key: str, default_expires: int = 300):
        self.root = Path(root)
        self.secret_key = secret_key
        self.default_expires = default_expires

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise StorageError(f'invalid storage key {key!r}')
        return path

    def save(self, key: str, fileobj: BinaryIO, content_type: str) -> str:
        """Write ``fileobj`` under ``key`` atomically: a half-written file never appears under the key.

        The bytes go to a temporary file of a name used once, which is renamed into place when complete and
        removed on any failure, so a failed write (disk full, folder read-only) leaves nothing behind to block
        later ones.

        :raises StorageUnavailableError: the folder cannot be written.
        """
        path = self._path(key)
        partial = path.with_name(f'.{path.name}.{secrets.token_hex(8)}{PARTIAL_SUFFIX}')
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with partial.open('xb') as out:
                shutil.copyfileobj(fileobj, out)
                out.flush()
                os.fsync(out.fileno())
            partial.replace(path)
        except OSError as exc:
            log.error('could not store document %s: %s', key, exc)
            raise StorageUnavailableError(str(exc)) from exc
        finally:
            try:
                partial.unlink(missing_ok=True)
            except OSError as exc:  # the folder itself may be what failed
                log.warning('could not remove temporary file %s: %s', partial, exc)
        return key

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        if not path.is_file():
            raise StorageError(f'no document stored under {key!r}')
        return path.open('rb')

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def blobs(self) -> Iterator[StoredBlob]:
        """Every stored file (and every leftover temporary file), with its size and last change."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob('*')):
            if not path.is_file():
                continue
            stat = path.stat()
            modified = datetime.fromtimestamp(stat.st_mtime, UTC)
            key = path.relative_to(self.root).as_posix()
            yield StoredBlob(key, stat.st_size, modified, is_partial=path.name.endswith(PARTIAL_SUFFIX))

    def delete_blob(self, blob: StoredBlob) -> None:
        """Remove a listed file, temporary or not."""
        path = (self.root / blob.key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise StorageError(f'invalid storage key {blob.key!r}')
        path.unlink(missing_ok=True)

    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret_key, salt=_TOKEN_SALT)

    def make_token(self, key: str, filename: str, expires: int | None = None) -> str:
        expires_at = int(time.time()) + int(expires if expires is not None else self.default_expires)
        return self._serializer().dumps({'k': check_key(key), 'f': filename, 'e': expires_at})

    def read_token(self, token: str) -> tuple[str, str]:
        """Return (key, filename) from a valid, unexpired token; raise :class:`StorageError` otherwise."""
        try:
            data = self._serializer().loads(token)
        except BadSignature:
            raise StorageError('bad download token') from None
        if not isinstance(data, dict) or int(data.get('e', 0)) < time.time():
            raise StorageError('download link has expired')
        return check_key(data['k']), str(data.get('f') or 'document')

    def url(self, key: str, filename: str, expires: int | None = None) -> str:
        return url_for('storage.download', token=self.make_token(key, filename, expires), _external=False)


class S3Storage:
    """Objects in an S3 bucket (or an S3-compatible server); downloads by presigned GET URL."""

    def __init__(self, bucket: str, *, prefix: str = '', endpoint_url: str = '', region: str = '',
                 default_expires: int = 300, client=None):
        if not bucket:
            raise StorageError('S3_BUCKET must be set to use S3 storage')
        self.bucket, self.prefix = bucket, prefix
        self.endpoint_url, self.region = endpoint_url or None, region or None
        self.default_expires = default_expires
        self._client = client

    @property
    def client(self):
        """The boto3 client, created on first use (never at import time)."""
        if self._client is None:
            import boto3
            from botocore.config import Config as BotoConfig

            self._client = boto3.client(
                's3', endpoint_url=self.endpoint_url, region_name=self.region,
                config=BotoConfig(signature_version='s3v4', s3={'addressing_style': 'path'}))
        return self._client

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def save(self, key: str, fileobj: BinaryIO, content_type: str) -> str:
        """Upload ``fileobj`` (S3 makes it visible only once complete).

        :raises StorageUnavailableError: S3 cannot be reached or refused the object.
        """
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.upload_fileobj(fileobj, self.bucket, self._key(key),
                                       ExtraArgs={'ContentType': content_type or 'application/octet-stream'})
        except (BotoCoreError, ClientError, S3UploadFailedError) as exc:
            log.error('could not store document %s in S3: %s', key, exc)
            raise StorageUnavailableError(str(exc)) from exc
        return key

    def open(self, key: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))['Body']
        except ClientError as exc:
            raise StorageError(f'no document stored under {key!r}: {exc}') from None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def blobs(self) -> Iterator[StoredBlob]:
        """Every object under the prefix, and every multipart upload never completed, with size and time."""
        paginator = self.client.get_paginator('list_objects_v2')
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get('Contents', []):
                yield StoredBlob(item['Key'][len(self.prefix):], int(item['Size']), item['LastModified'])
        uploads = self.client.get_paginator('list_multipart_uploads')
        for page in uploads.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get('Uploads', []):
                yield StoredBlob(item['Key'][len(self.prefix):], 0, item['Initiated'], is_partial=True,
                                 upload_id=item['UploadId'])

    def delete_blob(self, blob: StoredBlob) -> None:
        if blob.upload_id:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.prefix + blob.key,
                                               UploadId=blob.upload_id)
        else:
            self.client.delete_object(Bucket=self.bucket, Key=self.prefix + blob.key)

    def url(self, key: str, filename: str, expires: int | None = None) -> str:
        return self.client.generate_presigned_url(
            'get_object',
            Params={'Bucket': self.bucket, 'Key': self._key(key),
                    'ResponseContentDisposition': attachment_disposition(filename)},
            ExpiresIn=int(expires if expires is not None else self.default_expires))


def build_storage(config) -> Storage:
    """Make the storage backend that ``config['STORAGE_BACKEND']`` names."""
    backend = config.get('STORAGE_BACKEND', 'local')
    expires = int(config.get('SIGNED_URL_SECONDS', 300))
    if backend == 'local':
        return LocalStorage(config['STORAGE_LOCAL_DIR'], config['SECRET_KEY'], expires)
    if backend == 's3':
        return S3Storage(config.get('S3_BUCKET', ''), prefix=config.get('S3_PREFIX', ''),
                         endpoint_url=config.get('S3_ENDPOINT_URL', ''), region=config.get('S3_REGION', ''),
                         default_expires=expires)
    raise StorageError(f'unknown STORAGE_BACKEND {backend!r}; expected local or s3')


def get_storage(app: Flask | None = None) -> Storage:
    """The app's storage backend, built once from config and kept on ``app.extensions``."""
    app = app or current_app
    signature = tuple(app.config.get(key) for key in ('STORAGE_BACKEND', 'STORAGE_LOCAL_DIR', 'S3_BUCKET',
                                                      'S3_ENDPOINT_URL', 'S3_PREFIX', 'SIGNED_URL_SECONDS'))
    cached = app.extensions.get('registry.storage')
    if cached is None or cached[0] != signature:
        cached = (signature, build_storage(app.config))
        app.extensions['registry.storage'] = cached
    return cached[1]


# --- finding orphans: blobs with no row, rows with no blob ---------------------------------------------------------

#: A function returning every storage key the database refers to.
KeySource = Callable[[], Iterable[str]]


def register_references(app: Flask, name: str, keys: KeySource) -> None:
    """Declare that a feature's rows refer to stored documents (``keys()`` lists their keys).

    ``flask registry storage-check`` treats a blob as in use when any registered source lists its key, so the core
    needs to know nothing about the features that store documents.
    """
    app.extensions.setdefault('registry.storage.references', {})[name] = keys


@dataclass
class StorageReport:
    """What ``storage-check`` found and did."""

    blobs: int = 0
    referenced: int = 0
    #: Blobs no row refers to (left by a crash between writing the file and committing its row).
    orphans: list[StoredBlob] = field(default_factory=list)
    #: Temporary files from writes that never finished.
    partials: list[StoredBlob] = field(default_factory=list)
    #: (source, key): rows whose blob is not in the store.
    missing: list[tuple[str, str]] = field(default_factory=list)
    removed: list[StoredBlob] = field(default_factory=list)


def check_storage(app: Flask, *, remove_older_than: timedelta | None, now: datetime | None = None) -> StorageReport:
    """Compare the store with the database; remove orphans and leftovers older than ``remove_older_than``.

    Younger orphans are only reported: an upload in progress has its file before its row is committed.
    """
    now = now or datetime.now(UTC)
    storage = get_storage(app)
    report = StorageReport()
    in_use: dict[str, str] = {}
    for name, source in app.extensions.get('registry.storage.references', {}).items():
        for key in source():
            in_use.setdefault(key, name)
    report.referenced = len(in_use)
    present = set()
    for blob in storage.blobs():
        report.blobs += 1
        if blob.is_partial:
            report.partials.append(blob)
        elif blob.key in in_use:
            present.add(blob.key)
            continue
        else:
            report.orphans.append(blob)
        if remove_older_than is not None and now - blob.modified_at >= remove_older_than:
            storage.delete_blob(blob)
            report.removed.append(blob)
    report.missing = sorted((name, key) for key, name in in_use.items() if key not in present)
    return report


@bp.route('/<token>')
def download(token: str):
    """Serve a locally stored document to whoever holds a valid, unexpired signed link."""
    storage = get_storage()
    if not isinstance(storage, LocalStorage):
        abort(404)
    try:
        key, filename = storage.read_token(token)
        fileobj = storage.open(key)
    except StorageError:
        abort(404)
    mimetype = mimetypes.guess_type(filename)[0] or 'application/octet-stream'
    response = send_file(fileobj, mimetype=mimetype, max_age=0)
    response.headers['Content-Disposition'] = attachment_disposition(filename)
    response.headers['Cache-Control'] = 'private, no-store'
    return response
