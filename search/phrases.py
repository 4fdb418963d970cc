"""Which entries match a search with quoted phrases, kept per index version and brought forward by what changed.

Only the database's full-text index knows word positions, so a phrase ("sibling groups") is answered there, and
that is the dearest query in the mix: FTS5 reads both words' positions for every entry holding them (7 ms at 100k
entries), PostgreSQL rechecks the tsvector of every entry its GIN index offers (about 50 ms). The answer changes
only where entries were written, so it is kept with the index version it was true at; at a later version only the
entries written since (the change log names them) are asked again. Vacancy writes ten times a second then cost a
lookup of a few ids, where recomputing would cost the whole phrase each time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from .snapshot import Snapshot, changed_since

#: Phrase searches kept per process (each a sorted array of matching ids).
KEPT = 64
#: Ask again about at most this many written entries (about 3 ms); beyond it the whole phrase is asked again.
RECHECK_LIMIT = 200


@dataclass(frozen=True)
class Kept:
    version: int
    token: str
    ids: np.ndarray


class PhraseMemo:
    """Matching ids per (database, expression), least recently used dropped first; safe across threads."""

    def __init__(self, size: int = KEPT):
        self._kept: OrderedDict[tuple[str, str], Kept] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def ids(self, session: Session, snapshot: Snapshot, expression: str,
            ask: Callable[[np.ndarray | None], np.ndarray]) -> np.ndarray:
        """Ids matching ``expression`` at ``snapshot``'s version. ``ask(None)`` asks the full-text index about every
        entry, ``ask(ids)`` only about those ids; both return sorted ids."""
        if snapshot.version is None or snapshot.token is None:
            return ask(None)
        key = (str(session.get_bind().url), expression)
        with self._lock:
            kept = self._kept.get(key)
        if kept is not None and kept.version == snapshot.version and kept.token == snapshot.token:
            ids = kept.ids
        elif kept is not None and kept.version < snapshot.version:
            ids = self._brought_forward(session, snapshot, kept, ask)
        else:
            ids = ask(None)
        with self._lock:
            self._kept[key] = Kept(snapshot.version, snapshot.token, ids)
            self._kept.move_to_end(key)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return ids

    @staticmethod
    def _brought_forward(session: Session, snapshot: Snapshot, kept: Kept,
                         ask: Callable[[np.ndarray | None], np.ndarray]) -> np.ndarray:
        changed = changed_since(session, kept.version, kept.token, upto=snapshot.version)
        if changed is None or len(changed) > RECHECK_LIMIT:
            return ask(None)
        if not len(changed):
            return kept.ids
        unchanged = kept.ids[~np.isin(kept.ids, changed)]
        again = ask(changed)
        return np.insert(unchanged, np.searchsorted(unchanged, again), again)
