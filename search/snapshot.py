"""An in-process columnar copy of ``search_entries``, so filters, facets, distances and sorting are numpy operations.

The database stays the source of truth. Each worker keeps a :class:`Snapshot` while the token in
``search_index_state`` (changed in the same transaction as every index write) is the one it loaded. When the token
has moved, the entries ``search_index_changes`` names since the snapshot's version are read and patched in at a
cost in proportion to them: a changed entry is rewritten in its own row, a new one is appended, a removed one is
marked dead (its row stays, ``alive`` is False), and a column none of them changed is shared with the old snapshot,
so a vacancy update copies three arrays and touches no posting. Reading everything again (after a clear, a large
change, or once a fifth of the rows are dead) is left to a background thread where one is running
(:class:`SnapshotCache`), so a request never waits for it while an older snapshot can answer.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from bisect import bisect_left
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from .models import SearchEntry, SearchEntryAuthority, SearchEntryNeed, SearchIndexState
from .names import FieldPostings, NameIndex, fts_tokens
from .suggest import Suggester

ENTRIES = SearchEntry.__table__
NEEDS = SearchEntryNeed.__table__
ACCEPTED = SearchEntryAuthority.__table__
STATE = SearchIndexState.__table__
#: Facets held as small-int codes into a list of distinct values: facet name to column.
CODED = {'provision_type': 'provision_type', 'lot': 'lot', 'judgement': 'judgement', 'region': 'region_code',
         'authority': 'authority_code', 'sex': 'sex', 'standing': 'standing'}
#: Plain per-row columns and their types. ``updated`` is ``updated_at`` in microseconds since 1970.
NUMERIC = {'judgement_rank': np.int16, 'age_min': np.int16, 'age_max': np.int16, 'has_vacancy': bool,
           'easting': np.float64, 'northing': np.float64, 'public_easting': np.float64,
           'public_northing': np.float64, 'updated': np.int64}
TEXT = ('name', 'organisation_name')
EMPTY = np.zeros(0, dtype=np.int64)
#: Writers keep this many versions of ``search_index_changes``; a snapshot older than that is read afresh. Hours
#: of writes at ten a second, so a worker forked from a master that read the index at start-up patches forward.
KEPT_VERSIONS = 100_000
#: Patch when at most this share of entries changed (and always for up to ``PATCH_MINIMUM``); else read afresh.
PATCH_SHARE, PATCH_MINIMUM = 0.2, 1000
#: With a background thread running, a request reads everything itself only for an index smaller than this.
INLINE_RELOAD_LIMIT = 20_000
#: Seconds a request may answer from a snapshot a newer write has overtaken, when the background thread polls at
#: least twice in that time (it then brings the snapshot up to date first). Writes that arrive faster than the thread
#: polls are patched in together, off the requests' path: at ten vacancy writes a second and the default 0.25 s
#: poll, one patch a worker for every two or three writes, not one for each.
BEHIND_AT_MOST = 0.5
#: Read with every batch of entries, so a patch knows whether "did you mean" must read its words again.
VOCABULARY_VERSION = 'SELECT vocabulary_version FROM search_index_state WHERE id = 1'

logger = logging.getLogger(__name__)


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

    def updated(self, rows: np.ndarray, values, size: int) -> Coded:
        """``rows`` (existing, or new up to ``size``) now hold ``values``; the same object when nothing changed.
        Values no row has any more keep their code (counts leave out zeros)."""
        lookup = self.lookup
        if any(value not in lookup for value in values):
            lookup = dict(lookup)
        fresh = np.fromiter((lookup.setdefault(value, len(lookup)) for value in values), dtype=np.intp,
                            count=len(values))
        if size == len(self.codes) and np.array_equal(self.codes[rows], fresh):
            return self
        codes = _grown(self.codes, size)
        codes[rows] = fresh
        return Coded(codes, list(lookup), lookup)

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
    """Every indexed entry as parallel arrays, one row per entry (rows of removed entries stay, dead), plus the
    order by update time."""

    #: The ``search_index_state`` this snapshot was read at (None: uncached, the state row is missing).
    token: str | None
    version: int | None
    ids: np.ndarray
    #: False for the rows of entries removed since the last full read; every query leaves them out.
    alive: np.ndarray
    #: How many rows are alive.
    live: int
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
    #: Need to a boolean column (row meets that need).
    needs: dict[str, np.ndarray]
    #: Authority code to the rows on its local list (sorted).
    accepted: dict[str, np.ndarray]
    #: Rows by (updated desc, id): the only order that does not depend on the query.
    order_updated: np.ndarray
    #: The two names' stemmed words, for relevance.
    names: NameIndex
    #: Each entry's indexed words, exactly as the database's full-text index holds them (PostgreSQL: the lexemes
    #: of its tsvector, once per position; SQLite: FTS5's stemmed tokens, once per occurrence), so a word search
    #: needs no full-text lookup and the description's own words can rank (BM25). Quoted phrases still go to the
    #: index, which keeps positions.
    words: FieldPostings | None
    #: The distinct words for "did you mean", and the ``vocabulary_version`` they were read at.
    suggester: Suggester
    vocabulary_version: int

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def dead(self) -> int:
        return self.size - self.live

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Row positions of the given setting ids, skipping ids this snapshot does not hold."""
        if not len(ids) or not self.size:
            return EMPTY
        rows = self.row_of_id[ids[(ids >= 0) & (ids < len(self.row_of_id))]]
        rows = rows[rows >= 0]
        return rows[self.alive[rows]] if self.dead else rows


