"""Children's home addresses are confidential: find an address typed into the text a setting shows publicly.

A children's home's name and description reach public pages and the search index, so they must not carry what
Ofsted redacts: a postcode (full, like ``LS6 2AB``, or outcode and sector, like ``LS6 2``), the home's own
street (from its address lines, in any common spelling of the street type), a house number followed by a street
(``12 Kirkstall Road``) or a flat number (``Flat 3``). The setting form refuses such text with a clear error;
texts saved before this check (or loaded by other means) are withheld from the directory entry until fixed, and
``flask registry check-public-text`` reports them. Pure functions: no Flask, no database.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

#: The setting fields that reach public pages and the index, with the words used in messages.
PUBLIC_TEXT_FIELDS = {'name': 'Name', 'description': 'Description'}

#: Every UK postcode area (the letters an outcode starts with), so "KS2 3" or "Y10 2" are not taken for postcodes.
POSTCODE_AREAS = frozenset('''
AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY E EC EH EN EX FK FY G
GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW
OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD
WF WN WR WS WV YO ZE'''.split())

#: Street types and their usual abbreviations: "Kirkstall Rd" is the same street as "Kirkstall Road".
STREET_TYPES: dict[str, tuple[str, ...]] = {
    'road': ('rd',), 'street': ('st',), 'avenue': ('ave', 'av'), 'lane': ('ln',), 'drive': ('dr',),
    'close': ('cl',), 'crescent': ('cres', 'cresc'), 'terrace': ('terr', 'ter'), 'gardens': ('gdns',),
    'place': ('pl',), 'court': ('ct',), 'square': ('sq',), 'grove': ('gr',), 'way': (), 'mews': (), 'row': (),
    'walk': (), 'hill': (), 'rise': (), 'park': (), 'view': (), 'green': (), 'vale': (), 'parade': ('pde',),
    'croft': (), 'fold': (), 'mount': ('mt',), 'chase': (), 'wharf': (), 'yard': (), 'brow': (), 'gate': (),
    'bank': (), 'wynd': (), 'boulevard': ('blvd',), 'approach': (), 'crest': (), 'meadow': (), 'meadows': (),
    'fields': (), 'garth': (), 'dale': (), 'heights': (), 'broadway': (),
}
_TYPE_OF = {spelling: name for name, abbreviations in STREET_TYPES.items() for spelling in (name, *abbreviations)}

_OUTCODE = r'([A-Z]{1,2})[0-9][A-Z0-9]?'
_FULL_POSTCODE = re.compile(rf'(?<![A-Z0-9]){_OUTCODE} ?[0-9][A-Z]{{2}}(?![A-Z0-9])', re.I)
# "LS6 2" with nothing alphanumeric after the sector digit; not "M62 5 miles away" (a motorway and a distance)
_SECTOR = re.compile(rf'(?<![A-Za-z0-9]){_OUTCODE} [0-9](?![A-Za-z0-9])(?!\s*(?:miles?|mins?|minutes?|hours?|hrs?|km'
                     r'|%|years?|yrs?|places?|beds?|bedrooms?|children|young)\b)')
# "12 Kirkstall Road", "12a The Grove", "12-14 St Mark's Close": a number, one to three capitalised words, a type
_NUMBERED_STREET = re.compile(
    r"\d{1,4}[A-Za-z]?(?:\s*[-–]\s*\d{1,4}[A-Za-z]?)?,?\s+"
    r"(?:(?:The|St\.?|[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?)\s+){1,3}"
    rf"(?:{'|'.join(word.capitalize() for word in _TYPE_OF)})\b")
_DIGIT_RUN = re.compile(r'\d+')
_FLAT = re.compile(r'\b(?:flat|apartment|apt)\.?\s*(?:no\.?\s*)?\d+[a-z]?\b', re.I)
_LEADING_NUMBER = re.compile(r'^\s*(?:(?:flat|apartment|apt|unit)\.?\s*)?\d{1,4}[a-z]?(?:\s*[-–]\s*\d{1,4}[a-z]?)?'
                             r'\s*,?\s*', re.I)


@dataclass(frozen=True)
class AddressFinding:
    """Part of a home's address found in one of its public text fields."""

    field: str
    #: ``postcode``, ``street``, ``house-number`` or ``flat``.
    kind: str
    #: The words as the provider typed them.
    found: str

    @property
    def label(self) -> str:
        return {'postcode': 'a postcode', 'street': 'the home’s street', 'house-number': 'a house number and street',
                'flat': 'a flat number'}[self.kind]


