"""An in-process columnar copy of ``search_entries``, so filters, facets, distances and sorting are numpy operations.

The database stays the source of truth. Each worker keeps a :class:`Snapshot` while the token in
``search_index_state`` (changed in the same transaction as every index write) is the one it loaded, so every
process and every gunicorn worker sees every committed write on its next query. When the token has moved, the
worker reads only the entries ``search_index_changes`` names since its version and patches its arrays; it reads
everything again only after a clear, a large change, or a gap longer than the change log keeps.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from .models import SearchEntry, SearchEntryAuthority, SearchEntryNeed, SearchIndexState
from .names import FieldPostings, NameIndex, fts_tokens

ENTRIES = SearchEntry.__table__
NEEDS = SearchEntryNeed.__table__
ACCEPTED = SearchEntryAuthority.__table__
STATE = SearchIndexState.__table__
#: Facets held as small-int codes into a list of distinct values: facet name to column.
CODED = {'provision_type': 'provision_type', 'lot': 'lot', 'judgement': 'judgement', 'region': 'region_code',
         'authority': 'authority_code', 'sex': 'sex'}
#: Plain per-row columns and their types. ``updated`` is ``updated_at`` in microseconds since 1970.
NUMERIC = {'judgement_rank': np.int16, 'age_min': np.int16, 'age_max': np.int16, 'has_vacancy': bool,
           'easting': np.float64, 'northing': np.float64, 'public_easting': np.float64,
           'public_northing': np.float64, 'updated': np.int64}
TEXT = ('name', 'organisation_name')
EMPTY = np.zeros(0, dtype=np.int64)
#: Writers keep this many versions of ``search_index_changes``; a snapshot older than that is read afresh.
KEPT_VERSIONS = 1000
#: Patch when at most this share of entries changed (and always for up to ``PATCH_MINIMUM``); else read afresh.
PATCH_SHARE, PATCH_MINIMUM = 0.2, 1000


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

    def patched(self, keep: np.ndarray, values, order: np.ndarray) -> Coded:
        """The rows ``keep`` selects, then ``values`` for new rows, reordered by ``order``. Values no row has any
        more keep their code (counts leave out zeros)."""
        lookup = dict(self.lookup)
        fresh = np.fromiter((lookup.setdefault(value, len(lookup)) for value in values), dtype=np.intp,
                            count=len(values))
        return Coded(np.concatenate([self.codes[keep], fresh])[order], list(lookup), lookup)

    def mask(self, wanted) -> np.ndarray:
        """Rows whose value is one of ``wanted``."""
        known = [self.lookup[value] for value in wanted if value in self.lookup]
        if not known:
            return np.zeros(len(self.codes), dtype=bool)
        mask = self.codes == known[0]
        for code in known[1:]:  # a few equality passes beat np.isin's sort for a handful of values
            mask |= self.codes == code
        return mask

    def counts(self, rows: np.ndarray | None) -> dict[str, int]:
        """Rows per non-null value among ``rows`` (positions; None for every row), as facets show them (no zeros)."""
        counts = np.bincount(self.codes if rows is None else self.codes[rows], minlength=len(self.values))
        return {str(self.values[code]): int(count) for code, count in enumerate(counts)
                if count and self.values[code] is not None}


@dataclass(frozen=True)
class Snapshot:
    """Every indexed entry as parallel arrays, in id order, plus orders that do not depend on the query."""

    #: The ``search_index_state`` this snapshot was read at (None: uncached, the state row is missing).
    token: str | None
    version: int | None
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
    updated: np.ndarray
    #: Names as Python strings (an object array: a numpy string array is as wide as the longest name).
    name: np.ndarray
    #: Need to a boolean column (row meets that need).
    needs: dict[str, np.ndarray]
    #: Authority code to the rows on its local list.
    accepted: dict[str, np.ndarray]
    #: Each row's position when ordered by (name, id), names compared by code point as SQLite and Elasticsearch do.
    name_rank: np.ndarray
    order_name: np.ndarray
    order_updated: np.ndarray
    order_judgement: np.ndarray
    #: The two names' stemmed words, for relevance.
    names: NameIndex
    #: Each entry's indexed words, exactly as the database's full-text index holds them (PostgreSQL: the lexemes
    #: of its tsvector; SQLite: FTS5's stemmed tokens), so a word search needs no full-text lookup, which has to
    #: visit every matching row. Quoted phrases still go to the index, which keeps positions.
    words: FieldPostings | None

    @property
    def size(self) -> int:
        return len(self.ids)

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Row positions of the given setting ids, skipping ids this snapshot does not hold."""
        if not len(ids) or not self.size:
            return EMPTY
        rows = self.row_of_id[ids[(ids >= 0) & (ids < len(self.row_of_id))]]
        return rows[rows >= 0]