@dataclass(frozen=True)
class Batch:
    """Some entries as read from the database, in id order."""

    ids: np.ndarray
    values: dict[str, tuple]
    needs: list[tuple[int, str]]
    accepted: list[tuple[int, str]]
    #: ``search_index_state.vocabulary_version`` as read with them.
    vocabulary_version: int
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
    """Every entry's snapshot columns (not the documents), or only those of ``ids`` that are still indexed, and the
    vocabulary's version. Those of ``ids`` in one round trip on PostgreSQL: the background thread's patch is this
    and two small SELECTs."""
    # SQLite keeps the text SQLAlchemy wrote (its own date functions stop at milliseconds); numpy parses it.
    postgresql = session.get_bind().dialect.name == 'postgresql'
    updated = 'CAST(EXTRACT(EPOCH FROM updated_at) * 1000000 AS BIGINT)' if postgresql else 'updated_at'
    names = ('id', *CODED.values(), *(name for name in NUMERIC if name != 'updated'), *TEXT)
    columns = (*names, 'updated')
    if ids is not None and not len(ids):
        return Batch(EMPTY, {name: () for name in columns}, [], [],
                     _vocabulary_version(fetch(session, VOCABULARY_VERSION)), {})
    wanted = '' if ids is None else f' IN ({",".join(str(int(entry_id)) for entry_id in ids)})'
    entry_filter = f' WHERE entry_id{wanted}' if wanted else ''
    statements = [f'SELECT {", ".join(names)}, {updated} FROM search_entries{f" WHERE id{wanted}" if wanted else ""} '
                  'ORDER BY id',
                  f'SELECT entry_id, need FROM search_entry_needs{entry_filter}',
                  f'SELECT entry_id, authority_code FROM search_entry_authorities{entry_filter}', VOCABULARY_VERSION]
    if postgresql:
        # Lexemes never hold spaces, so one joined string per row is the cheapest way to carry them; each lexeme
        # once per position, so BM25 sees how often the entry uses it.
        statements.append("SELECT entry_id, array_to_string(ARRAY(SELECT u.lexeme FROM unnest(vector) AS u, "
                          "generate_series(1, coalesce(array_length(u.positions, 1), 1))), ' ') "
                          f'FROM search_words{entry_filter}')
    elif ids is not None:
        # A few entries: their texts through the same tokenizer, rather than a scan of the FTS5 vocabulary.
        statements.append("SELECT id, name || ' ' || organisation_name || ' ' || body FROM search_entries "
                          f'WHERE id{wanted}')
    # a whole read goes a statement at a time, so the driver holds one large result at once, not all of them
    results = fetch_all(session, statements) if ids is not None else [fetch(session, sql) for sql in statements]
    rows, needs, accepted, versions, *words = results
    values = dict(zip(columns, zip(*rows, strict=True), strict=True)) if rows else {name: () for name in columns}
    entry_ids = np.array(values['id'], dtype=np.int64)
    lexemes, word_postings = None, None
    if postgresql:
        lexemes = {entry_id: tuple(joined.split()) for entry_id, joined in words[0]}
    elif ids is None:
        word_postings = _fts_postings(session, entry_ids)
    else:
        lexemes = dict(zip((entry_id for entry_id, _ in words[0]), fts_tokens([text for _, text in words[0]]),
                           strict=True))
    return Batch(entry_ids, values, needs, accepted, _vocabulary_version(versions), lexemes, word_postings)


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
    size = len(batch.ids)
    row_of_id = np.full(int(batch.ids[-1]) + 1 if size else 0, -1, dtype=np.int64)
    row_of_id[batch.ids] = np.arange(size)
    accepted = {code: np.sort(row_of_id[np.array(entry_ids, dtype=np.int64)])
                for code, entry_ids in batch.accepted_ids().items()}
    numeric = {name: batch.column(name) for name in NUMERIC}
    return Snapshot(
        token=token, version=version, ids=batch.ids, alive=np.ones(size, dtype=bool), live=size,
        row_of_id=row_of_id, coded={facet: Coded.encode(batch.values[column]) for facet, column in CODED.items()},
        **numeric, needs=batch.need_columns(), accepted=accepted,
        order_updated=np.lexsort((batch.ids, -numeric['updated'])),
        names=NameIndex.build(batch.values['name'], batch.values['organisation_name']), words=batch.words(),
        **_vocabulary(session, batch.vocabulary_version))


