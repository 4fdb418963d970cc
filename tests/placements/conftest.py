"""Known people and settings for the referral loop.

Leeds refers; Aire Valley Homes runs two Leeds homes, Pennine Care one in Bradford (another authority, so placing
there is out of area); Calder Care is a provider that is never approached; Westminster is another authority.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from placements import services
from qualification.local import publish_requirements
from registry.accounts.models import Role
from registry.extensions import db
from registry.organisations.models import MemberRole, Membership
from registry.settings.taxonomy import Judgement, Lot
from tests.factories import make_user
from tests.workspace.conftest import criteria, make_organisation, make_setting, qualify, reindex  # noqa: F401

LEEDS, BRADFORD, WESTMINSTER = 'E08000035', 'E08000032', 'E09000033'
NEEDS = ['autism', 'emotional-behavioural']


@dataclass
class World:
    zephyr: object
    abbey: object
    bradford_home: object
    calder_home: object
    aire: object
    pennine: object
    calder: object
    leeds_officer: object
    leeds_colleague: object
    westminster_officer: object
    bradford_officer: object
    aire_user: object
    pennine_user: object
    calder_user: object


def _member(organisation, name: str):
    user = make_user(Role.PROVIDER, full_name=name)
    db.session.add(Membership(user_id=user.id, organisation_id=organisation.id, role=MemberRole.OWNER))
    db.session.commit()
    return user


@pytest.fixture
def world(app_ctx) -> World:
    aire = make_organisation('Aire Valley Homes Ltd')
    pennine = make_organisation('Pennine Care Ltd')
    calder = make_organisation('Calder Care Ltd')
    for organisation in (aire, pennine, calder):
        qualify(organisation, Lot.CHILDRENS_HOMES)
    zephyr = make_setting(aire, 'Zephyr House', 'LS6 2QB', judgement=Judgement.GOOD, needs=NEEDS, vacancies=1)
    abbey = make_setting(aire, 'Abbey House', 'LS6 2QB', judgement=Judgement.OUTSTANDING, needs=NEEDS, vacancies=2)
    bradford_home = make_setting(pennine, 'Bradford Moor House', 'BD1 1HY', judgement=Judgement.GOOD, needs=NEEDS,
                                 vacancies=1)
    calder_home = make_setting(calder, 'Calder Lodge', 'LS6 2QB', judgement=Judgement.GOOD, needs=NEEDS, vacancies=1)
    db.session.commit()
    reindex()
    leeds_officer = make_user(Role.COMMISSIONER, authority_code=LEEDS, full_name='Lee Officer',
                              email='lee@leeds.example')
    world = World(
        zephyr=zephyr, abbey=abbey, bradford_home=bradford_home, calder_home=calder_home, aire=aire,
        pennine=pennine, calder=calder, leeds_officer=leeds_officer,
        leeds_colleague=make_user(Role.COMMISSIONER, authority_code=LEEDS, full_name='Col League'),
        westminster_officer=make_user(Role.COMMISSIONER, authority_code=WESTMINSTER, full_name='West Officer'),
        bradford_officer=make_user(Role.COMMISSIONER, authority_code=BRADFORD, full_name='Brad Officer',
                                   email='brad@bradford.example'),
        aire_user=_member(aire, 'Ada Aire'), pennine_user=_member(pennine, 'Pat Pennine'),
        calder_user=_member(calder, 'Cal Calder'))
    publish_requirements(LEEDS, Lot.CHILDRENS_HOMES, questions=[], documents=[],
                         price_schedule=[{'placement_type': "Children's home: solo placement",
                                          'weekly_price_pence': 5_000_00},
                                         {'placement_type': 'Secure welfare', 'weekly_price_pence': 9_000_00}],
                         actor=leeds_officer)
    return world


def details(**overrides) -> services.ReferralDetails:
    """A 12-year-old girl with autism, from LS1 4DY, starting in a week."""
    today = date.today()
    values = {'age': 12, 'sex': 'female', 'provision_type': 'childrens-home', 'needs': list(NEEDS),
              'start_date': today + timedelta(days=7), 'response_deadline': today + timedelta(days=2),
              'expected_duration_weeks': 26, 'max_distance_miles': 20, 'origin_postcode': 'LS1 4DY',
              'education_notes': 'Year 7; has an education, health and care plan.',
              'risk_notes': 'Has gone missing twice this year.', 'indicative_budget_pence': 5_200_00}
    values.update(overrides)
    return services.ReferralDetails(**values)


def send(world: World, *settings, actor=None, **overrides):
    """Send a referral from Leeds to ``settings`` (default: Zephyr House and Bradford Moor House)."""
    chosen = settings or (world.zephyr, world.bradford_home)
    return services.send_referral(details(**overrides), [services.Candidate(s.id) for s in chosen],
                                  actor=actor or world.leeds_officer)


def offer(world: World, referral, setting, user, pence: int = 5_400_00, **overrides):
    response = next(r for r in referral.responses if r.setting_id == setting.id)
    today = date.today()
    values = {'weekly_price_pence': pence, 'available_from': today + timedelta(days=5),
              'valid_until': today + timedelta(days=10), 'conditions': 'Matching visit first.'}
    values.update(overrides)
    return services.make_offer(response, actor=user, **values)


@pytest.fixture
def referral_details():
    return details
