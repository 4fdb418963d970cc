"""search: the full-text index is written again only when an entry's words change

A vacancy, a judgement or a local list changes an entry's other columns; the engine now updates such an entry in
place (``SqlEngine._write``), and the triggers that feed the full-text index fire only for an update of the three
columns it is made from: FTS5's rows on SQLite, ``search_words`` (and its GIN index) on PostgreSQL, whose generated
``search_vector`` is recomputed only when one of them is set.

Revision ID: 20aa00000001
Revises: 13bb00000001
Create Date: 2026-12-06 21:00:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '20aa00000001'
down_revision = '13bb00000001'
branch_labels = None
depends_on = None

TEXT_COLUMNS = 'name, organisation_name, body'
SQLITE_UPDATE_TRIGGER = """CREATE TRIGGER search_entries_after_update AFTER UPDATE {of}ON search_entries BEGIN
         DELETE FROM search_fts WHERE rowid = old.id;
         INSERT INTO search_fts(rowid, name, organisation_name, body)
           VALUES (new.id, new.name, new.organisation_name, new.body);
       END"""


def _triggers(columns: str):
    """The update triggers for an update of ``columns`` (empty: of any column, as before)."""
    of = f'OF {columns} ' if columns else ''
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        op.execute('DROP TRIGGER IF EXISTS search_entries_after_update')
        op.execute(SQLITE_UPDATE_TRIGGER.format(of=of))
    elif dialect == 'postgresql':
        op.execute('DROP TRIGGER search_words_copy ON search_entries')
        op.execute(f'CREATE TRIGGER search_words_copy AFTER INSERT OR UPDATE {of}ON search_entries '
                   'FOR EACH ROW EXECUTE FUNCTION search_words_copy()')


def upgrade():
    _triggers(TEXT_COLUMNS)


def downgrade():
    _triggers('')
