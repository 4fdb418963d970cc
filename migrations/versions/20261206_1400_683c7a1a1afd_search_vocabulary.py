"""search vocabulary: one row per distinct word with its entry count, replacing one row per entry and word

"Did you mean" ran ``GROUP BY term`` over ``search_terms`` (every word of every entry): 1.7 s at 100k entries and
5.1 s at 300k on SQLite. ``search_vocabulary`` holds each distinct word once with the number of entries using it,
kept up to date by each write's difference in words; ``search_index_state.vocabulary_version`` moves when it
changes, so workers re-read it only then. Stop words (PostgreSQL's english list) are left out: never suggested.
Upgrading counts the old table's words; downgrading leaves ``search_terms`` empty (``flask search reindex`` fills it).

Revision ID: 683c7a1a1afd
Revises: f8991a923627
Create Date: 2026-12-06 13:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '683c7a1a1afd'
down_revision = 'f8991a923627'
branch_labels = None
depends_on = None


def upgrade():
    from search.suggest import MAX_LENGTH, STOP_WORDS

    op.create_table('search_vocabulary',
    sa.Column('term', sa.String(length=60), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('term', name=op.f('pk_search_vocabulary'))
    )
    stop = sa.bindparam('stop', sorted(STOP_WORDS), expanding=True)
    op.get_bind().execute(sa.text(
        'INSERT INTO search_vocabulary (term, entries) SELECT term, count(*) FROM search_terms '
        f'WHERE term NOT IN :stop AND length(term) <= {MAX_LENGTH} GROUP BY term').bindparams(stop))
    with op.batch_alter_table('search_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_terms_term'))

    op.drop_table('search_terms')
    with op.batch_alter_table('search_index_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vocabulary_version', sa.BigInteger(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('search_index_state', schema=None) as batch_op:
        batch_op.drop_column('vocabulary_version')

    op.create_table('search_terms',
    sa.Column('entry_id', sa.INTEGER(), nullable=False),
    sa.Column('term', sa.VARCHAR(length=60), nullable=False),
    sa.Column('length', sa.INTEGER(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['search_entries.id'], name=op.f('fk_search_terms_entry_id_search_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'term', name=op.f('pk_search_terms'))
    )
    with op.batch_alter_table('search_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_terms_term'), ['term'], unique=False)

    op.drop_table('search_vocabulary')
