"""The referral workflow: send a referral, offer or decline, accept (making a placement), close, end a placement.

Each verb is one service function and one transaction: it checks the actor, checks the move against the state
tables in :mod:`placements.states`, writes audit events (facts only, never child details) and queues the emails
in :mod:`placements.notifications`. Views stay thin and call these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from market.demand import log_search
from placements import notifications, permissions
from placements.identifiers import identifier_problem
from placements.models import Offer, Placement, Referral, ReferralResponse, age_band
from placements.pricing import pounds
from placements.states import (
    PLACEMENT_TRANSITIONS,
    REFERRAL_TRANSITIONS,
    RESPONSE_TRANSITIONS,
    CloseReason,
    DeclineReason,
    EndReason,
    PlacementAction,
    ReferralAction,
    ReferralStatus,
    ResponseAction,
    ResponseStatus,
    next_status,
)
from registry.audit.services import record
from registry.db import unit_of_work, utcnow
from registry.errors import DomainError, PermissionDenied
from registry.extensions import db
from registry.geography.distance import metres_between, miles
from registry.indexing import enqueue_settings
from registry.settings.models import Setting, VacancyChange
from registry.settings.taxonomy import NEEDS, ProvisionType
from search.entries import listed_condition
from search.query import authority_centroids
from workspace.finder import HARD_KINDS, Child, reasons_against_request

#: Most settings one referral may approach: a referral is a targeted request, not a broadcast.
MAX_SETTINGS = 20
MAX_NOTES_LENGTH = 2000
#: The highest weekly price an offer may state (£100,000): more is a typing slip.
MAX_WEEKLY_PRICE_PENCE = 10_000_000
#: How far back a placement may be recorded as having started (a child moved in before the offer was accepted).
START_BACKDATE_DAYS = 28
#: How far ahead a placement may start: the vacancy is taken the day the offer is accepted.
START_AHEAD_DAYS = 183
#: How far ahead an offer may run (its place be available, and its last day fall): a mistyped year is refused, and
#: every day of an offer is well inside :data:`START_AHEAD_DAYS`, so it can be accepted with a start within it.
OFFER_AHEAD_DAYS = 90
#: The free-text fields of a referral, with the labels their errors use.
NOTE_FIELDS = {'location_notes': 'Location and distance notes', 'education_notes': 'Education notes',
               'risk_notes': 'Risk notes', 'other_notes': 'Other information'}


class PlacementError(DomainError):
    """A placement rule was broken; ``field`` names the form field to show it against."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NoVacancyError(PlacementError):
    """The setting has no vacancy left (another authority took the last one first)."""


@dataclass
class Candidate:
    """A setting the commissioner chose to approach, with what the finder said about it."""

    setting_id: int
    reasons: list[dict] = field(default_factory=list)
    distance_miles: float | None = None


@dataclass
class ReferralDetails:
    """What the commissioner says about the child (without identity) and the request."""

    age: int
    sex: str
    provision_type: str
    start_date: date
    response_deadline: date
    needs: list[str] = field(default_factory=list)
    children: int = 1
    expected_duration_weeks: int | None = None
    max_distance_miles: int | None = None
    #: Where distances are measured from: a postcode (kept only as its district) or an authority code.
    origin_postcode: str = ''
    origin_authority: str = ''
    location_notes: str = ''
    education_notes: str = ''
    risk_notes: str = ''
    other_notes: str = ''
    indicative_budget_pence: int | None = None


# ---------------------------------------------------------------------------------------------------------------
# Choosing who to approach


def candidates_from_matches(matches) -> dict[int, Candidate]:
    """Finder matches (``workspace.finder.Match``) as candidates, by setting id."""
    return {match.entry.id: Candidate(match.entry.id,
                                      [reason.to_dict() for reason in match.reasons],
                                      None if match.distance_miles is None else round(match.distance_miles, 1))
            for match in matches}


def candidates_from_shortlist(shortlist) -> dict[int, Candidate]:
    """A shortlist's saved entries as candidates, with the reasons frozen when it was saved."""
    return {entry.setting_id: Candidate(entry.setting_id, list(entry.snapshot.get('reasons') or []),
                                        entry.snapshot.get('distance_miles'))
            for entry in shortlist.entries}


