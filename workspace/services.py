"""Workspace services: run the placement finder, save and annotate shortlists, and the authority's own view."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

import search
from qualification.listing import unlisted_reasons
from qualification.models import LocalApplication, LocalApplicationStatus, Qualification
from registry.audit.services import record
from registry.db import unit_of_work, utcnow
from registry.errors import DomainError, PermissionDenied
from registry.extensions import db
from registry.geography import postcodes
from registry.geography.models import LocalAuthority
from registry.paging import Paged, clamp_page
from search.query import authority_centroids
from workspace import permissions
from workspace.finder import SIBLING_NEED, Child, Match, rank
from workspace.models import Shortlist, ShortlistEntry, ShortlistNote

#: Hits read from search per request while gathering candidates.
BATCH_SIZE = 1000
#: Near-misses (within the distance, but missing a need or the judgement) listed after every setting that meets the
#: hard requirements, nearest first, so the officer sees who nearly fits and why not.
NEAR_MISSES = 50
#: Ranked matches shown per finder page.
FINDER_PAGE_SIZE = 20
MAX_NOTE_LENGTH = 2000
#: The same shortlist or note sent again this soon is one click sent twice (a double click, a resubmitted form):
#: the first one is returned instead of saving a copy.
REPEAT_WINDOW = timedelta(seconds=30)
EXPIRY_WARNING_DAYS = 60


class WorkspaceError(DomainError):
    """A workspace rule was broken; ``field`` names the form field to show it against."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def authority_name(code: str | None) -> str:
    """The authority's name, or the code if it is unknown."""
    if not code:
        return ''
    authority = db.session.get(LocalAuthority, code)
    return authority.name if authority else code


def child_from_criteria(criteria: dict) -> Child:
    """Turn saved or submitted criteria into a :class:`Child`, locating the home postcode or authority.

    :raises WorkspaceError: if the postcode cannot be found or the authority is unknown.
    """
    origin, label = None, ''
    if criteria.get('postcode'):
        try:
            location = postcodes.lookup(criteria['postcode'])
        except postcodes.PostcodeError as exc:
            raise WorkspaceError(str(exc), 'postcode') from None
        origin, label = (location.easting, location.northing), location.postcode
    elif criteria.get('authority'):
        centre = authority_centroids().get(criteria['authority'])
        if centre is None:
            raise WorkspaceError('Choose a local authority in England', 'authority')
        origin, label = centre, authority_name(criteria['authority'])
    start = criteria.get('start_date')
    return Child(
        age=int(criteria['age']), sex=criteria.get('sex') or None, needs=tuple(criteria.get('needs') or ()),
        origin=origin, origin_label=label,
        max_distance_miles=float(criteria['max_distance_miles']) if criteria.get('max_distance_miles') else None,
        start_date=date.fromisoformat(start) if isinstance(start, str) and start else start,
        children=int(criteria.get('children') or 1), min_judgement=criteria.get('min_judgement') or None,
        provision_types=tuple(criteria.get('provision_types') or ()), market=criteria.get('market') != 'listed',
    )


def candidates_for(child: Child, in_house_for: str | None = None) -> list:
    """Every setting within the distance that meets the hard requirements search can check (age, sex, type, every
    need asked for, sibling groups, minimum judgement), however many, then the nearest :data:`NEAR_MISSES` that
    meet all but the needs or the judgement. Vacancies are left to the ranking, which lists settings short of
    places after those with enough. With ``child.market``, settings not on the national list come too (the in-house
    services of ``in_house_for``'s authority and its consortium partners; ``*`` for every authority's).
    """
    base = search.Query(age=child.age, sex=child.sex if child.sex in {'female', 'male'} else None,
                        provision_types=child.provision_types, origin=child.origin, origin_label=child.origin_label,
                        radius_miles=child.max_distance_miles if child.origin else None,
                        sort='distance' if child.origin else 'relevance', facets=(), page_size=BATCH_SIZE,
                        exact_locations=True, highlight=False, market=child.market,
                        in_house_for=in_house_for if child.market else None)
    needs = tuple(sorted({*child.needs, *([SIBLING_NEED] if child.with_siblings else [])}))
    hits = list(_hits(replace(base, needs=needs, min_judgement=child.min_judgement)))
    if needs or child.min_judgement:
        seen = {hit.entry.id for hit in hits}
        near = []
        for hit in _hits(replace(base, page_size=NEAR_MISSES + len(seen))):
            if hit.entry.id not in seen:
                near.append(hit)
                if len(near) == NEAR_MISSES:
                    break
        hits += near
    return hits


def _hits(query: search.Query):
    """Every hit of ``query``, a page at a time."""
    page = 1
    while True:
        try:
            results = search.search(query.with_page(page))
        except search.PageOutOfRangeError:
            return
        yield from results.hits
        if not results.has_next:
            return
        page += 1


