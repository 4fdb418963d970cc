"""search words (PostgreSQL): the tsvector and its GIN index in a narrow table of their own

A common word matches tens of thousands of entries, and GIN cannot answer from the index alone: PostgreSQL visits
every matching row to read its id. In ``search_entries`` (documents, text, ~1.6 kB a row) that meant ~19,000
pages and ~80 ms for ``fostering`` at 100k entries; this table's rows are only the id and the tsvector (~4,000
pages, ~20 ms). A trigger copies each entry's generated ``search_vector`` here; the foreign key removes it.
Nothing changes on SQLite, whose FTS5 table already holds only the words.

Revision ID: c3a8e5f1d2b7
Revises: 5e1d7c2a9b34
Create Date: 2026-11-23 20:15:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3a8e5f1d2b7'
down_revision = '5e1d7c2a9b34'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("""CREATE TABLE search_words (
        entry_id INTEGER PRIMARY KEY REFERENCES search_entries (id) ON DELETE CASCADE,
        vector tsvector NOT NULL)""")
    op.execute('CREATE INDEX ix_search_words_vector ON search_words USING gin (vector)')
    op.execute("""CREATE FUNCTION search_words_copy() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO search_words (entry_id, vector) VALUES (NEW.id, NEW.search_vector)
                ON CONFLICT (entry_id) DO UPDATE SET vector = EXCLUDED.vector;
            RETURN NEW;
        END $$""")
    op.execute('CREATE TRIGGER search_words_copy AFTER INSERT OR UPDATE ON search_entries '
               'FOR EACH ROW EXECUTE FUNCTION search_words_copy()')
    op.execute('INSERT INTO search_words (entry_id, vector) SELECT id, search_vector FROM search_entries')
    # Only search_words is searched now; keeping both indexes would double the GIN upkeep on every write.
    op.execute('DROP INDEX ix_search_entries_search_vector')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('CREATE INDEX ix_search_entries_search_vector ON search_entries USING gin (search_vector)')
    op.execute('DROP TRIGGER search_words_copy ON search_entries')
    op.execute('DROP FUNCTION search_words_copy()')
    op.execute('DROP TABLE search_words')