def _origin(details: ReferralDetails) -> tuple[str, str | None, tuple[float, float] | None]:
    """(label kept on the referral, origin authority, grid reference) for where distances are measured from."""
    from registry.geography import postcodes

    if details.origin_postcode:
        try:
            location = postcodes.lookup(details.origin_postcode)
        except postcodes.PostcodeError as exc:
            raise PlacementError(str(exc), 'origin_postcode') from None
        # Only the district (outward code) is kept: a full postcode could point to the child's home.
        return location.postcode.split(' ')[0], location.authority_code, (location.easting, location.northing)
    if details.origin_authority:
        from registry.geography.models import LocalAuthority

        authority = db.session.get(LocalAuthority, details.origin_authority)
        centre = authority_centroids().get(details.origin_authority)
        if authority is None or centre is None:
            raise PlacementError('Choose a local authority in England', 'origin_authority')
        return authority.name, authority.code, centre
    return '', None, None


def check_details(details: ReferralDetails, today: date) -> None:
    """The rules every referral meets, whichever way it arrives (form, CLI or test).

    :raises PlacementError: naming the field at fault.
    """
    if not 0 <= int(details.age) <= 25:
        raise PlacementError("Child's age must be between 0 and 25", 'age')
    if details.sex not in {'female', 'male'}:
        raise PlacementError("Select the child's sex", 'sex')
    try:
        ProvisionType(details.provision_type)
    except ValueError:
        raise PlacementError('Select the type of placement', 'provision_type') from None
    unknown = [need for need in details.needs if need not in NEEDS]
    if unknown:
        raise PlacementError('Select needs from the list', 'needs')
    if not 1 <= int(details.children) <= 6:
        raise PlacementError('Enter how many children need placing together, from 1 to 6', 'children')
    if details.start_date < today:
        raise PlacementError('Placement start date must be today or in the future', 'start_date')
    if details.response_deadline < today:
        raise PlacementError('Response deadline must be today or in the future', 'response_deadline')
    if details.response_deadline > details.start_date:
        raise PlacementError('Response deadline must be on or before the placement start date', 'response_deadline')
    if details.indicative_budget_pence is not None and details.indicative_budget_pence <= 0:
        raise PlacementError('Indicative weekly budget must be more than £0', 'indicative_budget')
    for name, label in NOTE_FIELDS.items():
        text = getattr(details, name) or ''
        if len(text) > MAX_NOTES_LENGTH:
            raise PlacementError(f'{label} must be {MAX_NOTES_LENGTH} characters or fewer', name)
        problem = identifier_problem(text, label, today)
        if problem:
            raise PlacementError(problem, name)


# ---------------------------------------------------------------------------------------------------------------
# The verbs


