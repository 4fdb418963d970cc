"""search (SQLite): the unused R*Trees out, a view of the FTS5 vocabulary in

Radius searches are answered from each worker's snapshot (a box on the eastings and northings, then the exact
circle; see search/snapshot.py), so the two R*Trees only cost every index write two more inserts and deletes.
The triggers keep only the FTS5 table in step.

``search_fts_instances`` lists every token occurrence FTS5 holds (term, entry, column, offset), so a snapshot can
copy each entry's indexed words and answer word searches without asking FTS5, as it does on PostgreSQL with the
tsvector lexemes (c3a8e5f1d2b7). Nothing changes on PostgreSQL.

Revision ID: d4f2b8e6a1c9
Revises: c3a8e5f1d2b7
Create Date: 2026-11-24 00:30:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd4f2b8e6a1c9'
down_revision = 'c3a8e5f1d2b7'
branch_labels = None
depends_on = None

FTS_TRIGGERS = [
    """CREATE TRIGGER search_entries_after_insert AFTER INSERT ON search_entries BEGIN
         INSERT INTO search_fts(rowid, name, organisation_name, body)
           VALUES (new.id, new.name, new.organisation_name, new.body);
       END""",
    """CREATE TRIGGER search_entries_after_delete AFTER DELETE ON search_entries BEGIN
         DELETE FROM search_fts WHERE rowid = old.id;
       END""",
    """CREATE TRIGGER search_entries_after_update AFTER UPDATE ON search_entries BEGIN
         DELETE FROM search_fts WHERE rowid = old.id;
         INSERT INTO search_fts(rowid, name, organisation_name, body)
           VALUES (new.id, new.name, new.organisation_name, new.body);
       END""",
]

#: As migration b042998310c4 left them.
RTREE_TRIGGERS = [
    """CREATE TRIGGER search_entries_after_insert AFTER INSERT ON search_entries BEGIN
         INSERT INTO search_fts(rowid, name, organisation_name, body)
           VALUES (new.id, new.name, new.organisation_name, new.body);
         INSERT INTO search_rtree(id, min_easting, max_easting, min_northing, max_northing)
           VALUES (new.id, new.easting, new.easting, new.northing, new.northing);
         INSERT INTO search_public_rtree(id, min_easting, max_easting, min_northing, max_northing)
           VALUES (new.id, new.public_easting, new.public_easting, new.public_northing, new.public_northing);
       END""",
    """CREATE TRIGGER search_entries_after_delete AFTER DELETE ON search_entries BEGIN
         DELETE FROM search_fts WHERE rowid = old.id;
         DELETE FROM search_rtree WHERE id = old.id;
         DELETE FROM search_public_rtree WHERE id = old.id;
       END""",
    """CREATE TRIGGER search_entries_after_update AFTER UPDATE ON search_entries BEGIN
         DELETE FROM search_fts WHERE rowid = old.id;
         DELETE FROM search_rtree WHERE id = old.id;
         DELETE FROM search_public_rtree WHERE id = old.id;
         INSERT INTO search_fts(rowid, name, organisation_name, body)
           VALUES (new.id, new.name, new.organisation_name, new.body);
         INSERT INTO search_rtree(id, min_easting, max_easting, min_northing, max_northing)
           VALUES (new.id, new.easting, new.easting, new.northing, new.northing);
         INSERT INTO search_public_rtree(id, min_easting, max_easting, min_northing, max_northing)
           VALUES (new.id, new.public_easting, new.public_easting, new.public_northing, new.public_northing);
       END""",
]


def _replace_triggers(statements):
    for trigger in ('insert', 'delete', 'update'):
        op.execute(f'DROP TRIGGER IF EXISTS search_entries_after_{trigger}')
    for statement in statements:
        op.execute(statement)


def upgrade():
    if op.get_bind().dialect.name != 'sqlite':
        return
    _replace_triggers(FTS_TRIGGERS)
    op.execute('DROP TABLE IF EXISTS search_rtree')
    op.execute('DROP TABLE IF EXISTS search_public_rtree')
    op.execute('CREATE VIRTUAL TABLE search_fts_instances USING fts5vocab(search_fts, instance)')


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        return
    op.execute('DROP TABLE IF EXISTS search_fts_instances')
    for name, east, north in (('search_rtree', 'easting', 'northing'),
                              ('search_public_rtree', 'public_easting', 'public_northing')):
        op.execute(f'CREATE VIRTUAL TABLE {name} USING rtree(id, min_easting, max_easting, min_northing, max_northing)')
        op.execute(f'INSERT INTO {name} (id, min_easting, max_easting, min_northing, max_northing) '
                   f'SELECT id, {east}, {east}, {north}, {north} FROM search_entries')
    _replace_triggers(RTREE_TRIGGERS)
