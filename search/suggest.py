""""Did you mean": the closest indexed word to a word that found nothing, from a small table of distinct words.

``search_vocabulary`` holds each distinct word of the index (lower case, letters only, three letters or more, no
stop word) with the number of entries that use it. Index writes keep it up to date by the difference between an
entry's old and new words, so a write costs its own words, never a scan. Each snapshot holds it as arrays
(:class:`Suggester`): words ordered by length, with a count of each letter per word. A suggestion is then a slice
of the words whose length is close enough, two vectorised checks that no close word can fail (which letters a word
has, as one 27-bit mask per word: an edit adds or removes at most two letters, so the masks of two words ``k``
edits apart differ in at most ``2k`` bits; then how often each letter occurs: every edit changes at most two
letter counts by one), and exact edit distances for at most :data:`MAX_CHECKED` of the commonest survivors:
bounded work whatever the vocabulary's size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .query import _TOKEN, edit_distance

#: PostgreSQL's ``english`` stop words (``tsearch_data/english.stop``): never indexed by its tsvector, so never
#: suggested by either database.
STOP_WORDS = frozenset('''
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself it
its itself they them their theirs themselves what which who whom this that these those am is are was were be been
being have has had having do does did doing a an the and but if or because as until while of at by for with about
against between into through during before after above below to from up down in out on off over under again
further then once here there when where why how all any both each few more most other some such no nor not only
own same so than too very s t can will just don should now
'''.split())
#: Words longer than this are neither indexed nor suggested.
MAX_LENGTH = 40
#: Unknown words a request looks at, and candidates per word whose exact edit distance is computed.
MAX_WORDS, MAX_CHECKED = 4, 64
_LETTERS = 27  # a-z, then everything else


def words_of(texts: Iterable[str]) -> set[str]:
    """The words of these texts worth suggesting: lower case, letters only, 3 to 40 long, no stop words."""
    found = set()
    for text in texts:
        for token in _TOKEN.findall(text or ''):
            if 3 <= len(token) <= MAX_LENGTH and token.isalpha():
                token = token.lower()
                if token not in STOP_WORDS:
                    found.add(token)
    return found


@dataclass(frozen=True)
class Suggester:
    """The vocabulary as arrays: words by (length, word), their entry counts and letter counts."""

    words: list[str]
    counts: np.ndarray
    #: ``starts[n]`` is the first word of length ``n`` (so length n is ``starts[n]:starts[n + 1]``).
    starts: np.ndarray
    letters: np.ndarray
    known: frozenset[str]

    @property
    def masks(self) -> np.ndarray:
        """Which letters each word has, one bit each (made once from ``letters``; not stored)."""
        masks = self.__dict__.get('_masks')
        if masks is None:
            masks = _masks(self.letters)
            object.__setattr__(self, '_masks', masks)
        return masks

    @classmethod
    def build(cls, rows: Iterable[tuple[str, int]]) -> Suggester:
        pairs = sorted(((word, int(count)) for word, count in rows
                        if count > 0 and word not in STOP_WORDS and len(word) <= MAX_LENGTH),
                       key=lambda pair: (len(pair[0]), pair[0]))
        words = [word for word, _ in pairs]
        lengths = np.array([len(word) for word in words], dtype=np.int64)
        return cls(words, np.array([count for _, count in pairs], dtype=np.int64),
                   np.searchsorted(lengths, np.arange(MAX_LENGTH + 2)), _letter_counts(words), frozenset(words))

    def __len__(self) -> int:
        return len(self.words)

    def suggest(self, word: str) -> str | None:
        """The indexed word nearest ``word`` (edit distance 1 for words of up to 5 letters, else 2), the commonest
        of equally near ones; None for a known word, a stop word, or nothing near."""
        word = word.lower()
        if word in self.known or word in STOP_WORDS or not 3 <= len(word) <= MAX_LENGTH or not word.isalpha():
            return None
        limit = 1 if len(word) <= 5 else 2
        low = self.starts[max(0, len(word) - limit)]
        high = self.starts[min(MAX_LENGTH, len(word) + limit) + 1]
        if high <= low:
            return None
        counts = _letter_counts([word])
        near = low + np.flatnonzero(np.bitwise_count(self.masks[low:high] ^ _masks(counts)[0]) <= 2 * limit)
        difference = np.abs(self.letters[near].astype(np.int16) - counts[0].astype(np.int16))
        candidates = near[difference.sum(axis=1) <= 2 * limit]
        if len(candidates) > MAX_CHECKED:
            candidates = candidates[np.argpartition(-self.counts[candidates], MAX_CHECKED - 1)[:MAX_CHECKED]]
        best = None
        for index in candidates.tolist():
            candidate = self.words[index]
            distance = edit_distance(word, candidate, limit + 1)
            if distance <= limit:
                key = (distance, -int(self.counts[index]), candidate)
                if best is None or key < best:
                    best = key
        return best[2] if best else None

    def suggestions(self, words: Iterable[str]) -> dict[str, str]:
        """For each of the first :data:`MAX_WORDS` distinct unknown words, the closest known word (if any)."""
        result = {}
        unknown = [word for word in dict.fromkeys(word.lower() for word in words)
                   if word not in self.known and word not in STOP_WORDS and len(word) >= 3 and word.isalpha()]
        for word in unknown[:MAX_WORDS]:
            if (suggestion := self.suggest(word)) is not None:
                result[word] = suggestion
        return result



def _masks(letters: np.ndarray) -> np.ndarray:
    """One bit per letter present, from rows of letter counts."""
    return ((letters > 0).astype(np.uint32) << np.arange(_LETTERS, dtype=np.uint32)).sum(axis=1, dtype=np.uint32)


def _letter_counts(words: list[str]) -> np.ndarray:
    """How often each of a-z (and any other letter, together) occurs in each word: one row of 27 per word."""
    if not words:
        return np.zeros((0, _LETTERS), dtype=np.uint8)
    width = max(len(word) for word in words)
    codes = np.array(words, dtype=f'<U{width}').view(np.uint32).reshape(len(words), width).astype(np.int64)
    present = codes != 0
    bucket = np.where((codes >= 97) & (codes <= 122), codes - 97, _LETTERS - 1)
    cells = (np.arange(len(words), dtype=np.int64)[:, None] * _LETTERS + bucket)[present]
    return np.bincount(cells, minlength=len(words) * _LETTERS).reshape(len(words), _LETTERS).astype(np.uint8)