def send_referral(details: ReferralDetails, candidates: list[Candidate], *, actor,
                  now: datetime | None = None) -> Referral:
    """Send one referral to the chosen settings and tell their providers.

    :param candidates: the settings to approach (each still listed in the directory), with the finder's reasons.
    :raises PermissionDenied: unless ``actor`` is a commissioner.
    :raises PlacementError: a detail is missing or holds an identifier, or a setting cannot be approached.
    """
    if not permissions.can_refer(actor):
        raise PermissionDenied('Only commissioners can send referrals')
    now = now or utcnow()
    today = now.date()
    check_details(details, today)
    chosen = list({candidate.setting_id: candidate for candidate in candidates}.values())
    if not chosen:
        raise PlacementError('Select at least one setting to send the referral to', 'settings')
    if len(chosen) > MAX_SETTINGS:
        raise PlacementError(f'Select {MAX_SETTINGS} settings or fewer', 'settings')
    origin_label, origin_authority, origin = _origin(details)
    ids = [candidate.setting_id for candidate in chosen]
    listed = set(db.session.scalars(select(Setting.id).where(Setting.id.in_(ids), listed_condition(today))))
    settings = {setting.id: setting for setting in db.session.scalars(select(Setting).where(Setting.id.in_(ids)))}
    gone = [candidate.setting_id for candidate in chosen if candidate.setting_id not in listed]
    if gone:
        names = ', '.join(settings[i].name if i in settings else f'setting {i}' for i in gone)
        raise PlacementError(f'{names} can no longer take referrals (not listed in the directory). '
                             'Untick it and send again', 'settings')
    with unit_of_work():
        referral = Referral(
            authority_code=actor.authority_code, created_by_id=actor.id, created_at=now,
            status=ReferralStatus.OPEN, age=int(details.age), age_band=age_band(int(details.age)), sex=details.sex,
            needs=list(dict.fromkeys(details.needs)), provision_type=ProvisionType(details.provision_type),
            children=int(details.children), start_date=details.start_date,
            expected_duration_weeks=details.expected_duration_weeks, max_distance_miles=details.max_distance_miles,
            origin_authority_code=origin_authority, origin_label=origin_label,
            origin_easting=origin[0] if origin else None, origin_northing=origin[1] if origin else None,
            response_deadline=details.response_deadline, indicative_budget_pence=details.indicative_budget_pence,
            **{name: (getattr(details, name) or '').strip() for name in NOTE_FIELDS})
        db.session.add(referral)
        db.session.flush()
        by_organisation: dict[int, list[ReferralResponse]] = {}
        for candidate in chosen:
            setting = settings[candidate.setting_id]
            distance = candidate.distance_miles
            if origin is not None:
                distance = round(miles(metres_between(origin[0], origin[1], setting.easting, setting.northing)), 1)
            response = ReferralResponse(
                referral=referral, setting_id=setting.id, setting=setting,
                organisation_id=setting.organisation_id, host_authority_code=setting.authority_code,
                provision_type=setting.provision_type, distance_miles=distance,
                finder_reasons=list(candidate.reasons or []), status=ResponseStatus.AWAITING)
            db.session.add(response)
            by_organisation.setdefault(setting.organisation_id, []).append(response)
        db.session.flush()
        record('referral.send', referral, actor=actor,
               after={'authority_code': referral.authority_code, 'age_band': referral.age_band,
                      'provision_type': referral.provision_type, 'children': referral.children,
                      'setting_ids': ids, 'response_deadline': referral.response_deadline})
        for organisation_id, responses in by_organisation.items():
            notifications.email_new_referral(referral, organisation_id, responses)
        log_search('referral', authority_code=referral.authority_code, age=int(details.age), needs=referral.needs,
                   provision_types=[referral.provision_type], max_distance_miles=details.max_distance_miles,
                   matches=_matches_meeting_everything(chosen, settings, Child(
                       age=referral.age, needs=tuple(referral.needs), children=referral.children)))
    return referral


def _matches_meeting_everything(candidates: list[Candidate], settings: dict[int, Setting], child: Child) -> int | None:
    """How many approached settings met every hard requirement, by the finder's reasons (None without reasons).

    The needs and sibling reasons are judged again against the referral's own (``child``): the saved reasons come
    from the search or shortlist the referral started from, which may have asked for other needs.
    """
    if not any(candidate.reasons for candidate in candidates):
        return None
    return sum(1 for candidate in candidates if candidate.reasons and all(
        reason.get('met') for reason in reasons_against_request(candidate.reasons,
                                                                settings[candidate.setting_id].needs, child)
        if reason.get('kind') in HARD_KINDS))


def record_view(referral: Referral, *, actor) -> None:
    """Audit that ``actor`` looked at a referral (every view of child details is recorded).

    :raises PermissionDenied: if the actor may not see it.
    """
    if not permissions.can_view_referral(actor, referral):
        raise PermissionDenied('You cannot see this referral')
    with unit_of_work():
        record('referral.view', referral, actor=actor,
               after={'as': 'commissioner' if permissions.is_referring_commissioner(actor, referral) else 'provider'})


def record_placement_view(placement: Placement, *, actor) -> None:
    """Audit that ``actor`` looked at a placement.

    :raises PermissionDenied: if the actor may not see it.
    """
    if not permissions.can_view_placement(actor, placement):
        raise PermissionDenied('You cannot see this placement')
    if permissions.is_commissioner(actor):
        seen_as = 'home' if actor.authority_code == placement.home_authority_code else 'host'
    else:
        seen_as = 'provider'
    with unit_of_work():
        record('placement.view', placement, actor=actor, after={'as': seen_as})


def _closed_message(referral: Referral) -> str | None:
    if referral.status != ReferralStatus.OPEN:
        return f'This referral is {referral.status.label.lower()}: it takes no more responses'
    return None