@dataclass(frozen=True)
class Batch:
    """Some entries as read from the database, in id order."""

    ids: np.ndarray
    values: dict[str, tuple]
    needs: list[tuple[int, str]]
    accepted: list[tuple[int, str]]
    #: Entry id to its indexed words (PostgreSQL's lexemes, or FTS5's tokens), when read entry by entry.
    lexemes: dict[int, tuple[str, ...]] | None = None
    #: SQLite's whole index read: every entry's FTS5 tokens as postings already.
    word_postings: FieldPostings | None = None

    def words(self) -> FieldPostings | None:
        if self.word_postings is not None:
            return self.word_postings
        return FieldPostings.build(self.lexeme_lists()) if self.lexemes is not None else None

    def lexeme_lists(self) -> list[tuple[str, ...]]:
        return [self.lexemes.get(entry_id, ()) for entry_id in self.ids.tolist()]

    def column(self, name: str) -> np.ndarray:
        values = self.values[name]
        if not values:
            return np.zeros(0, NUMERIC[name])
        if name == 'updated' and isinstance(values[0], str):
            return np.array(values, dtype='datetime64[us]').astype(np.int64)
        return np.array(values, dtype=NUMERIC[name])

    def need_columns(self) -> dict[str, np.ndarray]:
        by_need: dict[str, list[int]] = {}
        for entry_id, need in self.needs:
            by_need.setdefault(need, []).append(entry_id)
        columns = {}
        for need, entry_ids in by_need.items():
            column = columns[need] = np.zeros(len(self.ids), dtype=bool)
            column[self.rows_of(entry_ids)] = True
        return columns

    def rows_of(self, entry_ids: list[int]) -> np.ndarray:
        """Rows of these ids, leaving out any this batch does not hold (committed between two SELECTs)."""
        wanted = np.array(entry_ids, dtype=np.int64)
        rows = np.minimum(np.searchsorted(self.ids, wanted), max(0, len(self.ids) - 1))
        return rows[self.ids[rows] == wanted] if len(self.ids) else EMPTY

    def accepted_ids(self) -> dict[str, list[int]]:
        by_authority: dict[str, list[int]] = {}
        for entry_id, code in self.accepted:
            by_authority.setdefault(code, []).append(entry_id)
        return by_authority


def read(session: Session, ids: np.ndarray | None = None) -> Batch:
    """Every entry's snapshot columns (not the documents), or only those of ``ids`` that are still indexed."""
    # SQLite keeps the text SQLAlchemy wrote (its own date functions stop at milliseconds); numpy parses it.
    updated = ('updated_at' if session.get_bind().dialect.name == 'sqlite'
               else 'CAST(EXTRACT(EPOCH FROM updated_at) * 1000000 AS BIGINT)')
    names = ('id', *CODED.values(), *(name for name in NUMERIC if name != 'updated'), *TEXT)
    wanted = '' if ids is None else f' IN ({",".join(str(int(entry_id)) for entry_id in ids)})'
    if ids is not None and not len(ids):
        return Batch(EMPTY, {name: () for name in (*names, 'updated')}, [], [], {})
    rows = fetch(session, f'SELECT {", ".join(names)}, {updated} FROM search_entries'
                          f'{f" WHERE id{wanted}" if wanted else ""} ORDER BY id')
    columns = (*names, 'updated')
    values = dict(zip(columns, zip(*rows, strict=True), strict=True)) if rows else {name: () for name in columns}
    entry_filter = f' WHERE entry_id{wanted}' if wanted else ''
    entry_ids = np.array(values['id'], dtype=np.int64)
    lexemes, word_postings = None, None
    if session.get_bind().dialect.name == 'postgresql':
        # Lexemes never hold spaces, so one joined string per row is the cheapest way to carry them.
        lexemes = {entry_id: tuple(joined.split()) for entry_id, joined in fetch(
            session, "SELECT entry_id, array_to_string(tsvector_to_array(vector), ' ') "
                     f'FROM search_words{entry_filter}')}
    elif ids is None:
        word_postings = _fts_postings(session, entry_ids)
    else:
        # A few entries: their texts through the same tokenizer, rather than a scan of the FTS5 vocabulary.
        texts = fetch(session, "SELECT id, name || ' ' || organisation_name || ' ' || body FROM search_entries "
                               f'WHERE id{wanted}')
        lexemes = dict(zip((entry_id for entry_id, _ in texts), fts_tokens([text for _, text in texts]),
                           strict=True))
    return Batch(entry_ids, values,
                 fetch(session, f'SELECT entry_id, need FROM search_entry_needs{entry_filter}'),
                 fetch(session, f'SELECT entry_id, authority_code FROM search_entry_authorities{entry_filter}'),
                 lexemes, word_postings)