@functools.lru_cache(maxsize=4096)
def streets_of(*address_lines: str) -> tuple[str, ...]:
    """The street names in a home's address lines ("Flat 3, 12 Kirkstall Road" -> ["Kirkstall Road"]).

    A part counts as a street when it followed a house number or ends with a street type; a house name on its own
    ("Willow House") does not, since homes are often named after their house.
    """
    streets = []
    for line in address_lines:
        for part in re.split(r',', line or ''):
            stripped = _LEADING_NUMBER.sub('', part).strip(' .')
            if len(stripped) < 3 or not re.search(r'[A-Za-z]{3}', stripped):
                continue
            numbered = stripped != part.strip(' .')
            last = stripped.split()[-1].lower().rstrip('.')
            if numbered or (last in _TYPE_OF and len(stripped.split()) > 1):
                streets.append(stripped)
    return tuple(dict.fromkeys(streets))


@functools.lru_cache(maxsize=4096)
def _street_pattern(street: str) -> re.Pattern:
    """The street in any capitalisation and with its type spelt in full or abbreviated."""
    words = street.split()
    kind = _TYPE_OF.get(words[-1].lower().rstrip('.'))
    if kind is None or len(words) == 1:
        whole = r'\s+'.join(map(re.escape, words))
        return re.compile(rf'(?<!\w){whole}(?!\w)', re.I)
    spellings = '|'.join(re.escape(spelling) for spelling in (kind, *STREET_TYPES[kind]))
    core = r'\s+'.join(map(re.escape, words[:-1]))
    return re.compile(rf'(?<!\w){core}\s+(?:{spellings})\b', re.I)


@functools.lru_cache(maxsize=4096)
def _outcode(postcode: str) -> str:
    return re.sub(r'\s+', '', postcode).lower()[:-3]


@functools.lru_cache(maxsize=4096)
def _own_postcode_pattern(postcode: str) -> re.Pattern | None:
    """The home's own postcode, and its outcode and sector, with or without the space."""
    compact = re.sub(r'\s+', '', postcode or '').upper()
    if len(compact) < 5:
        return None
    outcode, inward = re.escape(compact[:-3]), compact[-3:]
    # the full postcode with or without its space; the outcode and sector only with the space ("M6 2", not "M62")
    return re.compile(rf'(?<![A-Za-z0-9])(?:{outcode}\s*{re.escape(inward)}|{outcode}\s+{re.escape(inward[0])})'
                      r'(?![A-Za-z0-9])', re.I)


def _positions(haystack: str, needle: str) -> list[int]:
    """Every index of ``needle`` in ``haystack`` (``str.find`` runs in C: far quicker than a regex scan)."""
    found, index = [], haystack.find(needle)
    while index != -1:
        found.append(index)
        index = haystack.find(needle, index + 1)
    return found


