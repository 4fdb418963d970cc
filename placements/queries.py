"""Reads for the pages: lists are paged and filtered in SQL (with indexes), detail pages load in a few queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from placements import permissions
from placements.models import Offer, Placement, Referral, ReferralResponse
from placements.pricing import PriceComparison, compare, schedule_for
from placements.states import PlacementStatus, ReferralStatus, ResponseStatus
from registry.extensions import db
from registry.paging import Paged, clamp_page
from registry.settings.models import Setting
from workspace.finder import Child, reasons_against_request

PAGE_SIZE = 25


@dataclass
class Page(Paged):
    """One page of a list, with what the pagination needs."""

    items: list
    total: int
    page: int
    page_size: int = PAGE_SIZE


def _page(query, count_query, page: int, page_size: int = PAGE_SIZE) -> Page:
    total = db.session.scalar(count_query) or 0
    page = clamp_page(page, total, page_size)
    items = list(db.session.scalars(query.limit(page_size).offset((page - 1) * page_size)).unique())
    return Page(items, total, page, page_size)


@dataclass
class ReferralRow:
    referral: Referral
    approached: int
    offers: int
    declines: int


def authority_referrals(authority_code: str, status: str | None = None, page: int = 1) -> tuple[Page, list]:
    """The authority's referrals, newest first, with how many settings were approached and answered."""
    conditions = [Referral.authority_code == authority_code]
    if status in {member.value for member in ReferralStatus}:
        conditions.append(Referral.status == ReferralStatus(status))
    query = select(Referral).where(*conditions).order_by(Referral.created_at.desc(), Referral.id.desc())
    result = _page(query, select(func.count(Referral.id)).where(*conditions), page)
    ids = [referral.id for referral in result.items]
    counts = {}
    if ids:
        rows = db.session.execute(
            select(ReferralResponse.referral_id, ReferralResponse.status, func.count())
            .where(ReferralResponse.referral_id.in_(ids))
            .group_by(ReferralResponse.referral_id, ReferralResponse.status))
        for referral_id, status_value, count in rows:
            counts.setdefault(referral_id, {})[status_value] = count
    rows = []
    for referral in result.items:
        by_status = counts.get(referral.id, {})
        # offers are counted from the offers themselves: a not-selected response may never have offered
        rows.append(ReferralRow(referral, sum(by_status.values()), 0, by_status.get(ResponseStatus.DECLINED, 0)))
    if ids:
        offer_counts = dict(db.session.execute(select(Offer.referral_id, func.count()).where(
            Offer.referral_id.in_(ids)).group_by(Offer.referral_id)).all())
        for row in rows:
            row.offers = offer_counts.get(row.referral.id, 0)
    return result, rows


def inbox(user, status: str | None = None, page: int = 1) -> Page:
    """Responses asked of the provider's settings, newest referral first (awaiting ones can be filtered)."""
    organisation_ids = permissions.organisation_ids(user)
    if not organisation_ids:
        return Page([], 0, 1)
    conditions = [ReferralResponse.organisation_id.in_(organisation_ids)]
    if status in {member.value for member in ResponseStatus}:
        conditions.append(ReferralResponse.status == ResponseStatus(status))
    query = (select(ReferralResponse).where(*conditions)
             .options(joinedload(ReferralResponse.referral).joinedload(Referral.authority),
                      joinedload(ReferralResponse.setting))
             .order_by(ReferralResponse.referral_id.desc(), ReferralResponse.id))
    return _page(query, select(func.count(ReferralResponse.id)).where(*conditions), page)


@dataclass
class ComparisonRow:
    """One approached setting on the commissioner's comparison."""

    response: ReferralResponse
    setting: Setting | None
    offer: Offer | None
    price: PriceComparison | None
    over_budget_pence: int | None
    #: The finder's reasons, with needs and siblings judged against the referral itself.
    reasons: list[dict] = field(default_factory=list)


def comparison(referral: Referral) -> list[ComparisonRow]:
    """Every approached setting with its response, offer, Ofsted judgement and price against the schedule.

    Offers first (cheapest first), then settings still awaiting, then declines.
    """
    responses = list(db.session.scalars(
        select(ReferralResponse).where(ReferralResponse.referral_id == referral.id)
        .options(selectinload(ReferralResponse.offer),
                 selectinload(ReferralResponse.setting).selectinload(Setting.organisation),
                 selectinload(ReferralResponse.organisation))))
    schedules: dict = {}
    rows = []
    child = Child(age=referral.age or 0, needs=tuple(referral.needs or ()), children=referral.children)
    for response in responses:
        offer = response.offer
        price = None
        if offer is not None:
            key = response.provision_type
            if key not in schedules:
                schedules[key] = schedule_for(referral.authority_code, key)
            price = compare(offer.weekly_price_pence, schedules[key], key, referral.children)
        over = None
        if offer is not None and referral.indicative_budget_pence:
            over = offer.weekly_price_pence - referral.indicative_budget_pence
        rows.append(ComparisonRow(response, response.setting, offer, price, over,
                                  _reasons(response, child)))
    order = {ResponseStatus.ACCEPTED: 0, ResponseStatus.OFFERED: 1, ResponseStatus.AWAITING: 2}
    rows.sort(key=lambda row: (order.get(row.response.status, 3),
                               row.offer.weekly_price_pence if row.offer else 0, row.response.id))
    return rows


def _reasons(response: ReferralResponse, child: Child) -> list[dict]:
    """What the finder said about the setting, against the needs the referral asked for.

    The saved reasons come from the search or shortlist the referral started from, whose needs may differ from the
    referral's own (a shortlist saved for "no particular needs" and a referral asking for self-harm).
    """
    saved = list(response.finder_reasons or [])
    if response.setting is None:
        return saved
    return reasons_against_request(saved, response.setting.needs, child)


def placements_for(user, view: str = 'home', status: str | None = None, page: int = 1) -> Page:
    """Placements the user may see: the home authority's, those into the user's area (host), or the provider's."""
    conditions = []
    if permissions.is_commissioner(user):
        if view == 'host':
            conditions += [Placement.host_authority_code == user.authority_code,
                           Placement.home_authority_code != user.authority_code]
        else:
            conditions.append(Placement.home_authority_code == user.authority_code)
    else:
        organisation_ids = permissions.organisation_ids(user)
        if not organisation_ids:
            return Page([], 0, 1)
        conditions.append(Placement.organisation_id.in_(organisation_ids))
    if status in {member.value for member in PlacementStatus}:
        conditions.append(Placement.status == PlacementStatus(status))
    query = (select(Placement).where(*conditions)
             .options(joinedload(Placement.setting), joinedload(Placement.home_authority),
                      joinedload(Placement.host_authority), joinedload(Placement.organisation))
             .order_by(Placement.start_date.desc(), Placement.id.desc()))
    return _page(query, select(func.count(Placement.id)).where(*conditions), page)


def referral_counts(user) -> dict[str, int]:
    """Open referrals and those awaiting this provider's answer, for page headers."""
    if permissions.is_commissioner(user):
        return {'open': db.session.scalar(select(func.count(Referral.id)).where(
            Referral.authority_code == user.authority_code, Referral.status == ReferralStatus.OPEN)) or 0}
    organisation_ids = permissions.organisation_ids(user)
    if not organisation_ids:
        return {'awaiting': 0}
    return {'awaiting': db.session.scalar(select(func.count(ReferralResponse.id)).where(
        ReferralResponse.organisation_id.in_(organisation_ids),
        ReferralResponse.status == ResponseStatus.AWAITING)) or 0}

