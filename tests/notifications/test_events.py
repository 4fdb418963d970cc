"""Each event reaches exactly the right people, and nobody else: the provider's members, the commissioners of every
authority that accepted it, the board where it must act, and the owners of shortlists holding a delisted setting."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from notifications import services
from notifications.models import Notification
from qualification import local
from qualification.qualifications import change_status, expire_due
from registry.extensions import db
from registry.notifications.models import OutboxEmail
from registry.ofsted.services import import_register
from tests.notifications.conftest import MANCHESTER
from tests.registry.ofsted.conftest import register_row, write_register

#: Two releases of Ofsted's register, in order (an import gives the date it describes).
MARCH, APRIL = date(2026, 3, 31), date(2026, 4, 30)
PROVIDER = {'aire_owner', 'aire_editor'}
ACCEPTED_BY = {'leeds_1', 'leeds_2', 'bradford'}
BOARD = {'assessor', 'board_member'}
#: Owners of the two shortlists holding Zephyr House (Westminster has not accepted Aire, but shortlisted its home).
SHORTLISTS = {'leeds_1', 'westminster'}


@pytest.mark.parametrize('action, kind, done', [('suspend', 'qualification.suspended', 'suspended'),
                                                ('revoke', 'qualification.revoked', 'revoked')])
def test_board_decision_reaches_the_provider_and_accepting_authorities_and_nobody_else(world, action, kind, done):
    change_status(world.qualification, action, actor=world.people['board_member'], reason='Safeguarding concerns')

    assert world.told(kind) == PROVIDER | ACCEPTED_BY
    assert world.told('shortlist.listing_removed') == SHORTLISTS
    assert world.told() == PROVIDER | ACCEPTED_BY | SHORTLISTS
    note = db.session.scalars(select(Notification).where(Notification.kind == kind)).first()
    assert note.title == f"Aire Valley Homes Ltd: national qualification for Children's homes {done}"
    assert 'Reason: Safeguarding concerns' in note.body


def test_suspension_is_worded_for_the_people_told(world):
    change_status(world.qualification, 'suspend', actor=world.people['board_member'], reason='Safeguarding concerns')

    notes = {note.user_id: note for note in db.session.scalars(select(Notification))}
    commissioner = notes[world.people['leeds_2'].id]
    assert commissioner.title == "Aire Valley Homes Ltd: national qualification for Children's homes suspended"
    assert commissioner.body == ("Aire Valley Homes Ltd's national qualification for Children's homes was suspended. "
                                 'Reason: Safeguarding concerns')
    assert commissioner.link == '/workspace/authority'
    assert notes[world.people['aire_editor'].id].link == f'/qualification/organisations/{world.aire.id}/qualifications'
    flagged = db.session.scalars(select(Notification).where(
        Notification.kind == 'shortlist.listing_removed',
        Notification.user_id == world.people['westminster'].id)).one()
    assert flagged.title == 'Zephyr House on your shortlist "Boy, 14, out of area" is no longer listed'
    assert 'national qualification suspended' in flagged.body
    assert flagged.link == f'/workspace/shortlists/{world.shortlists["westminster"].id}'


def test_reinstatement_reaches_the_same_people_and_no_shortlist(world):
    change_status(world.qualification, 'suspend', actor=world.people['board_member'], reason='Concerns')
    db.session.execute(Notification.__table__.delete())
    db.session.commit()

    change_status(world.qualification, 'reinstate', actor=world.people['board_member'], reason='Resolved')

    assert world.told() == world.told('qualification.reinstated') == PROVIDER | ACCEPTED_BY


def test_expiry_reaches_the_provider_accepting_authorities_and_shortlists(world):
    expire_due(today=world.qualification.valid_to + timedelta(days=1))

    assert world.told('qualification.expired') == PROVIDER | ACCEPTED_BY
    assert world.told() == PROVIDER | ACCEPTED_BY | SHORTLISTS


def _register(tmp_path, name, **row):
    return write_register(tmp_path / name, [register_row('SC100001', authority='Leeds', **row),
                                            register_row('SC100002', authority='Leeds')])


def test_ofsted_registration_stopped_also_reaches_the_board(world, tmp_path):
    import_register(_register(tmp_path, 'march.csv'), as_at=MARCH)
    assert world.told() == set()

    import_register(_register(tmp_path, 'april.csv', status='Cancelled'), as_at=APRIL)

    assert world.told('ofsted.registration_stopped') == PROVIDER | ACCEPTED_BY | BOARD
    assert world.told('shortlist.listing_removed') == SHORTLISTS
    assert world.told() == PROVIDER | ACCEPTED_BY | BOARD | SHORTLISTS
    note = db.session.scalars(select(Notification).where(Notification.kind == 'ofsted.registration_stopped')).first()
    assert note.title == 'Aire Valley Homes Ltd: Ofsted registration cancelled for Zephyr House'
    # the board already had the import's summary email: listed in the service, not emailed twice
    for name in BOARD:
        templates = db.session.scalars(select(OutboxEmail.template).where(
            OutboxEmail.to_address == world.people[name].email)).all()
        assert templates == ['ofsted_registration_stopped'], name


def test_ofsted_judgement_lowered_reaches_provider_authorities_and_board_but_no_shortlist(world, tmp_path):
    import_register(_register(tmp_path, 'march.csv', judgement='Good'), as_at=MARCH)

    import_register(_register(tmp_path, 'april.csv', judgement='Inadequate'), as_at=APRIL)

    assert world.told() == world.told('ofsted.judgement_lowered') == PROVIDER | ACCEPTED_BY | BOARD
    note = db.session.scalars(select(Notification).where(Notification.kind == 'ofsted.judgement_lowered')).first()
    assert note.title == 'Aire Valley Homes Ltd: Ofsted judgement for Zephyr House lowered to Inadequate'
    assert note.body.endswith('it was Good.')


def test_a_better_judgement_tells_nobody(world, tmp_path):
    import_register(_register(tmp_path, 'march.csv', judgement='Requires improvement to be good'), as_at=MARCH)

    import_register(_register(tmp_path, 'april.csv', judgement='Outstanding'), as_at=APRIL)

    assert world.told() == set()


def test_new_local_application_reaches_only_that_authoritys_commissioners(world):
    requirements = local.publish_requirements(MANCHESTER, 'childrens-homes',
                                              questions=[{'text': 'Do you accept our prices?', 'type': 'yes-no'}],
                                              documents=[], price_schedule=[], actor=world.people['manchester'])
    assert world.told() == set()  # nobody is on, or applying to, Manchester's list (Aire was declined)

    application = local.apply_locally(world.aire, requirements, {'q1': 'yes'}, accepts_terms=True,
                                      actor=world.people['aire_owner'])

    assert world.told() == world.told('local_application.submitted') == {'manchester'}
    note = db.session.scalars(select(Notification)).one()
    assert note.title == "Aire Valley Homes Ltd applied to join your local list for Children's homes"
    assert note.link == f'/qualification/local/applications/{application.id}'


def test_new_requirement_version_reaches_providers_on_or_applying_to_that_list(world):
    local.publish_requirements('E08000035', 'childrens-homes', questions=[{'text': 'Out of hours contact?'}],
                               documents=[], price_schedule=[], actor=world.people['leeds_1'])

    assert world.told() == world.told('local_requirements.published') == PROVIDER | {'pennine_owner'}
    titles = {note.title for note in db.session.scalars(select(Notification))}
    assert titles == {"Leeds published new local requirements for Children's homes"}


def test_one_change_emails_each_person_once_and_the_contact_already_emailed_is_not_emailed_again(world):
    world.aire.contact_email = world.people['aire_owner'].email
    db.session.commit()

    change_status(world.qualification, 'suspend', actor=world.people['board_member'], reason='Concerns')

    emails = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
    to = [email.to_address for email in emails]
    assert to.count(world.people['aire_owner'].email) == 1  # the workflow's own email only
    assert [email.template for email in emails if email.to_address == world.people['aire_owner'].email] == [
        'qualification-suspend']
    # Lee One is told twice in the service (the suspension, and the shortlist), and emailed once
    for name in ('aire_editor', 'leeds_1', 'leeds_2', 'bradford', 'westminster'):
        assert to.count(world.people[name].email) == 1, name
    assert len(db.session.scalars(select(Notification).where(
        Notification.user_id == world.people['leeds_1'].id)).all()) == 2
    for name in ('pennine_owner', 'manchester', 'assessor', 'board_member', 'admin'):
        assert world.people[name].email not in to, name
    # the owner was still told in the service
    assert 'aire_owner' in world.told('qualification.suspended')


def test_a_deactivated_account_is_not_told(world):
    world.people['leeds_2'].is_active_account = False
    db.session.commit()

    change_status(world.qualification, 'suspend', actor=world.people['board_member'], reason='Concerns')

    assert 'leeds_2' not in world.told()


def test_an_undeclared_event_is_refused(world):
    with pytest.raises(ValueError, match='Unknown notification event'):
        services.notify('qualification.vanished', world.qualification, [world.people['leeds_1']], {})
