"""consortia and the whole market: consortia own local layers; the directory indexes each entry's standing

Local requirements and applications belong to an authority or to a consortium (exactly one: a check constraint).
Downgrading deletes every consortium's requirements and applications before ``authority_code`` is required again.

``unlisted_settings`` holds the settings outside the national list that commissioners may search (not-qualified ones
from the Ofsted register, and authorities' in-house services); ``search_entries.standing`` says which kind each
indexed entry is (every existing entry is ``qualified``). Downgrading removes unlisted entries from the SQL index
first; an Elasticsearch index needs ``flask search reindex`` after either direction.

Revision ID: 16aa00000001
Revises: 17aa00000001
Create Date: 2026-12-06 15:10:43.219741

"""
import sqlalchemy as sa
from alembic import op

import registry.db

ONE_OWNER = '(authority_code IS NULL) <> (consortium_id IS NULL)'


# revision identifiers, used by Alembic.
revision = '16aa00000001'
down_revision = '16bb00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consortia',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consortia')),
    sa.UniqueConstraint('name', name=op.f('uq_consortia_name'))
    )
    op.create_table('consortium_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consortium_id', sa.Integer(), nullable=False),
    sa.Column('authority_code', sa.String(length=9), nullable=False),
    sa.Column('added_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['authority_code'], ['local_authorities.code'], name=op.f('fk_consortium_members_authority_code_local_authorities')),
    sa.ForeignKeyConstraint(['consortium_id'], ['consortia.id'], name=op.f('fk_consortium_members_consortium_id_consortia'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consortium_members')),
    sa.UniqueConstraint('consortium_id', 'authority_code', name='uq_consortium_members')
    )
    with op.batch_alter_table('consortium_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consortium_members_authority_code'), ['authority_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_consortium_members_consortium_id'), ['consortium_id'], unique=False)

    op.create_table('consortium_commissioners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consortium_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('granted_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['consortium_id'], ['consortia.id'], name=op.f('fk_consortium_commissioners_consortium_id_consortia'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_consortium_commissioners_granted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_consortium_commissioners_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consortium_commissioners')),
    sa.UniqueConstraint('consortium_id', 'user_id', name='uq_consortium_commissioners')
    )
    with op.batch_alter_table('consortium_commissioners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consortium_commissioners_consortium_id'), ['consortium_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consortium_commissioners_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('local_applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consortium_id', sa.Integer(), nullable=True))
        batch_op.alter_column('authority_code',
               existing_type=sa.VARCHAR(length=9),
               nullable=True)
        batch_op.create_index('ix_local_applications_consortium_status', ['consortium_id', 'status'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_local_applications_consortium_id_consortia'), 'consortia', ['consortium_id'], ['id'], ondelete='CASCADE')
        batch_op.create_check_constraint('one_owner', ONE_OWNER)

    with op.batch_alter_table('local_requirements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consortium_id', sa.Integer(), nullable=True))
        batch_op.alter_column('authority_code',
               existing_type=sa.VARCHAR(length=9),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_local_requirements_consortium_id'), ['consortium_id'], unique=False)
        batch_op.create_unique_constraint('uq_local_requirements_consortium_version', ['consortium_id', 'lot', 'version'])
        batch_op.create_foreign_key(batch_op.f('fk_local_requirements_consortium_id_consortia'), 'consortia', ['consortium_id'], ['id'], ondelete='CASCADE')
        batch_op.create_check_constraint('one_owner', ONE_OWNER)

    op.create_table('unlisted_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('not_qualified', 'in_house', name='unlisted_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('urn', sa.String(length=8), nullable=True),
    sa.Column('owner_authority_code', sa.String(length=9), nullable=True),
    sa.Column('provision_type', sa.Enum('childrens-home', 'secure-childrens-home', 'independent-fostering-agency', 'local-authority-fostering', 'residential-family-centre', 'assessment-service', name='unlisted_provision_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('organisation_name', sa.String(length=200), nullable=False),
    sa.Column('authority_code', sa.String(length=9), nullable=False),
    sa.Column('district_name', sa.String(length=80), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('postcode', sa.String(length=8), nullable=False),
    sa.Column('easting', sa.Float(), nullable=False),
    sa.Column('northing', sa.Float(), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.Column('age_min', sa.Integer(), nullable=False),
    sa.Column('age_max', sa.Integer(), nullable=False),
    sa.Column('sex', sa.String(length=10), nullable=False),
    sa.Column('needs', sa.JSON(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('judgement', sa.Enum('outstanding', 'good', 'requires-improvement', 'inadequate', name='unlisted_judgement', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('judgement_date', sa.Date(), nullable=True),
    sa.Column('vacancies', sa.Integer(), nullable=False),
    sa.Column('vacancies_confirmed_at', registry.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', registry.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['authority_code'], ['local_authorities.code'], name=op.f('fk_unlisted_settings_authority_code_local_authorities')),
    sa.ForeignKeyConstraint(['owner_authority_code'], ['local_authorities.code'], name=op.f('fk_unlisted_settings_owner_authority_code_local_authorities')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_unlisted_settings_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unlisted_settings')),
    sa.UniqueConstraint('urn', name=op.f('uq_unlisted_settings_urn'))
    )
    with op.batch_alter_table('unlisted_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unlisted_settings_authority_code'), ['authority_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_unlisted_settings_owner_authority_code'), ['owner_authority_code'], unique=False)

    op.add_column('search_entries', sa.Column('standing', sa.String(length=20), server_default='qualified',
                                              nullable=False))


def downgrade():
    for table in ('search_entry_needs', 'search_entry_authorities'):
        op.execute(f"DELETE FROM {table} WHERE entry_id IN (SELECT id FROM search_entries WHERE standing <> 'qualified')")
    op.execute("DELETE FROM search_entries WHERE standing <> 'qualified'")
    op.drop_column('search_entries', 'standing')
    with op.batch_alter_table('unlisted_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unlisted_settings_owner_authority_code'))
        batch_op.drop_index(batch_op.f('ix_unlisted_settings_authority_code'))
    op.drop_table('unlisted_settings')
    op.execute('DELETE FROM local_applications WHERE consortium_id IS NOT NULL')
    op.execute('UPDATE local_applications SET requirements_id = NULL WHERE requirements_id IN '
               '(SELECT id FROM local_requirements WHERE consortium_id IS NOT NULL)')
    op.execute('DELETE FROM local_requirements WHERE consortium_id IS NOT NULL')
    with op.batch_alter_table('local_requirements', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_local_requirements_one_owner'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_local_requirements_consortium_id_consortia'), type_='foreignkey')
        batch_op.drop_constraint('uq_local_requirements_consortium_version', type_='unique')
        batch_op.drop_index(batch_op.f('ix_local_requirements_consortium_id'))
        batch_op.alter_column('authority_code',
               existing_type=sa.VARCHAR(length=9),
               nullable=False)
        batch_op.drop_column('consortium_id')

    with op.batch_alter_table('local_applications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_local_applications_one_owner'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_local_applications_consortium_id_consortia'), type_='foreignkey')
        batch_op.drop_index('ix_local_applications_consortium_status')
        batch_op.alter_column('authority_code',
               existing_type=sa.VARCHAR(length=9),
               nullable=False)
        batch_op.drop_column('consortium_id')

    with op.batch_alter_table('consortium_commissioners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consortium_commissioners_user_id'))
        batch_op.drop_index(batch_op.f('ix_consortium_commissioners_consortium_id'))

    op.drop_table('consortium_commissioners')
    with op.batch_alter_table('consortium_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consortium_members_consortium_id'))
        batch_op.drop_index(batch_op.f('ix_consortium_members_authority_code'))

    op.drop_table('consortium_members')
    op.drop_table('consortia')