@dataclass(frozen=True)
class FinderPage(Paged):
    """One page of the finder's ranked matches, with the totals over all of them."""

    matches: list[Match]
    total: int
    #: Matches meeting every hard requirement, listed first (their vacancies fresh or not).
    meeting: int
    page: int
    page_size: int = FINDER_PAGE_SIZE
    #: Of ``meeting``, those whose vacancies need checking (not confirmed within the freshness window).
    to_check: int = 0


def finder_page(matches: list[Match], page: int) -> FinderPage:
    """Page ``page`` of ``matches`` (the last page when ``page`` is past it)."""
    total = len(matches)
    page = clamp_page(page, total, FINDER_PAGE_SIZE)
    start = (page - 1) * FINDER_PAGE_SIZE
    return FinderPage(matches[start:start + FINDER_PAGE_SIZE], total,
                      sum(match.meets_requirements for match in matches), page,
                      to_check=sum(match.vacancy_to_check for match in matches))


def find_placements(child: Child, authority_code: str | None, now: datetime | None = None, *,
                    in_house_for: str | None = None) -> list[Match]:
    """Ranked matches for ``child``, with the reasons each matched or fell short (reads only).

    :param in_house_for: whose in-house services a market search includes (default: ``authority_code``'s).
    """
    from qualification.listing import acceptance_layers

    return rank(candidates_for(child, in_house_for or authority_code), child, authority_code, now or utcnow(),
                authority_name=authority_name(authority_code), layers=acceptance_layers(authority_code))


def run_finder(child: Child, authority_code: str | None, now: datetime | None = None, *,
               in_house_for: str | None = None) -> list[Match]:
    """The finder for an officer: ranked matches, with the search logged anonymously for market statistics."""
    from market.demand import log_search

    matches = find_placements(child, authority_code, now, in_house_for=in_house_for)
    with unit_of_work():
        log_search('search', authority_code=authority_code, age=child.age, needs=child.needs,
                   provision_types=child.provision_types, max_distance_miles=child.max_distance_miles,
                   matches=sum(match.meets_requirements for match in matches))
    return matches


def snapshot(match: Match) -> dict:
    """What a shortlist keeps of one match: enough to stand alone however the setting changes later."""
    entry = match.entry
    return {
        'rank': match.rank,
        'setting_id': entry.id,
        'setting_name': entry.name,
        'organisation_id': entry.organisation_id,
        'provider_name': entry.organisation_name,
        'provision_type': entry.provision_type,
        'provision_type_label': entry.provision_type_label,
        'authority_code': entry.authority_code,
        'authority_name': entry.authority_name,
        'district_name': entry.district_name,
        # to the authority's centre, a distance is only ever given in whole miles: a tenth would look exact
        'distance_miles': None if match.distance_miles is None else round(match.distance_miles,
                                                                          None if match.distance_approximate else 1),
        'distance_approximate': match.distance_approximate,
        'vacancies': entry.vacancies,
        'vacancies_confirmed_at': entry.vacancies_confirmed_at.isoformat() if entry.vacancies_confirmed_at else None,
        'vacancies_fresh': match.vacancies_fresh,
        'judgement': entry.judgement,
        'judgement_label': entry.judgement and _judgement_label(entry.judgement),
        'accepted_by_us': any(reason.kind == 'accepted' and reason.met for reason in match.reasons),
        'meets_requirements': match.meets_requirements,
        'score': match.score,
        'reasons': [reason.to_dict() for reason in match.reasons],
    }


def _judgement_label(value: str) -> str:
    from registry.settings.taxonomy import Judgement

    return Judgement(value).label


