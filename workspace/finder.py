"""The placement finder's ranking: a pure function from candidates and a child's description to ranked matches.

Nothing here touches the database or Flask, so the ranking is easy to test and to explain to an officer.

**Hard requirements** (a match that meets them all is listed before any that misses one):

- within the maximum distance of the child's home;
- meets every need asked for (a sibling group also needs ``sibling-groups``);
- has at least as many vacancies as children to place (however old the confirmation);
- an Ofsted judgement at least the minimum asked for (not yet judged fails a minimum).

**What the page says** (:func:`reason_tag`, :func:`match_tag`): a match meets every requirement only when it meets the
hard requirements *and* its vacancies were confirmed within :data:`STALE_AFTER_DAYS` days. Enough vacancies confirmed
longer ago (or never) may have gone tonight, so that reason reads "To check" and the match "Vacancy to check: meets
every other requirement", never "Meets every requirement". It still meets the hard requirements (``meets_requirements``,
which orders the list and counts in the demand log), ranked by score within them. Being accepted onto the authority's
list and being on the national list are not requirements the officer asked for: not meeting them "ranks lower", in
grey, rather than "Not met" in red.

**Score** (out of 100; orders matches within each group, higher first):

- needs met: up to :data:`NEEDS_POINTS`, in proportion to the needs met (all of them when none are asked for);
- vacancies: :data:`FRESH_VACANCY_POINTS` when enough are confirmed within :data:`STALE_AFTER_DAYS` days,
  :data:`STALE_VACANCY_POINTS` when enough but stale (older or never confirmed), nothing when too few;
  so a stale vacancy ranks below an otherwise identical fresh one;
- accepted onto our authority's local list: :data:`ACCEPTED_POINTS`;
- Ofsted judgement: :data:`JUDGEMENT_POINTS_EACH` per step (outstanding 4 … inadequate 1, not judged 0);
- nearness: up to :data:`DISTANCE_POINTS`, falling linearly to 0 at the maximum distance.

Ties are broken by distance, then by a shuffle seeded by what was asked (the same child gives the same order
every time), never by name, which put names starting with a digit or "A" first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from registry.geography.distance import metres_between, miles
from registry.settings.taxonomy import NEEDS, Judgement

STALE_AFTER_DAYS = 7
NEEDS_POINTS = 35
FRESH_VACANCY_POINTS = 20
STALE_VACANCY_POINTS = 8
ACCEPTED_POINTS = 15
JUDGEMENT_POINTS_EACH = 3
DISTANCE_POINTS = 18
SIBLING_NEED = 'sibling-groups'

#: Reason kinds, in the order they are shown.
KINDS = ('distance', 'needs', 'siblings', 'vacancies', 'judgement', 'accepted')
#: Kinds whose reason must be met for a match to meet every hard requirement.
HARD_KINDS = frozenset({'distance', 'needs', 'siblings', 'judgement'})
#: Kinds that are requirements (the hard ones and vacancies); the others (accepted, standing) only order the list.
REQUIRED_KINDS = HARD_KINDS | {'vacancies'}
#: (tag text, GOV.UK tag colour) for a reason, by :func:`reason_status`.
REASON_TAGS = {'met': ('Met', 'green'), 'to-check': ('To check', 'yellow'), 'not-met': ('Not met', 'red'),
               'ranks-lower': ('Ranks lower', 'grey')}


@dataclass(frozen=True)
class Child:
    """What the officer told us about the child (or sibling group) to place."""

    age: int
    sex: str | None = None
    needs: tuple[str, ...] = ()
    #: (easting, northing) of the child's home postcode or home authority's centre.
    origin: tuple[float, float] | None = None
    #: How the origin was given, for reasons ("LS1 4DY" or "Leeds").
    origin_label: str = ''
    max_distance_miles: float | None = None
    start_date: date | None = None
    #: 1 for a child placed alone, 2–6 for siblings placed together.
    children: int = 1
    min_judgement: str | None = None
    provision_types: tuple[str, ...] = ()
    #: Include the whole market (settings not on the national list), ranked after qualified ones.
    market: bool = field(default=True, repr=False, compare=False)

    @property
    def with_siblings(self) -> bool:
        return self.children > 1

    @property
    def min_judgement_rank(self) -> int:
        return Judgement(self.min_judgement).rank if self.min_judgement else 0


@dataclass(frozen=True)
class Reason:
    """Why a match did or did not meet one thing the officer asked for."""

    kind: str
    met: bool
    text: str
    #: Not met only until someone checks: enough vacancies, but not confirmed within :data:`STALE_AFTER_DAYS` days.
    to_check: bool = False

    def to_dict(self) -> dict:
        """As frozen on a shortlist or a referral (``to_check`` only when set, as older saved reasons lack it)."""
        data = {'kind': self.kind, 'met': self.met, 'text': self.text}
        if self.to_check:
            data['to_check'] = True
        return data


def reason_status(reason: Reason | Mapping) -> str:
    """``met``, ``to-check`` (a stale vacancy), ``not-met`` (a requirement) or ``ranks-lower`` (not a requirement:
    accepted onto our list, on the national list), for a reason or one saved as a dict."""
    get = reason.get if isinstance(reason, Mapping) else lambda name: getattr(reason, name, None)
    if get('met'):
        return 'met'
    if get('to_check'):
        return 'to-check'
    return 'not-met' if get('kind') in REQUIRED_KINDS else 'ranks-lower'


def reason_tag(reason: Reason | Mapping) -> tuple[str, str]:
    """(tag text, colour) shown beside a reason: see :data:`REASON_TAGS`."""
    return REASON_TAGS[reason_status(reason)]


def match_tag(meets_requirements: bool, vacancies_fresh: bool) -> tuple[str, str] | None:
    """(tag text, colour) heading a match, or None for a near-miss: "Meets every requirement" only with vacancies
    confirmed recently, since a stale vacancy's reason reads "To check"."""
    if not meets_requirements:
        return None
    if vacancies_fresh:
        return 'Meets every requirement', 'green'
    return 'Vacancy to check: meets every other requirement', 'yellow'


