"""Relevance from the two names: BM25 over each entry's name and organisation name, held in memory per snapshot.

The database's own words decide which entries match (every word, in any field: FTS5, or PostgreSQL's tsvector
lexemes). Asking FTS5 again for the name and organisation matches, or for ``bm25()`` of every match, costs
milliseconds per search at 100k entries, so the snapshot keeps the stemmed words of the two names as postings
instead, and scores them here:
``score = 1 + 10 * bm25(name) + 4 * bm25(organisation name)`` with k1 = 1.2 and b = 0.75. A name match therefore
always outranks a match in the description only; within the names, rarer words and shorter names count for more.

Words are stemmed by SQLite's own FTS5 ``porter`` tokenizer (an in-memory table), so they are the same stems as
the SQLite index. PostgreSQL's ``english`` stemmer differs on a few words; there only the order can differ,
never which entries match.
"""

from __future__ import annotations

import sqlite3
import threading
import zlib
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .query import _TOKEN, Words

#: As in the migration that created ``search_fts``.
FTS_TOKENIZER = 'porter unicode61 remove_diacritics 2'
K1, B = 1.2, 0.75
NAME_WEIGHT, ORGANISATION_WEIGHT = 10.0, 4.0

_local = threading.local()
#: Stems of the words of small calls (a patch's names, a query's words), so a vacancy write's patch need not stem its
#: entry's names again in every worker; whole builds are not remembered (the memory would be each worker's own).
_KNOWN_STEMS: dict[str, str] = {}
REMEMBER_STEMS_OF, KNOWN_STEMS_LIMIT = 1000, 50_000


def _stemmer() -> sqlite3.Connection:
    """This thread's in-memory FTS5 table, used only to stem words."""
    connection = getattr(_local, 'stemmer', None)
    if connection is None:
        connection = sqlite3.connect(':memory:', isolation_level=None)
        connection.execute(f'CREATE VIRTUAL TABLE words USING fts5(word, tokenize={FTS_TOKENIZER!r})')
        connection.execute("CREATE VIRTUAL TABLE stems USING fts5vocab(words, 'instance')")
        _local.stemmer = connection
    return connection


def stems(words: Iterable[str]) -> dict[str, str]:
    """Each lower-case word's FTS5 porter stem (numbers, and a word the tokenizer drops, stem to themselves).

    Words go in as a few long documents, since a row per word costs far more; a document whose words the
    tokenizer does not split one to one is stemmed a word at a time instead.
    """
    result = {}
    pending = []
    for word in dict.fromkeys(words):
        if word.isdigit():
            result[word] = word
        elif (known := _KNOWN_STEMS.get(word)) is not None:
            result[word] = known
        else:
            pending.append(word)
    if not pending:
        return result
    connection = _stemmer()
    chunks = [pending[start:start + 5000] for start in range(0, len(pending), 5000)]
    try:
        connection.executemany('INSERT INTO words (rowid, word) VALUES (?, ?)',
                               ((index, ' '.join(chunk)) for index, chunk in enumerate(chunks)))
        found: dict[int, dict[int, str]] = {}
        for doc, offset, term in connection.execute('SELECT doc, "offset", term FROM stems'):
            found.setdefault(doc, {})[offset] = term
        for index, chunk in enumerate(chunks):
            terms = found.get(index, {})
            if len(terms) == len(chunk):
                result.update(zip(chunk, (terms[offset] for offset in range(len(chunk))), strict=True))
            else:
                for word in chunk:
                    result[word] = _stem_alone(connection, word)
    finally:
        connection.execute('DELETE FROM words')
    if len(pending) <= REMEMBER_STEMS_OF:
        if len(_KNOWN_STEMS) > KNOWN_STEMS_LIMIT:
            _KNOWN_STEMS.clear()
        _KNOWN_STEMS.update((word, result[word]) for word in pending)
    return result


def _stem_alone(connection: sqlite3.Connection, word: str) -> str:
    connection.execute('INSERT INTO words (rowid, word) VALUES (-1, ?)', (word,))
    first = connection.execute('SELECT term FROM stems WHERE doc = -1 ORDER BY "offset" LIMIT 1').fetchone()
    connection.execute('DELETE FROM words WHERE rowid = -1')
    return first[0] if first else word


@lru_cache(maxsize=4096)
def stem(word: str) -> str:
    return stems([word])[word]


