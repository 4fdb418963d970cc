"""Consortia and the news that travels: an application to a consortium's list reaches the holders of its role, a new
version of its requirements reaches the providers on or applying to its list, and a provider's standing news reaches
everyone acting for a consortium that accepted it (its member authorities' commissioners and its role holders), each
person once, and nobody else."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from consortia import services as consortia
from notifications.models import Notification
from qualification import local
from qualification.models import LocalApplication, LocalApplicationStatus
from qualification.qualifications import change_status, expire_due
from registry.accounts.models import Role
from registry.db import utcnow
from registry.extensions import db
from registry.ofsted.services import import_register
from registry.settings.taxonomy import Lot
from tests.factories import make_user
from tests.notifications.conftest import BRADFORD, LEEDS, MANCHESTER, home, make_organisation, member, qualify
from tests.registry.ofsted.conftest import register_row, write_register

MARCH, APRIL = date(2026, 3, 31), date(2026, 4, 30)
CALDERDALE, KIRKLEES, WAKEFIELD, SALFORD = 'E08000033', 'E08000034', 'E08000036', 'E08000006'

#: Everyone acting for West Yorkshire's member authorities; Lee One (Leeds) and Kim Kirk (Kirklees) hold its role.
WEST_YORKSHIRE = {'leeds_1', 'leeds_2', 'bradford', 'calderdale', 'kirklees_lead'}
WY_ROLE = {'leeds_1', 'kirklees_lead'}
CALDER = {'calder_owner', 'calder_editor'}
BOARD = {'assessor', 'board_member'}


def _to_consortium(organisation, consortium, status: LocalApplicationStatus, lot: Lot = Lot.CHILDRENS_HOMES):
    application = LocalApplication(organisation_id=organisation.id, consortium_id=consortium.id, lot=lot,
                                   status=status, submitted_at=utcnow(),
                                   decided_at=utcnow() if status != LocalApplicationStatus.SUBMITTED else None)
    db.session.add(application)
    db.session.flush()
    return application


@pytest.fixture
def consortia_world(world):
    """The notification world plus West Yorkshire (Leeds, Bradford, Calderdale, Kirklees, Wakefield; Lee One and
    Kim Kirk hold its role; Calderdale's commissioner does not) and Greater Manchester (Manchester, Salford; Sal Ford
    holds its role). Calder Homes is qualified and has a home nobody shortlisted."""
    admin = world.people['admin']
    people = world.people
    people['calderdale'] = make_user(Role.COMMISSIONER, authority_code=CALDERDALE, full_name='Cal Derdale')
    people['kirklees_lead'] = make_user(Role.COMMISSIONER, authority_code=KIRKLEES, full_name='Kim Kirk')
    people['salford_lead'] = make_user(Role.COMMISSIONER, authority_code=SALFORD, full_name='Sal Ford')
    world.west_yorkshire = consortia.create_consortium('West Yorkshire consortium',
                                                       [LEEDS, BRADFORD, CALDERDALE, KIRKLEES, WAKEFIELD], actor=admin)
    world.greater_manchester = consortia.create_consortium('Greater Manchester consortium', [MANCHESTER, SALFORD],
                                                           actor=admin)
    consortia.grant_role(world.west_yorkshire, people['leeds_1'], actor=admin)
    consortia.grant_role(world.west_yorkshire, people['kirklees_lead'], actor=admin)
    consortia.grant_role(world.greater_manchester, people['salford_lead'], actor=admin)
    world.calder = make_organisation('Calder Homes Ltd', 'contact@calder.example')
    world.calder_qualification = qualify(world.calder, valid_days=100)
    world.calder_home = home(world.calder, 'Calder House', 'SC100003')
    db.session.commit()
    people['calder_owner'] = member(world.calder, 'Cath Calder')
    people['calder_editor'] = member(world.calder, 'Ed Calder')
    return world


def _clear_notifications():
    db.session.execute(Notification.__table__.delete())
    db.session.commit()


def _times_told(world, kind: str) -> Counter:
    by_id = {user.id: name for name, user in world.people.items()}
    return Counter(by_id[user_id] for user_id in db.session.scalars(
        select(Notification.user_id).where(Notification.kind == kind)))


# --- a new consortium application ------------------------------------------------------------------------------

def test_new_consortium_application_reaches_only_the_holders_of_its_role(consortia_world):
    world = consortia_world
    requirements = local.publish_requirements(world.west_yorkshire, 'childrens-homes',
                                              questions=[{'text': 'Will you join our forum?', 'type': 'yes-no'}],
                                              documents=[], price_schedule=[], actor=world.people['kirklees_lead'])
    assert world.told() == set()  # nobody is on, or applying to, West Yorkshire's list yet

    application = local.apply_locally(world.other, requirements, {'q1': 'yes'}, accepts_terms=True,
                                      actor=world.people['pennine_owner'])

    # not Leeds's other commissioner, Bradford's or Calderdale's (no role), nor Greater Manchester's role holder
    assert world.told() == world.told('local_application.submitted') == WY_ROLE
    assert _times_told(world, 'local_application.submitted') == Counter(WY_ROLE)
    note = db.session.scalars(select(Notification)).first()
    assert note.title == "Pennine Care Ltd applied to join West Yorkshire consortium's list for Children's homes"
    assert note.body == ('Pennine Care Ltd answered the local requirements of West Yorkshire consortium (version 1) '
                         "for Children's homes and is waiting for your decision.")
    assert note.link == f'/qualification/local/applications/{application.id}'


def test_a_role_holder_sees_the_link_they_were_sent(consortia_world, client, login_as):
    world = consortia_world
    requirements = local.publish_requirements(world.west_yorkshire, 'childrens-homes',
                                              questions=[{'text': 'Will you join our forum?', 'type': 'yes-no'}],
                                              documents=[], price_schedule=[], actor=world.people['kirklees_lead'])
    local.apply_locally(world.other, requirements, {'q1': 'yes'}, accepts_terms=True,
                        actor=world.people['pennine_owner'])
    note = db.session.scalars(select(Notification).where(
        Notification.user_id == world.people['kirklees_lead'].id)).one()

    login_as(world.people['kirklees_lead'])
    response = client.get(note.link)

    assert response.status_code == 200
    assert 'Pennine Care Ltd' in response.get_data(as_text=True)


def test_an_authority_application_still_reaches_only_that_authoritys_commissioners(consortia_world):
    world = consortia_world
    requirements = local.publish_requirements(SALFORD, 'childrens-homes', questions=[{'text': 'Weekend contact?'}],
                                              documents=[], price_schedule=[], actor=world.people['salford_lead'])

    local.apply_locally(world.calder, requirements, {'q1': 'Our duty manager'}, accepts_terms=True,
                        actor=world.people['calder_owner'])

    assert world.told() == {'salford_lead'}
    note = db.session.scalars(select(Notification)).one()
    assert note.title == "Calder Homes Ltd applied to join your local list for Children's homes"


# --- a new requirement version ---------------------------------------------------------------------------------

def test_new_consortium_requirement_version_reaches_providers_on_or_applying_to_its_list_only(consortia_world):
    world = consortia_world
    dales = make_organisation('Dales Care Ltd', 'contact@dales.example')
    irwell = make_organisation('Irwell Homes Ltd', 'contact@irwell.example')
    _to_consortium(world.aire, world.west_yorkshire, LocalApplicationStatus.SUBMITTED)
    _to_consortium(world.calder, world.west_yorkshire, LocalApplicationStatus.ACCEPTED)
    _to_consortium(dales, world.west_yorkshire, LocalApplicationStatus.DECLINED)
    _to_consortium(irwell, world.greater_manchester, LocalApplicationStatus.SUBMITTED)
    _to_consortium(irwell, world.west_yorkshire, LocalApplicationStatus.ACCEPTED, lot=Lot.FOSTERING)
    db.session.commit()
    world.people['dales_owner'] = member(dales, 'Dee Dales')
    world.people['irwell_owner'] = member(irwell, 'Ira Irwell')

    local.publish_requirements(world.west_yorkshire, 'childrens-homes', questions=[{'text': 'Out of hours contact?'}],
                               documents=[], price_schedule=[], actor=world.people['leeds_1'])

    # Pennine is on Leeds's own list but not West Yorkshire's; Dales was declined; Irwell applied to Greater
    # Manchester's list, and is on West Yorkshire's for fostering only
    assert world.told() == world.told('local_requirements.published') == {'aire_owner', 'aire_editor'} | CALDER
    assert _times_told(world, 'local_requirements.published') == Counter({'aire_owner', 'aire_editor'} | CALDER)
    titles = {note.title for note in db.session.scalars(select(Notification))}
    assert titles == {"West Yorkshire consortium published new local requirements for Children's homes"}


def test_an_authority_requirement_version_does_not_reach_its_consortiums_providers(consortia_world):
    world = consortia_world
    _to_consortium(world.calder, world.west_yorkshire, LocalApplicationStatus.ACCEPTED)
    _to_consortium(world.calder, world.greater_manchester, LocalApplicationStatus.SUBMITTED)
    db.session.commit()

    local.publish_requirements(MANCHESTER, 'childrens-homes', questions=[{'text': 'Weekend contact?'}],
                               documents=[], price_schedule=[], actor=world.people['manchester'])

    assert world.told() == set()  # Aire was declined by Manchester; Calder is on the consortia's lists only


# --- standing news for a provider a consortium accepted --------------------------------------------------------

@pytest.fixture
def accepted_by_consortium(consortia_world):
    """Calder is accepted for children's homes by West Yorkshire, and directly by Bradford too; Greater Manchester
    accepted it for fostering only and has its children's homes application waiting."""
    world = consortia_world
    _to_consortium(world.calder, world.west_yorkshire, LocalApplicationStatus.ACCEPTED)
    _to_consortium(world.calder, world.greater_manchester, LocalApplicationStatus.ACCEPTED, lot=Lot.FOSTERING)
    _to_consortium(world.calder, world.greater_manchester, LocalApplicationStatus.SUBMITTED)
    db.session.add(LocalApplication(organisation_id=world.calder.id, authority_code=BRADFORD,
                                    lot=Lot.CHILDRENS_HOMES, status=LocalApplicationStatus.ACCEPTED,
                                    submitted_at=utcnow(), decided_at=utcnow()))
    db.session.commit()
    return world


