"""Small, hand-countable market data: placements with known prices and distances, log lines, register rows."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from market.demand import log_search
from market.refresh import refresh_all
from placements.models import Offer, Placement, Referral, ReferralResponse
from placements.states import PlacementStatus, ReferralStatus, ResponseStatus
from registry.accounts.models import Role
from registry.db import unit_of_work
from registry.extensions import db
from registry.ofsted.models import OfstedRegisterEntry
from registry.settings.taxonomy import ProvisionType, RegistrationStatus
from tests.factories import make_user
from tests.placements.conftest import World, world  # noqa: F401
from tests.workspace.conftest import make_organisation

LEEDS, BRADFORD, WESTMINSTER, DERBYSHIRE = 'E08000035', 'E08000032', 'E09000033', 'E10000007'
CH, IFA = ProvisionType.CHILDRENS_HOME, ProvisionType.INDEPENDENT_FOSTERING_AGENCY
START = date(2026, 4, 15)


def place(home: str, host: str, pence: int, organisation, *, kind: ProvisionType = CH, miles: float | None = 10.0,
          start: date = START, needs: tuple[str, ...] = ()) -> Placement:
    """A placed referral with one accepted offer at ``pence`` a week, written directly (no emails, no audit)."""
    referral = Referral(authority_code=home, status=ReferralStatus.PLACED, age_band='10-15', sex='female',
                        needs=list(needs), provision_type=kind, children=1, start_date=start,
                        response_deadline=start - timedelta(days=1))
    db.session.add(referral)
    db.session.flush()
    response = ReferralResponse(referral_id=referral.id, organisation_id=organisation.id, host_authority_code=host,
                                provision_type=kind, distance_miles=miles, status=ResponseStatus.ACCEPTED)
    db.session.add(response)
    db.session.flush()
    offer = Offer(response_id=response.id, referral_id=referral.id, weekly_price_pence=pence,
                  available_from=start, valid_until=start + timedelta(days=7))
    db.session.add(offer)
    db.session.flush()
    placement = Placement(referral_id=referral.id, offer_id=offer.id, organisation_id=organisation.id,
                          provision_type=kind, home_authority_code=home, host_authority_code=host, start_date=start,
                          weekly_price_pence=pence, distance_miles=miles, status=PlacementStatus.ACTIVE)
    db.session.add(placement)
    db.session.flush()
    return placement


def log(authority: str, needs=(), matches: int | None = 1, *, kind: str = 'search', provision=('childrens-home',),
        age: int = 12, distance: int | None = 20) -> None:
    with unit_of_work():
        log_search(kind, authority_code=authority, age=age, needs=needs, provision_types=provision,
                   max_distance_miles=distance, matches=matches)


def register(urn: str, owner: str, places: int | None, authority: str | None, *, kind: ProvisionType | None = CH,
             status: RegistrationStatus = RegistrationStatus.ACTIVE) -> None:
    db.session.add(OfstedRegisterEntry(urn=urn, provision_type_text=kind.label if kind else 'Boarding school',
                                       provision_type=kind, registration_status=status, places=places,
                                       name='REDACTED', owner_name=owner, authority_code=authority, row_hash=urn))


def refresh() -> dict:
    with unit_of_work():
        return refresh_all()


@pytest.fixture
def providers(app_ctx):
    """Three provider organisations: a, b and c."""
    organisations = [make_organisation(name) for name in ('Alpha Care Ltd', 'Beta Homes Ltd', 'Gamma Group Ltd')]
    db.session.commit()
    return organisations


@pytest.fixture
def people(app_ctx):
    """A Leeds and a Bradford commissioner, a board member and a provider."""
    return {'leeds': make_user(Role.COMMISSIONER, authority_code=LEEDS),
            'bradford': make_user(Role.COMMISSIONER, authority_code=BRADFORD),
            'board': make_user(Role.BOARD_MEMBER), 'provider': make_user(Role.PROVIDER)}
