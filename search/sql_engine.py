"""The embedded search engine: SQLite FTS5 + R*Tree, or PostgreSQL tsvector + GIN, over its own index tables.

Engine methods write through the current session and do not commit: the caller (drain, reindex) commits,
so marking outbox rows processed and changing the index happen in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import and_, column, delete, desc, distinct, func, insert, literal_column, select, table
from sqlalchemy.orm import Session

from registry.extensions import db

from .entries import DirectoryEntry
from .models import SearchEntry, SearchEntryAuthority, SearchEntryNeed, SearchTerm
from .query import (
    _TOKEN,
    MARK_END,
    MARK_START,
    Hit,
    PageOutOfRangeError,
    Query,
    Results,
    Words,
    closest_term,
    render_highlight,
)

ENTRIES = SearchEntry.__table__
NEEDS = SearchEntryNeed.__table__
ACCEPTED = SearchEntryAuthority.__table__
TERMS = SearchTerm.__table__
#: SQLite only: created by the migration, kept in step by triggers.
FTS = table('search_fts', column('rowid'), column('search_fts'))
RTREE = table('search_rtree', column('id'), column('min_easting'), column('max_easting'),
              column('min_northing'), column('max_northing'))
#: The same over public points (a children's home's authority centroid), for public searches.
PUBLIC_RTREE = table('search_public_rtree', column('id'), column('min_easting'), column('max_easting'),
                     column('min_northing'), column('max_northing'))
#: PostgreSQL only: the generated tsvector column.
VECTOR = literal_column('search_entries.search_vector')
#: bm25 weights for name, organisation name and body: a name match outranks a description match.
BM25_WEIGHTS = (10.0, 4.0, 1.0)
HEADLINE_OPTIONS = f'StartSel={MARK_START}, StopSel={MARK_END}'

FACET_COLUMNS = {
    'provision_type': ENTRIES.c.provision_type,
    'lot': ENTRIES.c.lot,
    'judgement': ENTRIES.c.judgement,
    'region': ENTRIES.c.region_code,
    'authority': ENTRIES.c.authority_code,
    'has_vacancy': ENTRIES.c.has_vacancy,
}


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
    """The words of an entry worth suggesting: lower case, three letters or more, no digits."""
    text = ' '.join((entry.name, entry.organisation_name, entry.search_text()))
    return {token.lower() for token in _TOKEN.findall(text) if 3 <= len(token) <= 60 and token.isalpha()}


class SqlEngine:
    """Search over the database's own index tables. The default engine, and the one tests always run."""

    name = 'sql'

    def __init__(self, session: Session | None = None):
        self._session = session

    @property
    def session(self) -> Session:
        return self._session or db.session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    # -- writing -------------------------------------------------------------------------------------------

    def index(self, entries: Iterable[DirectoryEntry]) -> int:
        """Add or replace entries. Returns how many were written."""
        entries = list({entry.id: entry for entry in entries}.values())
        if not entries:
            return 0
        self.remove([entry.id for entry in entries])
        self.session.execute(insert(ENTRIES), [self._row(entry) for entry in entries])
        needs = [{'entry_id': entry.id, 'need': need} for entry in entries for need in entry.needs]
        accepted = [{'entry_id': entry.id, 'authority_code': code} for entry in entries for code in entry.accepted_by]
        terms = [{'entry_id': entry.id, 'term': term, 'length': len(term)}
                 for entry in entries for term in sorted(vocabulary(entry))]
        for target, rows in ((NEEDS, needs), (ACCEPTED, accepted), (TERMS, terms)):
            if rows:
                self.session.execute(insert(target), rows)
        return len(entries)

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
            'updated_at': entry.updated_at, 'doc': entry.to_json(),
        }

    def remove(self, ids: Iterable[int]) -> None:
        """Remove entries by setting id (ids not in the index are ignored)."""
        ids = sorted(set(ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for target in (NEEDS, ACCEPTED, TERMS):
                self.session.execute(delete(target).where(target.c.entry_id.in_(chunk)))
            # Triggers remove the FTS5 and R*Tree rows on SQLite.
            self.session.execute(delete(ENTRIES).where(ENTRIES.c.id.in_(chunk)))

    def clear(self) -> None:
        """Empty the index."""
        for target in (NEEDS, ACCEPTED, TERMS, ENTRIES):
            self.session.execute(delete(target))

    def reindex(self, entries: Iterable[DirectoryEntry], progress: Callable[[int], None] | None = None,
                batch_size: int = 200) -> int:
        """Rebuild the whole index from ``entries`` in one transaction, so searches never see it half-built."""
        self.clear()
        written, batch = 0, []
        for entry in entries:
            batch.append(entry)
            if len(batch) >= batch_size:
                written += self.index(batch)
                if progress:
                    progress(len(batch))
                batch = []
        written += self.index(batch)
        if progress and batch:
            progress(len(batch))
        self.session.commit()
        return written

    # -- reading -------------------------------------------------------------------------------------------

    def count(self) -> int:
        """How many entries the index holds."""
        return self.session.scalar(select(func.count()).select_from(ENTRIES))

    def ids(self) -> set[int]:
        """Every indexed setting id."""
        return set(self.session.scalars(select(ENTRIES.c.id)))

    def get(self, entry_id: int) -> DirectoryEntry | None:
        """One indexed entry by setting id."""
        doc = self.session.scalar(select(ENTRIES.c.doc).where(ENTRIES.c.id == entry_id))
        return DirectoryEntry.from_json(doc) if doc else None

    def query(self, query: Query) -> Results:
        """Run a search: filter, count, facet, rank and page."""
        words = query.parsed_words
        sqlite = self.dialect == 'sqlite'
        source = ENTRIES
        base, score = [], None
        ranked_source, ranked_base = ENTRIES, []
        if not words.empty:
            if sqlite:
                # Counts and facets filter on the FTS5 matches as one materialised id list: joining made SQLite
                # drive from a column index and run MATCH once per row (a second for "autism care" in a type).
                base.append(ENTRIES.c.id.in_(select(FTS.c.rowid).where(
                    FTS.c.search_fts.match(fts5_expression(words)))))
                # The page of hits needs the join for bm25().
                ranked_source = ENTRIES.join(FTS, FTS.c.rowid == ENTRIES.c.id)
                ranked_base = [FTS.c.search_fts.match(fts5_expression(words))]
                score = -func.bm25(literal_column('search_fts'), *BM25_WEIGHTS)
            else:
                tsquery = func.to_tsquery('english', tsquery_expression(words))
                base.append(VECTOR.op('@@')(tsquery))
                score = func.ts_rank(VECTOR, tsquery)
        base += self._plain_filters(query, sqlite)
        facet_filters = self._facet_filters(query)
        conditions = base + [condition for condition in facet_filters.values() if condition is not None]

        total = self.session.scalar(select(func.count()).select_from(source).where(*conditions))
        pages = max(1, -(-total // query.page_size))
        if query.page > pages:
            raise PageOutOfRangeError(query.page, pages)

        distance = None
        if query.origin is not None:
            easting, northing = query.origin
            east, north = self._point_columns(query)
            distance = (east - easting) * (east - easting) + (north - northing) * (north - northing)
        order = self._order(query, score, distance)
        score_column = (score if score is not None else literal_column('0.0')).label('score')
        if sqlite and not words.empty:
            source, conditions = ranked_source, [*ranked_base, *conditions[1:]]
        rows = self.session.execute(
            select(ENTRIES.c.id, ENTRIES.c.doc, score_column).select_from(source).where(*conditions)
            .order_by(*order).limit(query.page_size).offset((query.page - 1) * query.page_size)
        ).all()

        highlights = self._highlights(words, [row.id for row in rows], sqlite) if not words.empty else {}
        hits = []
        for row in rows:
            entry = DirectoryEntry.from_json(row.doc)
            hits.append(Hit(entry=entry, score=float(row.score or 0.0), distance_m=query.distance_to(entry),
                            highlights=highlights.get(row.id, {})))

        facets = {name: self._facet(name, ENTRIES, base, facet_filters) for name in query.facets}
        suggestions = self._suggestions(words) if total == 0 and not words.empty else {}
        return Results(hits=hits, total=total, page=query.page, page_size=query.page_size, facets=facets,
                       suggestions=suggestions)

    @staticmethod
    def _point_columns(query: Query):
        """The easting and northing columns this query filters, sorts and measures on."""
        if query.exact_locations:
            return ENTRIES.c.easting, ENTRIES.c.northing
        return ENTRIES.c.public_easting, ENTRIES.c.public_northing

    def _plain_filters(self, query: Query, sqlite: bool) -> list:
        """Filters that are not facets: age, sex, local list and distance."""
        conditions = []
        if query.age is not None:
            conditions += [ENTRIES.c.age_min <= query.age, ENTRIES.c.age_max >= query.age]
        if query.sex:
            conditions.append(ENTRIES.c.sex.in_([query.sex, 'any']))
        if query.accepted_by:
            conditions.append(ENTRIES.c.id.in_(
                select(ACCEPTED.c.entry_id).where(ACCEPTED.c.authority_code == query.accepted_by)))
        if query.origin is not None and query.radius_m is not None:
            easting, northing = query.origin
            radius = query.radius_m
            east, north = self._point_columns(query)
            if sqlite:
                rtree = RTREE if query.exact_locations else PUBLIC_RTREE
                conditions.append(ENTRIES.c.id.in_(select(rtree.c.id).where(
                    rtree.c.min_easting <= easting + radius, rtree.c.max_easting >= easting - radius,
                    rtree.c.min_northing <= northing + radius, rtree.c.max_northing >= northing - radius)))
            else:
                conditions += [east.between(easting - radius, easting + radius),
                               north.between(northing - radius, northing + radius)]
            # The box is only a prefilter; this is the exact circle.
            conditions.append((east - easting) * (east - easting) + (north - northing) * (north - northing)
                              <= radius * radius)
        return conditions

    @staticmethod
    def _facet_filters(query: Query) -> dict:
        """Filters that are also facets, keyed by facet name, so each facet can drop its own."""
        needs = None
        if query.needs:
            needs = and_(*[ENTRIES.c.id.in_(select(NEEDS.c.entry_id).where(NEEDS.c.need == need))
                           for need in query.needs])
        return {
            'provision_type': ENTRIES.c.provision_type.in_(query.provision_types) if query.provision_types else None,
            'lot': ENTRIES.c.lot.in_(query.lots) if query.lots else None,
            'judgement': ENTRIES.c.judgement_rank >= query.judgement_rank if query.min_judgement else None,
            'region': ENTRIES.c.region_code.in_(query.region_codes) if query.region_codes else None,
            'authority': ENTRIES.c.authority_code.in_(query.authority_codes) if query.authority_codes else None,
            'needs': needs,
            'has_vacancy': ENTRIES.c.has_vacancy.is_(query.has_vacancy) if query.has_vacancy is not None else None,
        }

    @staticmethod
    def _order(query: Query, score, distance) -> list:
        by_name = [ENTRIES.c.name, ENTRIES.c.id]
        relevance = [desc(score)] if score is not None else []
        if query.sort == 'distance' and distance is not None:
            return [distance, ENTRIES.c.id]
        if query.sort == 'judgement':
            return [desc(ENTRIES.c.judgement_rank), *relevance, *by_name]
        if query.sort == 'updated':
            return [desc(ENTRIES.c.updated_at), ENTRIES.c.id]
        return [*relevance, *by_name]

    def _facet(self, name: str, source, base: list, facet_filters: dict) -> dict[str, int]:
        """Counts for one facet, with every filter applied except the facet's own."""
        others = [condition for key, condition in facet_filters.items() if key != name and condition is not None]
        if name == 'needs':
            statement = (select(NEEDS.c.need, func.count(distinct(NEEDS.c.entry_id)))
                         .select_from(source.join(NEEDS, NEEDS.c.entry_id == ENTRIES.c.id))
                         .where(*base, *others).group_by(NEEDS.c.need))
        else:
            facet_column = FACET_COLUMNS[name]
            statement = (select(facet_column, func.count()).select_from(source)
                         .where(*base, *others, facet_column.is_not(None)).group_by(facet_column))
        counts = {}
        for value, count in self.session.execute(statement):
            key = ('true' if value else 'false') if name == 'has_vacancy' else str(value)
            counts[key] = count
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def _highlights(self, words: Words, ids: list[int], sqlite: bool) -> dict[int, dict[str, str]]:
        """Name, organisation and a description snippet with matched words in ``<mark>``, for one page of hits."""
        if not ids:
            return {}
        if sqlite:
            fts = literal_column('search_fts')
            statement = select(
                FTS.c.rowid,
                func.highlight(fts, 0, MARK_START, MARK_END).label('name'),
                func.highlight(fts, 1, MARK_START, MARK_END).label('organisation_name'),
                func.snippet(fts, 2, MARK_START, MARK_END, '…', 40).label('description'),
            ).where(FTS.c.search_fts.match(fts5_expression(words)), FTS.c.rowid.in_(ids))
        else:
            tsquery = func.to_tsquery('english', tsquery_expression(words))
            statement = select(
                ENTRIES.c.id,
                func.ts_headline('english', ENTRIES.c.name, tsquery, HEADLINE_OPTIONS + ', HighlightAll=true')
                .label('name'),
                func.ts_headline('english', ENTRIES.c.organisation_name, tsquery,
                                 HEADLINE_OPTIONS + ', HighlightAll=true').label('organisation_name'),
                func.ts_headline('english', ENTRIES.c.body, tsquery,
                                 HEADLINE_OPTIONS + ', MaxWords=40, MinWords=15').label('description'),
            ).where(ENTRIES.c.id.in_(ids))
        return {
            row[0]: {field: str(render_highlight(row[index])) for index, field in
                     enumerate(('name', 'organisation_name', 'description'), 1) if MARK_START in (row[index] or '')}
            for row in self.session.execute(statement)
        }

    def _suggestions(self, words: Words) -> dict[str, str]:
        """For each word the index does not know, the closest word it does know."""
        suggestions = {}
        for word in dict.fromkeys(words.all_terms()):
            if len(word) < 3 or not word.isalpha():
                continue
            rows = self.session.execute(
                select(TERMS.c.term, func.count()).where(TERMS.c.length.between(len(word) - 2, len(word) + 2))
                .group_by(TERMS.c.term).limit(50_000)
            ).all()
            candidates = {term: count for term, count in rows}
            if word in candidates:
                continue
            if (suggestion := closest_term(word, candidates)) is not None:
                suggestions[word] = suggestion
        return suggestions