def _assert_each_told_once(world, kind: str, expected: set[str]) -> None:
    assert world.told() == world.told(kind) == expected
    assert _times_told(world, kind) == Counter(expected)  # Bradford accepted twice over, Lee One in two capacities


@pytest.mark.parametrize('action, kind', [('suspend', 'qualification.suspended'),
                                          ('revoke', 'qualification.revoked')])
def test_board_decision_reaches_everyone_acting_for_the_accepting_consortium(accepted_by_consortium, action, kind):
    world = accepted_by_consortium

    change_status(world.calder_qualification, action, actor=world.people['board_member'], reason='Concerns')

    # not Westminster, Manchester or Salford (Greater Manchester accepted fostering only), nor Aire's or Pennine's
    # people, nor the board; nobody shortlisted Calder House
    _assert_each_told_once(world, kind, CALDER | WEST_YORKSHIRE)
    assert WY_ROLE <= world.told(kind)


def test_reinstatement_reaches_the_same_people(accepted_by_consortium):
    world = accepted_by_consortium
    change_status(world.calder_qualification, 'suspend', actor=world.people['board_member'], reason='Concerns')
    _clear_notifications()

    change_status(world.calder_qualification, 'reinstate', actor=world.people['board_member'], reason='Resolved')

    _assert_each_told_once(world, 'qualification.reinstated', CALDER | WEST_YORKSHIRE)


