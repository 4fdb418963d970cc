"""ofsted register

Revision ID: 8d2b32f3d22b
Revises: 3f4c412288ea
Create Date: 2026-11-23 17:33:34.704827

"""
from alembic import op
import sqlalchemy as sa

import registry.db


# revision identifiers, used by Alembic.
revision = '8d2b32f3d22b'
down_revision = '3f4c412288ea'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ofsted_register',
    sa.Column('urn', sa.String(length=8), nullable=False),
    sa.Column('provision_type_text', sa.String(length=120), nullable=False),
    sa.Column('provision_type', sa.Enum('childrens-home', 'secure-childrens-home', 'independent-fostering-agency', 'local-authority-fostering', 'residential-family-centre', 'assessment-service', name='ofsted_provision_type', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('registration_status', sa.Enum('active', 'suspended', 'cancelled', 'resigned', 'not-required', name='ofsted_registration_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('registration_date', sa.Date(), nullable=True),
    sa.Column('sector', sa.String(length=40), nullable=False),
    sa.Column('places', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('town', sa.String(length=80), nullable=False),
    sa.Column('postcode', sa.String(length=10), nullable=False),
    sa.Column('local_authority_name', sa.String(length=120), nullable=False),
    sa.Column('authority_code', sa.String(length=9), nullable=True),
    sa.Column('region', sa.String(length=80), nullable=False),
    sa.Column('ofsted_region', sa.String(length=80), nullable=False),
    sa.Column('owner_name', sa.String(length=200), nullable=False),
    sa.Column('latest_inspection_date', sa.Date(), nullable=True),
    sa.Column('latest_publication_date', sa.Date(), nullable=True),
    sa.Column('overall_judgement', sa.Enum('outstanding', 'good', 'requires-improvement', 'inadequate', name='ofsted_overall_judgement', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('overall_judgement_text', sa.String(length=120), nullable=False),
    sa.Column('judgements', sa.JSON(), nullable=False),
    sa.Column('source_file', sa.String(length=255), nullable=False),
    sa.Column('imported_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('row_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['authority_code'], ['local_authorities.code'], name=op.f('fk_ofsted_register_authority_code_local_authorities')),
    sa.PrimaryKeyConstraint('urn', name=op.f('pk_ofsted_register'))
    )
    with op.batch_alter_table('ofsted_register', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ofsted_register_authority_code'), ['authority_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_ofsted_register_provision_type'), ['provision_type'], unique=False)

    op.create_table('ofsted_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('started_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', registry.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('new_count', sa.Integer(), nullable=False),
    sa.Column('changed_count', sa.Integer(), nullable=False),
    sa.Column('unchanged_count', sa.Integer(), nullable=False),
    sa.Column('rejected_count', sa.Integer(), nullable=False),
    sa.Column('rejected_reasons', sa.JSON(), nullable=False),
    sa.Column('settings_updated', sa.Integer(), nullable=False),
    sa.Column('run_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['run_by_id'], ['users.id'], name=op.f('fk_ofsted_imports_run_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ofsted_imports'))
    )
    with op.batch_alter_table('ofsted_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ofsted_imports_sha256'), ['sha256'], unique=False)


def downgrade():
    with op.batch_alter_table('ofsted_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ofsted_imports_sha256'))

    op.drop_table('ofsted_imports')
    with op.batch_alter_table('ofsted_register', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ofsted_register_provision_type'))
        batch_op.drop_index(batch_op.f('ix_ofsted_register_authority_code'))

    op.drop_table('ofsted_register')