def patch(old: Snapshot, session: Session, version: int, token: str, changed: np.ndarray) -> Snapshot:
    """``old`` with the entries in ``changed`` read again (or marked dead, where they are no longer indexed).

    Costs the changed entries plus a few vectorised passes: nothing is re-sorted, and a column whose values did
    not change is the old snapshot's own array.
    """
    batch = read(session, changed)
    known = changed[changed < len(old.row_of_id)]
    gone_rows = old.row_of_id[known[~np.isin(known, batch.ids)]]
    gone_rows = gone_rows[gone_rows >= 0]
    rows = np.full(len(batch.ids), -1, dtype=np.int64)
    inside = batch.ids < len(old.row_of_id)
    rows[inside] = old.row_of_id[batch.ids[inside]]
    new = rows < 0
    size = old.size + int(np.count_nonzero(new))
    rows[new] = np.arange(old.size, size)
    ids = np.concatenate([old.ids, batch.ids[new]]) if new.any() else old.ids

    row_of_id = old.row_of_id
    if new.any():
        row_of_id = _grown(row_of_id, max(len(row_of_id), int(batch.ids.max()) + 1), fill=-1)
        row_of_id[batch.ids[new]] = rows[new]
    alive = old.alive
    if len(gone_rows) or new.any() or not old.alive[rows[~new]].all():
        alive = _grown(old.alive, size)
        alive[gone_rows] = False
        alive[rows] = True
    numeric = {}
    for name in NUMERIC:
        column, values = getattr(old, name), batch.column(name)
        if size == old.size and np.array_equal(column[rows], values):
            numeric[name] = column
        else:
            numeric[name] = _grown(column, size)
            numeric[name][rows] = values
    needs = {}
    fresh_needs = batch.need_columns()
    for need in {*old.needs, *fresh_needs}:
        column = old.needs.get(need)
        values = fresh_needs.get(need, np.zeros(len(rows), dtype=bool))
        if column is not None and size == old.size and np.array_equal(column[rows], values):
            needs[need] = column
        else:
            needs[need] = _grown(column if column is not None else np.zeros(old.size, dtype=bool), size)
            needs[need][rows] = values
    accepted = {}
    fresh_accepted = batch.accepted_ids()
    for code in {*old.accepted, *fresh_accepted}:
        accepted[code] = _accepted(old.accepted.get(code, EMPTY), rows,
                                   row_of_id[np.array(fresh_accepted.get(code, []), dtype=np.int64)])
    order_updated = old.order_updated
    if new.any() or not np.array_equal(old.updated[rows[~new]], numeric['updated'][rows[~new]]):
        order_updated = _reordered(old.order_updated, rows, old.updated, numeric['updated'], ids)
    words = old.words
    if old.words is not None and batch.lexemes is not None:
        words = old.words.updated(rows, batch.lexeme_lists(), size)
    elif old.words is not None:
        words = None  # cannot happen: a patch always reads the changed entries' words
    return Snapshot(
        token=token, version=version, ids=ids, alive=alive, live=int(np.count_nonzero(alive)), row_of_id=row_of_id,
        coded={facet: old.coded[facet].updated(rows, batch.values[column], size) for facet, column in CODED.items()},
        **numeric, needs=needs, accepted=accepted, order_updated=order_updated,
        names=old.names.updated(rows, batch.values['name'], batch.values['organisation_name'], size), words=words,
        **_vocabulary(session, batch.vocabulary_version, old))


