"""Storage and database failures in the middle of a submission lose no answers and leave nothing half-written.

Real database, real storage: LocalStorage on a temporary folder, S3 through moto's server over HTTP, and an S3
endpoint on a closed port for a storage outage. Database failures are real constraint violations raised by the
database inside the unit of work (an audit row the database refuses), not mocks.
"""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from qualification import services
from qualification.applications import Answer, Application, Evidence
from qualification.evidence import check_upload
from qualification.schemes import load_scheme
from qualification.states import ApplicationStatus
from registry.accounts.models import Role
from registry.audit import services as audit_services
from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.indexing import ReindexRequest
from registry.notifications.models import OutboxEmail
from registry.storage import StorageUnavailableError
from tests.factories import make_user
from tests.qualification.conftest import PDF_BYTES, stored_answers
from tests.registry.organisations.helpers import make_organisation
from tests.registry.test_storage import moto_endpoint  # noqa: F401 - the session fixture, reused

LOTS = ['childrens-homes']


def pdf(name: str = 'policy.pdf'):
    return check_upload(io.BytesIO(PDF_BYTES), name, 1024 * 1024)


@pytest.fixture
def draft(app_ctx, tmp_path, monkeypatch):
    """A provider's draft with every section answered and every document uploaded, on LocalStorage in tmp_path."""
    monkeypatch.setitem(app_ctx.config, 'STORAGE_BACKEND', 'local')
    monkeypatch.setitem(app_ctx.config, 'STORAGE_LOCAL_DIR', str(tmp_path / 'documents'))
    owner = make_user(Role.PROVIDER)
    organisation = make_organisation(owner)
    application = services.start_application(organisation, LOTS, actor=owner)
    scheme = load_scheme(application.scheme_version)
    for section_id, values in stored_answers(scheme, LOTS).items():
        section = scheme.section(section_id)
        evidence = {question.id: [pdf(f'{question.id}.pdf')] for question in section.questions_for(LOTS)
                    if question.type == 'evidence'}
        services.save_answers(application, section_id, values, actor=owner, uploads=evidence)
    return application, owner


def documents(app) -> set[str]:
    root = Path(app.config['STORAGE_LOCAL_DIR'])
    return {str(path.relative_to(root)) for path in root.rglob('*') if path.is_file()}


def state(application_id: int) -> dict:
    """Everything a submission could touch, read fresh from the database."""
    db.session.expire_all()
    application = db.session.get(Application, application_id)
    return {
        'status': application.status, 'snapshot': application.snapshot, 'submitted_at': application.submitted_at,
        'declared_at': application.declared_at,
        'answers': {answer.question_id: (answer.value, answer.outcome) for answer in application.answers},
        'evidence': sorted((item.question_id, item.storage_key) for item in application.evidence),
        'audit': db.session.scalar(select(func.count(AuditEvent.id))),
        'emails': db.session.scalar(select(func.count(OutboxEmail.id))),
        'reindex': db.session.scalar(select(func.count(ReindexRequest.id))),
    }


def refuse_audit(monkeypatch, module, action: str):
    """Make the database refuse the audit row for ``action``: a NOT NULL violation raised by the database itself."""
    real = audit_services.record

    def record(name, obj, **kwargs):
        event = real(name, obj, **kwargs)
        if name == action:
            db.session.add(AuditEvent(action=name, object_type=None, object_id=None))
            db.session.flush()  # the database raises IntegrityError here, inside the unit of work
        return event

    monkeypatch.setattr(module, 'record', record)


def test_a_database_failure_during_submit_rolls_everything_back(draft, monkeypatch):
    from qualification import workflow

    application, owner = draft
    before = state(application.id)
    assert before['status'] == ApplicationStatus.DRAFT and before['answers'] and before['evidence']
    refuse_audit(monkeypatch, workflow, 'application.submit')
    with pytest.raises(IntegrityError):
        services.submit(application, {'name': 'Pat Provider', 'role': 'Director'}, actor=owner)
    after = state(application.id)
    assert after == before  # still a draft, same answers, no snapshot, no audit, no email, no reindex request
    assert db.session.get(Application, application.id).is_editable
    monkeypatch.undo()
    # the provider can simply try again, and then it all happens once
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    services.submit(application, {'name': 'Pat Provider', 'role': 'Director'}, actor=owner)
    done = state(application.id)
    assert done['status'] == ApplicationStatus.SUBMITTED and done['snapshot']
    assert done['emails'] == before['emails'] + 1 and done['audit'] == before['audit'] + 1
    # plus the facts read from the organisation's record, written into the answers at submission
    from qualification import carry

    facts = carry.fact_values(application.organisation, load_scheme(application.scheme_version), LOTS)
    assert facts and set(done['answers']) == set(before['answers']) | set(facts)