def create_shortlist(name: str, criteria: dict, *, setting_ids: Iterable[int], actor,
                     now: datetime | None = None) -> Shortlist:
    """Run the finder for ``criteria`` and save the ticked results, exactly as ranked and with their reasons.

    :param criteria: the finder's criteria (JSON-ready), stored as given.
    :param setting_ids: the results the officer ticked; only these are saved (in the finder's order).
    :raises PermissionDenied: unless ``actor`` is a commissioner with an authority.
    :raises WorkspaceError: if the criteria cannot be used, the name is blank or nothing is ticked.
    """
    if not permissions.can_create_shortlist(actor):
        raise PermissionDenied('Only commissioners can save shortlists')
    name = (name or '').strip()
    if not name:
        raise WorkspaceError('Enter a name for the shortlist', 'name')
    if len(name) > 120:
        raise WorkspaceError('Name must be 120 characters or fewer', 'name')
    ticked = {int(setting_id) for setting_id in setting_ids}
    if not ticked:
        raise WorkspaceError('Select at least one setting to save in the shortlist', 'name')
    now = now or utcnow()
    matches = [match for match in find_placements(child_from_criteria(criteria), actor.authority_code, now)
               if match.entry.id in ticked]
    if not matches:
        raise WorkspaceError('The settings you ticked are no longer in the results. Run the search again', 'name')
    with unit_of_work():
        _serialise_for(actor)
        repeat = _recent_shortlist(actor, name, dict(criteria), [match.entry.id for match in matches], now)
        if repeat is not None:
            return repeat
        shortlist = Shortlist(authority_code=actor.authority_code, owner_id=actor.id, name=name,
                              criteria=dict(criteria), is_shared=False, created_at=now, updated_at=now)
        db.session.add(shortlist)
        db.session.flush()
        for match in matches:
            db.session.add(ShortlistEntry(shortlist_id=shortlist.id, rank=match.rank, setting_id=match.entry.id,
                                          snapshot=snapshot(match)))
        record('shortlist.create', shortlist, actor=actor,
               after={'name': name, 'criteria': dict(criteria), 'results': len(matches),
                      'setting_ids': [match.entry.id for match in matches]})
    return shortlist


def _serialise_for(actor) -> None:
    """Lock the actor's row (PostgreSQL) so two copies of one request run one after the other, and the second
    sees the first's row; SQLite already lets one writer in at a time."""
    from registry.accounts.models import User

    db.session.execute(select(User.id).where(User.id == actor.id).with_for_update())


def _recent_shortlist(actor, name: str, criteria: dict, setting_ids: list[int], now: datetime) -> Shortlist | None:
    """The shortlist this actor saved moments ago with the same name, search and results, if any."""
    recent = db.session.scalars(select(Shortlist).where(
        Shortlist.owner_id == actor.id, Shortlist.name == name,
        Shortlist.created_at >= now - REPEAT_WINDOW).order_by(Shortlist.id.desc()))
    for shortlist in recent:
        if shortlist.criteria == criteria and [entry.setting_id for entry in shortlist.entries] == setting_ids:
            return shortlist
    return None


def remove_entry(shortlist: Shortlist, entry: ShortlistEntry, *, actor) -> None:
    """Take one setting off a shortlist (the audit trail keeps what it was).

    :raises PermissionDenied: unless ``actor`` owns the shortlist.
    :raises WorkspaceError: if the entry is not on this shortlist.
    """
    if not permissions.can_remove_entry(actor, shortlist):
        raise PermissionDenied('Only the owner can remove settings from this shortlist')
    if entry.shortlist_id != shortlist.id:
        raise WorkspaceError('That setting is not on this shortlist')
    with unit_of_work():
        record('shortlist.entry_remove', shortlist, actor=actor,
               before={'entry_id': entry.id, 'rank': entry.rank, 'setting_id': entry.setting_id,
                       'setting_name': entry.snapshot.get('setting_name')})
        db.session.delete(entry)
    db.session.expire(shortlist, ['entries'])


@dataclass(frozen=True)
class Contact:
    """How a commissioner reaches a setting: its address and the provider's named contact. Never public."""

    address: str
    postcode: str
    phone: str
    email: str
    name: str


def contacts_for(setting_ids: Iterable[int]) -> dict[int, Contact]:
    """Current contact details of settings by id, read in one query (commissioner pages and exports only)."""
    from registry.organisations.models import Organisation
    from registry.settings.models import Setting

    ids = sorted({int(setting_id) for setting_id in setting_ids})
    if not ids:
        return {}
    rows = db.session.execute(
        select(Setting.id, Setting.address_line_1, Setting.address_line_2, Setting.town, Setting.postcode,
               Organisation.contact_phone, Organisation.contact_email, Organisation.contact_name)
        .join(Organisation, Organisation.id == Setting.organisation_id).where(Setting.id.in_(ids)))
    return {row.id: Contact(', '.join(part for part in (row.address_line_1, row.address_line_2, row.town) if part),
                            row.postcode, row.contact_phone, row.contact_email, row.contact_name)
            for row in rows}


def unlisted_entries(shortlist: Shortlist) -> dict[int, str]:
    """Setting id → why it is no longer listed, for the shortlist's entries that left the directory since."""
    return unlisted_reasons(entry.setting_id for entry in shortlist.entries)