@dataclass(frozen=True)
class Match:
    """One ranked candidate with its score and reasons."""

    entry: object
    rank: int
    score: float
    distance_m: float | None
    meets_requirements: bool
    vacancies_fresh: bool
    reasons: list[Reason] = field(default_factory=list)

    @property
    def distance_miles(self) -> float | None:
        return None if self.distance_m is None else miles(self.distance_m)

    @property
    def vacancy_to_check(self) -> bool:
        """Meets every hard requirement, but its vacancies were not confirmed recently: phone before counting on it."""
        return self.meets_requirements and not self.vacancies_fresh

    @property
    def tag(self) -> tuple[str, str] | None:
        """The match's heading tag (:func:`match_tag`)."""
        return match_tag(self.meets_requirements, self.vacancies_fresh)

    @property
    def distance_approximate(self) -> bool:
        """The distance is to the entry's authority's centre: the service does not hold where the setting is."""
        return self.distance_m is not None and bool(getattr(self.entry, 'location_is_approximate', False))


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f'{count} {singular if count == 1 else (plural or singular + "s")}'


def _days_ago(days: int) -> str:
    if days <= 0:
        return 'today'
    return f'{_plural(days, "day")} ago'


def _need_label(need: str) -> str:
    label = NEEDS.get(need, need)
    return label[:1].lower() + label[1:]


def _approximate_distance(distance_m: float, entry, where: str) -> str:
    """A distance measured to the entry's authority's centre, worded so nobody takes it for the setting's own."""
    about = round(miles(distance_m))
    span = 'under a mile' if about < 1 else f'about {_plural(about, "mile")}'
    why = 'Ofsted does not publish its address' if entry.confidential_address else 'its postcode could not be found'
    return f'Somewhere in {entry.authority_name}: {span}{where} to the centre of {entry.authority_name} ({why})'


def _distance_reason(distance_m: float | None, child: Child, entry=None) -> Reason:
    if distance_m is None:
        return Reason('distance', True, 'Distance not measured (no home location given)')
    where = f' from {child.origin_label}' if child.origin_label else ''
    if getattr(entry, 'location_is_approximate', False):
        text = _approximate_distance(distance_m, entry, where)
    else:
        text = f'{miles(distance_m):.1f} miles{where}'
    if child.max_distance_miles is None:
        return Reason('distance', True, text)
    limit = f'{child.max_distance_miles:g}'
    if miles(distance_m) <= child.max_distance_miles:
        return Reason('distance', True, f'{text} (within {limit})')
    return Reason('distance', False, f'{text} (more than {limit})')


