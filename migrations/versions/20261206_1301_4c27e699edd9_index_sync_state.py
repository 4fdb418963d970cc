"""The search index lock and write version (``index_sync_state``), one row.

Every write to the search index bumps the row first and reads its entries after, so concurrent writers cannot
leave an older state in the index (issue 19); Elasticsearch keeps the version with each document (issue 21).

Revision ID: 4c27e699edd9
Revises: 83f4d1c206c9
Create Date: 2026-12-06 12:03:54.384553

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '4c27e699edd9'
down_revision = '83f4d1c206c9'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'index_sync_state',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_index_sync_state')),
    )
    op.bulk_insert(table, [{'name': 'index', 'version': 0}])


def downgrade():
    op.drop_table('index_sync_state')
