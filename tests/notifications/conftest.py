"""A small world for notification tests: two providers, the authorities that did and did not accept one, the
board, and shortlists holding its home; everyone here is either meant to be told or meant not to be."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from notifications.models import Notification
from qualification.models import LocalApplication, LocalApplicationStatus, Qualification, QualificationStatus
from registry.accounts.models import Role
from registry.db import utcnow
from registry.extensions import db
from registry.organisations.models import LegalForm, MemberRole, Membership, Organisation, Sector
from registry.settings.models import Setting
from registry.settings.taxonomy import Lot, ProvisionType, RegistrationStatus
from tests.factories import make_user, register_with_ofsted
from workspace.models import Shortlist, ShortlistEntry

LEEDS, BRADFORD, WESTMINSTER, MANCHESTER = 'E08000035', 'E08000032', 'E09000033', 'E08000003'


def make_organisation(name: str, contact_email: str) -> Organisation:
    organisation = Organisation(legal_name=name, legal_form=LegalForm.COMPANY_LIMITED_BY_SHARES,
                                sector=Sector.PRIVATE, address_line_1='1 High Street', town='Leeds',
                                postcode='LS1 4DY', contact_name='Alex Example', contact_email=contact_email,
                                contact_phone='0113 000 0000')
    db.session.add(organisation)
    db.session.flush()
    return organisation


def member(organisation: Organisation, name: str, role: MemberRole = MemberRole.OWNER):
    user = make_user(Role.PROVIDER, full_name=name, email=f'{name.lower().replace(" ", ".")}@provider.example')
    db.session.add(Membership(user_id=user.id, organisation_id=organisation.id, role=role))
    db.session.commit()
    return user


def qualify(organisation: Organisation, lot: Lot = Lot.CHILDRENS_HOMES, valid_days: int = 335) -> Qualification:
    today = date.today()
    qualification = Qualification(organisation_id=organisation.id, lot=lot, scheme_version='2026.1',
                                  status=QualificationStatus.ACTIVE, valid_from=today - timedelta(days=30),
                                  valid_to=today + timedelta(days=valid_days),
                                  next_review_due=today + timedelta(days=valid_days - 35))
    db.session.add(qualification)
    db.session.flush()
    return qualification


def home(organisation: Organisation, name: str, urn: str) -> Setting:
    setting = Setting(organisation_id=organisation.id, provision_type=ProvisionType.CHILDRENS_HOME, name=name,
                      urn=urn, address_line_1='2 Example Road', town='Leeds', postcode='LS6 2QB', easting=428000,
                      northing=436000, district_code=LEEDS, district_name='Leeds', authority_code=LEEDS, places=4,
                      age_min=8, age_max=17, vacancies=1, vacancies_confirmed_at=utcnow(),
                      registration_status=RegistrationStatus.ACTIVE)
    db.session.add(setting)
    db.session.flush()
    register_with_ofsted(setting)  # Ofsted is the gate for listing: the home is on the register, as imported
    return setting


def local(organisation: Organisation, authority: str, status: LocalApplicationStatus,
          lot: Lot = Lot.CHILDRENS_HOMES) -> LocalApplication:
    application = LocalApplication(organisation_id=organisation.id, authority_code=authority, lot=lot, status=status,
                                   decided_at=utcnow() if status != LocalApplicationStatus.SUBMITTED else None,
                                   submitted_at=utcnow())
    db.session.add(application)
    db.session.flush()
    return application


def shortlist(owner, settings: list[Setting], name: str) -> Shortlist:
    saved = Shortlist(authority_code=owner.authority_code, owner_id=owner.id, name=name, criteria={'age': 12},
                      is_shared=False)
    db.session.add(saved)
    db.session.flush()
    for rank, setting in enumerate(settings, start=1):
        db.session.add(ShortlistEntry(shortlist_id=saved.id, rank=rank, setting_id=setting.id,
                                      snapshot={'rank': rank, 'setting_id': setting.id, 'setting_name': setting.name,
                                                'provider_name': setting.organisation.display_name,
                                                'provision_type_label': "Children's home",
                                                'district_name': 'Leeds', 'authority_name': 'Leeds',
                                                'reasons': [], 'meets_requirements': True}))
    db.session.commit()
    return saved


@dataclass
class World:
    aire: Organisation
    other: Organisation
    qualification: Qualification
    aire_home: Setting
    other_home: Setting
    people: dict = field(default_factory=dict)
    shortlists: dict = field(default_factory=dict)

    def told(self, kind: str | None = None) -> set[str]:
        """Short names of the people holding a notification (of ``kind``)."""
        query = select(Notification.user_id)
        if kind:
            query = query.where(Notification.kind == kind)
        ids = set(db.session.scalars(query))
        return {name for name, user in self.people.items() if user.id in ids}


@pytest.fixture
def world(app_ctx) -> World:
    """Aire (two members) is qualified for children's homes and accepted by Leeds and Bradford; Westminster has its
    application waiting, Manchester declined it. Pennine is another qualified provider accepted by Leeds."""
    aire = make_organisation('Aire Valley Homes Ltd', 'contact@aire.example')
    other = make_organisation('Pennine Care Ltd', 'contact@pennine.example')
    qualification = qualify(aire)
    qualify(other, valid_days=360)
    aire_home, other_home = home(aire, 'Zephyr House', 'SC100001'), home(other, 'Moor House', 'SC100002')
    local(aire, LEEDS, LocalApplicationStatus.ACCEPTED)
    local(aire, BRADFORD, LocalApplicationStatus.ACCEPTED)
    local(aire, WESTMINSTER, LocalApplicationStatus.SUBMITTED)
    local(aire, MANCHESTER, LocalApplicationStatus.DECLINED)
    local(other, LEEDS, LocalApplicationStatus.ACCEPTED)
    db.session.commit()
    people = {
        'aire_owner': member(aire, 'Ada Owner'),
        'aire_editor': member(aire, 'Eddie Editor', MemberRole.EDITOR),
        'pennine_owner': member(other, 'Pat Pennine'),
        'leeds_1': make_user(Role.COMMISSIONER, authority_code=LEEDS, full_name='Lee One'),
        'leeds_2': make_user(Role.COMMISSIONER, authority_code=LEEDS, full_name='Lee Two'),
        'bradford': make_user(Role.COMMISSIONER, authority_code=BRADFORD, full_name='Brad Ford'),
        'westminster': make_user(Role.COMMISSIONER, authority_code=WESTMINSTER, full_name='West Minster'),
        'manchester': make_user(Role.COMMISSIONER, authority_code=MANCHESTER, full_name='Man Chester'),
        'assessor': make_user(Role.ASSESSOR, full_name='Ann Assessor'),
        'board_member': make_user(Role.BOARD_MEMBER, full_name='Bob Board'),
        'admin': make_user(Role.ADMIN, full_name='Ad Min'),
    }
    world = World(aire=aire, other=other, qualification=qualification, aire_home=aire_home, other_home=other_home,
                  people=people)
    world.shortlists['leeds'] = shortlist(people['leeds_1'], [aire_home, other_home], 'Girl, 12, Leeds')
    world.shortlists['westminster'] = shortlist(people['westminster'], [aire_home], 'Boy, 14, out of area')
    world.shortlists['manchester'] = shortlist(people['manchester'], [other_home], 'Pennine only')
    return world
