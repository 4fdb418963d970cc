"""search public points: public_easting/public_northing on search_entries, with an R*Tree (SQLite) or index

Public searches filter, sort and measure on these (a children's home's authority centroid), so repeated
radius searches cannot triangulate a home; exact points stay for commissioner and board searches.

Revision ID: b042998310c4
Revises: f936a9c0535a
Create Date: 2026-11-23 18:02:31.712345

"""
import csv
import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b042998310c4'
down_revision = 'f936a9c0535a'
branch_labels = None
depends_on = None

CENTROIDS = Path(__file__).resolve().parents[2] / 'search' / 'data' / 'authority_centroids.csv'
#: Same fallback as search.entries.UNKNOWN_CENTROID.
UNKNOWN_CENTROID = (400_000.0, 300_000.0)

OLD_TRIGGERS = [
    """CREATE TRIGGER search_entries_after_insert AFTER INSERT ON search_entries BEGIN
         INSERT INTO search_fts(rowid, name, organisation_name, body)
           VALUES (new.id, new.name, new.organisation_name, new.body);
         INSERT INTO search_rtree(id, min_easting, max_easting, min_northing, max_northing)
           VALUES (new.id, new.easting, new.easting, new.northing, new.northing);
       END""",
    """CREATE TRIGGER search_entries_after_delete AFTER DELETE ON search_entries BEGIN
         DELETE FROM search_fts WHERE rowid = old.id;
         DELETE FROM search_rtree WHERE id = old.id;
       END""",
    """CREATE TRIGGER search_entries_after_update AFTER UPDATE ON search_entries BEGIN
         DELETE FROM search_fts WHERE rowid = old.id;
         DELETE FROM search_rtree WHERE id = old.id;
         INSERT INTO search_fts(rowid, name, organisation_name, body)
           VALUES (new.id, new.name, new.organisation_name, new.body);
         INSERT INTO search_rtree(id, min_easting, max_easting, min_northing, max_northing)
           VALUES (new.id, new.easting, new.easting, new.northing, new.northing);
       END""",
]

NEW_TRIGGERS = [
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


def _drop_triggers():
    for trigger in ('insert', 'delete', 'update'):
        op.execute(f'DROP TRIGGER IF EXISTS search_entries_after_{trigger}')


def _backfill():
    """Public point of every entry already indexed: the authority centroid when the address is confidential."""
    with open(CENTROIDS, encoding='utf-8', newline='') as handle:
        centroids = {row['authority_code']: (float(row['easting']), float(row['northing']))
                     for row in csv.DictReader(handle)}
    entries = sa.table('search_entries', sa.column('id'), sa.column('doc'), sa.column('easting'),
                       sa.column('northing'), sa.column('authority_code'), sa.column('public_easting'),
                       sa.column('public_northing'))
    connection = op.get_bind()
    rows = connection.execute(sa.select(entries.c.id, entries.c.doc, entries.c.easting, entries.c.northing,
                                        entries.c.authority_code)).all()
    for row in rows:
        point = (row.easting, row.northing)
        if json.loads(row.doc).get('confidential_address', True):
            point = centroids.get(row.authority_code, UNKNOWN_CENTROID)
        connection.execute(sa.update(entries).where(entries.c.id == row.id)
                           .values(public_easting=point[0], public_northing=point[1]))


def upgrade():
    # Plain ADD COLUMN (not a batch table rebuild), so SQLite keeps search_entries' triggers.
    op.add_column('search_entries', sa.Column('public_easting', sa.Float(), nullable=False, server_default='0'))
    op.add_column('search_entries', sa.Column('public_northing', sa.Float(), nullable=False, server_default='0'))
    op.create_index('ix_search_entries_public_easting_northing', 'search_entries',
                    ['public_easting', 'public_northing'], unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('CREATE VIRTUAL TABLE search_public_rtree USING rtree('
                   'id, min_easting, max_easting, min_northing, max_northing)')
        _drop_triggers()
        for statement in NEW_TRIGGERS:
            op.execute(statement)
    _backfill()


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        _drop_triggers()
        for statement in OLD_TRIGGERS:
            op.execute(statement)
        op.execute('DROP TABLE IF EXISTS search_public_rtree')
    op.drop_index('ix_search_entries_public_easting_northing', table_name='search_entries')
    op.drop_column('search_entries', 'public_northing')
    op.drop_column('search_entries', 'public_easting')
