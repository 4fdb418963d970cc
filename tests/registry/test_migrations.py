"""Migrations and models agree: after ``upgrade`` Alembic finds nothing left to autogenerate."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from registry.extensions import db

#: The SQL search engine adds objects the ORM does not declare: SQLite's FTS5 virtual table (and its shadow
#: tables), PostgreSQL's tsvector column and GIN index. All of them live on ``search_*`` tables.
IGNORED_PREFIX = 'search_'


def _table_name(obj, name: str, type_: str) -> str:
    if type_ == 'table':
        return name
    table = getattr(obj, 'table', None)
    return getattr(table, 'name', '') or ''


def _include_object(obj, name, type_, reflected, compare_to):
    """Compare everything the models declare; skip only database-only objects of the search engine."""
    if name == 'alembic_version':
        return False
    database_only = reflected and compare_to is None
    return not (database_only and _table_name(obj, name, type_).startswith(IGNORED_PREFIX))


def test_migrated_database_matches_the_models(app_ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            'compare_type': True,
            'include_object': _include_object,
            'render_as_batch': True,
        })
        differences = compare_metadata(context, db.metadata)
    assert differences == [], '\n'.join(str(difference) for difference in differences)


def test_migrations_form_one_linear_history():
    """``flask db upgrade`` (without "heads") works only while there is exactly one head."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from registry.app import MIGRATIONS_DIR

    config = Config(str(MIGRATIONS_DIR / 'alembic.ini'))
    config.set_main_option('script_location', str(MIGRATIONS_DIR))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f'several migration heads: {heads}; chain the newest onto the others'