def test_expiry_reaches_everyone_acting_for_the_accepting_consortium(accepted_by_consortium):
    world = accepted_by_consortium

    expire_due(today=world.calder_qualification.valid_to + timedelta(days=1))

    _assert_each_told_once(world, 'qualification.expired', CALDER | WEST_YORKSHIRE)


def _register(tmp_path, name, **calder):
    return write_register(tmp_path / name, [register_row('SC100001', authority='Leeds'),
                                            register_row('SC100002', authority='Leeds'),
                                            register_row('SC100003', authority='Leeds', **calder)])


def test_ofsted_registration_stopped_reaches_the_consortium_and_the_board(accepted_by_consortium, tmp_path):
    world = accepted_by_consortium
    import_register(_register(tmp_path, 'march.csv'), as_at=MARCH)
    assert world.told() == set()

    import_register(_register(tmp_path, 'april.csv', status='Cancelled'), as_at=APRIL)

    _assert_each_told_once(world, 'ofsted.registration_stopped', CALDER | WEST_YORKSHIRE | BOARD)


def test_ofsted_judgement_lowered_reaches_the_consortium_and_the_board(accepted_by_consortium, tmp_path):
    world = accepted_by_consortium
    import_register(_register(tmp_path, 'march.csv', judgement='Good'), as_at=MARCH)

    import_register(_register(tmp_path, 'april.csv', judgement='Inadequate'), as_at=APRIL)

    _assert_each_told_once(world, 'ofsted.judgement_lowered', CALDER | WEST_YORKSHIRE | BOARD)


def test_a_fostering_acceptance_reaches_the_consortium_for_fostering_news_only(consortia_world):
    world = consortia_world
    fostering = qualify(world.calder, lot=Lot.FOSTERING)
    _to_consortium(world.calder, world.greater_manchester, LocalApplicationStatus.ACCEPTED, lot=Lot.FOSTERING)
    _to_consortium(world.calder, world.west_yorkshire, LocalApplicationStatus.SUBMITTED, lot=Lot.FOSTERING)
    db.session.commit()

    change_status(fostering, 'suspend', actor=world.people['board_member'], reason='Concerns')

    _assert_each_told_once(world, 'qualification.suspended', CALDER | {'manchester', 'salford_lead'})
