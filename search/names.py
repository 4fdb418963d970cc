"""Relevance from the two names: BM25 over each entry's name and organisation name, held in memory per snapshot.

The database's full-text index decides which entries match (every word, in any field). Asking it again for the
name and organisation matches, or for ``bm25()`` of every match, costs milliseconds per search at 100k entries,
so the snapshot keeps the stemmed words of the two names as postings instead, and scores them here:
``score = 1 + 10 * bm25(name) + 4 * bm25(organisation name)`` with k1 = 1.2 and b = 0.75. A name match therefore
always outranks a match in the description only; within the names, rarer words and shorter names count for more.

Words are stemmed by SQLite's own FTS5 ``porter`` tokenizer (an in-memory table), so they are the same stems as
the SQLite index. PostgreSQL's ``english`` stemmer differs on a few words; there only the order can differ,
never which entries match.
"""

from __future__ import annotations

import sqlite3
import threading
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
        else:
            pending.append(word)
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
    return result


def _stem_alone(connection: sqlite3.Connection, word: str) -> str:
    connection.execute('INSERT INTO words (rowid, word) VALUES (-1, ?)', (word,))
    try:
        return connection.execute('SELECT term FROM stems WHERE doc = -1 ORDER BY "offset" LIMIT 1').fetchone()[0]
    except TypeError:
        return word
    finally:
        connection.execute('DELETE FROM words WHERE rowid = -1')


@lru_cache(maxsize=4096)
def stem(word: str) -> str:
    return stems([word])[word]


def tokens(text: str) -> list[str]:
    return [token.lower() for token in _TOKEN.findall(text or '')]


@dataclass(frozen=True)
class FieldPostings:
    """One field's stemmed words as postings: for term ``t``, rows ``rows[starts[t]:starts[t + 1]]``, each with a
    term frequency, plus every row's length in words."""

    #: Every stem, sorted (a list: ``bisect`` on it is much faster than numpy's search on strings).
    vocabulary: list[str]
    starts: np.ndarray
    rows: np.ndarray
    frequencies: np.ndarray
    lengths: np.ndarray

    @classmethod
    def build(cls, texts: Sequence[str], stem_of: dict[str, str]) -> FieldPostings:
        term_ids: dict[str, int] = {}
        row_list, term_list = [], []
        lengths = np.zeros(len(texts), dtype=np.float32)
        split: dict[str, list[int]] = {}  # organisation names repeat: tokenise each distinct text once
        for row, text in enumerate(texts):
            ids = split.get(text)
            if ids is None:
                ids = split[text] = [term_ids.setdefault(stem_of[token], len(term_ids)) for token in tokens(text)]
            lengths[row] = len(ids)
            row_list.extend([row] * len(ids))
            term_list.extend(ids)
        vocabulary = np.array(list(term_ids), dtype=str)
        # Renumber terms in sorted order, so a prefix is one contiguous range of term ids.
        order = np.argsort(vocabulary) if len(vocabulary) else np.zeros(0, dtype=np.intp)
        renumber = np.empty(len(order), dtype=np.int64)
        renumber[order] = np.arange(len(order))
        terms = renumber[np.array(term_list, dtype=np.int64)] if term_list else np.zeros(0, dtype=np.int64)
        rows = np.array(row_list, dtype=np.int64)
        # One posting per (term, row), with how often the term occurs in that row.
        pairs, frequencies = np.unique(terms * max(1, len(texts)) + rows, return_counts=True)
        pair_terms, pair_rows = np.divmod(pairs, max(1, len(texts)))
        starts = np.searchsorted(pair_terms, np.arange(len(order) + 1))
        return cls(vocabulary[order].tolist(), starts, pair_rows, frequencies.astype(np.float32), lengths)

    def term_range(self, term: str, prefix: bool) -> tuple[int, int]:
        """The term ids equal to ``term`` (or starting with it, for a prefix)."""
        first = bisect_left(self.vocabulary, term)
        if not prefix:
            return first, first + int(first < len(self.vocabulary) and self.vocabulary[first] == term)
        return first, bisect_left(self.vocabulary, term + '\U0010ffff', lo=first)

    def bm25(self, terms: list[tuple[str, bool]], size: int) -> np.ndarray | None:
        """Each row's BM25 for these (stem, is prefix) terms within this field; None when no row has any."""
        if not len(self.lengths) or not len(self.vocabulary):
            return None
        average = float(self.lengths.mean()) or 1.0
        scores = None
        for term, prefix in terms:
            first, last = self.term_range(term, prefix)
            begin, end = int(self.starts[first]), int(self.starts[last])
            if begin == end:
                continue
            rows = self.rows[begin:end]
            frequency = self.frequencies[begin:end]
            if last - first > 1:  # a prefix of several terms: one posting per row, frequencies summed
                rows, inverse = np.unique(rows, return_inverse=True)
                frequency = np.bincount(inverse, weights=frequency).astype(np.float32)
            found = len(rows)
            idf = np.log1p((size - found + 0.5) / (found + 0.5))
            norm = K1 * (1 - B + B * self.lengths[rows] / average)
            if scores is None:
                scores = np.zeros(size, dtype=np.float32)
            scores[rows] += idf * frequency * (K1 + 1) / (frequency + norm)
        return scores


@dataclass(frozen=True)
class NameIndex:
    """Postings for the name and the organisation name of every row of a snapshot."""

    name: FieldPostings
    organisation: FieldPostings

    @classmethod
    def build(cls, names: Sequence[str], organisations: Sequence[str]) -> NameIndex:
        words = {token for text in (*names, *set(organisations)) for token in tokens(text)}
        stem_of = stems(sorted(words))
        return cls(FieldPostings.build(names, stem_of), FieldPostings.build(organisations, stem_of))

    def scores(self, words: Words, matched: np.ndarray) -> np.ndarray:
        """Relevance for every row: 0 where ``matched`` is False, else 1 plus the weighted BM25 of both names."""
        terms = [(stem(term), index == len(words.terms) - 1 and bool(words.prefix))
                 for index, term in enumerate(words.terms)]
        terms += [(stem(term), False) for phrase in words.phrases for term in phrase]
        score = matched.astype(np.float32)
        for field, weight in ((self.name, NAME_WEIGHT), (self.organisation, ORGANISATION_WEIGHT)):
            field_scores = field.bm25(terms, len(matched))
            if field_scores is not None:
                score += weight * field_scores * matched
        return score
