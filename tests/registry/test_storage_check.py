"""``flask registry storage-check``: blobs with no row, rows with no blob, and orphans removed after a day.

The orphan is made the way production makes one: a process writing an upload is killed (SIGKILL) after the file is
stored and before its row is committed.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qualification import services
from qualification.applications import Evidence
from qualification.evidence import check_upload
from registry.accounts.models import Role
from registry.extensions import db
from tests.factories import make_user
from tests.qualification.conftest import PDF_BYTES, make_organisation
from tests.registry.test_storage import moto_endpoint  # noqa: F401 - the session fixture, reused

ROOT = Path(__file__).resolve().parents[2]

KILLED_UPLOAD = textwrap.dedent('''
    import io, os, signal, sys
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from registry.app import create_app
    url, folder, application_id, user_id = sys.argv[1:5]
    app = create_app({'SQLALCHEMY_DATABASE_URI': url, 'STORAGE_LOCAL_DIR': folder, 'SECRET_KEY': 'x',
                      'SERVER_NAME': 'localhost'})
    with app.test_request_context():
        from qualification import services
        from qualification.applications import Application
        from qualification.evidence import check_upload
        from registry.accounts.models import User
        from registry.extensions import db
        application, user = db.session.get(Application, int(application_id)), db.session.get(User, int(user_id))
        upload = check_upload(io.BytesIO(sys.stdin.buffer.read()), 'killed.pdf', 10 ** 7)
        # the power goes, or kill -9, after the file is written and before the row is committed
        event.listen(Session, 'before_commit', lambda session: os.kill(os.getpid(), signal.SIGKILL))
        services.upload_evidence(application, 'pol-complaints', upload, actor=user)
''')


@pytest.fixture
def store(app_ctx, tmp_path, monkeypatch):
    folder = tmp_path / 'documents'
    monkeypatch.setitem(app_ctx.config, 'STORAGE_BACKEND', 'local')
    monkeypatch.setitem(app_ctx.config, 'STORAGE_LOCAL_DIR', str(folder))
    owner = make_user(Role.PROVIDER)
    organisation = make_organisation()
    from registry.organisations.models import MemberRole, Membership

    db.session.add(Membership(user=owner, organisation=organisation, role=MemberRole.OWNER))
    db.session.commit()
    application = services.start_application(organisation, ['childrens-homes'], actor=owner)
    return folder, application, owner


def _upload(application, owner, name: str) -> Evidence:
    return services.upload_evidence(application, 'pol-complaints', check_upload(io.BytesIO(PDF_BYTES), name, 10 ** 6),
                                    actor=owner)


def _age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def _run(app, *args):
    return app.test_cli_runner().invoke(args=['registry', 'storage-check', *args])


def test_storage_check_finds_and_removes_what_a_killed_upload_left_and_reports_missing_blobs(store, app_ctx):
    folder, application, owner = store
    kept = _upload(application, owner, 'kept.pdf')
    lost = _upload(application, owner, 'lost.pdf')
    (folder / lost.storage_key).unlink()  # a row whose blob has gone (restored from an old backup, say)
    evidence_rows = db.session.scalar(select(func.count(Evidence.id)))
    application_id, owner_id, kept_key, lost_key = application.id, owner.id, kept.storage_key, lost.storage_key
    db.session.remove()

    killed = subprocess.run([sys.executable, '-c', KILLED_UPLOAD, app_ctx.config['SQLALCHEMY_DATABASE_URI'],
                             str(folder), str(application_id), str(owner_id)],
                            input=PDF_BYTES + b'%' + b'0' * 4096, cwd=ROOT, capture_output=True, timeout=120)
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    assert db.session.scalar(select(func.count(Evidence.id))) == evidence_rows  # no row was committed
    stored = {str(path.relative_to(folder)) for path in folder.rglob('*') if path.is_file()}
    [orphan] = stored - {kept_key}
    assert (folder / orphan).stat().st_size == len(PDF_BYTES) + 4097

    # leftovers of writes that never finished: one old, one young (possibly still being written)
    old_partial = folder / 'evidence' / f'.{Path(orphan).name}x.0123456789abcdef.partial'
    old_partial.write_bytes(b'half a file')
    _age(old_partial, 30)
    young_partial = folder / 'evidence' / '.young.fedcba9876543210.partial'
    young_partial.write_bytes(b'in progress')

    dry = _run(app_ctx, '--dry-run')
    assert dry.exit_code == 1  # a row has no blob: someone must look
    assert 'Orphans (no row):       1' in dry.output
    assert 'Unfinished temporaries: 2' in dry.output
    assert f'qualification evidence: {lost_key}' in dry.output
    assert 'Removed:                0' in dry.output

    young = _run(app_ctx)  # the orphan is minutes old: an upload may still be committing it, so it stays
    assert 'Removed:                1' in young.output and (folder / orphan).exists() and not old_partial.exists()

    _age(folder / orphan, 25)
    day_old = _run(app_ctx)
    assert 'Removed:                1' in day_old.output
    assert not (folder / orphan).exists()
    assert (folder / kept_key).read_bytes() == PDF_BYTES  # what a row refers to is never touched
    assert young_partial.exists()
    assert day_old.exit_code == 1 and f'qualification evidence: {lost_key}' in day_old.output


def test_storage_check_is_clean_when_store_and_rows_agree(store, app_ctx):
    folder, application, owner = store
    _upload(application, owner, 'a.pdf')
    result = _run(app_ctx)
    assert result.exit_code == 0, result.output
    assert 'Orphans (no row):       0' in result.output and 'Rows with no blob:      0' in result.output


def test_storage_check_on_s3_removes_day_old_orphans_and_abandoned_multipart_uploads(app_ctx, moto_endpoint,  # noqa: F811
                                                                                     monkeypatch):
    import boto3

    from registry.storage import check_storage, get_storage

    monkeypatch.setenv('AWS_ACCESS_KEY_ID', 'testing')
    monkeypatch.setenv('AWS_SECRET_ACCESS_KEY', 'testing')
    bucket = f'check-{os.getpid()}-{time.monotonic_ns()}'
    s3 = boto3.client('s3', endpoint_url=moto_endpoint, region_name='eu-west-2')
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={'LocationConstraint': 'eu-west-2'})
    for key, value in (('STORAGE_BACKEND', 's3'), ('S3_BUCKET', bucket), ('S3_ENDPOINT_URL', moto_endpoint),
                       ('S3_PREFIX', 'registry/')):
        monkeypatch.setitem(app_ctx.config, key, value)
    owner = make_user(Role.PROVIDER)
    organisation = make_organisation()
    from registry.organisations.models import MemberRole, Membership

    db.session.add(Membership(user=owner, organisation=organisation, role=MemberRole.OWNER))
    db.session.commit()
    application = services.start_application(organisation, ['childrens-homes'], actor=owner)
    kept = _upload(application, owner, 'kept.pdf')
    get_storage().save('evidence/0/orphan', io.BytesIO(b'%PDF-1.4 orphan'), 'application/pdf')
    s3.create_multipart_upload(Bucket=bucket, Key='registry/evidence/0/abandoned')

    found = check_storage(app_ctx, remove_older_than=None)
    assert [blob.key for blob in found.orphans] == ['evidence/0/orphan'] and found.removed == []
    assert [blob.key for blob in found.partials] == ['evidence/0/abandoned']
    later = check_storage(app_ctx, remove_older_than=timedelta(days=1), now=datetime.now(UTC) + timedelta(days=2))
    assert sorted(blob.key for blob in later.removed) == ['evidence/0/abandoned', 'evidence/0/orphan']
    keys = [item['Key'] for item in s3.list_objects_v2(Bucket=bucket).get('Contents', [])]
    assert keys == [f'registry/{kept.storage_key}']
    assert s3.list_multipart_uploads(Bucket=bucket).get('Uploads', []) == []