def _require_open(referral: Referral) -> None:
    message = _closed_message(referral)
    if message:
        raise PlacementError(message)


def why_no_response(response: ReferralResponse) -> str | None:
    """Why the setting can no longer offer or decline (the referral is placed or closed, or it has answered), or
    None while it can; the offer and decline pages show this instead of their forms."""
    message = _closed_message(response.referral)
    if message is None and response.status != ResponseStatus.AWAITING:
        message = f'You have already responded to this referral: {response.status.label.lower()}'
    return message


def offer_date_problems(available_from: date | None, valid_until: date | None, today: date) -> dict[str, str]:
    """What is wrong with an offer's dates, by field (empty when nothing is; a date not given is not checked).

    Neither may be before today or more than :data:`OFFER_AHEAD_DAYS` ahead, and the offer may not run out before
    the place is available (it could never be accepted).
    """
    latest = today + timedelta(days=OFFER_AHEAD_DAYS)
    problems = {}
    for field_name, label, value in (('available_from', 'Available from', available_from),
                                     ('valid_until', 'Offer valid until', valid_until)):
        if value is not None and value < today:
            problems[field_name] = f'{label} must be today or in the future'
        elif value is not None and value > latest:
            problems[field_name] = (f'{label} must be no more than {OFFER_AHEAD_DAYS} days ahead, '
                                    f'{latest:%-d %B %Y} at the latest')
    if 'valid_until' not in problems and available_from is not None and valid_until is not None \
            and valid_until < available_from:
        problems['valid_until'] = (f'Offer valid until must be on or after the day the place is available, '
                                   f'{available_from:%-d %B %Y}')
    return problems


def make_offer(response: ReferralResponse, *, weekly_price_pence: int, available_from: date, valid_until: date,
               conditions: str = '', actor, now: datetime | None = None) -> Offer:
    """The provider offers a place at the approached setting.

    :raises PermissionDenied: unless the actor belongs to the setting's provider.
    :raises PlacementError: the referral is no longer open, or a value is out of range.
    :raises InvalidTransition: the setting already responded.
    """
    if not permissions.can_respond(actor, response):
        raise PermissionDenied('You cannot respond to this referral')
    now = now or utcnow()
    today = now.date()
    referral = response.referral
    _require_open(referral)
    new_status = next_status(RESPONSE_TRANSITIONS, response.status, ResponseAction.OFFER)
    if not isinstance(weekly_price_pence, int) or weekly_price_pence <= 0:
        raise PlacementError('Weekly price must be more than £0', 'weekly_price')
    if weekly_price_pence > MAX_WEEKLY_PRICE_PENCE:
        raise PlacementError(f'Weekly price must be {pounds(MAX_WEEKLY_PRICE_PENCE)} or less', 'weekly_price')
    if problems := offer_date_problems(available_from, valid_until, today):
        field_name, problem = next(iter(problems.items()))
        raise PlacementError(problem, field_name)
    conditions = (conditions or '').strip()
    if len(conditions) > MAX_NOTES_LENGTH:
        raise PlacementError(f'Conditions must be {MAX_NOTES_LENGTH} characters or fewer', 'conditions')
    problem = identifier_problem(conditions, 'Conditions', today)
    if problem:
        raise PlacementError(problem, 'conditions')
    with unit_of_work():
        offer = Offer(response_id=response.id, referral_id=referral.id, setting_id=response.setting_id,
                      weekly_price_pence=weekly_price_pence, available_from=available_from, valid_until=valid_until,
                      conditions=conditions, created_by_id=actor.id, created_at=now)
        db.session.add(offer)
        response.offer = offer
        response.status, response.responded_at, response.responded_by_id = new_status, now, actor.id
        db.session.flush()
        record('referral.offer', referral, actor=actor,
               after={'response_id': response.id, 'setting_id': response.setting_id, 'offer_id': offer.id,
                      'weekly_price_pence': weekly_price_pence, 'available_from': available_from,
                      'valid_until': valid_until})
        notifications.email_response_received(response)
    return offer


