"""Words people type, read as the directory's own terms: one expansion that every engine's query goes through.

``data/synonyms.csv`` is the list, kept as data so it can grow without code: an abbreviation or everyday word
becomes the directory's words ("ASD" -> autism, "CSE" -> child sexual exploitation) or a filter ("girls" -> settings
for girls, "outstanding" -> judged outstanding). A full postcode in the words becomes the place searched from.
:func:`search.query.parse_query` applies it, so SQLite, PostgreSQL and Elasticsearch all answer the same question.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from registry.settings.taxonomy import Judgement

PATH = Path(__file__).parent / 'data' / 'synonyms.csv'
MEANINGS = ('words', 'sex', 'judgement')
_TOKEN = re.compile(r'[^\W_]+')
SEX_LABELS = {'female': 'Settings for girls', 'male': 'Settings for boys'}


@dataclass(frozen=True)
class Synonym:
    words: tuple[str, ...]
    means: str
    value: str


@dataclass
class Expansion:
    """What the words came to: the words left to search, filters they asked for, and what was read how."""

    words: str
    sex: str | None = None
    min_judgement: str | None = None
    postcode: str | None = None
    #: (what was typed, how it was read) for each expansion, shown back to the person.
    read_as: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.read_as)


@cache
def synonyms() -> dict[tuple[str, ...], Synonym]:
    """The list, keyed by its lower-case words; refuses a row it cannot use, naming it."""
    table: dict[tuple[str, ...], Synonym] = {}
    with open(PATH, encoding='utf-8', newline='') as handle:
        rows = [line for line in handle if not line.startswith('#')]
    for number, row in enumerate(csv.DictReader(rows), 2):
        key = tuple(token.lower() for token in _TOKEN.findall(row['words']))
        means, value = row['means'].strip(), row['value'].strip()
        if not key or means not in MEANINGS or not value:
            raise ValueError(f'{PATH.name} line {number}: needs words, means ({", ".join(MEANINGS)}) and value')
        if means == 'sex' and value not in SEX_LABELS or means == 'judgement' and value not in set(Judgement):
            raise ValueError(f'{PATH.name} line {number}: {value!r} is not a {means}')
        table[key] = Synonym(key, means, value)
    return table


def _meaning(synonym: Synonym) -> str:
    if synonym.means == 'sex':
        return SEX_LABELS[synonym.value]
    if synonym.means == 'judgement':
        return f'Ofsted judgement: {Judgement(synonym.value).label}'
    return synonym.value


def expand(text: str, *, sex: str | None = None, min_judgement: str | None = None,
           has_place: bool = False) -> Expansion:
    """Read ``text`` through the synonym list and pick out a postcode (only when no place is given already).

    Filters already chosen win: "girls" with "Settings for boys" chosen stays a word. Text in quotes is left as typed.
    Words are only rewritten when something matched, so every other search is exactly as typed.
    """
    result = Expansion(words=text)
    table = synonyms()
    longest = max((len(key) for key in table), default=1)
    parts = text.split('"')
    for index in range(0, len(parts), 2):   # even parts are outside quotes
        part = parts[index]
        changed = False
        if not has_place and result.postcode is None and (match := _postcode_in(part)):
            result.postcode = match.group(0)
            result.read_as.append((match.group(0), f'the place to search from: {match.group(0).upper()}'))
            # "near LS1 4DY", "around LS1 4DY": the little word before the place goes with it
            before = re.sub(r'\b(near|nearby|around|close to|within reach of)\s*$', '', part[:match.start()],
                            flags=re.IGNORECASE)
            part = before + ' ' + part[match.end():]
            changed = True
        tokens = _TOKEN.findall(part)
        lowered = [token.lower() for token in tokens]
        out: list[str] = []
        position = 0
        replaced_last = False
        while position < len(tokens):
            for size in range(min(longest, len(tokens) - position), 0, -1):
                synonym = table.get(tuple(lowered[position:position + size]))
                if synonym is None or not _usable(synonym, result, sex, min_judgement):
                    continue
                typed = ' '.join(tokens[position:position + size])
                if synonym.means == 'words':
                    out.extend(synonym.value.split())
                elif synonym.means == 'sex':
                    result.sex = synonym.value
                else:
                    result.min_judgement = synonym.value
                result.read_as.append((typed, _meaning(synonym)))
                position += size
                replaced_last = position == len(tokens)
                changed = True
                break
            else:
                out.append(tokens[position])
                position += 1
                replaced_last = False
        if changed:
            ending = ' ' if (replaced_last or part[-1:].isspace() or index < len(parts) - 1) else ''
            parts[index] = (' ' if index else '') + ' '.join(out) + ending
    if result.changed:
        result.words = '"'.join(parts)
    return result


def _usable(synonym: Synonym, result: Expansion, sex: str | None, min_judgement: str | None) -> bool:
    if synonym.means == 'sex':
        return sex is None and result.sex is None
    if synonym.means == 'judgement':
        return min_judgement is None and result.min_judgement is None
    return True


def _postcode_in(text: str):
    """The first full postcode in ``text`` that England's directory knows."""
    from registry.geography import postcodes

    for match in re.finditer(r'\b([A-Za-z]{1,2}[0-9][A-Za-z0-9]?) ?([0-9][A-Za-z]{2})\b', text):
        try:
            postcodes.lookup(match.group(0))
        except postcodes.PostcodeError:
            continue
        return match
    return None