def _fts_postings(session: Session, entry_ids: np.ndarray) -> FieldPostings:
    """Every entry's FTS5 tokens, from the index's own vocabulary (``search_fts_instances``: one row per token
    occurrence, in term order), as postings over the rows of ``entry_ids``."""
    rows = fetch(session, 'SELECT term, group_concat(doc) FROM search_fts_instances GROUP BY term')
    vocabulary = [term for term, _ in rows]
    occurrences = np.fromiter((docs.count(',') + 1 for _, docs in rows), dtype=np.int64, count=len(rows))
    docs = (np.fromstring(','.join(docs for _, docs in rows), dtype=np.int64, sep=',') if rows else EMPTY)
    term_ids = np.repeat(np.arange(len(vocabulary), dtype=np.int64), occurrences)
    positions = np.minimum(np.searchsorted(entry_ids, docs), max(0, len(entry_ids) - 1))
    known = entry_ids[positions] == docs if len(entry_ids) else np.zeros(len(docs), dtype=bool)
    return FieldPostings.from_pairs(vocabulary, term_ids[known], positions[known], len(entry_ids))


def load(session: Session, version: int | None, token: str | None) -> Snapshot:
    """Read the whole index into a snapshot."""
    batch = read(session)
    return _assemble(
        token, version, batch.ids,
        coded={facet: Coded.encode(batch.values[column]) for facet, column in CODED.items()},
        numeric={name: batch.column(name) for name in NUMERIC},
        name=np.array(batch.values['name'], dtype=object),
        needs=batch.need_columns(), accepted_ids=batch.accepted_ids(),
        names=NameIndex.build(batch.values['name'], batch.values['organisation_name']),
        words=batch.words())


def patch(old: Snapshot, session: Session, version: int, token: str, changed: np.ndarray) -> Snapshot:
    """``old`` with the entries in ``changed`` read again (or dropped, where they are no longer indexed)."""
    batch = read(session, changed)
    keep = ~np.isin(old.ids, changed)
    order = np.argsort(np.concatenate([old.ids[keep], batch.ids]), kind='stable')

    def merged(before: np.ndarray, after: np.ndarray) -> np.ndarray:
        return np.concatenate([before[keep], after])[order]

    fresh_needs = batch.need_columns()
    needs = {need: merged(old.needs.get(need, np.zeros(old.size, dtype=bool)),
                          fresh_needs.get(need, np.zeros(len(batch.ids), dtype=bool)))
             for need in {*old.needs, *fresh_needs}}
    accepted_ids = {code: old.ids[rows][~np.isin(old.ids[rows], changed)].tolist()
                    for code, rows in old.accepted.items()}
    for code, entry_ids in batch.accepted_ids().items():
        accepted_ids.setdefault(code, []).extend(entry_ids)
    return _assemble(
        token, version, merged(old.ids, batch.ids),
        coded={facet: old.coded[facet].patched(keep, batch.values[column], order) for facet, column in CODED.items()},
        numeric={name: merged(getattr(old, name), batch.column(name)) for name in NUMERIC},
        name=merged(old.name, np.array(batch.values['name'], dtype=object)),
        needs=needs, accepted_ids=accepted_ids,
        names=old.names.patched(keep, batch.values['name'], batch.values['organisation_name'], order),
        words=(old.words.patched(keep, batch.lexeme_lists(), order)
               if old.words is not None and batch.lexemes is not None else None))