def fts_tokens(texts: Sequence[str]) -> list[tuple[str, ...]]:
    """Each text's tokens exactly as the ``search_fts`` table indexes them (its tokenizer, stems and all), in no
    particular order: what a patched snapshot needs to match words as FTS5 does."""
    connection = _stemmer()
    found: list[list[str]] = [[] for _ in texts]
    try:
        connection.executemany('INSERT INTO words (rowid, word) VALUES (?, ?)', enumerate(texts))
        for doc, term in connection.execute('SELECT doc, term FROM stems'):
            found[doc].append(term)
    finally:
        connection.execute('DELETE FROM words')
    return [tuple(terms) for terms in found]


def tokens(text: str) -> list[str]:
    return [token.lower() for token in _TOKEN.findall(text or '')]


@dataclass(frozen=True)
class FieldPostings:
    """One field's stemmed words (or PostgreSQL lexemes, or FTS5 tokens), by term.

    Term ``t`` occurs in rows ``rows[term_starts[t]:term_starts[t + 1]]`` (sorted), each ``frequencies`` times;
    ``lengths`` is each row's number of words and ``digests`` a hash of its word list, so a patch can tell which
    changed rows' words did not change (a vacancy update) and leave the postings alone.
    """

    #: Term id to stem, in the order first seen; ``lookup`` is the reverse.
    vocabulary: list[str]
    lookup: dict[str, int]
    #: Every stem sorted, with its term id, so a prefix is one ``bisect`` range (faster than numpy on strings).
    sorted_stems: list[str]
    sorted_ids: np.ndarray
    term_starts: np.ndarray
    rows: np.ndarray
    frequencies: np.ndarray
    lengths: np.ndarray
    digests: np.ndarray

    @classmethod
    def build(cls, term_lists: Sequence[tuple[str, ...]]) -> FieldPostings:
        """Postings for rows holding these (already stemmed) terms."""
        vocabulary: list[str] = []
        lookup: dict[str, int] = {}
        counts, terms = _term_ids(term_lists, vocabulary, lookup)
        rows = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        return cls._index(vocabulary, lookup, counts, terms, rows, _digests(term_lists))

    @classmethod
    def from_pairs(cls, vocabulary: list[str], term_ids: np.ndarray, rows: np.ndarray, size: int) -> FieldPostings:
        """Postings for ``size`` rows from (term id, row) pairs, one pair per occurrence of a term in a row."""
        lookup = {term: term_id for term_id, term in enumerate(vocabulary)}
        by_row = np.argsort(rows, kind='stable')
        term_ids, rows = term_ids[by_row], rows[by_row]
        counts = np.bincount(rows, minlength=size)
        return cls._index(vocabulary, lookup, counts, term_ids, rows,
                          _row_digests(_term_hashes(vocabulary)[term_ids], counts))

    @classmethod
    def _index(cls, vocabulary: list[str], lookup: dict[str, int], counts: np.ndarray, terms: np.ndarray,
               rows: np.ndarray, digests: np.ndarray) -> FieldPostings:
        size = len(counts)
        # One posting per (term, row), with how often the term occurs in that row, in term then row order.
        pairs, frequencies = np.unique(terms.astype(np.int64) * max(1, size) + rows, return_counts=True)
        pair_terms, pair_rows = np.divmod(pairs, max(1, size))
        sorted_ids = sorted(range(len(vocabulary)), key=vocabulary.__getitem__)
        # Rows as int32 (an index of 2**31 rows is far off): postings are most of a snapshot's memory.
        return cls(vocabulary, lookup, [vocabulary[term] for term in sorted_ids], np.array(sorted_ids, dtype=np.int64),
                   np.searchsorted(pair_terms, np.arange(len(vocabulary) + 1)), pair_rows.astype(np.int32),
                   frequencies.astype(np.float32), counts.astype(np.float32), digests)

    def updated(self, rows: np.ndarray, term_lists: Sequence[tuple[str, ...]], size: int) -> FieldPostings:
        """This field with ``rows`` (existing, or new rows up to ``size``) now holding ``term_lists``.

        Costs the changed rows' postings plus one vectorised pass over the others (no sort of every posting); rows
        whose words did not change are skipped, so a vacancy update leaves the postings as they are (same object).
        """
        digests = _digests(term_lists)
        old_size = len(self.lengths)
        existing = rows < old_size
        same = np.zeros(len(rows), dtype=bool)
        same[existing] = self.digests[rows[existing]] == digests[existing]
        if same.all() and size == old_size:
            return self
        all_digests = np.concatenate([self.digests, np.zeros(size - old_size, dtype=np.int64)])
        lengths = np.concatenate([self.lengths, np.zeros(size - old_size, dtype=np.float32)])
        term_lists = [terms for terms, kept in zip(term_lists, same.tolist(), strict=True) if not kept]
        rows, digests = rows[~same], digests[~same]
        vocabulary, lookup = self.vocabulary, self.lookup
        if any(term not in lookup for terms in term_lists for term in terms):
            vocabulary, lookup = list(vocabulary), dict(lookup)
        counts, terms = _term_ids(term_lists, vocabulary, lookup)
        all_digests[rows] = digests
        lengths[rows] = counts
        fresh_keys, fresh_frequencies = np.unique(terms * size + np.repeat(rows.astype(np.int64), counts),
                                                  return_counts=True)
        keep = ~np.isin(self.rows, rows) if len(rows) else np.ones(len(self.rows), dtype=bool)
        pair_terms = np.repeat(np.arange(len(self.vocabulary), dtype=np.int64), np.diff(self.term_starts))
        kept_keys = pair_terms[keep] * size + self.rows[keep]
        at = np.searchsorted(kept_keys, fresh_keys)
        keys = np.insert(kept_keys, at, fresh_keys)
        pair_terms, pair_rows = np.divmod(keys, size)
        if len(vocabulary) == len(self.vocabulary):
            sorted_stems, sorted_ids = self.sorted_stems, self.sorted_ids
        else:
            sorted_stems, ids = list(self.sorted_stems), self.sorted_ids.tolist()
            for term_id in range(len(self.vocabulary), len(vocabulary)):
                position = bisect_left(sorted_stems, vocabulary[term_id])
                sorted_stems.insert(position, vocabulary[term_id])
                ids.insert(position, term_id)
            sorted_ids = np.array(ids, dtype=np.int64)
        return FieldPostings(vocabulary, lookup, sorted_stems, sorted_ids,
                             np.searchsorted(pair_terms, np.arange(len(vocabulary) + 1)), pair_rows.astype(np.int32),
                             np.insert(self.frequencies[keep], at, fresh_frequencies.astype(np.float32)), lengths,
                             all_digests)

    def term_ids(self, term: str, prefix: bool) -> np.ndarray:
        """The ids of the stem ``term`` (or of every stem starting with it, for a prefix)."""
        first = bisect_left(self.sorted_stems, term)
        if not prefix:
            found = first < len(self.sorted_stems) and self.sorted_stems[first] == term
            return self.sorted_ids[first:first + 1] if found else self.sorted_ids[:0]
        return self.sorted_ids[first:bisect_left(self.sorted_stems, term + '\U0010ffff', lo=first)]

    def rows_with(self, term: str, prefix: bool) -> np.ndarray:
        """The rows holding the term (or any term starting with it, for a prefix), sorted, each once."""
        ids = self.term_ids(term, prefix)
        starts = self.term_starts[ids]
        rows = self.rows[_ranges(starts, self.term_starts[ids + 1] - starts)]
        if len(ids) <= 1:
            return rows
        # A prefix of several stems ("care": carer, career, ...) may hold a row more than once: marking rows in a
        # mask costs the postings once, where np.unique sorted them (7 ms for a common prefix at 100k rows)
        seen = np.zeros(len(self.lengths), dtype=bool)
        seen[rows] = True
        return np.flatnonzero(seen)

    def bm25(self, terms: list[tuple[str, bool]], size: int, live: int | None = None) -> np.ndarray | None:
        """Each row's BM25 for these (stem, is prefix) terms within this field; None when no row has any.

        :param live: how many rows are indexed (``size`` less removed rows), for the terms' rarity.
        """
        if not len(self.lengths) or not self.vocabulary:
            return None
        live = size if live is None else live
        average = float(self.lengths.sum()) / max(1, live) or 1.0
        scores = None
        for term, prefix in terms:
            ids = self.term_ids(term, prefix)
            starts = self.term_starts[ids]
            postings = _ranges(starts, self.term_starts[ids + 1] - starts)
            if not len(postings):
                continue
            rows, frequency = self.rows[postings], self.frequencies[postings]
            if len(ids) > 1:  # a prefix of several stems: one posting per row, frequencies summed
                rows, inverse = np.unique(rows, return_inverse=True)
                frequency = np.bincount(inverse, weights=frequency).astype(np.float32)
            found = len(rows)
            idf = np.log1p((live - found + 0.5) / (found + 0.5))
            norm = K1 * (1 - B + B * self.lengths[rows] / average)
            if scores is None:
                scores = np.zeros(size, dtype=np.float32)
            scores[rows] += idf * frequency * (K1 + 1) / (frequency + norm)
        return scores