def _needs_reason(entry, child: Child) -> tuple[Reason, float]:
    asked = [need for need in dict.fromkeys(child.needs) if need != SIBLING_NEED or not child.with_siblings]
    if not asked:
        return Reason('needs', True, 'No particular needs asked for'), 1.0
    offered = set(entry.needs)
    missing = [need for need in asked if need not in offered]
    met = len(asked) - len(missing)
    if not missing:
        text = 'Meets the need asked for' if len(asked) == 1 else f'Meets all {len(asked)} needs asked for'
        return Reason('needs', True, text), 1.0
    text = f'Meets {met} of {len(asked)} needs: missing {", ".join(_need_label(need) for need in missing)}'
    return Reason('needs', False, text), met / len(asked)


def _siblings_reason(entry, child: Child) -> Reason:
    if SIBLING_NEED in entry.needs:
        return Reason('siblings', True, f'Takes sibling groups ({child.children} children together)')
    return Reason('siblings', False, 'Does not say it takes sibling groups')


def _vacancy_reason(entry, child: Child, now: datetime) -> tuple[Reason, bool, bool]:
    """(reason, enough vacancies, confirmed within the freshness window)."""
    confirmed = entry.vacancies_confirmed_at
    age_days = None if confirmed is None else (now - confirmed).total_seconds() / 86400
    fresh = age_days is not None and age_days <= STALE_AFTER_DAYS
    enough = entry.vacancies >= child.children
    if entry.vacancies <= 0:
        when = '' if age_days is None else f' (confirmed {_days_ago(int(age_days))})'
        return Reason('vacancies', False, f'No vacancies{when}'), False, fresh
    count = _plural(entry.vacancies, 'vacancy', 'vacancies')
    short = '' if enough else f'; {child.children} children need placing together'
    if age_days is None:
        return Reason('vacancies', False, f'{count}, never confirmed (stale){short}', to_check=enough), enough, False
    if not fresh:
        text = f'{count}, last confirmed {_days_ago(int(age_days))} (stale){short}'
        return Reason('vacancies', False, text, to_check=enough), enough, False
    return Reason('vacancies', enough, f'{count} confirmed {_days_ago(int(age_days))}{short}'), enough, True


def _judgement_reason(entry, child: Child) -> Reason:
    minimum = Judgement(child.min_judgement) if child.min_judgement else None
    if not entry.judgement:
        if minimum is None:
            return Reason('judgement', True, 'Ofsted: not yet judged')
        return Reason('judgement', False, f'Ofsted: not yet judged (minimum {minimum.label})')
    label = Judgement(entry.judgement).label
    if minimum is None:
        return Reason('judgement', True, f'Ofsted: {label}')
    if entry.judgement_rank >= minimum.rank:
        return Reason('judgement', True, f'Ofsted: {label} (meets minimum {minimum.label})')
    return Reason('judgement', False, f'Ofsted: {label} (below minimum {minimum.label})')


def _accepted_reason(entry, authority_code: str, authority_name: str,
                     layers: Mapping[tuple[int, str], list[str]] | None = None) -> Reason:
    """Accepted for the authority, saying which layer accepted: the authority itself or its consortium."""
    name = authority_name or authority_code
    if authority_code in entry.accepted_by:
        accepted_by = (layers or {}).get((entry.organisation_id, entry.lot)) or [name]
        return Reason('accepted', True, f'Accepted by {" and ".join(accepted_by)}')
    return Reason('accepted', False, f'Not yet accepted by {name}')


def _standing_reason(entry) -> Reason:
    if entry.standing == 'in_house':
        return Reason('standing', False, f'In-house service of {entry.organisation_name}: not on the national list')
    return Reason('standing', False, 'Not qualified: registered with Ofsted but not on the national list')