def test_a_failure_after_the_status_change_inside_submit_leaves_no_half_written_state(draft, monkeypatch):
    application, owner = draft
    before = state(application.id)

    def broken_snapshot(*args, **kwargs):
        raise RuntimeError('simulated crash after the status change and the queued email')

    monkeypatch.setattr(services, 'build_snapshot', broken_snapshot)
    with pytest.raises(RuntimeError):
        services.submit(application, {'name': 'Pat Provider', 'role': 'Director'}, actor=owner)
    assert state(application.id) == before


def test_a_database_failure_while_saving_evidence_deletes_the_stored_file_and_keeps_earlier_answers(draft, app_ctx,
                                                                                                    monkeypatch):
    application, owner = draft
    before, files = state(application.id), documents(app_ctx)
    refuse_audit(monkeypatch, services, 'application.save_answers')
    with pytest.raises(IntegrityError):
        services.save_answers(application, 'policies', {}, actor=owner,
                              uploads={'pol-complaints': [pdf('new-complaints.pdf')]})
    assert state(application.id) == before
    assert documents(app_ctx) == files  # the file written before the failure was removed again


def test_a_storage_outage_during_upload_keeps_the_answers_and_writes_no_evidence_row(draft, app_ctx, monkeypatch):
    application, owner = draft
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        closed_port = sock.getsockname()[1]
    monkeypatch.setenv('AWS_ACCESS_KEY_ID', 'testing')
    monkeypatch.setenv('AWS_SECRET_ACCESS_KEY', 'testing')
    monkeypatch.setenv('AWS_MAX_ATTEMPTS', '1')
    monkeypatch.setitem(app_ctx.config, 'STORAGE_BACKEND', 's3')
    monkeypatch.setitem(app_ctx.config, 'S3_BUCKET', 'documents')
    monkeypatch.setitem(app_ctx.config, 'S3_ENDPOINT_URL', f'http://127.0.0.1:{closed_port}')
    before = state(application.id)
    scheme = load_scheme(application.scheme_version)
    question = next(q for q in scheme.section('policies').questions_for(LOTS) if q.type == 'text')
    with pytest.raises(StorageUnavailableError) as failure:
        services.save_answers(application, 'policies', {question.id: 'A changed answer in the same request'},
                              actor=owner, uploads={'pol-complaints': [pdf('outage.pdf')]})
    assert 'connect' in failure.value.detail.lower()
    assert 'try again' in str(failure.value)
    after = state(application.id)
    assert after == before  # earlier answers intact, the changed one not half-applied, no Evidence row


def test_s3_upload_rolled_back_by_the_database_leaves_no_orphan_object(draft, app_ctx, monkeypatch,
                                                                      moto_endpoint):  # noqa: F811
    import boto3

    application, owner = draft
    monkeypatch.setenv('AWS_ACCESS_KEY_ID', 'testing')
    monkeypatch.setenv('AWS_SECRET_ACCESS_KEY', 'testing')
    bucket = f'faults-{application.id}-{id(app_ctx)}'
    s3 = boto3.client('s3', endpoint_url=moto_endpoint, region_name='eu-west-2')
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={'LocationConstraint': 'eu-west-2'})
    for key, value in {'STORAGE_BACKEND': 's3', 'S3_BUCKET': bucket, 'S3_ENDPOINT_URL': moto_endpoint,
                       'S3_REGION': 'eu-west-2'}.items():
        monkeypatch.setitem(app_ctx.config, key, value)
    services.upload_evidence(application, 'pol-complaints', pdf('kept.pdf'), actor=owner)
    kept = {item['Key'] for item in s3.list_objects_v2(Bucket=bucket).get('Contents', [])}
    assert len(kept) == 1
    before = state(application.id)
    refuse_audit(monkeypatch, services, 'evidence.upload')
    with pytest.raises(IntegrityError):
        services.upload_evidence(application, 'pol-complaints', pdf('lost.pdf'), actor=owner)
    assert state(application.id) == before
    assert {item['Key'] for item in s3.list_objects_v2(Bucket=bucket).get('Contents', [])} == kept
    assert db.session.scalar(select(func.count(Evidence.id)).where(Evidence.filename == 'lost.pdf')) == 0
    assert db.session.scalar(select(func.count(Answer.id))) > 0
