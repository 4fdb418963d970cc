"""search index state: one row whose version and token change in every transaction that writes the search index

Each worker holds an in-memory snapshot of ``search_entries`` for filters, facets, distances and sorting, and
reloads it only when this row's token differs from the one it loaded, so every process sees every write.

Revision ID: 06d67fd1e7aa
Revises: b042998310c4
Create Date: 2026-11-23 18:15:41.531758

"""
import uuid

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '06d67fd1e7aa'
down_revision = 'b042998310c4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'search_index_state',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_search_index_state')),
    )
    # A fresh token, so a worker never mistakes this database's index for one it has already loaded.
    op.execute(sa.text("INSERT INTO search_index_state (id, version, token) VALUES (1, 1, :token)")
               .bindparams(token=uuid.uuid4().hex))


def downgrade():
    op.drop_table('search_index_state')