def add_note(shortlist: Shortlist, body: str, *, actor) -> ShortlistNote:
    """Append a note to a shortlist (notes are never changed or removed).

    :raises PermissionDenied: if ``actor`` cannot see the shortlist.
    :raises WorkspaceError: if the note is blank, too long, or holds a child's date of birth, NHS number or full
        postcode (notes are shared with colleagues and exported).
    """
    # the referral's own check; imported here because placements imports workspace when it loads
    from placements.identifiers import identifier_problem

    if not permissions.can_add_note(actor, shortlist):
        raise PermissionDenied('You cannot add notes to this shortlist')
    body = (body or '').strip()
    if not body:
        raise WorkspaceError('Enter a note', 'body')
    if len(body) > MAX_NOTE_LENGTH:
        raise WorkspaceError(f'Note must be {MAX_NOTE_LENGTH} characters or fewer', 'body')
    if problem := identifier_problem(body, 'Note'):
        raise WorkspaceError(problem, 'body')
    now = utcnow()
    with unit_of_work():
        _serialise_for(actor)
        repeat = db.session.scalars(select(ShortlistNote).where(
            ShortlistNote.shortlist_id == shortlist.id, ShortlistNote.author_id == actor.id,
            ShortlistNote.body == body, ShortlistNote.created_at >= now - REPEAT_WINDOW)).first()
        if repeat is not None:
            return repeat
        note = ShortlistNote(shortlist_id=shortlist.id, author_id=actor.id, body=body, created_at=now)
        db.session.add(note)
        db.session.flush()
        record('shortlist.note_add', shortlist, actor=actor, after={'note_id': note.id, 'body': body})
    return note


def set_shared(shortlist: Shortlist, shared: bool, *, actor) -> Shortlist:
    """Share a shortlist with every commissioner of its authority, or make it private again.

    :raises PermissionDenied: unless ``actor`` owns the shortlist.
    """
    if not permissions.can_share(actor, shortlist):
        raise PermissionDenied('Only the owner can share this shortlist')
    shared = bool(shared)
    if shortlist.is_shared == shared:
        return shortlist
    with unit_of_work():
        before = {'is_shared': shortlist.is_shared}
        shortlist.is_shared = shared
        record('shortlist.share' if shared else 'shortlist.unshare', shortlist, actor=actor, before=before,
               after={'is_shared': shared})
    return shortlist


def visible_shortlists(user) -> tuple[list[Shortlist], list[Shortlist]]:
    """(the user's own shortlists, those shared by colleagues in the same authority), newest first."""
    if not permissions.can_create_shortlist(user):
        return [], []
    rows = db.session.scalars(
        select(Shortlist).where(Shortlist.authority_code == user.authority_code,
                                or_(Shortlist.owner_id == user.id, Shortlist.is_shared.is_(True)))
        .options(selectinload(Shortlist.owner))
        .order_by(Shortlist.created_at.desc(), Shortlist.id.desc())
    ).all()
    return [row for row in rows if row.owner_id == user.id], [row for row in rows if row.owner_id != user.id]


@dataclass
class AcceptedProvider:
    """A provider on the authority's local list, with its national qualifications."""

    application: LocalApplication
    qualifications: list[Qualification]


def authority_overview(authority_code: str, today: date | None = None) -> dict:
    """The authority's local list: accepted providers (by the authority itself or by a consortium it belongs to,
    which counts for every member) with their qualifications, and pending applications."""
    from consortia.models import ConsortiumMember

    today = today or date.today()
    consortia = select(ConsortiumMember.consortium_id).where(ConsortiumMember.authority_code == authority_code)
    accepted = db.session.scalars(
        select(LocalApplication).where((LocalApplication.authority_code == authority_code)
                                       | LocalApplication.consortium_id.in_(consortia),
                                       LocalApplication.status == LocalApplicationStatus.ACCEPTED)
        .options(selectinload(LocalApplication.organisation))
        .order_by(LocalApplication.decided_at.desc(), LocalApplication.id)
    ).all()
    organisation_ids = {application.organisation_id for application in accepted}
    qualifications: dict[int, list[Qualification]] = {}
    if organisation_ids:
        for qualification in db.session.scalars(
                select(Qualification).where(Qualification.organisation_id.in_(organisation_ids))
                .order_by(Qualification.valid_to)):
            qualifications.setdefault(qualification.organisation_id, []).append(qualification)
    providers = sorted(
        (AcceptedProvider(application, [q for q in qualifications.get(application.organisation_id, [])
                                        if q.lot == application.lot])
         for application in accepted),
        key=lambda item: (item.application.organisation.display_name.lower(), item.application.lot.value))
    pending = db.session.scalars(
        select(LocalApplication).where(LocalApplication.authority_code == authority_code,
                                       LocalApplication.status == LocalApplicationStatus.SUBMITTED)
        .options(selectinload(LocalApplication.organisation))
        .order_by(LocalApplication.updated_at, LocalApplication.id)
    ).all()
    return {'providers': providers, 'pending': pending, 'today': today,
            'warn_before': today + timedelta(days=EXPIRY_WARNING_DAYS)}
