"""An in-process columnar copy of ``search_entries``, so filters, facets, distances and sorting are numpy operations.

The database stays the source of truth. Each worker loads a :class:`Snapshot` and keeps it while the token in
``search_index_state`` (changed in the same transaction as every index write) is the one it loaded, so every
process and every gunicorn worker sees every committed write on its next query.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from .models import SearchEntry, SearchEntryAuthority, SearchEntryNeed, SearchIndexState
from .names import NameIndex

ENTRIES = SearchEntry.__table__
NEEDS = SearchEntryNeed.__table__
ACCEPTED = SearchEntryAuthority.__table__
STATE = SearchIndexState.__table__
#: Facets held as small-int codes into a list of distinct values.
CODED = {'provision_type': 'provision_type', 'lot': 'lot', 'judgement': 'judgement', 'region': 'region_code',
         'authority': 'authority_code', 'sex': 'sex'}
EMPTY = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Coded:
    """A string column as codes (``int32`` per row) into ``values`` (the distinct strings, or None)."""

    codes: np.ndarray
    values: list
    lookup: dict

    @classmethod
    def encode(cls, column: tuple) -> Coded:
        lookup: dict = {}
        codes = np.fromiter((lookup.setdefault(value, len(lookup)) for value in column), dtype=np.intp,
                            count=len(column))
        return cls(codes, list(lookup), lookup)

    def mask(self, wanted) -> np.ndarray:
        """Rows whose value is one of ``wanted``."""
        known = [self.lookup[value] for value in wanted if value in self.lookup]
        if not known:
            return np.zeros(len(self.codes), dtype=bool)
        if len(known) == 1:
            return self.codes == known[0]
        return np.isin(self.codes, known)

    def counts(self, rows: np.ndarray | None) -> dict[str, int]:
        """Rows per non-null value among ``rows`` (positions; None for every row), as facets show them (no zeros)."""
        counts = np.bincount(self.codes if rows is None else self.codes[rows], minlength=len(self.values))
        return {str(self.values[code]): int(count) for code, count in enumerate(counts)
                if count and self.values[code] is not None}


@dataclass(frozen=True)
class Snapshot:
    """Every indexed entry as parallel arrays, in id order, plus orders that do not depend on the query."""

    token: str | None
    ids: np.ndarray
    #: Setting id to row position (-1 where the id is not indexed): a gather instead of a binary search per id.
    row_of_id: np.ndarray
    coded: dict[str, Coded]
    judgement_rank: np.ndarray
    age_min: np.ndarray
    age_max: np.ndarray
    has_vacancy: np.ndarray
    easting: np.ndarray
    northing: np.ndarray
    public_easting: np.ndarray
    public_northing: np.ndarray
    #: Need to a boolean column (row meets that need).
    needs: dict[str, np.ndarray]
    #: Authority code to the rows on its local list.
    accepted: dict[str, np.ndarray]
    #: Each row's position when ordered by (name, id) with the database's own collation.
    name_rank: np.ndarray
    order_name: np.ndarray
    order_updated: np.ndarray
    order_judgement: np.ndarray
    #: The two names' stemmed words, for relevance.
    names: NameIndex

    @property
    def size(self) -> int:
        return len(self.ids)

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Row positions of the given setting ids, skipping ids this snapshot does not hold."""
        if not len(ids) or not self.size:
            return EMPTY
        rows = self.row_of_id[ids[ids < len(self.row_of_id)]]
        return rows[rows >= 0]


def current_token(session: Session) -> str | None:
    """The index's current token, or None when the state row is missing (then nothing is cached)."""
    rows = fetch(session, 'SELECT token FROM search_index_state WHERE id = 1')
    return rows[0][0] if rows else None