def _vocabulary(session: Session, version: int, old: Snapshot | None = None) -> dict:
    """The suggester at vocabulary ``version``: ``old``'s own when the vocabulary has not changed since, else read."""
    if old is not None and old.vocabulary_version == version:
        return {'suggester': old.suggester, 'vocabulary_version': version}
    return {'suggester': Suggester.build(fetch(session, 'SELECT term, entries FROM search_vocabulary')),
            'vocabulary_version': version}


def _vocabulary_version(rows: list[tuple]) -> int:
    return int(rows[0][0]) if rows else 0


def _accepted(before: np.ndarray, rows: np.ndarray, now: np.ndarray) -> np.ndarray:
    """One authority's sorted rows, with the changed ``rows`` now on its list exactly where ``now`` says: the same
    array when they were already so (a vacancy update), else the few changed rows taken out and put back by
    binary search (``np.union1d`` sorted the whole list each time: 4 ms a patch for a large authority)."""
    if len(before):
        at = np.minimum(np.searchsorted(before, rows), len(before) - 1)
        present = rows[before[at] == rows]
    else:
        present = EMPTY
    now = np.unique(now)
    if np.array_equal(np.sort(present), now):
        return before
    kept = before[~np.isin(before, rows)] if len(present) else before
    return np.insert(kept, np.searchsorted(kept, now), now)


def _grown(column: np.ndarray, size: int, fill=0) -> np.ndarray:
    """A copy of ``column`` extended to ``size`` rows with ``fill``."""
    grown = np.full(size, fill, dtype=column.dtype)
    grown[:len(column)] = column
    return grown


def _reordered(order: np.ndarray, rows: np.ndarray, before: np.ndarray, updated: np.ndarray,
               ids: np.ndarray) -> np.ndarray:
    """``order`` (rows by updated desc, then id, as of ``before``) with ``rows`` taken out and put back where their
    new times (``updated``) go, each found and placed by binary search over ``order`` itself: a pass over every
    row to find them cost more than the rest of a vacancy write's patch."""
    def then(row) -> tuple:
        return -before[row], ids[row]

    def now(row) -> tuple:
        return -updated[row], ids[row]

    changed = rows.tolist()
    ordered = [row for row in changed if row < len(before)]  # a row added by this patch is not in ``order`` yet
    places = [bisect_left(order, then(row), key=then) for row in ordered]
    if any(place >= len(order) or order[place] != row for place, row in zip(places, ordered, strict=True)):
        places = np.flatnonzero(np.isin(order, rows)).tolist()  # cannot happen while ``order`` is kept sorted
    kept = np.delete(order, places)
    back = sorted(changed, key=now)
    return np.insert(kept, [bisect_left(kept, now(row), key=now) for row in back], back)


def fetch(session: Session, sql: str) -> list[tuple]:
    """Every row of a query with no parameters, straight from the driver on the session's connection (so in its
    transaction): SQLAlchemy's row objects cost seconds at 100k rows, and its statement handling ~0.1 ms a query."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def fetch_all(session: Session, statements: list[str]) -> list[list[tuple]]:
    """Each query's rows, as :func:`fetch`; on PostgreSQL in one round trip (without parameters psycopg sends them
    as one simple query, each statement's rows a result set of its own)."""
    if session.get_bind().dialect.name != 'postgresql':
        return [fetch(session, sql) for sql in statements]
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(';\n'.join(statements))
        results = [cursor.fetchall()]
        while cursor.nextset():
            results.append(cursor.fetchall())
        return results
    finally:
        cursor.close()


