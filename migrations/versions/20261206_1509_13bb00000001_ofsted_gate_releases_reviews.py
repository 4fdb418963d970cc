"""Ofsted as the gate: each release's "as at" date, providers gone from the latest release, per-release counts,
and the board's review queue for settings an import delisted.

Chained after 16bb00000001 (notifications), after 17aa00000001 (market), after 14aa00000001 (carry forward), after 14bb00000001 (supported accommodation, whose provision
type the release counts hold).
Existing imports keep a blank ``as_at`` (not known when they ran); the next import needs one (title rows or
``--as-at``).

Revision ID: 13bb00000001
Revises: 16bb00000001
Create Date: 2026-12-06 15:09:11.446525

"""
import sqlalchemy as sa
from alembic import op

import registry.db


# revision identifiers, used by Alembic.
revision = '13bb00000001'
down_revision = '16aa00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ofsted_release_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('as_at', sa.Date(), nullable=False),
    sa.Column('provision_type', sa.Enum('childrens-home', 'secure-childrens-home', 'independent-fostering-agency', 'local-authority-fostering', 'residential-family-centre', 'assessment-service', 'supported-accommodation', name='release_provision_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('authority_code', sa.String(length=9), nullable=True),
    sa.Column('providers', sa.Integer(), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['authority_code'], ['local_authorities.code'], name=op.f('fk_ofsted_release_counts_authority_code_local_authorities')),
    sa.ForeignKeyConstraint(['import_id'], ['ofsted_imports.id'], name=op.f('fk_ofsted_release_counts_import_id_ofsted_imports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ofsted_release_counts'))
    )
    with op.batch_alter_table('ofsted_release_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ofsted_release_counts_as_at'), ['as_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ofsted_release_counts_import_id'), ['import_id'], unique=False)

    op.create_table('ofsted_review_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('setting_id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Enum('judgement-inadequate', 'registration-suspended', 'registration-cancelled', 'registration-resigned', 'removed-from-register', name='ofsted_review_reason', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('suspended_setting', sa.Boolean(), nullable=False),
    sa.Column('created_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', registry.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Enum('upheld', 'lifted', name='ofsted_review_outcome', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('outcome_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['ofsted_imports.id'], name=op.f('fk_ofsted_review_items_import_id_ofsted_imports'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_ofsted_review_items_resolved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['setting_id'], ['settings.id'], name=op.f('fk_ofsted_review_items_setting_id_settings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ofsted_review_items'))
    )
    with op.batch_alter_table('ofsted_review_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ofsted_review_items_resolved_at'), ['resolved_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ofsted_review_items_setting_id'), ['setting_id'], unique=False)

    with op.batch_alter_table('ofsted_imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('as_at', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('historical', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('removed_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_ofsted_imports_as_at'), ['as_at'], unique=False)

    with op.batch_alter_table('ofsted_register', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_as_at', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ofsted_register_removed_as_at'), ['removed_as_at'], unique=False)



def downgrade():
    with op.batch_alter_table('ofsted_register', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ofsted_register_removed_as_at'))
        batch_op.drop_column('removed_as_at')

    with op.batch_alter_table('ofsted_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ofsted_imports_as_at'))
        batch_op.drop_column('removed_count')
        batch_op.drop_column('historical')
        batch_op.drop_column('as_at')

    with op.batch_alter_table('ofsted_review_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ofsted_review_items_setting_id'))
        batch_op.drop_index(batch_op.f('ix_ofsted_review_items_resolved_at'))

    op.drop_table('ofsted_review_items')
    with op.batch_alter_table('ofsted_release_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ofsted_release_counts_import_id'))
        batch_op.drop_index(batch_op.f('ix_ofsted_release_counts_as_at'))

    op.drop_table('ofsted_release_counts')
