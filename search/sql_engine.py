"""The embedded search engine over its own index tables: SQLite FTS5 or PostgreSQL tsvector + GIN find the words;
filters, facets, distances and order come from each worker's snapshot of the index (``search/snapshot.py``).

Engine methods write through the current session and do not commit: the caller (drain, reindex) commits,
so marking outbox rows processed and changing the index happen in one transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from uuid import uuid4

import numpy as np
from flask import current_app
from sqlalchemy import Text, bindparam, cast, column, delete, func, insert, select, table, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from registry.extensions import db
from registry.settings.taxonomy import Judgement

from .entries import IN_HOUSE, NOT_QUALIFIED, QUALIFIED, DirectoryEntry, entry_hash
from .models import (
    SearchEntry,
    SearchEntryAuthority,
    SearchEntryNeed,
    SearchIndexChange,
    SearchIndexState,
    SearchVocabulary,
)
from .names import FTS_TOKENIZER, fts_tokens
from .phrases import PhraseMemo
from .query import (
    MARK_END,
    MARK_START,
    MAX_RESULT_WINDOW,
    Hit,
    Query,
    Results,
    Words,
    check_page,
    render_highlight,
)
from .snapshot import EMPTY, KEPT_VERSIONS, Snapshot, SnapshotCache, fetch
from .suggest import words_of

#: Judgement ranks run from 0 (not inspected) to this.
JUDGEMENT_RANKS = max(judgement.rank for judgement in Judgement)

ENTRIES = SearchEntry.__table__
NEEDS = SearchEntryNeed.__table__
ACCEPTED = SearchEntryAuthority.__table__
VOCABULARY = SearchVocabulary.__table__
STATE = SearchIndexState.__table__
CHANGES = SearchIndexChange.__table__
#: PostgreSQL only: each entry's tsvector, with the GIN index (created by the migration, kept in step by a trigger).
WORDS = table('search_words', column('entry_id'), column('vector'))
HEADLINE_OPTIONS = f'StartSel={MARK_START}, StopSel={MARK_END}'
#: PostgreSQL: a page's names in full and a description snippet with the matched words marked. As text, made once:
#: the same select built with ``func`` each request cost as much again in the ORM as the database's work.
HEADLINES = text(
    "SELECT id, ts_headline('english', name, query, :whole), ts_headline('english', organisation_name, query, :whole),"
    " ts_headline('english', body, query, :snippet) FROM search_entries, to_tsquery('english', :words) AS query "
    'WHERE id IN :ids').bindparams(bindparam('ids', expanding=True), whole=HEADLINE_OPTIONS + ', HighlightAll=true',
                                   snippet=HEADLINE_OPTIONS + ', MaxWords=40, MinWords=15')
#: The columns the full-text index is made from (on SQLite and PostgreSQL alike).
TEXT_COLUMNS = ('name', 'organisation_name', 'body')
#: Every other column of one entry, set from ``new_<column>`` parameters (an entry whose words are unchanged).
IN_PLACE_UPDATE = (update(ENTRIES).where(ENTRIES.c.id == bindparam('new_id'))
                   .values({name: bindparam(f'new_{name}') for name in ENTRIES.c.keys()
                            if name not in TEXT_COLUMNS and name != 'id'}))
#: The change log is pruned once in this many versions (a DELETE on every write would be wasted work).
PRUNE_EVERY = 1000
#: A write's statements, made once: each index write runs them, and building and keying a statement per write cost
#: as much CPU as the database's work on it.
NEXT_VERSION = (update(STATE).where(STATE.c.id == 1).values(version=STATE.c.version + 1, token=bindparam('token'))
                .returning(STATE.c.version))
RECORD_CHANGE = insert(CHANGES)
STORED_ROWS = select(ENTRIES).where(ENTRIES.c.id.in_(bindparam('ids', expanding=True)))


def fts5_expression(words: Words) -> str:
    """An FTS5 MATCH string where every token is quoted, so user input can never become FTS syntax."""
    parts = [f'"{term}"*' if index == len(words.terms) - 1 and words.prefix else f'"{term}"'
             for index, term in enumerate(words.terms)]
    parts += ['"' + ' '.join(phrase) + '"' for phrase in words.phrases]
    return ' AND '.join(parts)


def tsquery_expression(words: Words) -> str:
    """A ``to_tsquery`` string from letter-and-digit tokens only, so nothing the user types is an operator."""
    parts = [f'{term}:*' if index == len(words.terms) - 1 and words.prefix else term
             for index, term in enumerate(words.terms)]
    parts += ['(' + ' <-> '.join(phrase) + ')' for phrase in words.phrases]
    return ' & '.join(parts)


def vocabulary(entry: DirectoryEntry) -> set[str]:
    """The words of an entry worth suggesting (see :func:`search.suggest.words_of`)."""
    return words_of((entry.name, entry.organisation_name, entry.search_text()))


class SqlEngine:
    """Search over the database's own index tables. The default engine, and the one tests always run."""

    name = 'sql'
    #: Pages holding results past this position are refused, as on Elasticsearch (see ``query.check_page``).
    max_result_window = MAX_RESULT_WINDOW

    def __init__(self, session: Session | None = None):
        self._session = session

    @property
    def session(self) -> Session:
        return self._session or db.session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    # -- writing -------------------------------------------------------------------------------------------

    def index(self, entries: Iterable[DirectoryEntry], *, version: int | None = None,
              deadline: float | None = None) -> int:
        """Add or replace entries. Returns how many were written.

        ``version`` and ``deadline`` are part of the engine interface for Elasticsearch; here the write is in the
        caller's transaction, which the drain orders by its index lock, so neither is needed.
        """
        entries = list({entry.id: entry for entry in entries}.values())
        if entries:
            self.touch([entry.id for entry in entries])
            self._write(entries)
        return len(entries)

    def _write(self, entries: list[DirectoryEntry], fresh: bool = False) -> None:
        """Write entries: a new or reworded one as a new row, so its words are indexed again; one whose words are
        unchanged (vacancies, a judgement, a local list; a need's label is one of the words) in place, with only the
        columns, needs and local lists that changed. A vacancy write is then one UPDATE, not a delete and an insert
        in three tables and the full-text index (the triggers that feed FTS5 and ``search_words`` fire only when
        the words change)."""
        stored = {} if fresh else self._stored([entry.id for entry in entries])
        rows = {entry.id: self._row(entry) for entry in entries}
        reworded = [entry_id for entry_id in rows if entry_id not in stored
                    or any(stored[entry_id][name] != rows[entry_id][name] for name in TEXT_COLUMNS)]
        kept = set(rows) - set(reworded)
        if removed := [entry_id for entry_id in reworded if entry_id in stored]:
            self._delete(removed)
        if reworded:
            self.session.execute(insert(ENTRIES), [rows[entry_id] for entry_id in reworded])
        if changed := [rows[entry_id] for entry_id in sorted(kept)
                       if any(stored[entry_id][name] != value for name, value in rows[entry_id].items())]:
            self.session.execute(IN_PLACE_UPDATE, [{f'new_{name}': value for name, value in row.items()}
                                                   for row in changed])
        before = {entry_id: DirectoryEntry.from_json(row['doc']) for entry_id, row in stored.items()}
        for target, key, values in ((NEEDS, 'need', lambda entry: entry.needs),
                                    (ACCEPTED, 'authority_code', lambda entry: entry.accepted_by)):
            added = []
            for entry in entries:   # a reworded entry's rows went with it (_delete)
                now, then = set(values(entry)), set(values(before[entry.id])) if entry.id in kept else set()
                added += [{'entry_id': entry.id, key: value} for value in sorted(now - then)]
                if gone := sorted(then - now):
                    self.session.execute(delete(target).where(target.c.entry_id == entry.id,
                                                              target.c[key].in_(gone)))
            if added:
                self.session.execute(insert(target), added)
        # the words come from the text columns alone, so only a reworded entry can change the vocabulary
        self._count_words(Counter(word for entry in entries if entry.id not in kept for word in vocabulary(entry)),
                          Counter(word for entry_id, entry in before.items() if entry_id not in kept
                                  for word in vocabulary(entry)))

    def _stored(self, ids: list[int]) -> dict[int, dict]:
        """The stored rows of those of these entries the index holds, by id."""
        found = {}
        for start in range(0, len(ids), 500):
            for row in self.session.execute(STORED_ROWS, {'ids': ids[start:start + 500]}):
                found[row.id] = row._asdict()
        return found

    def _indexed_words(self, ids: list[int]) -> Counter:
        """How many of these indexed entries use each suggestible word (read from their stored documents)."""
        words: Counter = Counter()
        for start in range(0, len(ids), 500):
            for doc in self.session.scalars(select(ENTRIES.c.doc).where(ENTRIES.c.id.in_(ids[start:start + 500]))):
                words.update(vocabulary(DirectoryEntry.from_json(doc)))
        return words

    def _count_words(self, added: Counter, removed: Counter) -> None:
        """Apply a write's difference in words to ``search_vocabulary`` (and move its version if it changed)."""
        change = {word: added[word] - removed[word] for word in added.keys() | removed.keys()
                  if added[word] != removed[word]}
        if not change:
            return
        upsert = (sqlite_insert if self.dialect == 'sqlite' else postgresql_insert)(VOCABULARY)
        rows = [{'term': word, 'entries': count} for word, count in sorted(change.items())]
        for start in range(0, len(rows), 1000):
            self.session.execute(upsert.on_conflict_do_update(
                index_elements=['term'], set_={'entries': VOCABULARY.c.entries + upsert.excluded.entries}),
                rows[start:start + 1000])
        gone = sorted(word for word, count in change.items() if count < 0)
        for start in range(0, len(gone), 500):
            self.session.execute(delete(VOCABULARY).where(VOCABULARY.c.term.in_(gone[start:start + 500]),
                                                          VOCABULARY.c.entries <= 0))
        self.session.execute(update(STATE).where(STATE.c.id == 1)
                             .values(vocabulary_version=STATE.c.vocabulary_version + 1))

    def touch(self, entry_ids: Iterable[int] | None) -> None:
        """Give the index a new version and token in this transaction and record which entries it changes
        (None: all of them), so every worker brings its snapshot up to date on its next query.

        Called before the write itself, so concurrent writers queue on this one row rather than deadlocking.
        """
        token = uuid4().hex
        version = self.session.execute(NEXT_VERSION, {'token': token}).scalar()
        if version is None:
            version = 1
            self.session.execute(insert(STATE).values(id=1, version=version, token=token))
        if entry_ids is None:  # every worker reads everything again, so older changes no longer matter
            self.session.execute(delete(CHANGES))
            self.session.execute(insert(CHANGES).values(version=version, token=token, entry_id=None))
            return
        self.session.execute(RECORD_CHANGE, [{'version': version, 'token': token, 'entry_id': entry_id}
                                             for entry_id in entry_ids])
        if version % PRUNE_EVERY == 0:
            self.session.execute(delete(CHANGES).where(CHANGES.c.version <= version - KEPT_VERSIONS))

    @staticmethod
    def _row(entry: DirectoryEntry) -> dict:
        return {
            'id': entry.id, 'name': entry.name, 'organisation_name': entry.organisation_name,
            'body': entry.search_text(), 'provision_type': entry.provision_type, 'lot': entry.lot,
            'judgement': entry.judgement, 'judgement_rank': entry.judgement_rank,
            'authority_code': entry.authority_code, 'region_code': entry.region_code,
            'age_min': entry.age_min, 'age_max': entry.age_max, 'sex': entry.sex,
            'has_vacancy': entry.has_vacancy, 'easting': entry.easting, 'northing': entry.northing,
            'public_easting': entry.public_point[0], 'public_northing': entry.public_point[1],
            'updated_at': entry.updated_at, 'standing': entry.standing, 'doc': entry.to_json(),
        }

    def remove(self, ids: Iterable[int], *, version: int | None = None, deadline: float | None = None) -> None:
        """Remove entries by setting id (ids not in the index are ignored; ``version`` and ``deadline`` as in
        :meth:`index`)."""
        ids = sorted(set(ids))
        if ids:
            self.touch(ids)
            self._count_words(Counter(), self._indexed_words(ids))
            self._delete(ids)

    def _delete(self, ids: list[int]) -> None:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for target in (NEEDS, ACCEPTED):
                self.session.execute(delete(target).where(target.c.entry_id.in_(chunk)))
            # Triggers remove the FTS5 rows on SQLite.
            self.session.execute(delete(ENTRIES).where(ENTRIES.c.id.in_(chunk)))

    def clear(self) -> None:
        """Empty the index."""
        self.touch(None)
        for target in (NEEDS, ACCEPTED, VOCABULARY, ENTRIES):
            self.session.execute(delete(target))
        self.session.execute(update(STATE).where(STATE.c.id == 1)
                             .values(vocabulary_version=STATE.c.vocabulary_version + 1))

    def reindex(self, entries: Iterable[DirectoryEntry], progress: Callable[[int], None] | None = None,
                batch_size: int = 200) -> int:
        """Rebuild the whole index from ``entries`` in one transaction, so searches never see it half-built."""
        self.clear()
        written, batch = 0, []
        for entry in entries:
            batch.append(entry)
            if len(batch) >= batch_size:
                written += self._write_batch(batch)
                if progress:
                    progress(len(batch))
                batch = []
        written += self._write_batch(batch)
        if progress and batch:
            progress(len(batch))
        self.session.commit()
        return written

    def _write_batch(self, entries: list[DirectoryEntry]) -> int:
        """Part of :meth:`reindex`: its :meth:`clear` has already told every worker to read everything again."""
        entries = list({entry.id: entry for entry in entries}.values())
        if entries:
            self._write(entries, fresh=not self._indexed_any([entry.id for entry in entries]))
        return len(entries)

    def _indexed_any(self, ids: list[int]) -> bool:
        return self.session.scalar(select(func.count()).select_from(ENTRIES).where(ENTRIES.c.id.in_(ids))) > 0

    # -- reading -------------------------------------------------------------------------------------------

    def count(self, *, qualified_only: bool = False) -> int:
        """How many entries the index holds (only those on the national list, for public counts)."""
        query = select(func.count()).select_from(ENTRIES)
        if qualified_only:
            query = query.where(ENTRIES.c.standing == QUALIFIED)
        return self.session.scalar(query)

    def ids(self) -> set[int]:
        """Every indexed setting id."""
        return set(self.session.scalars(select(ENTRIES.c.id)))

    def get(self, entry_id: int) -> DirectoryEntry | None:
        """One indexed entry by setting id."""
        doc = self.session.scalar(select(ENTRIES.c.doc).where(ENTRIES.c.id == entry_id))
        return DirectoryEntry.from_json(doc) if doc else None

    def hashes(self) -> dict[int, str]:
        """Every indexed id with the hash of its stored entry (``entries.entry_hash``), for ``flask search check``."""
        return {entry_id: entry_hash(DirectoryEntry.from_json(doc))
                for entry_id, doc in self.session.execute(select(ENTRIES.c.id, ENTRIES.c.doc))}

    def export(self, *, after_id: int = 0, offset: int = 0, size: int = 100) -> list[DirectoryEntry]:
        """Entries in id order: those after ``after_id``, skipping ``offset`` of them (exports page this way, so
        they reach every entry, however many)."""
        docs = self.session.scalars(select(ENTRIES.c.doc).where(ENTRIES.c.id > after_id).order_by(ENTRIES.c.id)
                                    .offset(offset).limit(size))
        return [DirectoryEntry.from_json(doc) for doc in docs]

    def query(self, query: Query) -> Results:
        """Run a search: words in the database's full-text index; filters, facets, distance and order in numpy."""
        snapshot = self.snapshot()
        size = snapshot.size
        words = query.parsed_words
        sqlite = self.dialect == 'sqlite'
        base: list[np.ndarray] = [snapshot.alive] if snapshot.dead else []
        score = body = None
        if not words.empty:
            matched, score, body = self._word_matches(snapshot, words, sqlite)
            base.append(matched)
        points = None
        if query.origin is not None:
            points = ((snapshot.easting, snapshot.northing) if query.exact_locations
                      else (snapshot.public_easting, snapshot.public_northing))
        base += self._plain_masks(query, snapshot, points)
        facet_masks = self._facet_masks(query, snapshot)
        selected = _all_of([*base, *(mask for mask in facet_masks.values() if mask is not None)], size)

        total = int(np.count_nonzero(selected))
        check_page(query, total, self.max_result_window)
        start, stop = (query.page - 1) * query.page_size, query.page * query.page_size
        rows = self._page_rows(query, snapshot, selected, score, body, points, stop)[start:stop]

        page_ids = [int(snapshot.ids[row]) for row in rows]
        docs = dict(fetch(self.session, 'SELECT id, doc FROM search_entries WHERE id IN '
                                         f'({",".join(map(str, page_ids))})') if page_ids else ())
        highlights = (self._highlights(words, page_ids, sqlite) if query.highlight and not words.empty and page_ids
                      else {})
        hits = []
        for row, entry_id in zip(rows, page_ids, strict=True):
            if entry_id not in docs:  # removed since the snapshot was read
                continue
            entry = DirectoryEntry.from_json(docs[entry_id])
            hits.append(Hit(entry=entry, score=float(score[row]) if score is not None else 0.0,
                            distance_m=query.distance_to(entry), highlights=highlights.get(entry_id, {})))

        facets = self._facets(query, snapshot, base, facet_masks)
        suggestions = self._suggestions(snapshot, words) if total == 0 and not words.empty else {}
        return Results(hits=hits, total=total, page=query.page, page_size=query.page_size, facets=facets,
                       suggestions=suggestions)

    def snapshot(self) -> Snapshot:
        """This process's columnar copy of the index, reloaded first if any transaction has written it since."""
        cache = snapshot_cache(current_app)
        if self._session is None and not cache.running:
            start_refresher(current_app)
        return cache.get(self.session)

    def _word_matches(self, snapshot: Snapshot, words: Words, sqlite: bool
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Rows matching the words; each row's relevance from the names (see :mod:`search.names`); and each row's
        BM25 over all its indexed words, so the description's own words rank entries whose names tie.

        The database's own words decide: the snapshot's copy of each entry's indexed words (FTS5 tokens, or the
        tsvector's lexemes) with the query's words made tokens by the same tokenizer (FTS5's, or PostgreSQL's);
        the full-text index itself for phrases, which need positions.
        """
        matched = np.zeros(snapshot.size, dtype=bool)
        if words.only_stop_words:
            return matched, np.zeros(snapshot.size, dtype=np.float32), None
        tokens = None
        if snapshot.words is not None:
            terms = list(dict.fromkeys(words.all_terms()))
            tokens = _fts_query_tokens(terms) if sqlite else _lexemes(self.session, terms)
        if tokens is not None and not words.phrases:
            rows = self._snapshot_rows(snapshot, words, tokens)
        else:
            expression = fts5_expression(words) if sqlite else tsquery_expression(words)
            ids = phrase_memo(current_app).ids(self.session, snapshot, expression,
                                               lambda among: self._full_text_ids(expression, sqlite, among))
            rows = snapshot.rows_of(ids)
        matched[rows] = True
        body = None
        if tokens is not None:
            # Each word as itself: an unfinished last word still matches as a prefix above, but scoring every
            # word it begins ("care": carer, career, ...) would merge tens of thousands of postings per keystroke.
            terms = [(token, False) for term in dict.fromkeys(words.all_terms()) for token in tokens[term]]
            body = snapshot.words.bm25(terms, snapshot.size, snapshot.live)
        return matched, snapshot.names.scores(words, matched, snapshot.live), body

    @staticmethod
    def _snapshot_rows(snapshot: Snapshot, words: Words, tokens: dict[str, tuple[str, ...]]) -> np.ndarray:
        """Rows holding every word's tokens, the last word as a prefix if unfinished: the semantics of FTS5's
        ``"a" AND "b"*`` and of ``to_tsquery``'s ``a & b:*`` (where a stop word has no lexeme and drops out, and a
        query of stop words only matches nothing)."""
        rows = None
        for index, term in enumerate(words.terms):
            prefix = index == len(words.terms) - 1 and bool(words.prefix)
            for token in tokens[term]:
                found = snapshot.words.rows_with(token, prefix)
                if rows is None:
                    rows = found
                else:  # both sorted, each row once: keep the rows of ``found`` already in ``rows`` (no sort)
                    kept = np.zeros(snapshot.size, dtype=bool)
                    kept[rows] = True
                    rows = found[kept[found]]
        return EMPTY if rows is None else rows

    def _full_text_ids(self, expression: str, sqlite: bool, among: np.ndarray | None = None) -> np.ndarray:
        """Sorted ids the database's full-text index matches (only among ``among`` when given)."""
        # One comma-joined string instead of a row per match: thousands of rows cost more in Python than in the
        # database.
        if sqlite and among is not None:
            # FTS5 seeks every id in every prefix term's doclist for ``rowid IN``: a private copy of the few
            # entries is cheaper (see _page_highlights)
            rows = self._in_page_index(among.tolist(), 'SELECT rowid FROM page WHERE page MATCH :q', {'q': expression})
            return np.array(sorted(row[0] for row in rows), dtype=np.int64)
        if sqlite:
            joined = self.session.execute(text('SELECT group_concat(rowid) FROM search_fts WHERE search_fts MATCH :q'),
                                          {'q': expression}).scalar()
        else:
            statement = (select(func.string_agg(cast(WORDS.c.entry_id, Text), ','))
                         .where(WORDS.c.vector.op('@@')(func.to_tsquery('english', expression))))
            if among is not None:
                statement = statement.where(WORDS.c.entry_id.in_(among.tolist()))
            joined = self.session.scalar(statement)
        return np.sort(_parse_ids(joined))

    @staticmethod
    def _standing_mask(query: Query, snapshot: Snapshot) -> np.ndarray | None:
        """Qualified entries; for a market search also not-qualified ones and the in-house services the viewer may
        see (their authority among the entry's ``accepted_by``, or every one for the board). None: no row is left
        out (an index of qualified entries only, the usual case until the market is loaded)."""
        standing = snapshot.coded['standing']
        if all(value == QUALIFIED for value in standing.values):
            return None
        if not query.market:
            return standing.mask([QUALIFIED])
        mask = standing.mask([QUALIFIED, NOT_QUALIFIED])
        if query.in_house_for == '*':
            mask |= standing.mask([IN_HOUSE])
        elif query.in_house_for:
            visible = np.zeros(snapshot.size, dtype=bool)
            visible[snapshot.accepted.get(query.in_house_for, EMPTY)] = True
            mask |= standing.mask([IN_HOUSE]) & visible
        return mask

    @classmethod
    def _plain_masks(cls, query: Query, snapshot: Snapshot, points: tuple[np.ndarray, np.ndarray] | None
                     ) -> list[np.ndarray]:
        """Filters that are not facets: standing, age, sex, local list and distance."""
        standing = cls._standing_mask(query, snapshot)
        masks = [] if standing is None else [standing]
        if query.age is not None:
            masks += [snapshot.age_min <= query.age, snapshot.age_max >= query.age]
        if query.sex:
            masks.append(snapshot.coded['sex'].mask([query.sex, 'any']))
        if query.accepted_by:
            mask = np.zeros(snapshot.size, dtype=bool)
            mask[snapshot.accepted.get(query.accepted_by, EMPTY)] = True
            masks.append(mask)
        if points is not None and query.radius_m is not None:
            masks.append(_within(points, query.origin, query.radius_m))
        return masks

    @staticmethod
    def _facet_masks(query: Query, snapshot: Snapshot) -> dict[str, np.ndarray | None]:
        """Filters that are also facets, keyed by facet name, so each facet can drop its own."""
        coded = snapshot.coded
        needs = None
        if query.needs:
            empty = np.zeros(snapshot.size, dtype=bool)
            needs = _all_of([snapshot.needs.get(need, empty) for need in query.needs], snapshot.size)
        return {
            'provision_type': coded['provision_type'].mask(query.provision_types) if query.provision_types else None,
            'lot': coded['lot'].mask(query.lots) if query.lots else None,
            'judgement': snapshot.judgement_rank >= query.judgement_rank if query.min_judgement else None,
            'region': coded['region'].mask(query.region_codes) if query.region_codes else None,
            'authority': coded['authority'].mask(query.authority_codes) if query.authority_codes else None,
            'needs': needs,
            'has_vacancy': (snapshot.has_vacancy == query.has_vacancy) if query.has_vacancy is not None else None,
        }

    @staticmethod
    def _page_rows(query: Query, snapshot: Snapshot, selected: np.ndarray, score, body, points,
                   stop: int) -> np.ndarray:
        """The first ``stop`` selected rows in the query's order.

        Relevance: (judgement, for that sort,) the names' score (a name match first), then the description's own
        words (BM25), then distance when there is an origin, then a shuffle seeded by the query, so equal matches
        come in an order that favours no name (alphabetical order put names starting with a digit or "A" first)
        and stays the same from page to page and worker to worker. Distance and update time break ties the same
        way.
        """
        if query.market and any(value != QUALIFIED for value in snapshot.coded['standing'].values):
            # qualified entries first, then the rest of the market, each in the query's order
            qualified = selected & snapshot.coded['standing'].mask([QUALIFIED])
            first = SqlEngine._ordered_rows(query, snapshot, qualified, score, body, points, stop)
            if len(first) >= stop:
                return first
            rest = SqlEngine._ordered_rows(query, snapshot, selected & ~qualified, score, body, points,
                                           stop - len(first))
            return np.concatenate([first, rest])
        return SqlEngine._ordered_rows(query, snapshot, selected, score, body, points, stop)

    @staticmethod
    def _ordered_rows(query: Query, snapshot: Snapshot, selected: np.ndarray, score, body, points,
                      stop: int) -> np.ndarray:
        if query.sort == 'updated':
            return _first_in_order(snapshot.order_updated, selected, stop)
        candidates = np.flatnonzero(selected)
        shuffle = _shuffled(snapshot.ids[candidates], query.seed)
        if query.sort == 'distance' and points is not None:
            return _first(candidates, [_squared_distances(points, query.origin, candidates), shuffle], stop)
        judgement = snapshot.judgement_rank[candidates] if query.sort == 'judgement' else None
        primary = _relevance_key(None if score is None else score[candidates],
                                 None if body is None else body[candidates], judgement)
        keys = [primary] if primary is not None else []
        if points is not None:
            keys.append(_squared_distances(points, query.origin, candidates))
        return _first(candidates, [*keys, shuffle], stop)

    @staticmethod
    def _facets(query: Query, snapshot: Snapshot, base: list, facet_masks: dict) -> dict[str, dict[str, int]]:
        """Counts for each facet wanted, with every filter applied except the facet's own.

        Facets whose own filter is not set all count over the same rows, so each distinct set of filters is
        combined once; with no filter at all the counts cover every row.
        """
        combined: dict[tuple[str, ...], tuple[np.ndarray | None, np.ndarray | None]] = {}
        facets = {}
        for name in query.facets:
            applied = tuple(key for key, mask in facet_masks.items() if key != name and mask is not None)
            if applied not in combined:
                masks = [*base, *(facet_masks[key] for key in applied)]
                mask = _all_of(masks, snapshot.size) if masks else None
                combined[applied] = (mask, np.flatnonzero(mask) if mask is not None else None)
            mask, rows = combined[applied]
            if name == 'needs':
                counts = {need: int(np.count_nonzero(column if mask is None else column & mask))
                          for need, column in snapshot.needs.items()}
                counts = {need: count for need, count in counts.items() if count}
            elif name == 'has_vacancy':
                yes = int(np.count_nonzero(snapshot.has_vacancy if mask is None else snapshot.has_vacancy & mask))
                no = (snapshot.size if rows is None else len(rows)) - yes
                counts = {key: count for key, count in (('true', yes), ('false', no)) if count}
            else:
                counts = snapshot.coded[name].counts(rows)
            facets[name] = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        return facets

    def _highlights(self, words: Words, ids: list[int], sqlite: bool) -> dict[int, dict[str, str]]:
        """Name, organisation and a description snippet with matched words in ``<mark>``, for one page of hits."""
        if not ids:
            return {}
        if sqlite:
            rows = self._page_highlights(words, ids)
        else:
            rows = self.session.execute(HEADLINES, {'words': tsquery_expression(words), 'ids': ids}).all()
        return {
            row[0]: {field: str(render_highlight(row[index])) for index, field in
                     enumerate(('name', 'organisation_name', 'description'), 1) if MARK_START in (row[index] or '')}
            for row in rows
        }

    def _page_highlights(self, words: Words, ids: list[int]) -> list[tuple]:
        """Highlights for one page from a private in-memory FTS5 index holding only that page's entries.

        FTS5 answers ``MATCH '"word"'* AND rowid IN (...)`` by seeking every id in every prefix term's doclist
        (55 ms for a page at 100k entries), so the page's rows are copied into an in-memory table with the same
        tokenizer and highlighted there (about a quarter of a millisecond). A separate connection, so the request's
        own transaction never writes; one transaction there, rolled back, so the rows cost no commit each and no
        deletion after (that was three quarters of the time).
        """
        return self._in_page_index(
            ids, 'SELECT rowid, highlight(page, 0, :start, :end), highlight(page, 1, :start, :end), '
                 "snippet(page, 2, :start, :end, '…', 40) FROM page WHERE page MATCH :q",
            {'start': MARK_START, 'end': MARK_END, 'q': fts5_expression(words)})

    def _in_page_index(self, ids: list[int], sql: str, parameters: dict) -> list[tuple]:
        """``sql`` over this thread's in-memory FTS5 table ``page`` holding only the entries ``ids``."""
        if not ids:
            return []
        texts = fetch(self.session, 'SELECT id, name, organisation_name, body FROM search_entries WHERE id IN '
                                    f'({",".join(str(int(entry_id)) for entry_id in ids)})')
        connection = _page_index()
        connection.execute('BEGIN')
        try:
            connection.executemany('INSERT INTO page (rowid, name, organisation_name, body) VALUES (?, ?, ?, ?)',
                                   texts)
            return connection.execute(sql, parameters).fetchall()
        finally:
            connection.execute('ROLLBACK')

    @staticmethod
    def _suggestions(snapshot: Snapshot, words: Words) -> dict[str, str]:
        """For each word the index does not know, the closest word it does know (bounded work: see
        :mod:`search.suggest`)."""
        return snapshot.suggester.suggestions(words.all_terms())