def find_address(text: str, *, streets: Iterable[str] = (), postcode: str = '') -> list[tuple[str, str]]:
    """Every piece of an address in ``text``: ``[(kind, words found)]`` in the order they appear.

    Every children's home's directory entry passes through here whenever the index is built, so the patterns are
    only tried where they can start: at a digit (postcodes, house numbers, flats), or where the home's street or
    postcode begins (found with ``str.find``), never by scanning the whole text with each regular expression.
    """
    if not text:
        return []
    found: list[tuple[int, str, str]] = []
    lower = text.lower()
    # where each run of digits starts: every pattern that needs a digit starts there or just before it
    digits = [run.start() for run in _DIGIT_RUN.finditer(text)]
    for index in digits:
        before = text[index - 1] if index else ' '
        # a house number: not an amount of money, nor the rest of "5,000"
        grouped = before in ',.' and index >= 2 and text[index - 2].isdigit()
        if not (before.isalnum() or before in '£$_' or grouped):
            match = _NUMBERED_STREET.match(text, index)
            if match:
                found.append((index, 'house-number', match.group(0).strip()))
        if not before.isalpha():
            continue  # an outcode's letters come straight before its first digit
        for begin in (index - 2, index - 1):
            if begin < 0 or not text[begin].isalpha():
                continue
            for pattern, area in ((_FULL_POSTCODE, str.upper), (_SECTOR, str)):
                match = pattern.match(text, begin)
                if match and area(match.group(1)) in POSTCODE_AREAS:
                    found.append((begin, 'postcode', match.group(0)))
    # the home's own postcode and streets: a pattern is made (a regex compile, per home) only where its start occurs
    places = _positions(lower, _outcode(postcode)) if digits and postcode else []
    own = _own_postcode_pattern(postcode) if places else None
    if own is not None:
        for index in places:
            match = own.match(text, index)
            if match:
                found.append((index, 'postcode', match.group(0)))
    for street in streets:
        places = _positions(lower, street.split()[0].lower())
        pattern = _street_pattern(street) if places else None
        for index in places:
            match = pattern.match(text, index)
            if match:
                found.append((index, 'street', match.group(0)))
    if digits:
        for word in ('flat', 'apartment', 'apt'):
            for index in _positions(lower, word):
                match = _FLAT.match(text, index)
                if match:
                    found.append((index, 'flat', match.group(0)))
    # one finding per place in the text: the longest found there, overlapping matches dropped
    result, covered_to = [], -1
    for begin, kind, words in sorted(found, key=lambda item: (item[0], -len(item[2]))):
        if begin < covered_to:
            continue
        result.append((kind, words))
        covered_to = begin + len(words)
    return result


def public_text_findings(values: dict, *, confidential: bool) -> list[AddressFinding]:
    """Address found in the public text fields of a setting given as ``values`` (its columns or the form's data).

    Only homes whose address is confidential are checked: other settings show their address publicly anyway.
    """
    if not confidential:
        return []
    streets = streets_of(values.get('address_line_1') or '', values.get('address_line_2') or '')
    findings = []
    for field in PUBLIC_TEXT_FIELDS:
        for kind, words in find_address(values.get(field) or '', streets=streets, postcode=values.get('postcode')):
            findings.append(AddressFinding(field, kind, words))
    return findings


def setting_findings(setting) -> list[AddressFinding]:
    """:func:`public_text_findings` for a saved setting."""
    return public_text_findings({field: getattr(setting, field) for field in
                                 ('name', 'description', 'address_line_1', 'address_line_2', 'postcode')},
                                confidential=setting.provision_type.info.confidential_address)


def problem_message(field: str, findings: list[AddressFinding]) -> str:
    """The GOV.UK error for one field: what to remove, and why."""
    mine = [finding for finding in findings if finding.field == field]
    quoted = ' and '.join(f'‘{finding.found}’ ({finding.label})' for finding in mine[:3])
    more = f', and {len(mine) - 3} more' if len(mine) > 3 else ''
    return (f'{PUBLIC_TEXT_FIELDS[field]} must not include the home’s address: remove {quoted}{more}. Children’s '
            'home addresses are confidential and this text is shown publicly')


def withheld_text(findings: list[AddressFinding], provision_label: str) -> dict[str, str]:
    """What the directory shows instead of each field that gives the address away."""
    replacements = {'description': '', 'name': f'{provision_label} (name withheld)'}
    return {finding.field: replacements[finding.field] for finding in findings}
