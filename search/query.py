"""The search request and its results, shared by every engine, and the parser that turns URL arguments into a Query."""

from __future__ import annotations

import csv
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from markupsafe import Markup, escape

from registry.geography import postcodes
from registry.paging import Paged, page_count
from registry.settings.taxonomy import NEEDS, Judgement, Lot, ProvisionType, SexAccepted

from .entries import DirectoryEntry
from .places import PlaceError, find_place
from .synonyms import expand

SORTS = ('relevance', 'distance', 'judgement', 'updated')
FACETS = ('provision_type', 'lot', 'judgement', 'region', 'authority', 'needs', 'has_vacancy')
MIN_RADIUS_MILES, MAX_RADIUS_MILES = 1, 300
MAX_PAGE_SIZE = 100
#: A page number longer than this is refused outright (any shorter one past the end is told how many pages there are).
MAX_PAGE_DIGITS = 30
MAX_WORDS_LENGTH = 200
#: Results past this position cannot be paged to, on either engine (Elasticsearch's ``index.max_result_window``,
#: set to the same number in ``mappings/settings.json``): deeper pages ask the person to narrow the search. Exports
#: page by id instead (``engine().export``), so they reach every entry.
MAX_RESULT_WINDOW = 10_000
#: The shortest unfinished last word matched as a prefix: ``"ca"`` would match most of the directory.
MIN_PREFIX_LENGTH = 3
#: Words every engine ignores in a search: PostgreSQL's ``english`` stop words (which include all of
#: Elasticsearch's ``english`` analyzer's), so "homes for girls" finds the same settings on SQLite, PostgreSQL
#: and Elasticsearch. A search of only these words is a search with no words.
STOP_WORDS = frozenset('''
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself
    it its itself they them their theirs themselves what which who whom this that these those am is are was were be
    been being have has had having do does did doing a an the and but if or because as until while of at by for with
    about against between into through during before after above below to from up down in out on off over under again
    further then once here there when where why how all any both each few more most other some such no nor not only
    own same so than too very s t can will just don should now
'''.split())
#: Marks the start and end of a matched word in engine highlights, before HTML escaping.
MARK_START, MARK_END = '\x02', '\x03'

_AUTHORITY_CODE = re.compile(r'^E\d{8}$')
_REGION_CODE = re.compile(r'^E\d{8}$')
#: Tokens are runs of letters and digits only, so no engine's query syntax can be smuggled in.
_TOKEN = re.compile(r'[^\W_]+')


class QueryError(ValueError):
    """Search parameters that cannot be used. ``errors`` maps each parameter to a message for the person."""

    def __init__(self, errors: Mapping[str, str] | str):
        self.errors = dict(errors) if isinstance(errors, Mapping) else {'query': errors}
        super().__init__('; '.join(self.errors.values()))


class PageOutOfRangeError(QueryError):
    """The requested page is past the last page of results."""

    def __init__(self, page: int, last_page: int, message: str | None = None):
        self.page, self.last_page = page, last_page
        pages = 'is only 1 page' if last_page == 1 else f'are only {last_page} pages'
        super().__init__({'page': message or f'Page {page} is past the end of the results: there {pages}'})