def decline(response: ReferralResponse, *, reason: str, notes: str = '', actor,
            now: datetime | None = None) -> ReferralResponse:
    """The provider declines with a coded reason (and words, required for "another reason").

    :raises PermissionDenied: unless the actor belongs to the setting's provider.
    :raises PlacementError: no valid reason, or the notes hold an identifier.
    :raises InvalidTransition: the setting already responded.
    """
    if not permissions.can_respond(actor, response):
        raise PermissionDenied('You cannot respond to this referral')
    now = now or utcnow()
    referral = response.referral
    _require_open(referral)
    new_status = next_status(RESPONSE_TRANSITIONS, response.status, ResponseAction.DECLINE)
    try:
        coded = DeclineReason(reason)
    except ValueError:
        raise PlacementError('Select why you are declining', 'reason') from None
    notes = (notes or '').strip()
    if coded == DeclineReason.OTHER and not notes:
        raise PlacementError('Say why you are declining', 'notes')
    if len(notes) > MAX_NOTES_LENGTH:
        raise PlacementError(f'Notes must be {MAX_NOTES_LENGTH} characters or fewer', 'notes')
    problem = identifier_problem(notes, 'Notes', now.date())
    if problem:
        raise PlacementError(problem, 'notes')
    with unit_of_work():
        before = {'status': response.status}
        response.status, response.responded_at, response.responded_by_id = new_status, now, actor.id
        response.decline_reason, response.decline_notes = coded, notes
        record('referral.decline', referral, actor=actor, before=before,
               after={'response_id': response.id, 'setting_id': response.setting_id, 'reason': coded})
        notifications.email_response_received(response)
    return response


def _distance_to(referral: Referral, setting: Setting) -> float | None:
    """Miles from the child's home (or requested location), else from the home authority's centre."""
    origin = None
    if referral.origin_easting is not None and referral.origin_northing is not None:
        origin = (referral.origin_easting, referral.origin_northing)
    else:
        origin = authority_centroids().get(referral.authority_code)
    if origin is None:
        return None
    return round(miles(metres_between(origin[0], origin[1], setting.easting, setting.northing)), 1)


def start_date_range(offer: Offer, today: date) -> tuple[date, date]:
    """The earliest and latest start date a placement from ``offer`` may be recorded with.

    Not before the place is available, nor more than :data:`START_BACKDATE_DAYS` ago (a child who has already
    moved in); not after the last day of the offer, nor more than :data:`START_AHEAD_DAYS` ahead, because the
    setting's vacancy is taken the day the offer is accepted. The range is empty (earliest after latest) when the
    offer's dates leave no such day.
    """
    earliest = max(offer.available_from, today - timedelta(days=START_BACKDATE_DAYS))
    latest = min(offer.valid_until, today + timedelta(days=START_AHEAD_DAYS))
    return earliest, latest


def _check_start_date(offer: Offer, start_date: date, today: date) -> None:
    """Refuse a start date outside :func:`start_date_range`, saying the range and why."""
    earliest, latest = start_date_range(offer, today)
    if earliest > latest:
        raise PlacementError(f'This offer cannot be accepted now: the place is available from '
                             f'{offer.available_from:%-d %B %Y}, more than {START_AHEAD_DAYS // 30} months ahead. '
                             'Ask the provider to offer again nearer the time')
    if earliest <= start_date <= latest:
        return
    why_earliest = ('when the place is available' if earliest == offer.available_from
                    else f'a placement can be recorded up to {START_BACKDATE_DAYS} days after it started')
    why_latest = ('the last day of the offer' if latest == offer.valid_until
                  else f'a placement can be recorded up to {START_AHEAD_DAYS // 30} months ahead')
    raise PlacementError(f'Start date must be between {earliest:%-d %B %Y} ({why_earliest}) and '
                         f'{latest:%-d %B %Y} ({why_latest})', 'start_date')


