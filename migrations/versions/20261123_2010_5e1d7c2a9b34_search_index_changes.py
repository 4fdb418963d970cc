"""search index changes: which entries each version of the search index wrote

Workers patch their in-memory snapshot with only the entries changed since the version they hold, instead of
reading all of ``search_entries`` again after every write. ``entry_id`` NULL means every entry (after a clear).

Revision ID: 5e1d7c2a9b34
Revises: 06d67fd1e7aa
Create Date: 2026-11-23 20:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5e1d7c2a9b34'
down_revision = '06d67fd1e7aa'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'search_index_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_search_index_changes')),
    )
    op.create_index(op.f('ix_search_index_changes_version'), 'search_index_changes', ['version'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_search_index_changes_version'), table_name='search_index_changes')
    op.drop_table('search_index_changes')