def assess(entry, child: Child, authority_code: str | None, now: datetime, *,
           authority_name: str = '', layers: Mapping[tuple[int, str], list[str]] | None = None
           ) -> tuple[float, float | None, bool, bool, list[Reason]]:
    """Score one candidate: (score, distance in metres, meets every hard requirement, fresh vacancies, reasons)."""
    reasons: list[Reason] = []
    distance_m = None
    if child.origin is not None:
        distance_m = metres_between(child.origin[0], child.origin[1], entry.easting, entry.northing)
    reasons.append(_distance_reason(distance_m, child, entry))
    needs_reason, needs_fraction = _needs_reason(entry, child)
    reasons.append(needs_reason)
    if child.with_siblings:
        reasons.append(_siblings_reason(entry, child))
    vacancy_reason, enough, fresh = _vacancy_reason(entry, child, now)
    reasons.append(vacancy_reason)
    reasons.append(_judgement_reason(entry, child))
    if not entry.is_qualified:
        reasons.append(_standing_reason(entry))
    accepted = False
    if authority_code and entry.is_qualified:
        accepted_reason = _accepted_reason(entry, authority_code, authority_name, layers)
        accepted = accepted_reason.met
        reasons.append(accepted_reason)

    meets = enough and all(reason.met for reason in reasons if reason.kind in HARD_KINDS)
    score = NEEDS_POINTS * needs_fraction
    if enough:
        score += FRESH_VACANCY_POINTS if fresh else STALE_VACANCY_POINTS
    score += ACCEPTED_POINTS if accepted else 0
    score += JUDGEMENT_POINTS_EACH * max(0, min(4, entry.judgement_rank))
    if distance_m is not None and child.max_distance_miles:
        score += DISTANCE_POINTS * max(0.0, 1 - miles(distance_m) / child.max_distance_miles)
    return round(score, 2), distance_m, meets, fresh, reasons


_ORDER = {kind: position for position, kind in enumerate(('distance', 'needs', 'siblings', 'vacancies', 'judgement',
                                                          'standing', 'accepted'))}


def reasons_against_request(reasons: Iterable[Mapping], setting_needs: Iterable[str], child: Child) -> list[dict]:
    """Saved reasons (dicts, as frozen on a shortlist or a referral) with the needs and sibling reasons worked out
    again against ``child``, which describes what was finally asked (a referral, not the search before it).

    Distance, vacancies, judgement and acceptance stay as they were when the reasons were saved.
    """
    entry = _NeedsOnly(tuple(setting_needs or ()))
    fresh = [_needs_reason(entry, child)[0]]
    if child.with_siblings:
        fresh.append(_siblings_reason(entry, child))
    kept = [dict(reason) for reason in reasons if reason.get('kind') not in {'needs', 'siblings'}]
    merged = kept + [reason.to_dict() for reason in fresh]
    return sorted(merged, key=lambda reason: _ORDER.get(reason.get('kind'), len(_ORDER)))


@dataclass(frozen=True)
class _NeedsOnly:
    needs: tuple[str, ...]


def rank(candidates: Iterable, child: Child, authority_code: str | None, now: datetime, *,
         authority_name: str = '', layers: Mapping[tuple[int, str], list[str]] | None = None) -> list[Match]:
    """Rank candidate directory entries for ``child``: every hard requirement met first, then by score.

    :param candidates: :class:`search.DirectoryEntry` objects (or search hits, whose ``entry`` is used).
    :param authority_code: the commissioner's authority, for the "accepted by us" reason (None for the board).
    :param now: the time vacancy freshness is measured from (timezone-aware).
    :param layers: (organisation id, lot) to the names of the layers that accepted it for the authority
        (:func:`qualification.listing.acceptance_layers`), so the reason says "Accepted by West Yorkshire consortium".
    """
    assessed = []
    for candidate in candidates:
        entry = getattr(candidate, 'entry', candidate)
        score, distance_m, meets, fresh, reasons = assess(entry, child, authority_code, now,
                                                          authority_name=authority_name, layers=layers)
        assessed.append((entry, score, distance_m, meets, fresh, reasons))
    seed = hashlib.blake2b(repr((child, authority_code)).encode(), digest_size=8).digest()
    # qualified entries first, then the rest of the market, each in the usual order
    assessed.sort(key=lambda item: (not item[0].is_qualified, not item[3], -item[1],
                                    item[2] if item[2] is not None else 0.0,
                                    hashlib.blake2b(str(item[0].id).encode(), key=seed, digest_size=8).digest()))
    return [Match(entry=entry, rank=position, score=score, distance_m=distance_m, meets_requirements=meets,
                  vacancies_fresh=fresh, reasons=reasons)
            for position, (entry, score, distance_m, meets, fresh, reasons) in enumerate(assessed, 1)]