def load(session: Session, token: str | None) -> Snapshot:
    """Read the whole index's filter, facet and sort columns (not the documents) into arrays."""
    columns = ('id', 'provision_type', 'lot', 'judgement', 'judgement_rank', 'region_code', 'authority_code', 'sex',
               'age_min', 'age_max', 'has_vacancy', 'easting', 'northing', 'public_easting', 'public_northing',
               'name', 'organisation_name')
    rows = fetch(session, f'SELECT {", ".join(columns)} FROM search_entries ORDER BY id')
    data = dict(zip(columns, zip(*rows, strict=True), strict=True)) if rows else {name: () for name in columns}
    ids = np.array(data['id'], dtype=np.int64)
    size = len(ids)

    row_of_id = np.full(int(ids[-1]) + 1 if size else 0, -1, dtype=np.int64)
    row_of_id[ids] = np.arange(size)

    def rows_for(id_list) -> np.ndarray:
        wanted = np.array(id_list, dtype=np.int64)
        rows = row_of_id[wanted[wanted < len(row_of_id)]] if len(wanted) else EMPTY
        return rows[rows >= 0]

    needs: dict[str, np.ndarray] = {}
    need_rows = fetch(session, 'SELECT entry_id, need FROM search_entry_needs')
    by_need: dict[str, list[int]] = {}
    for entry_id, need in need_rows:
        by_need.setdefault(need, []).append(entry_id)
    for need, entry_ids in by_need.items():
        column = np.zeros(size, dtype=bool)
        column[rows_for(entry_ids)] = True
        needs[need] = column
    by_authority: dict[str, list[int]] = {}
    for entry_id, code in fetch(session, 'SELECT entry_id, authority_code FROM search_entry_authorities'):
        by_authority.setdefault(code, []).append(entry_id)
    accepted = {code: np.sort(rows_for(entry_ids)) for code, entry_ids in by_authority.items()}

    # Name and update orders come from the database, so ties and collation are exactly what SQL would give.
    order_name = rows_for([row[0] for row in fetch(session, 'SELECT id FROM search_entries ORDER BY name, id')])
    order_updated = rows_for([row[0] for row in fetch(
        session, 'SELECT id FROM search_entries ORDER BY updated_at DESC, id')])
    name_rank = np.full(size, size, dtype=np.int64)
    name_rank[order_name] = np.arange(size)
    judgement_rank = np.array(data['judgement_rank'], dtype=np.int16)
    return Snapshot(
        token=token, ids=ids, row_of_id=row_of_id,
        coded={facet: Coded.encode(data[column]) for facet, column in CODED.items()},
        judgement_rank=judgement_rank,
        age_min=np.array(data['age_min'], dtype=np.int16), age_max=np.array(data['age_max'], dtype=np.int16),
        has_vacancy=np.array(data['has_vacancy'], dtype=bool),
        easting=np.array(data['easting'], dtype=np.float64), northing=np.array(data['northing'], dtype=np.float64),
        public_easting=np.array(data['public_easting'], dtype=np.float64),
        public_northing=np.array(data['public_northing'], dtype=np.float64),
        needs=needs, accepted=accepted, name_rank=name_rank, order_name=order_name, order_updated=order_updated,
        order_judgement=np.lexsort((name_rank, -judgement_rank.astype(np.int64))),
        names=NameIndex.build(data['name'], data['organisation_name']),
    )


def fetch(session: Session, sql: str) -> list[tuple]:
    """Every row of a query with no parameters, straight from the driver on the session's connection (so in its
    transaction): SQLAlchemy's row objects cost seconds at 100k rows, and its statement handling ~0.1 ms a query."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


class SnapshotCache:
    """One snapshot per database, per process, reloaded when the index's token changes."""

    def __init__(self):
        self._snapshots: dict[str, Snapshot] = {}
        self._lock = threading.Lock()

    def get(self, session: Session) -> Snapshot:
        """The snapshot matching the index as this session sees it (one small SELECT when nothing changed)."""
        token = current_token(session)
        key = str(session.get_bind().url)
        snapshot = self._snapshots.get(key)
        if token is not None and snapshot is not None and snapshot.token == token:
            return snapshot
        with self._lock:
            snapshot = self._snapshots.get(key)
            if token is not None and snapshot is not None and snapshot.token == token:
                return snapshot
            for _ in range(5):
                snapshot = load(session, token)
                # A write committed while loading (each SELECT may see a newer commit): load again.
                latest = current_token(session)
                if latest == token:
                    break
                token = latest
            if token is not None and snapshot.token == token:
                self._snapshots[key] = snapshot
            return snapshot