class DeepPageError(PageOutOfRangeError):
    """The requested page holds results past :data:`MAX_RESULT_WINDOW`: the search must be narrowed to reach them."""

    def __init__(self, page: int, page_size: int, total: int, window: int = MAX_RESULT_WINDOW):
        last_page = max(1, window // page_size)
        super().__init__(page, last_page, f'Only the first {window:,} of the {total:,} results can be shown: '
                                          'narrow the search with words or filters to see the others')


class SearchUnavailableError(RuntimeError):
    """The search engine cannot answer now (down, timing out, refusing work). ``reason`` is for the log and the
    outbox; people are told only that search is temporarily unavailable."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class IndexWriteError(RuntimeError):
    """Some entries could not be written (the engine answered, but refused them). ``failures`` maps each entry id
    to the engine's reason; entries not named were written."""

    def __init__(self, failures: Mapping[int, str]):
        self.failures = dict(failures)
        first = next(iter(self.failures.items()), (None, ''))
        super().__init__(f'{len(self.failures)} entries could not be written; entry {first[0]}: {first[1]}')


def check_page(query: Query, total: int, window: int = MAX_RESULT_WINDOW) -> None:
    """The one paging rule for every engine: a page past the last raises :class:`PageOutOfRangeError`, a page
    holding results past ``window`` raises :class:`DeepPageError`."""
    pages = page_count(total, query.page_size)
    if query.page > pages:
        raise PageOutOfRangeError(query.page, pages)
    if query.page * query.page_size > window:
        raise DeepPageError(query.page, query.page_size, total, window)


@dataclass(frozen=True)
class Words:
    """Free text split into what engines need: plain terms, quoted phrases and an unfinished last word."""

    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    #: The last term, matched as a prefix too when the text did not end with a space or a quote.
    prefix: str | None = None
    #: Stop words left out of ``terms``.
    ignored: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """No words at all: every entry matches."""
        return not self.terms and not self.phrases and not self.ignored

    @property
    def only_stop_words(self) -> bool:
        """Only stop words: nothing matches (as PostgreSQL and Elasticsearch answer such a search)."""
        return not self.terms and not self.phrases and bool(self.ignored)

    def all_terms(self) -> list[str]:
        return [*self.terms, *(term for phrase in self.phrases for term in phrase)]


def split_words(text: str) -> Words:
    """Split free text into lower-case tokens and quoted phrases. Never fails, whatever the input.

    Outside phrases, :data:`STOP_WORDS` are dropped; the unfinished last word is a prefix only if it is not a stop
    word and has at least :data:`MIN_PREFIX_LENGTH` letters. Phrases keep every word. A search of only stop words
    matches nothing.
    """
    text = (text or '')[:MAX_WORDS_LENGTH]
    phrases, terms = [], []
    parts = text.split('"')
    for index, part in enumerate(parts):
        tokens = [token.lower() for token in _TOKEN.findall(part)]
        # Odd parts sit between quotes; an unclosed quote still makes a phrase.
        if index % 2 == 1 and len(tokens) > 1:
            phrases.append(tuple(tokens))
        else:
            terms.extend(tokens)
    last = None
    if terms and parts[-1] and not text[-1:].isspace() and len(parts) % 2 == 1 and _TOKEN.findall(parts[-1]):
        last = terms[-1]
    kept = tuple(term for term in terms if term not in STOP_WORDS)
    prefix = last if last is not None and last not in STOP_WORDS and len(last) >= MIN_PREFIX_LENGTH else None
    return Words(kept, tuple(phrases), prefix, tuple(term for term in terms if term in STOP_WORDS))


@dataclass(frozen=True)
class Query:
    """One search: words, filters, an origin and radius, a sort, facets wanted and a page."""

    words: str = ''
    provision_types: tuple[str, ...] = ()
    lots: tuple[str, ...] = ()
    #: At least this judgement (``good`` means good or outstanding).
    min_judgement: str | None = None
    authority_codes: tuple[str, ...] = ()
    region_codes: tuple[str, ...] = ()
    #: Every one of these needs must be met.
    needs: tuple[str, ...] = ()
    #: The child's age, which must be within the setting's range.
    age: int | None = None
    #: ``female`` or ``male``: settings for that sex or for any.
    sex: str | None = None
    has_vacancy: bool | None = None
    #: On this authority's local list.
    accepted_by: str | None = None
    #: (easting, northing) in British National Grid metres.
    origin: tuple[float, float] | None = None
    #: How the origin was given, for showing back ("LS1 4DY").
    origin_label: str = ''
    radius_miles: float | None = None
    #: Filter, sort and measure on exact points. Only signed-in commissioners and the board may set this; public
    #: searches use each entry's public point (a children's home's authority centroid), so repeated radius
    #: searches cannot triangulate a home. Never set from URL arguments.
    exact_locations: bool = False
    sort: str = 'relevance'
    facets: tuple[str, ...] = FACETS
    page: int = 1
    page_size: int = 20
    #: Mark the matched words in each hit (pages show them; the JSON API does not, so it skips the work).
    highlight: bool = True
    #: How typed words were read (``search/synonyms.py``): (typed, meaning) pairs, shown back to the person.
    read_as: tuple[tuple[str, str], ...] = ()
    #: Include the whole market: not-qualified settings from the register, and in-house services the viewer may see
    #: (``in_house_for``), all ranked after qualified entries. Only commissioner and board searches set it; never
    #: set from URL arguments alone, so public searches can only ever find qualified entries.
    market: bool = field(default=False, repr=False)
    #: The authority whose in-house services (its own and its consortium partners') a market search includes;
    #: ``*`` for the national board, which sees every authority's.
    in_house_for: str | None = field(default=None, repr=False)

    @property
    def parsed_words(self) -> Words:
        return split_words(self.words)

    @property
    def radius_m(self) -> float | None:
        return None if self.radius_miles is None else self.radius_miles * 1609.344

    @property
    def judgement_rank(self) -> int | None:
        return Judgement(self.min_judgement).rank if self.min_judgement else None

    @property
    def seed(self) -> int:
        """A number fixed by what is asked (not the page), to shuffle equal matches the same way every time."""
        asked = replace(self, page=1, page_size=20, facets=(), highlight=False, origin_label='')
        return int.from_bytes(hashlib.blake2b(repr(asked).encode(), digest_size=8).digest(), 'little')

    def with_page(self, page: int) -> Query:
        return replace(self, page=page)

    def point_of(self, entry: DirectoryEntry) -> tuple[float, float]:
        """Where this query places an entry: its exact point for exact queries, else its public point."""
        return (entry.easting, entry.northing) if self.exact_locations else entry.public_point

    def distance_to(self, entry: DirectoryEntry) -> float | None:
        """Metres from the origin to the entry's point (see :meth:`point_of`); None without an origin."""
        if self.origin is None:
            return None
        easting, northing = self.point_of(entry)
        return math.hypot(easting - self.origin[0], northing - self.origin[1])


@dataclass(frozen=True)
class Hit:
    """One result: the entry, the engine's score, the distance from the origin and highlighted fields."""

    entry: DirectoryEntry
    score: float = 0.0
    distance_m: float | None = None
    #: Field name to HTML-safe text with ``<mark>`` around matched words.
    highlights: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Results(Paged):
    """A page of hits, the total, facet counts and "did you mean" suggestions."""

    hits: list[Hit]
    total: int
    page: int
    page_size: int
    #: Facet name to {value: count}, each counted with that facet's own filter removed.
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Misspelt word to the closest indexed word, for words that found nothing.
    suggestions: dict[str, str] = field(default_factory=dict)

    @property
    def ids(self) -> list[int]:
        return [hit.entry.id for hit in self.hits]

def render_highlight(marked: str) -> Markup:
    """HTML-escape engine output, then turn the start/end markers into ``<mark>`` tags."""
    return Markup(str(escape(marked)).replace(MARK_START, '<mark>').replace(MARK_END, '</mark>'))


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Levenshtein distance, giving up (returning ``limit``) once it must be at least ``limit``."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        if min(current) >= limit:
            return limit
        previous = current
    return min(previous[-1], limit)


def closest_term(word: str, candidates: Mapping[str, int]) -> str | None:
    """The candidate nearest ``word`` by edit distance (1 for short words, 2 otherwise), commonest first."""
    limit = 2 if len(word) <= 5 else 3
    best = None
    for term, frequency in candidates.items():
        if term == word:
            return None
        if term in STOP_WORDS:   # "ASD" must never become "Did you mean and?"
            continue
        distance = edit_distance(word, term, limit)
        if distance < limit:
            key = (distance, -frequency, term)
            if best is None or key < best[0]:
                best = (key, term)
    return best[1] if best else None


@cache
def authority_centroids() -> dict[str, tuple[float, float]]:
    """The mean grid reference of each authority's postcodes (``data/authority_centroids.csv``)."""
    path = Path(__file__).parent / 'data' / 'authority_centroids.csv'
    with open(path, encoding='utf-8', newline='') as handle:
        return {row['authority_code']: (float(row['easting']), float(row['northing']))
                for row in csv.DictReader(handle)}


def _values(args: Mapping, name: str) -> list[str]:
    """Every value given for ``name``: repeated parameters and comma-separated lists both work."""
    raw = args.getlist(name) if hasattr(args, 'getlist') else args.get(name)
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [raw]
    values = []
    for item in raw:
        values.extend(part.strip() for part in str(item).split(','))
    return [value for value in values if value]


def _one(args: Mapping, name: str) -> str:
    values = _values(args, name)
    return values[0] if values else ''


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _int(text: str) -> int | None:
    return int(text) if re.fullmatch(r'\d{1,6}', text) else None


def _choices(args, name, allowed, errors, what) -> tuple[str, ...]:
    values = _values(args, name)
    unknown = [value for value in values if value not in allowed]
    if unknown:
        errors[name] = f'Unknown {what}: {", ".join(sorted(set(unknown)))[:100]}'
    return tuple(dict.fromkeys(value for value in values if value in allowed))


def parse_query(args: Mapping, page_size: int = 20) -> Query:
    """Turn URL arguments (a dict or a MultiDict) into a Query, or raise :class:`QueryError` naming each bad one.

    Parameters: ``q``, ``provision_type``, ``lot``, ``min_judgement``, ``authority``, ``region``, ``need``,
    ``age``, ``sex``, ``has_vacancy``, ``accepted_by``, ``postcode`` | ``near_authority`` | ``easting`` and
    ``northing``, ``radius`` (miles), ``sort``, ``facets``, ``page``, ``page_size``.
    """
    errors: dict[str, str] = {}
    words = ' '.join(_values(args, 'q')) if hasattr(args, 'getlist') else str(args.get('q') or '')
    if len(words) > MAX_WORDS_LENGTH:
        errors['q'] = f'Search words must be {MAX_WORDS_LENGTH} characters or fewer'

    provision_types = _choices(args, 'provision_type', {p.value for p in ProvisionType}, errors, 'provision type')
    lots = _choices(args, 'lot', {lot.value for lot in Lot}, errors, 'lot')
    needs = _choices(args, 'need', set(NEEDS), errors, 'need')

    min_judgement = _one(args, 'min_judgement') or None
    if min_judgement and min_judgement not in {j.value for j in Judgement}:
        errors['min_judgement'] = 'Choose a judgement: outstanding, good, requires-improvement or inadequate'
        min_judgement = None

    authority_codes = tuple(dict.fromkeys(code.upper() for code in _values(args, 'authority')))
    if any(not _AUTHORITY_CODE.match(code) for code in authority_codes):
        errors['authority'] = 'Authority codes look like E09000033'
    region_codes = tuple(dict.fromkeys(code.upper() for code in _values(args, 'region')))
    if any(not _REGION_CODE.match(code) for code in region_codes):
        errors['region'] = 'Region codes look like E12000003'
    accepted_by = _one(args, 'accepted_by').upper() or None
    if accepted_by and not _AUTHORITY_CODE.match(accepted_by):
        errors['accepted_by'] = 'Authority codes look like E09000033'

    age = None
    if raw_age := _one(args, 'age'):
        age = _int(raw_age)
        if age is None or not 0 <= age <= 25:
            errors['age'] = "Enter the child's age as a whole number from 0 to 25"
            age = None

    sex = _one(args, 'sex') or None
    if sex == SexAccepted.ANY.value:
        sex = None
    if sex and sex not in {SexAccepted.FEMALE.value, SexAccepted.MALE.value}:
        errors['sex'] = 'Sex must be female or male'
        sex = None

    has_vacancy = None
    if raw_vacancy := _one(args, 'has_vacancy').lower():
        if raw_vacancy in {'1', 'true', 'yes', 'on', 'y'}:
            has_vacancy = True
        elif raw_vacancy in {'0', 'false', 'no', 'off', 'n'}:
            has_vacancy = False
        else:
            errors['has_vacancy'] = 'has_vacancy must be yes or no'

    has_place = any(_one(args, name) for name in ('postcode', 'near_authority', 'easting', 'northing'))
    expansion = expand(words, sex=sex, min_judgement=min_judgement, has_place=has_place)
    words, sex, min_judgement = expansion.words, sex or expansion.sex, min_judgement or expansion.min_judgement
    origin, origin_label = _parse_origin({'postcode': expansion.postcode} if expansion.postcode else args, errors)

    radius_miles = None
    if raw_radius := _one(args, 'radius'):
        radius_miles = _number(raw_radius)
        if radius_miles is None:
            errors['radius'] = 'Enter the distance as a number of miles, like 10'
        elif not MIN_RADIUS_MILES <= radius_miles <= MAX_RADIUS_MILES:
            errors['radius'] = f'Distance must be between {MIN_RADIUS_MILES} and {MAX_RADIUS_MILES} miles'
            radius_miles = None
        elif origin is None and 'postcode' not in errors and 'origin' not in errors:
            errors['radius'] = 'Enter a postcode to search within a distance'

    # nearest first whenever a place is given, words or not; best match otherwise
    sort = _one(args, 'sort') or ('distance' if origin else 'relevance')
    if sort not in SORTS:
        errors['sort'] = f'Sort must be one of: {", ".join(SORTS)}'
        sort = 'relevance'
    elif sort == 'distance' and origin is None and 'postcode' not in errors and 'origin' not in errors:
        errors['sort'] = 'Enter a postcode to sort by distance'

    facets = FACETS
    if 'facets' in args:
        facets = _choices(args, 'facets', set(FACETS), errors, 'facet')

    page = 1
    if raw_page := _one(args, 'page'):
        digits = raw_page.lstrip('0')
        if not re.fullmatch(r'[0-9]+', raw_page) or not digits:
            errors['page'] = 'Page must be a whole number, 1 or more'
        elif len(digits) > MAX_PAGE_DIGITS:
            errors['page'] = f'Page must be a whole number of at most {MAX_PAGE_DIGITS} digits'
        else:
            # however far past the end, the engine answers with the real number of pages (``check_page``)
            page = int(digits)
    if raw_size := _one(args, 'page_size'):
        size = _int(raw_size) or 0
        if not 1 <= size <= MAX_PAGE_SIZE:
            errors['page_size'] = f'Page size must be a whole number from 1 to {MAX_PAGE_SIZE}'
        else:
            page_size = size

    if errors:
        raise QueryError(errors)
    # Only leading spaces go: a trailing space (or a closing quote) says the last word is finished, not a prefix.
    return Query(words=words.lstrip(), provision_types=provision_types, lots=lots, min_judgement=min_judgement,
                 authority_codes=authority_codes, region_codes=region_codes, needs=needs, age=age, sex=sex,
                 has_vacancy=has_vacancy, accepted_by=accepted_by, origin=origin, origin_label=origin_label,
                 radius_miles=radius_miles, sort=sort, facets=facets, page=page, page_size=page_size,
                 read_as=tuple(expansion.read_as))


def _parse_origin(args: Mapping, errors: dict[str, str]) -> tuple[tuple[float, float] | None, str]:
    """The point distances are measured from: a place (postcode, outcode, town or authority name, see
    ``search/places.py``), an authority's centre by code, or a grid reference."""
    if raw_place := _one(args, 'postcode'):
        try:
            place = find_place(raw_place)
        except (postcodes.PostcodeError, PlaceError) as exc:
            errors['postcode'] = str(exc)
            return None, ''
        return place.point, place.label
    if raw_authority := _one(args, 'near_authority').upper():
        centre = authority_centroids().get(raw_authority)
        if centre is None:
            errors['near_authority'] = 'Choose a local authority in England'
            return None, ''
        return centre, raw_authority
    raw_easting, raw_northing = _one(args, 'easting'), _one(args, 'northing')
    if raw_easting or raw_northing:
        easting, northing = _number(raw_easting), _number(raw_northing)
        if easting is None or northing is None or not (0 <= easting <= 700_000 and 0 <= northing <= 1_300_000):
            errors['origin'] = 'Give both easting and northing as British National Grid metres'
            return None, ''
        return (easting, northing), f'{easting:.0f}, {northing:.0f}'
    return None, ''
