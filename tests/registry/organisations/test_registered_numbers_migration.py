"""Migration c4e3cb8ed634 up and down: the unique numbers, and a database that already holds duplicates."""

from __future__ import annotations

import flask_migrate
import pytest
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from registry.extensions import db
from registry.organisations.models import LegalForm, Organisation, Sector

REVISION, PREVIOUS = 'c4e3cb8ed634', '20aa00000001'


def _scalar(sql: str, **params):
    return db.session.execute(text(sql), params).scalar()


def _execute(sql: str, **params) -> None:
    db.session.execute(text(sql), params)
    db.session.commit()


def _head() -> str:
    config = current_app.extensions['migrate'].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


def _add(name: str, company_number: str = '', charity_number: str = '') -> int:
    organisation = Organisation(legal_name=name, legal_form=LegalForm.CHARITABLE_COMPANY, sector=Sector.VOLUNTARY,
                                company_number=company_number, charity_number=charity_number,
                                address_line_1='1 Park Row', town='Leeds', postcode='LS1 4DY', contact_name='Ada',
                                contact_email='ada@example.org', contact_phone='0113 496 0000')
    db.session.add(organisation)
    db.session.commit()
    return organisation.id


def test_the_migration_goes_down_and_up_and_then_refuses_a_second_organisation_with_a_number(app, app_ctx):
    _add('First Ltd', '01234567', '1234567')
    db.session.remove()
    try:
        flask_migrate.downgrade(revision=PREVIOUS)
        assert _scalar('SELECT version_num FROM alembic_version') == PREVIOUS
        _add('Second Ltd', '01234567')  # allowed again while the migration is not applied
        _execute("DELETE FROM organisations WHERE legal_name = 'Second Ltd'")
        db.session.remove()
    finally:
        flask_migrate.upgrade()
    assert _scalar('SELECT version_num FROM alembic_version') == _head()
    _add('No numbers 1'), _add('No numbers 2')
    for numbers in ({'company_number': '01234567'}, {'charity_number': '1234567'}):
        with pytest.raises(IntegrityError):
            _add('Copy Ltd', **numbers)
        db.session.rollback()
    assert _scalar('SELECT count(*) FROM organisations') == 3


def test_the_upgrade_refuses_while_organisations_share_a_number_and_names_them(app, app_ctx, capfd):
    db.session.remove()
    try:
        flask_migrate.downgrade(revision=PREVIOUS)
        first = _add('First Ltd', '01234567', 'SC012345')
        second = _add('Second Ltd', '01234567')
        third = _add('Third Ltd', '', 'SC012345')
        _add('Unique Ltd', '07654321', '7654321')
        db.session.remove()
        with pytest.raises(SystemExit):  # Flask-Migrate logs the RuntimeError and exits
            flask_migrate.upgrade()
        db.session.remove()
        assert _scalar('SELECT version_num FROM alembic_version') == PREVIOUS
        assert _scalar('SELECT count(*) FROM organisations') == 4, 'nothing is lost'
        error = capfd.readouterr().err
        assert (f'Companies House number 01234567 is held by organisations {first} (First Ltd), '
                f'{second} (Second Ltd)') in error
        assert f'charity number SC012345 is held by organisations {first} (First Ltd), {third} (Third Ltd)' in error
        assert '07654321' not in error
        assert 'correct or clear the number on the others' in error

        # resolved by hand, the upgrade goes through
        _execute('UPDATE organisations SET company_number = :number WHERE id = :id', number='', id=second)
        _execute('UPDATE organisations SET charity_number = :number WHERE id = :id', number='SC054321', id=third)
        db.session.remove()
        flask_migrate.upgrade()
        assert _scalar('SELECT version_num FROM alembic_version') == _head()
        assert _scalar('SELECT count(*) FROM organisations') == 4
    finally:
        # never leave the session's database behind its head, even when an assertion above failed
        db.session.remove()
        _execute('DELETE FROM organisations')
        db.session.remove()
        flask_migrate.upgrade()
