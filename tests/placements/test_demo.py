"""The placements demo step: a believable national volume, realistic prices, some out of area, loaded once."""

from __future__ import annotations

import random
import statistics

from sqlalchemy import func, select

from placements.demo import load
from placements.models import Offer, Placement, Referral, ReferralResponse
from registry.db import unit_of_work
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.settings.taxonomy import ProvisionType
from tests.placements.conftest import World


def test_demo_referrals_span_the_regions_with_realistic_prices_and_out_of_area_placements(world: World):
    # the known world has four homes around Leeds and Bradford: enough for the generator's shape
    with unit_of_work():
        summary = load(random.Random(1), lambda _line: None, count=400)

    assert 'Added 400 referrals' in summary
    regions = db.session.scalar(select(func.count(func.distinct(LocalAuthority.region_name))).select_from(Referral)
                                .join(LocalAuthority, LocalAuthority.code == Referral.authority_code))
    assert regions == 9
    assert db.session.scalar(select(func.count()).select_from(ReferralResponse)) >= 800
    homes = list(db.session.scalars(select(Offer.weekly_price_pence).join(ReferralResponse).where(
        ReferralResponse.provision_type == ProvisionType.CHILDRENS_HOME)))
    assert 4_000_00 <= statistics.median(homes) <= 8_000_00
    placements = db.session.scalars(select(Placement)).all()
    assert placements and any(p.out_of_area for p in placements)
    assert all(p.weekly_price_pence > 0 and p.distance_miles is not None for p in placements)
    assert {p.status.value for p in placements} <= {'active', 'ended'}
    # placed referrals are closed, and old closures have had their child details deleted already
    placed = db.session.scalars(select(Referral).where(Referral.status == 'placed')).all()
    assert len(placed) == len(placements) and all(r.closed_at for r in placed)
    deleted = [r for r in placed if r.details_deleted_at is not None]
    assert deleted and all(r.age is None and r.education_notes == '' for r in deleted)
    assert db.session.scalar(select(func.count()).select_from(Referral).where(Referral.status == 'open')) > 0
