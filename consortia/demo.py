"""Demo data: three consortia with their real-world membership, requirement sets and some acceptances.

West Yorkshire (Bradford, Calderdale, Kirklees, Leeds, Wakefield) and the North East's twelve authorities publish
children's homes requirements; the North London group (Barnet, Camden, Enfield, Hackney, Haringey, Islington) buys
fostering together. Leeds adds its own item on top of West Yorkshire's, and the demo commissioner (Leeds) acts for
West Yorkshire. Registered with :func:`registry.demo.register_demo_step` by the app factory.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from sqlalchemy import select

from consortia.models import Consortium, ConsortiumCommissioner, ConsortiumMember
from qualification.models import (
    LocalApplication,
    LocalApplicationStatus,
    LocalRequirements,
    Qualification,
    QualificationStatus,
)
from registry.accounts.models import Role, User
from registry.audit.services import record
from registry.db import utcnow
from registry.extensions import db
from registry.indexing import enqueue_organisation
from registry.settings.models import Setting
from registry.settings.taxonomy import Lot

LEEDS = 'E08000035'
#: name -> (member authority codes, lot, questions, documents, price schedule)
CONSORTIA = {
    'West Yorkshire consortium': (
        ['E08000032', 'E08000033', 'E08000034', LEEDS, 'E08000036'], Lot.CHILDRENS_HOMES,
        [{'id': 'q1', 'text': 'Will you take part in the West Yorkshire quarterly provider forum?', 'type': 'yes-no'},
         {'id': 'q2', 'text': 'How do you support children to stay in their West Yorkshire school?', 'type': 'text'}],
        ['West Yorkshire placement protocol', 'Missing from care protocol'],
        [{'placement_type': 'Solo placement', 'weekly_price_pence': 7_250_00},
         {'placement_type': 'Shared placement', 'weekly_price_pence': 5_100_00}]),
    'North East regional consortium': (
        ['E06000001', 'E06000002', 'E06000003', 'E06000004', 'E06000005', 'E06000047', 'E06000057', 'E08000021',
         'E08000022', 'E08000023', 'E08000024', 'E08000037'], Lot.CHILDRENS_HOMES,
        [{'id': 'q1', 'text': 'Do you accept the North East regional contract terms?', 'type': 'yes-no'}],
        ['North East regional contract'], [{'placement_type': 'Standard placement', 'weekly_price_pence': 5_400_00}]),
    'North London consortium': (
        ['E09000003', 'E09000007', 'E09000010', 'E09000012', 'E09000014', 'E09000019'], Lot.FOSTERING,
        [{'id': 'q1', 'text': 'Will you offer North London carers the shared training programme?', 'type': 'yes-no'}],
        ['North London fostering framework'], []),
}
#: Leeds's own items on top of West Yorkshire's (the third layer).
LEEDS_DELTA = [{'id': 'q1', 'text': 'Will you attend Leeds\'s Child Friendly City placement panel?', 'type': 'yes-no'}]
ANSWERS = {'yes-no': 'yes', 'text': 'We keep children in their school through transport and a named link worker.'}


def _qualified_in(codes: list[str], lot: Lot, rng: random.Random, limit: int) -> list[int]:
    """Qualified organisations with a setting in the lot in or near these authorities (by region), a few."""
    from registry.geography.models import LocalAuthority

    regions = set(db.session.scalars(select(LocalAuthority.region_code).where(LocalAuthority.code.in_(codes))))
    in_region = set(db.session.scalars(select(LocalAuthority.code).where(LocalAuthority.region_code.in_(regions))))
    organisation_ids = set()
    for setting in db.session.scalars(select(Setting).where(Setting.authority_code.in_(in_region))):
        if setting.provision_type.lot == lot:
            organisation_ids.add(setting.organisation_id)
    qualified = sorted(set(db.session.scalars(select(Qualification.organisation_id).where(
        Qualification.organisation_id.in_(organisation_ids), Qualification.lot == lot,
        Qualification.status == QualificationStatus.ACTIVE))))
    rng.shuffle(qualified)
    return sorted(qualified[:limit])


def load(rng: random.Random, echo: Callable[[str], None]) -> str:
    now = utcnow()
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id).limit(1))
    commissioner = db.session.scalar(select(User).where(User.role == Role.COMMISSIONER, User.authority_code == LEEDS)
                                     .order_by(User.id).limit(1))
    accepted = 0
    touched: set[int] = set()
    for name, (codes, lot, questions, documents, prices) in CONSORTIA.items():
        if db.session.scalar(select(Consortium.id).where(Consortium.name == name)) is not None:
            continue
        consortium = Consortium(name=name, members=[ConsortiumMember(authority_code=code) for code in codes])
        db.session.add(consortium)
        db.session.flush()
        record('consortium.create', consortium, actor=admin, after={'name': name, 'members': codes})
        requirements = LocalRequirements(consortium_id=consortium.id, lot=lot, version=1, questions=questions,
                                         documents=documents, price_schedule=prices, published_at=now,
                                         published_by_id=commissioner.id if commissioner and LEEDS in codes else None)
        db.session.add(requirements)
        db.session.flush()
        if commissioner is not None and LEEDS in codes:
            db.session.add(ConsortiumCommissioner(consortium_id=consortium.id, user_id=commissioner.id,
                                                  granted_by_id=getattr(admin, 'id', None), granted_at=now))
        for organisation_id in _qualified_in(codes, lot, rng, 6):
            db.session.add(LocalApplication(
                organisation_id=organisation_id, consortium_id=consortium.id, lot=lot,
                status=LocalApplicationStatus.ACCEPTED, requirements_id=requirements.id,
                answers={q['id']: ANSWERS[q['type']] for q in questions}, accepts_terms='yes',
                submitted_at=now, decided_at=now, decision_reason='Demonstration data: accepted onto the list'))
            touched.add(organisation_id)
            accepted += 1
    latest = db.session.scalar(select(LocalRequirements).where(
        LocalRequirements.authority_code == LEEDS, LocalRequirements.lot == Lot.CHILDRENS_HOMES)
        .order_by(LocalRequirements.version.desc()).limit(1))
    if commissioner is not None and (latest is None or not latest.questions):
        # Leeds's own item on top, keeping any price schedule it already published (a new version)
        db.session.add(LocalRequirements(authority_code=LEEDS, lot=Lot.CHILDRENS_HOMES,
                                         version=(latest.version + 1) if latest else 1, questions=LEEDS_DELTA,
                                         documents=list(latest.documents) if latest else [],
                                         price_schedule=list(latest.price_schedule) if latest else [],
                                         published_by_id=commissioner.id, published_at=now))
    db.session.flush()
    for organisation_id in sorted(touched):
        enqueue_organisation(organisation_id, reason='demo.load.consortia')
    return (f'{len(CONSORTIA)} consortia (West Yorkshire, North East, North London) with {accepted} acceptances; '
            'the demo commissioner acts for West Yorkshire, and Leeds asks one item of its own on top.')
