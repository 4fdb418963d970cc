"""Carry forward at renewal: sections confirmed unchanged, and the expiry of evidence carried forward.

Revision ID: 14aa00000001
Revises: 683c7a1a1afd
Create Date: 2026-12-06 15:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '14aa00000001'
down_revision = '14bb00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('applications') as batch:
        batch.add_column(sa.Column('carried_sections', sa.JSON(), nullable=False, server_default='[]'))
        batch.add_column(sa.Column('confirmed_sections', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('evidence_documents') as batch:
        batch.add_column(sa.Column('expires_on', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('evidence_documents') as batch:
        batch.drop_column('expires_on')
    with op.batch_alter_table('applications') as batch:
        batch.drop_column('confirmed_sections')
        batch.drop_column('carried_sections')
