"""Hardening: throttle counters shared by every process, and wrong security codes counted per account.

Revision ID: f8991a923627
Revises: 4c27e699edd9
Create Date: 2026-12-06 12:00:53.826370

"""
from alembic import op
import sqlalchemy as sa

import registry.db


# revision identifiers, used by Alembic.
revision = 'f8991a923627'
down_revision = '4c27e699edd9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('throttle_counters',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('window_started_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('next_allowed_at', registry.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_throttle_counters'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_failures', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('totp_failures_since', registry.db.UTCDateTime(timezone=True), nullable=True))
    # existing accounts start at 0; the model supplies the value from now on
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_failures', server_default=None)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_failures_since')
        batch_op.drop_column('totp_failures')

    op.drop_table('throttle_counters')