def _assemble(token: str | None, version: int | None, ids: np.ndarray, *, coded: dict[str, Coded],
              numeric: dict[str, np.ndarray], name: np.ndarray, needs: dict[str, np.ndarray],
              accepted_ids: dict[str, list[int]], names: NameIndex, words: FieldPostings | None) -> Snapshot:
    """A snapshot from its columns (in id order), with the lookups and orders derived from them."""
    size = len(ids)
    row_of_id = np.full(int(ids[-1]) + 1 if size else 0, -1, dtype=np.int64)
    row_of_id[ids] = np.arange(size)

    def rows_for(entry_ids: list[int]) -> np.ndarray:
        rows = row_of_id[np.array(entry_ids, dtype=np.int64)] if entry_ids else EMPTY
        return np.sort(rows[rows >= 0])

    order_name = np.argsort(name_order_keys(name), kind='stable')  # rows are in id order: ties stay in id order
    name_rank = np.empty(size, dtype=np.int64)
    name_rank[order_name] = np.arange(size)
    judgement_rank = numeric['judgement_rank']
    return Snapshot(
        token=token, version=version, ids=ids, row_of_id=row_of_id, coded=coded, **numeric, name=name,
        needs=needs, accepted={code: rows_for(entry_ids) for code, entry_ids in accepted_ids.items()},
        name_rank=name_rank, order_name=order_name,
        order_updated=np.lexsort((ids, -numeric['updated'])),
        order_judgement=np.lexsort((name_rank, -judgement_rank.astype(np.int64))),
        names=names, words=words)


def name_order_keys(names: np.ndarray) -> np.ndarray:
    """Names as they sort on every engine: ignoring case first, then exactly (``"apple"`` before ``"Birch"``, and
    ``"Oak"`` before ``"oak"``); Elasticsearch sorts ``name.sort`` (lower-cased) then ``name.raw`` the same way."""
    return np.array([name.lower() + '\x00' + name for name in names], dtype=object)


def fetch(session: Session, sql: str) -> list[tuple]:
    """Every row of a query with no parameters, straight from the driver on the session's connection (so in its
    transaction): SQLAlchemy's row objects cost seconds at 100k rows, and its statement handling ~0.1 ms a query."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def current_state(session: Session) -> tuple[int, str] | None:
    """The index's (version, token), or None when the state row is missing (then nothing is cached)."""
    rows = fetch(session, 'SELECT version, token FROM search_index_state WHERE id = 1')
    return (int(rows[0][0]), rows[0][1]) if rows else None


class SnapshotCache:
    """One snapshot per database, per process, brought up to date when the index's token changes."""

    def __init__(self):
        self._snapshots: dict[str, Snapshot] = {}
        self._lock = threading.Lock()

    def get(self, session: Session) -> Snapshot:
        """The snapshot matching the index as this session sees it (one small SELECT when nothing changed).

        A write that commits while a snapshot is being read may or may not be in it; either way its version is
        above the one the snapshot is labelled with, so the next query reads those entries again.
        """
        state = current_state(session)
        if state is None:
            return load(session, None, None)
        version, token = state
        key = str(session.get_bind().url)
        snapshot = self._snapshots.get(key)
        if snapshot is not None and snapshot.token == token:
            return snapshot
        with self._lock:
            snapshot = self._snapshots.get(key)
            if snapshot is None or snapshot.token != token:
                snapshot = self._snapshots[key] = _refresh(session, snapshot, version, token)
            return snapshot


def _refresh(session: Session, old: Snapshot | None, version: int, token: str) -> Snapshot:
    """``old`` patched with the entries changed since its version, or the whole index read afresh.

    Patching needs the change log to still hold ``old``'s own version with ``old``'s token (so that version is part
    of this database's history) and no clear since.
    """
    if old is not None and old.version is not None and old.version < version <= old.version + KEPT_VERSIONS:
        rows = fetch(session, 'SELECT version, token, entry_id FROM search_index_changes '
                              f'WHERE version >= {int(old.version)}')
        ours = any(row[0] == old.version and row[1] == old.token for row in rows)
        changed = {row[2] for row in rows if row[0] > old.version}
        if ours and None not in changed and len(changed) <= max(PATCH_MINIMUM, PATCH_SHARE * old.size):
            return patch(old, session, version, token, np.array(sorted(changed), dtype=np.int64))
    return load(session, version, token)
