"""commissioner workspace

Revision ID: 9c55fa96327d
Revises: 3f4c412288ea
Create Date: 2026-11-23 17:47:01.116273

"""
from alembic import op
import sqlalchemy as sa

import registry.db


# revision identifiers, used by Alembic.
revision = '9c55fa96327d'
down_revision = '3f4c412288ea'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('shortlists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('authority_code', sa.String(length=9), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('is_shared', sa.Boolean(), nullable=False),
    sa.Column('created_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['authority_code'], ['local_authorities.code'],
                            name=op.f('fk_shortlists_authority_code_local_authorities')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_shortlists_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shortlists'))
    )
    with op.batch_alter_table('shortlists', schema=None) as batch_op:
        batch_op.create_index('ix_shortlists_authority_shared', ['authority_code', 'is_shared'], unique=False)
        batch_op.create_index(batch_op.f('ix_shortlists_owner_id'), ['owner_id'], unique=False)

    op.create_table('shortlist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shortlist_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('setting_id', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['shortlist_id'], ['shortlists.id'], ondelete='CASCADE',
                            name=op.f('fk_shortlist_entries_shortlist_id_shortlists')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shortlist_entries')),
    sa.UniqueConstraint('shortlist_id', 'rank', name='uq_shortlist_entries_shortlist_rank')
    )

    op.create_table('shortlist_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shortlist_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_shortlist_notes_author_id_users')),
    sa.ForeignKeyConstraint(['shortlist_id'], ['shortlists.id'], ondelete='CASCADE',
                            name=op.f('fk_shortlist_notes_shortlist_id_shortlists')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shortlist_notes'))
    )
    with op.batch_alter_table('shortlist_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shortlist_notes_shortlist_id'), ['shortlist_id'], unique=False)


def downgrade():
    with op.batch_alter_table('shortlist_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shortlist_notes_shortlist_id'))
    op.drop_table('shortlist_notes')
    op.drop_table('shortlist_entries')
    with op.batch_alter_table('shortlists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shortlists_owner_id'))
        batch_op.drop_index('ix_shortlists_authority_shared')
    op.drop_table('shortlists')
