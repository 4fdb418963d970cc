"""Join the four first-round branches into one line, so ``flask db upgrade`` needs no "heads".

Revision ID: a1b2c3d4e5f6
Revises: 8d2b32f3d22b, 9c55fa96327d, 7f7604af6fb2, d4f2b8e6a1c9
Create Date: 2026-12-06 12:00:00
"""

revision = 'a1b2c3d4e5f6'
down_revision = ('8d2b32f3d22b', '9c55fa96327d', '7f7604af6fb2', 'd4f2b8e6a1c9')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
