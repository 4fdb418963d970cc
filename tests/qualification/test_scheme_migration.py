"""Migration 14bb00000001 up and down: scheme versions keep whether they were published, and the provision-type
and lot constraints take supported accommodation only while the migration is applied."""

from __future__ import annotations

import flask_migrate
import pytest
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from registry.db import utcnow
from registry.extensions import db
from registry.ofsted.models import OfstedRegisterEntry
from registry.settings.taxonomy import ProvisionType, RegistrationStatus

REVISION, PREVIOUS = '14bb00000001', '683c7a1a1afd'


def _register_entry(urn: str, provision_type: ProvisionType | None) -> OfstedRegisterEntry:
    return OfstedRegisterEntry(urn=urn, provision_type_text='Supported Accommodation', provision_type=provision_type,
                               registration_status=RegistrationStatus.ACTIVE, imported_at=utcnow(), row_hash='0' * 64)


def _scalar(sql: str):
    return db.session.execute(text(sql)).scalar()


def _head() -> str:
    config = current_app.extensions['migrate'].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


def test_the_migration_goes_down_and_up_keeping_published_versions(app, app_ctx):
    db.session.execute(text("INSERT INTO scheme_versions (version, sha256, status, first_used_at) "
                            "VALUES ('2026.1', :sha, 'published', :now), ('9.1', :sha, 'draft', :now)"),
                       {'sha': 'a' * 64, 'now': utcnow()})
    db.session.add(_register_entry('2739460', ProvisionType.SUPPORTED_ACCOMMODATION))
    db.session.commit()
    db.session.remove()
    try:
        flask_migrate.downgrade(revision=PREVIOUS)
        assert _scalar('SELECT version_num FROM alembic_version') == PREVIOUS
        rows = dict(db.session.execute(text('SELECT version, is_published FROM scheme_versions')).all())
        assert {version: bool(flag) for version, flag in rows.items()} == {'2026.1': True, '9.1': False}
        # supported accommodation is "not covered" again, and the constraint refuses it
        assert _scalar("SELECT provision_type FROM ofsted_register WHERE urn = '2739460'") is None
        db.session.remove()
        # written as SQL: the model has columns a later migration adds
        with pytest.raises(IntegrityError):
            db.session.execute(text(
                "INSERT INTO ofsted_register (urn, provision_type_text, provision_type, registration_status, sector, "
                "places, name, town, postcode, local_authority_name, region, ofsted_region, owner_name, "
                "overall_judgement_text, judgements, source_file, imported_at, row_hash) VALUES ('2739461', "
                "'Supported Accommodation', 'supported-accommodation', 'active', '', NULL, '', '', '', '', '', '', "
                "'', '', '{}', '', CURRENT_TIMESTAMP, :hash)"), {'hash': '0' * 64})
            db.session.commit()
        db.session.rollback()
        db.session.remove()
    finally:
        flask_migrate.upgrade()
    assert _scalar('SELECT version_num FROM alembic_version') == _head()  # REVISION and any later migrations
    rows = dict(db.session.execute(text('SELECT version, status FROM scheme_versions')).all())
    assert rows == {'2026.1': 'published', '9.1': 'draft'}
    db.session.add(_register_entry('2739461', ProvisionType.SUPPORTED_ACCOMMODATION))
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE scheme_versions SET status = 'withdrawn' WHERE version = '9.1'"))
        db.session.commit()
    db.session.rollback()


def test_the_downgrade_refuses_while_the_board_has_uploaded_a_version(app, app_ctx, capfd):
    db.session.execute(text("INSERT INTO scheme_versions (version, sha256, status, first_used_at, content) "
                            "VALUES ('2026.2', :sha, 'draft', :now, 'version: 2026.2')"),
                       {'sha': 'b' * 64, 'now': utcnow()})
    db.session.commit()
    db.session.remove()
    try:
        flask_migrate.downgrade(revision=REVISION)  # undo any later migrations first
        with pytest.raises(SystemExit):  # Flask-Migrate logs the RuntimeError and exits
            flask_migrate.downgrade(revision=PREVIOUS)
        db.session.remove()
        # PostgreSQL rolls the whole downgrade back (still the head); SQLite keeps the steps before the refusal
        assert _scalar('SELECT version_num FROM alembic_version') in {REVISION, _head()}
        assert _scalar("SELECT content FROM scheme_versions WHERE version = '2026.2'") == 'version: 2026.2'
        assert 'Cannot downgrade: 1 scheme version(s) were uploaded in the service' in capfd.readouterr().err
    finally:
        db.session.remove()
        flask_migrate.upgrade()
    assert _scalar('SELECT version_num FROM alembic_version') == _head()