def _digests(term_lists: Sequence[tuple[str, ...]]) -> np.ndarray:
    """A hash of each row's words, whatever their order: the sum of a stable hash of each word (the same in every
    process, so a snapshot read from a file compares with one made here)."""
    counts = np.fromiter((len(terms) for terms in term_lists), dtype=np.int64, count=len(term_lists))
    every = [term for terms in term_lists for term in terms]
    return _row_digests(_term_hashes(every), counts)


def _term_hashes(terms: Sequence[str]) -> np.ndarray:
    """A stable 64-bit hash of each word (CRC-32 spread by splitmix64's finaliser)."""
    value = np.fromiter((zlib.crc32(term.encode()) for term in terms), dtype=np.uint64, count=len(terms))
    with np.errstate(over='ignore'):
        value = (value ^ (value >> np.uint64(16))) * np.uint64(0xBF58476D1CE4E5B9)
        value = (value ^ (value >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return value ^ (value >> np.uint64(31))


def _row_digests(hashes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each row's words' hashes summed (rows in order, ``counts`` words each), wrapping at 64 bits."""
    digests = np.zeros(len(counts), dtype=np.uint64)
    nonempty = counts > 0
    if nonempty.any():
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[nonempty]
        with np.errstate(over='ignore'):
            digests[nonempty] = np.add.reduceat(hashes, starts)
    return digests.view(np.int64)


def _term_ids(term_lists: Sequence[tuple[str, ...]], vocabulary: list[str],
              lookup: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Each row's number of terms, and all their term ids in order, adding new terms to the vocabulary."""
    counts = np.zeros(len(term_lists), dtype=np.int64)
    ids: list[int] = []
    known: dict[tuple[str, ...], list[int]] = {}  # organisation names repeat: look each distinct list up once
    for row, terms in enumerate(term_lists):
        row_ids = known.get(terms)
        if row_ids is None:
            row_ids = known[terms] = []
            for term in terms:
                term_id = lookup.get(term)
                if term_id is None:
                    term_id = lookup[term] = len(vocabulary)
                    vocabulary.append(term)
                row_ids.append(term_id)
        counts[row] = len(row_ids)
        ids.extend(row_ids)
    return counts, np.array(ids, dtype=np.int64)


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The positions ``starts[i] .. starts[i] + counts[i] - 1`` for every i, concatenated."""
    total = int(counts.sum()) if len(counts) else 0
    if not total:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    return np.repeat(starts - (ends - counts), counts) + np.arange(total)


@dataclass(frozen=True)
class NameIndex:
    """Postings for the name and the organisation name of every row of a snapshot."""

    name: FieldPostings
    organisation: FieldPostings

    @classmethod
    def build(cls, names: Sequence[str], organisations: Sequence[str]) -> NameIndex:
        stem_of = _stems_of(names, organisations)
        return cls(FieldPostings.build(_stemmed(names, stem_of)), FieldPostings.build(_stemmed(organisations, stem_of)))

    def updated(self, rows: np.ndarray, names: Sequence[str], organisations: Sequence[str], size: int) -> NameIndex:
        """``rows`` (existing, or new up to ``size``) now hold these names (see :meth:`FieldPostings.updated`)."""
        stem_of = _stems_of(names, organisations)
        return NameIndex(self.name.updated(rows, _stemmed(names, stem_of), size),
                         self.organisation.updated(rows, _stemmed(organisations, stem_of), size))

    def scores(self, words: Words, matched: np.ndarray, live: int | None = None) -> np.ndarray:
        """Relevance for every row: 0 where ``matched`` is False, else 1 plus the weighted BM25 of both names."""
        terms = query_stems(words)
        score = matched.astype(np.float32)
        for field, weight in ((self.name, NAME_WEIGHT), (self.organisation, ORGANISATION_WEIGHT)):
            field_scores = field.bm25(terms, len(matched), live)
            if field_scores is not None:
                score += weight * field_scores * matched
        return score


def query_stems(words: Words) -> list[tuple[str, bool]]:
    """The query's words as (porter stem, is an unfinished prefix)."""
    terms = [(stem(term), index == len(words.terms) - 1 and bool(words.prefix))
             for index, term in enumerate(words.terms)]
    return terms + [(stem(term), False) for phrase in words.phrases for term in phrase]


def _stems_of(names: Sequence[str], organisations: Sequence[str]) -> dict[str, str]:
    return stems(sorted({token for text in (*names, *set(organisations)) for token in tokens(text)}))


def _stemmed(texts: Sequence[str], stem_of: dict[str, str]) -> list[tuple[str, ...]]:
    """Each text's stems, in order (each distinct text split once: organisation names repeat)."""
    split: dict[str, tuple[str, ...]] = {}
    result = []
    for text in texts:
        terms = split.get(text)
        if terms is None:
            terms = split[text] = tuple(stem_of[token] for token in tokens(text))
        result.append(terms)
    return result