def current_state(session: Session) -> tuple[int, str] | None:
    """The index's (version, token), or None when the state row is missing (then nothing is cached)."""
    rows = fetch(session, 'SELECT version, token FROM search_index_state WHERE id = 1')
    return (int(rows[0][0]), rows[0][1]) if rows else None


class SnapshotCache:
    """One snapshot per database, per process, brought up to date when the index's token changes.

    Each process runs a background thread (:meth:`start`) that polls the token every
    ``SEARCH_SNAPSHOT_REFRESH_SECONDS`` and patches in the entries written since. A request whose snapshot is behind
    answers from it while the thread saw it current less than ``BEHIND_AT_MOST`` seconds ago, so writes arriving
    faster than the thread polls are patched in together; otherwise (no thread, or a slow one) it patches the
    changed entries in itself when that is cheap (a patch costs what changed). When everything must be read again
    and an older snapshot can answer, it answers from that and leaves the read to the thread.
    """

    def __init__(self, files: str | None = None):
        #: Where whole snapshots are saved for other processes to map (None: nowhere; see snapshot_files).
        self._files = files or None
        self._snapshots: dict[str, Snapshot] = {}
        self._lock = threading.Lock()
        #: Held while everything is read again (requests never wait for it while they have a snapshot).
        self._loading = threading.Lock()
        self._thread: threading.Thread | None = None
        self._interval = 0.0
        #: When each database's snapshot was last seen to match what is committed (``time.monotonic()``).
        self._current_at: dict[str, float] = {}
        self._pid = os.getpid()
        self._wake = threading.Event()
        self._starting = threading.Lock()
        self._stopping = False

    def current(self, key: str) -> Snapshot | None:
        return self._snapshots.get(key)

    def get(self, session: Session) -> Snapshot:
        """The snapshot matching the index as this session sees it (one small SELECT when nothing changed, none while
        the background thread has just seen it current).

        A write that commits while a snapshot is being read may or may not be in it; either way its version is
        above the one the snapshot is labelled with, so the next query reads those entries again.
        """
        asked = time.monotonic()
        key = str(session.get_bind().url)
        snapshot = self._snapshots.get(key)
        if snapshot is not None and self._thread_catches_up(key, asked):
            return snapshot  # it would answer from this one whatever the state says, so the state is not asked
        state = current_state(session)
        if state is None:
            return load(session, None, None)
        version, token = state
        snapshot = self._snapshots.get(key)
        if snapshot is not None and snapshot.token == token:
            return snapshot
        snapshot, done = self._patched(session, key, version, token, asked)
        if done:
            return snapshot
        if snapshot is not None and self.running and snapshot.size >= INLINE_RELOAD_LIMIT:
            self._wake.set()
            return snapshot  # the background thread reads everything; this request answers from the last one
        return self._reread(session, key, snapshot, version, token, asked)

    def _thread_catches_up(self, key: str, now: float) -> bool:
        """Whether a request may answer from the snapshot it has although a newer write is committed: the background
        thread polls often and saw the snapshot current less than ``BEHIND_AT_MOST`` seconds ago."""
        return (0 < self._interval <= BEHIND_AT_MOST / 2 and now - self._current_at.get(key, -BEHIND_AT_MOST)
                < BEHIND_AT_MOST and self.running)

    def _patched(self, session: Session, key: str, version: int, token: str,
                 asked: float) -> tuple[Snapshot | None, bool]:
        """(the snapshot, True) once brought to ``token`` by a patch (or already there); (the old one, False)
        when everything must be read again. Patches are cheap, so they run under the lock, one at a time.

        ``asked`` is when the state was read: the snapshot is known to be current as of then."""
        with self._lock:
            snapshot = self._snapshots.get(key)
            if snapshot is None or snapshot.token != token:
                plan = _plan(session, snapshot, version)
                if plan is None:
                    return snapshot, False
                snapshot = self._snapshots[key] = patch(snapshot, session, version, token, plan)
            self._current_at[key] = max(asked, self._current_at.get(key, asked))
            return snapshot, True

    def _reread(self, session: Session, key: str, old: Snapshot | None, version: int, token: str,
                asked: float) -> Snapshot:
        """Read everything (one reader at a time, outside the lock requests take, so they keep answering from the
        last snapshot meanwhile) and swap it in unless a newer one arrived first."""
        with self._loading:
            current = self._snapshots.get(key)
            if current is not None and current.token == token:
                return current
            fresh = self._whole(session, key, version, token)
        with self._lock:
            current = self._snapshots.get(key)
            if current is None or current is old or current.version is None or current.version <= version:
                self._snapshots[key] = fresh
                self._current_at[key] = asked
            return self._snapshots[key]

    def _whole(self, session: Session, key: str, version: int, token: str) -> Snapshot:
        """The index at ``version``: from the newest saved snapshot patched forward when one fits, else read in
        full from the database (and saved for the other processes)."""
        from . import snapshot_files

        if self._files:
            for path in snapshot_files.saved(self._files, key):
                candidate = snapshot_files.open_saved(path)
                if candidate is None:
                    continue
                if candidate.token == token and candidate.version == version:
                    return candidate
                plan = _plan(session, candidate, version)
                if plan is not None:
                    return patch(candidate, session, version, token, plan)
        snapshot = load(session, version, token)
        if self._files:
            snapshot_files.save(snapshot, self._files, key)
        return snapshot

    def refresh(self, session: Session) -> Snapshot | None:
        """Bring the snapshot for ``session``'s database up to date with what is committed (the background
        thread's step; also what a warm-up runs). Returns it, or None when the index has no state row."""
        asked = time.monotonic()
        state = current_state(session)
        if state is None:
            return None
        version, token = state
        key = str(session.get_bind().url)
        snapshot, done = self._patched(session, key, version, token, asked)
        return snapshot if done else self._reread(session, key, snapshot, version, token, asked)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._pid == os.getpid()

    def start(self, engine: Engine, interval: float) -> None:
        """Keep ``engine``'s snapshot fresh from a daemon thread in this process (started once per process: a
        forked worker starts its own)."""
        with self._starting:
            if self.running:
                return
            if self._pid != os.getpid():  # forked: a lock held by another thread at fork time would never be released
                self._pid, self._lock, self._loading = os.getpid(), threading.Lock(), threading.Lock()
            self._interval = interval
            self._start(engine, interval)

    def _start(self, engine: Engine, interval: float) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, args=(engine, interval), name='search-snapshot',
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread (and wait for it)."""
        thread = self._thread
        if thread is not None and self.running:
            self._stopping = True
            self._wake.set()
            thread.join(timeout=30)

    def _run(self, engine: Engine, interval: float) -> None:
        failures = 0
        while not self._stopping:
            try:
                with Session(engine) as session:
                    self.refresh(session)
                failures = 0
            except Exception:  # the database may be away for a moment; requests still answer from the last one
                failures += 1
                if failures == 1:
                    logger.exception('Refreshing the search snapshot failed; trying again')
            self._wake.wait(interval if not failures else min(30.0, interval * 2 ** failures))
            self._wake.clear()


def _plan(session: Session, old: Snapshot | None, version: int) -> np.ndarray | None:
    """The entry ids to patch ``old`` with to reach ``version``, or None when everything must be read again.

    Patching needs the change log to still hold ``old``'s own version with ``old``'s token (so that version is part
    of this database's history), no clear since, not too many changes, and not too many dead rows.
    """
    if old is None or old.version is None or not old.version < version <= old.version + KEPT_VERSIONS:
        return None
    if old.dead > PATCH_SHARE * max(old.size, PATCH_MINIMUM):
        return None
    changed = changed_since(session, old.version, old.token)
    if changed is not None and len(changed) <= max(PATCH_MINIMUM, PATCH_SHARE * old.size):
        return changed
    return None


def changed_since(session: Session, version: int, token: str | None, upto: int | None = None) -> np.ndarray | None:
    """The entry ids written after ``version`` (up to ``upto``), sorted; None when the change log cannot say: it no
    longer holds ``version`` with ``token`` (pruned, or another database's history), or the index was cleared."""
    until = f' AND version <= {int(upto)}' if upto is not None else ''
    rows = fetch(session, f'SELECT version, token, entry_id FROM search_index_changes WHERE version >= {int(version)}'
                          f'{until}')
    ours = any(row[0] == version and row[1] == token for row in rows)
    changed = {row[2] for row in rows if row[0] > version}
    if not ours or None in changed:
        return None
    return np.array(sorted(changed), dtype=np.int64)
