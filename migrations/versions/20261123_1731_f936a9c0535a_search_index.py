"""search index: the SQL engine's tables, plus FTS5/R*Tree (SQLite) or tsvector/GIN (PostgreSQL)

Revision ID: f936a9c0535a
Revises: 3f4c412288ea
Create Date: 2026-11-23 17:31:05.394282

"""
from alembic import op
import sqlalchemy as sa

import registry.db


# revision identifiers, used by Alembic.
revision = 'f936a9c0535a'
down_revision = '3f4c412288ea'
branch_labels = None
depends_on = None

#: Kept in step with search_entries by triggers, so the engine (and test clean-up) only touch search_entries.
SQLITE_OBJECTS = [
    "CREATE VIRTUAL TABLE search_fts USING fts5("
    "name, organisation_name, body, tokenize='porter unicode61 remove_diacritics 2', prefix='2 3 4')",
    "CREATE VIRTUAL TABLE search_rtree USING rtree(id, min_easting, max_easting, min_northing, max_northing)",
    """CREATE TRIGGER search_entries_after_insert AFTER INSERT ON search_entries BEGIN
         INSERT INTO search_fts(rowid, name, organisation_name, body)
           VALUES (new.id, new.name, new.organisation_name, new.body);
         INSERT INTO search_rtree(id, min_easting, max_easting, min_northing, max_northing)
           VALUES (new.id, new.easting, new.easting, new.northing, new.northing);
       END""",
    """CREATE TRIGGER search_entries_after_delete AFTER DELETE ON search_entries BEGIN
         DELETE FROM search_fts WHERE rowid = old.id;
         DELETE FROM search_rtree WHERE id = old.id;
       END""",
    """CREATE TRIGGER search_entries_after_update AFTER UPDATE ON search_entries BEGIN
         DELETE FROM search_fts WHERE rowid = old.id;
         DELETE FROM search_rtree WHERE id = old.id;
         INSERT INTO search_fts(rowid, name, organisation_name, body)
           VALUES (new.id, new.name, new.organisation_name, new.body);
         INSERT INTO search_rtree(id, min_easting, max_easting, min_northing, max_northing)
           VALUES (new.id, new.easting, new.easting, new.northing, new.northing);
       END""",
]

POSTGRES_OBJECTS = [
    # Generated, so it can never drift from the row; weights: name A, organisation B, the rest C.
    """ALTER TABLE search_entries ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
         setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') ||
         setweight(to_tsvector('english'::regconfig, coalesce(organisation_name, '')), 'B') ||
         setweight(to_tsvector('english'::regconfig, coalesce(body, '')), 'C')
       ) STORED""",
    'CREATE INDEX ix_search_entries_search_vector ON search_entries USING gin (search_vector)',
]


def upgrade():
    op.create_table('search_entries',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('organisation_name', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('provision_type', sa.String(length=40), nullable=False),
    sa.Column('lot', sa.String(length=40), nullable=False),
    sa.Column('judgement', sa.String(length=40), nullable=True),
    sa.Column('judgement_rank', sa.Integer(), nullable=False),
    sa.Column('authority_code', sa.String(length=9), nullable=False),
    sa.Column('region_code', sa.String(length=9), nullable=False),
    sa.Column('age_min', sa.Integer(), nullable=False),
    sa.Column('age_max', sa.Integer(), nullable=False),
    sa.Column('sex', sa.String(length=10), nullable=False),
    sa.Column('has_vacancy', sa.Boolean(), nullable=False),
    sa.Column('easting', sa.Float(), nullable=False),
    sa.Column('northing', sa.Float(), nullable=False),
    sa.Column('updated_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('doc', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_entries'))
    )
    with op.batch_alter_table('search_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_entries_authority_code'), ['authority_code'], unique=False)
        batch_op.create_index('ix_search_entries_easting_northing', ['easting', 'northing'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_entries_lot'), ['lot'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_entries_provision_type'), ['provision_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_entries_region_code'), ['region_code'], unique=False)

    op.create_table('search_entry_authorities',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('authority_code', sa.String(length=9), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['search_entries.id'], name=op.f('fk_search_entry_authorities_entry_id_search_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'authority_code', name=op.f('pk_search_entry_authorities'))
    )
    with op.batch_alter_table('search_entry_authorities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_entry_authorities_authority_code'), ['authority_code'], unique=False)

    op.create_table('search_entry_needs',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('need', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['search_entries.id'], name=op.f('fk_search_entry_needs_entry_id_search_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'need', name=op.f('pk_search_entry_needs'))
    )
    with op.batch_alter_table('search_entry_needs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_entry_needs_need'), ['need'], unique=False)

    op.create_table('search_terms',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=60), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['search_entries.id'], name=op.f('fk_search_terms_entry_id_search_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'term', name=op.f('pk_search_terms'))
    )
    with op.batch_alter_table('search_terms', schema=None) as batch_op:
        batch_op.create_index('ix_search_terms_term', ['term'], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for statement in SQLITE_OBJECTS:
            op.execute(statement)
    elif dialect == 'postgresql':
        for statement in POSTGRES_OBJECTS:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for trigger in ('insert', 'delete', 'update'):
            op.execute(f'DROP TRIGGER IF EXISTS search_entries_after_{trigger}')
        op.execute('DROP TABLE IF EXISTS search_fts')
        op.execute('DROP TABLE IF EXISTS search_rtree')
    op.drop_table('search_terms')
    op.drop_table('search_entry_needs')
    op.drop_table('search_entry_authorities')
    op.drop_table('search_entries')