def phrase_memo(app) -> PhraseMemo:
    """This process's kept phrase searches for ``app`` (see :mod:`search.phrases`)."""
    state = app.extensions.setdefault('search', {})
    return state.get('phrases') or state.setdefault('phrases', PhraseMemo())


def snapshot_cache(app) -> SnapshotCache:
    """This process's snapshots for ``app``."""
    state = app.extensions.setdefault('search', {})
    cache = state.get('snapshots')
    if cache is None:
        cache = state.setdefault('snapshots', SnapshotCache(app.config.get('SEARCH_SNAPSHOT_DIR')))
    return cache


def start_refresher(app) -> None:
    """Start this process's background snapshot thread for ``app``'s database, unless configured off (tests)."""
    interval = float(app.config.get('SEARCH_SNAPSHOT_REFRESH_SECONDS') or 0)
    if interval > 0:
        with app.app_context():
            engine = db.engine
        snapshot_cache(app).start(engine, interval)


_local = threading.local()
#: Word to its PostgreSQL ``english`` lexemes (none for a stop word), kept per process: they never change.
_LEXEMES: dict[str, tuple[str, ...]] = {}
_LEXEMES_KEPT = 50_000


def _lexemes(session: Session, words: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each word's lexemes as ``to_tsquery('english', ...)`` would make them (one query for any not yet known)."""
    known = {word: _LEXEMES.get(word) for word in words}
    unknown = sorted(word for word, lexemes in known.items() if lexemes is None)
    if unknown:
        rows = session.execute(
            text("SELECT word, array_to_string(tsvector_to_array(to_tsvector('english', word)), ' ') "
                 'FROM unnest(CAST(:words AS text[])) AS word'), {'words': unknown}).all()
        fresh = {word: tuple(joined.split()) for word, joined in rows}
        if len(_LEXEMES) > _LEXEMES_KEPT:
            _LEXEMES.clear()
        _LEXEMES.update(fresh)
        known.update(fresh)
    return known


def _fts_query_tokens(words: list[str]) -> dict[str, tuple[str, ...]] | None:
    """Each word as FTS5 makes it a query token, or None when a word is not exactly one token (FTS5 would read
    several as a phrase, which the snapshot cannot answer)."""
    tokens = dict(zip(words, fts_tokens(words), strict=True))
    return tokens if all(len(found) == 1 for found in tokens.values()) else None


def _page_index() -> sqlite3.Connection:
    """This thread's in-memory FTS5 table for highlighting one page."""
    connection = getattr(_local, 'page_index', None)
    if connection is None:
        connection = sqlite3.connect(':memory:', isolation_level=None)
        connection.execute(f'CREATE VIRTUAL TABLE page USING fts5(name, organisation_name, body, '
                           f'tokenize={FTS_TOKENIZER!r})')
        _local.page_index = connection
    return connection


def _all_of(masks: list[np.ndarray], size: int) -> np.ndarray:
    """Rows every mask selects (every row when there are none). Never returns one of the inputs itself."""
    if not masks:
        return np.ones(size, dtype=bool)
    result = masks[0].copy()
    for mask in masks[1:]:
        result &= mask
    return result


def _first(candidates: np.ndarray, keys: list[np.ndarray], stop: int) -> np.ndarray:
    """The first ``stop`` candidates ordered by ``keys`` (most significant first, all ascending).

    With many candidates, keeps only those whose first key is no worse than the ``stop``-th smallest before the
    full sort, so a page costs a partition of the candidates plus a sort of about one page.
    """
    if stop <= 0 or not len(candidates):
        return candidates[:0]
    if len(candidates) > 4 * stop:
        primary = keys[0]
        threshold = np.partition(primary, stop - 1)[stop - 1]
        keep = primary <= threshold
        candidates, keys = candidates[keep], [key[keep] for key in keys]
    return candidates[np.lexsort(keys[::-1])][:stop]


def _relevance_key(score: np.ndarray | None, body: np.ndarray | None,
                   judgement_rank: np.ndarray | None = None) -> np.ndarray | None:
    """One int64 per row ordering by (judgement desc,) names' score desc, then body score desc: one partition
    instead of a lexsort. None when there is nothing to order by.

    Scores are non-negative float32, whose bit patterns sort as the numbers do; each keeps its top 30 bits.
    """
    key = None
    for part, shift in ((score, 30), (body, 0)):
        if part is not None:
            bits = (np.int64(0x3FFFFFFF) - (part.astype(np.float32).view(np.int32).astype(np.int64) >> 1)) << shift
            key = bits if key is None else key | bits
    if judgement_rank is not None:
        bits = (np.int64(JUDGEMENT_RANKS) - judgement_rank.astype(np.int64)) << 60
        key = bits if key is None else key | bits
    return key


def _shuffled(ids: np.ndarray, seed: int) -> np.ndarray:
    """A pseudo-random but repeatable number per id for this seed (splitmix64), to break ties fairly."""
    with np.errstate(over='ignore'):
        value = ids.astype(np.uint64) ^ np.uint64(seed)
        value = (value + np.uint64(0x9E3779B97F4A7C15)) * np.uint64(0xBF58476D1CE4E5B9)
        value = (value ^ (value >> np.uint64(30))) * np.uint64(0x94D049BB133111EB)
        return value ^ (value >> np.uint64(31))


def _first_in_order(order: np.ndarray, selected: np.ndarray, stop: int) -> np.ndarray:
    """The first ``stop`` rows of a precomputed ``order`` that ``selected`` keeps.

    Reads the order in growing chunks, so a page of a broad search touches a few hundred rows, not all of them.
    """
    found, count, start, chunk = [], 0, 0, max(256, 4 * stop)
    while start < len(order) and count < stop:
        part = order[start:start + chunk]
        kept = part[selected[part]]
        found.append(kept)
        count += len(kept)
        start += chunk
        chunk *= 4
    return np.concatenate(found)[:stop] if found else order[:0]


def _within(points: tuple[np.ndarray, np.ndarray], origin: tuple[float, float], radius: float) -> np.ndarray:
    """Rows whose point lies within ``radius`` metres of ``origin``: a box first, then the exact circle on the rows
    inside the box (the same arithmetic as the old SQL filter)."""
    east, north = points
    x, y = origin
    box = (east >= x - radius) & (east <= x + radius) & (north >= y - radius) & (north <= y + radius)
    rows = np.flatnonzero(box)
    mask = np.zeros(len(east), dtype=bool)
    mask[rows[_squared_distances(points, origin, rows) <= radius * radius]] = True
    return mask


def _squared_distances(points: tuple[np.ndarray, np.ndarray], origin: tuple[float, float],
                       rows: np.ndarray) -> np.ndarray:
    east, north = points
    return (east[rows] - origin[0]) ** 2 + (north[rows] - origin[1]) ** 2


def _parse_ids(joined: str | None) -> np.ndarray:
    if not joined:
        return EMPTY
    return np.fromstring(joined, dtype=np.int64, sep=',')