def accept_offer(offer: Offer, *, start_date: date, planned_end_date: date | None, actor,
                 now: datetime | None = None) -> Placement:
    """Accept one offer: the placement is recorded, the setting's vacancy taken, everyone told, in one transaction.

    Two commissioners may accept offers for the last vacancy of a setting at the same moment. The vacancy is taken
    by a conditional update (``vacancies = vacancies - n WHERE vacancies >= n``), which the database applies to one
    transaction at a time (the row lock on PostgreSQL, the write lock on SQLite), so exactly one succeeds and the
    other gets :class:`NoVacancyError` with nothing saved. The referral is claimed the same way, so it cannot be
    placed twice.

    :raises PermissionDenied: unless the actor is a commissioner of the referring authority.
    :raises NoVacancyError: the setting has too few vacancies left.
    :raises PlacementError: the offer has expired, the dates do not fit, or the referral is no longer open.
    :raises InvalidTransition: the offer is not open for acceptance.
    """
    response = offer.response
    referral = response.referral
    if not permissions.is_referring_commissioner(actor, referral):
        raise PermissionDenied('Only commissioners of the referring authority can accept offers')
    now = now or utcnow()
    today = now.date()
    next_status(REFERRAL_TRANSITIONS, referral.status, ReferralAction.PLACE)
    accepted = next_status(RESPONSE_TRANSITIONS, response.status, ResponseAction.ACCEPT)
    if offer.valid_until < today:
        raise PlacementError(f'This offer expired on {offer.valid_until:%-d %B %Y}. Ask the provider to offer again')
    _check_start_date(offer, start_date, today)
    if planned_end_date is not None and planned_end_date <= start_date:
        raise PlacementError('Planned end date must be after the start date', 'planned_end_date')
    setting = offer.setting
    if setting is None:
        raise PlacementError('The setting has been removed from the registry; this offer cannot be accepted')
    children = referral.children
    setting_name = setting.name
    with unit_of_work():
        claimed = db.session.execute(
            update(Referral).where(Referral.id == referral.id, Referral.status == ReferralStatus.OPEN)
            .values(status=ReferralStatus.PLACED, closed_at=now).execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            raise PlacementError('This referral has just been placed or closed by someone else. Reload the page')
        taken = db.session.execute(
            update(Setting).where(Setting.id == setting.id, Setting.vacancies >= children)
            .values(vacancies=Setting.vacancies - children, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            what = 'vacancy' if children == 1 else f'{children} vacancies'
            raise NoVacancyError(f'{setting_name} no longer has a {what}: another placement has just taken it, or '
                                 'the provider has changed its vacancies. Nothing has been saved. Choose another '
                                 'offer, or ask the provider to confirm its vacancies')
        db.session.expire(referral, ['status', 'closed_at'])
        db.session.expire(setting, ['vacancies', 'updated_at'])
        placement = Placement(
            referral_id=referral.id, offer_id=offer.id, setting_id=setting.id,
            organisation_id=setting.organisation_id, provision_type=setting.provision_type,
            home_authority_code=referral.authority_code, host_authority_code=setting.authority_code,
            start_date=start_date, planned_end_date=planned_end_date, weekly_price_pence=offer.weekly_price_pence,
            distance_miles=_distance_to(referral, setting), children=children, created_by_id=actor.id,
            created_at=now)
        db.session.add(placement)
        response.status = accepted
        others = [other for other in referral.responses if other.id != response.id
                  and other.status in {ResponseStatus.AWAITING, ResponseStatus.OFFERED}]
        for other in others:
            other.status = next_status(RESPONSE_TRANSITIONS, other.status, ResponseAction.NOT_SELECT)
        db.session.flush()
        remaining = db.session.scalar(select(Setting.vacancies).where(Setting.id == setting.id))
        db.session.add(VacancyChange(setting_id=setting.id, vacancies=remaining, changed_at=now,
                                     changed_by_id=actor.id, note=f'Placement {placement.reference} accepted'))
        enqueue_settings([setting.id], reason='placement.create')
        record('placement.create', placement, actor=actor,
               after={'referral_id': referral.id, 'offer_id': offer.id, 'setting_id': setting.id,
                      'home_authority_code': placement.home_authority_code,
                      'host_authority_code': placement.host_authority_code, 'start_date': start_date,
                      'planned_end_date': planned_end_date, 'weekly_price_pence': placement.weekly_price_pence,
                      'vacancies_left': remaining})
        record('referral.place', referral, actor=actor, before={'status': ReferralStatus.OPEN},
               after={'status': ReferralStatus.PLACED, 'placement_id': placement.id,
                      'not_selected_response_ids': [other.id for other in others]})
        notifications.email_offer_accepted(response, placement)
        for other in others:
            notifications.email_not_selected(other)
        if placement.out_of_area:
            record('placement.out_of_area_notice', placement, actor=actor,
                   after={'host_authority_code': placement.host_authority_code,
                          'notified': notifications.commissioner_addresses(placement.host_authority_code)})
            notifications.email_out_of_area_notice(placement)
    return placement


def close_referral(referral: Referral, *, reason: str, actor, now: datetime | None = None) -> Referral:
    """Close a referral without a placement; providers still waiting or offering are told.

    :raises PermissionDenied: unless the actor is a commissioner of the referring authority.
    :raises PlacementError: no valid reason.
    :raises InvalidTransition: the referral is not open.
    """
    if not permissions.is_referring_commissioner(actor, referral):
        raise PermissionDenied('Only commissioners of the referring authority can close this referral')
    try:
        coded = CloseReason(reason)
    except ValueError:
        raise PlacementError('Select why you are closing the referral', 'reason') from None
    new_status = next_status(REFERRAL_TRANSITIONS, referral.status, ReferralAction.CLOSE)
    now = now or utcnow()
    with unit_of_work():
        claimed = db.session.execute(
            update(Referral).where(Referral.id == referral.id, Referral.status == ReferralStatus.OPEN)
            .values(status=new_status, closed_at=now, close_reason=coded)
            .execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            raise PlacementError('This referral has just been placed or closed by someone else. Reload the page')
        db.session.expire(referral, ['status', 'closed_at', 'close_reason'])
        open_responses = [response for response in referral.responses
                          if response.status in {ResponseStatus.AWAITING, ResponseStatus.OFFERED}]
        for response in open_responses:
            response.status = next_status(RESPONSE_TRANSITIONS, response.status, ResponseAction.CLOSE)
        record('referral.close', referral, actor=actor, before={'status': ReferralStatus.OPEN},
               after={'status': new_status, 'reason': coded})
        for response in open_responses:
            notifications.email_referral_closed(response)
    return referral


def end_placement(placement: Placement, *, reason: str, ended_on: date, actor,
                  now: datetime | None = None) -> Placement:
    """Record that a placement ended, with a coded reason.

    :raises PermissionDenied: unless the actor is a commissioner of the home authority.
    :raises PlacementError: no valid reason, or the end date is before the start or in the future.
    :raises InvalidTransition: the placement has already ended.
    """
    if not permissions.can_end_placement(actor, placement):
        raise PermissionDenied('Only commissioners of the placing authority can end this placement')
    try:
        coded = EndReason(reason)
    except ValueError:
        raise PlacementError('Select why the placement ended', 'reason') from None
    new_status = next_status(PLACEMENT_TRANSITIONS, placement.status, PlacementAction.END)
    now = now or utcnow()
    if ended_on < placement.start_date:
        raise PlacementError(f'End date must be on or after the start date, {placement.start_date:%-d %B %Y}',
                             'ended_on')
    if ended_on > now.date():
        raise PlacementError('End date must be today or in the past', 'ended_on')
    with unit_of_work():
        before = {'status': placement.status}
        placement.status, placement.ended_on, placement.end_reason = new_status, ended_on, coded
        placement.ended_by_id = actor.id
        record('placement.end', placement, actor=actor, before=before,
               after={'status': new_status, 'ended_on': ended_on, 'reason': coded})
        notifications.email_placement_ended(placement)
    return placement


# ---------------------------------------------------------------------------------------------------------------
# Scheduled work


def send_deadline_reminders(now: datetime | None = None, hours: int = 24) -> int:
    """Remind providers, once each, of open referrals whose deadline falls within ``hours``. Returns how many.

    Deadlines are whole days: a deadline is "within the window" when the day it ends is at most ``hours`` away.
    """
    now = now or utcnow()
    horizon = (now + timedelta(hours=hours)).date()
    due = db.session.scalars(
        select(ReferralResponse).join(Referral, Referral.id == ReferralResponse.referral_id)
        .where(ReferralResponse.status == ResponseStatus.AWAITING, ReferralResponse.reminded_at.is_(None),
               Referral.status == ReferralStatus.OPEN, Referral.response_deadline >= now.date(),
               Referral.response_deadline <= horizon)
        .order_by(ReferralResponse.id)).all()
    with unit_of_work():
        for response in due:
            response.reminded_at = now
            notifications.email_deadline_reminder(response)
            record('referral.remind', response.referral, after={'response_id': response.id,
                                                                'deadline': response.referral.response_deadline})
    return len(due)
