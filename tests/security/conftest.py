"""A two-sided world for the security tests: two provider organisations, two authorities' commissioners, the board.

Everything is built through the real services, so the objects are exactly what users would create.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import pytest
from flask import Flask

from qualification import services as qualification_services
from qualification.evidence import check_upload
from registry.accounts.models import Role, User
from registry.db import unit_of_work, utcnow
from registry.extensions import db
from tests.factories import PASSWORD, make_user, register_with_ofsted
from tests.qualification.conftest import PDF_BYTES
from tests.registry.organisations.helpers import make_organisation, make_setting

#: Organisation A's home: a street address and full postcode that no public page may show.
SECRET_STREET = '17 Confidential Close'
SECRET_POSTCODE = 'LS1 4DY'
EVIDENCE_QUESTION = ('policies', 'pol-complaints')
AUTHORITY_X, AUTHORITY_Y = 'E09000033', 'E08000035'  # Westminster, Leeds


@dataclass
class Party:
    """One side's users and the ids of the objects it owns (``ids`` maps an id kind to an id)."""

    users: dict[str, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)


@dataclass
class World:
    a: Party
    b: Party
    assessor_id: int


def _party(label: str, urn: str, postcode: str, street: str) -> Party:
    owner = make_user(Role.PROVIDER, full_name=f'Owner {label}')
    organisation = make_organisation(owner, legal_name=f'Organisation {label} Ltd', trading_name=f'Org {label}',
                                     company_number=urn[2:] + '00')
    setting = make_setting(organisation, owner, urn=urn, name=f'Home {label}', postcode=postcode,
                           address_line_1=street)
    register_with_ofsted(setting)  # its URN verifies, so the home is listed once its organisation qualifies
    application = qualification_services.start_application(organisation, ['childrens-homes'], actor=owner)
    question = EVIDENCE_QUESTION[1]
    upload = check_upload(io.BytesIO(PDF_BYTES), f'complaints-{label}.pdf', 1024 * 1024)
    evidence = qualification_services.upload_evidence(application, question, upload, actor=owner)
    return Party(users={'provider': owner.id},
                 ids={'organisation': organisation.id, 'setting': setting.id, 'application': application.id,
                      'evidence': evidence.id, 'membership': organisation.memberships[0].id, 'user': owner.id})


def build_world(app: Flask) -> World:
    """Organisation A (owner, home, draft application with one document) and B likewise; commissioners in X and Y."""
    with app.test_request_context():
        a = _party('A', 'SC100001', SECRET_POSTCODE, SECRET_STREET)
        b = _party('B', 'SC100002', 'LS2 7EY', '3 Other Road')
        a.users['commissioner'] = make_user(Role.COMMISSIONER, authority_code=AUTHORITY_X).id
        b.users['commissioner'] = make_user(Role.COMMISSIONER, authority_code=AUTHORITY_Y).id
        a.ids['authority'], b.ids['authority'] = AUTHORITY_X, AUTHORITY_Y
        for party in (a, b):
            _add_local_objects(party)
        assessor = make_user(Role.ASSESSOR)
        _add_workspace_objects(a, b)
        _add_placement_objects(a, b)
        for party in (a, b):
            _add_conflict_of_interest(party)
            _add_ofsted_review(party)
            _add_notification(party)
            _add_consortium_and_unlisted_objects(party)
        world = World(a=a, b=b, assessor_id=assessor.id)
        db.session.remove()
    return world


def _qualify(organisation_id: int) -> int:
    """An active qualification for children's homes, so the organisation's home is listed in the directory."""
    from datetime import date, timedelta

    from qualification.models import Qualification, QualificationStatus
    from registry.indexing import enqueue_organisation
    from registry.settings.taxonomy import Lot

    today = date.today()
    with unit_of_work():  # commits, then drains the reindex outbox into the search index
        qualification = Qualification(
            organisation_id=organisation_id, lot=Lot.CHILDRENS_HOMES, scheme_version='2026.1',
            status=QualificationStatus.ACTIVE, valid_from=today - timedelta(days=30),
            valid_to=today + timedelta(days=335), next_review_due=today + timedelta(days=300))
        db.session.add(qualification)
        enqueue_organisation(organisation_id, reason='security test world')
    return qualification.id


def _add_local_objects(party: Party) -> None:
    """A national qualification, the party's authority's local requirements and the organisation's local application.

    Organisation A is qualified (so its home is in the public directory, minus the address); B too, so that
    each side has one object of every kind.
    """
    from qualification.models import LocalApplication, LocalApplicationStatus, LocalRequirements
    from registry.settings.taxonomy import Lot

    party.ids['qualification'] = _qualify(party.ids['organisation'])
    requirements = LocalRequirements(authority_code=party.ids['authority'], lot=Lot.CHILDRENS_HOMES, version=1,
                                     questions=[], documents=[], price_schedule=[],
                                     published_by_id=party.users['commissioner'])
    db.session.add(requirements)
    db.session.flush()
    local = LocalApplication(organisation_id=party.ids['organisation'], authority_code=party.ids['authority'],
                             lot=Lot.CHILDRENS_HOMES, status=LocalApplicationStatus.SUBMITTED,
                             requirements_id=requirements.id, submitted_at=utcnow())
    db.session.add(local)
    db.session.commit()
    party.ids['requirements'], party.ids['local_application'] = requirements.id, local.id


#: Each party's authority's consortium partner: Camden with Westminster, Bradford with Leeds.
PARTNERS = {AUTHORITY_X: 'E09000007', AUTHORITY_Y: 'E08000032'}


def _add_consortium_and_unlisted_objects(party: Party) -> None:
    """A consortium of the party's authority and a partner, its commissioner acting for it, and an in-house home."""
    from consortia.models import Consortium, ConsortiumCommissioner, ConsortiumMember
    from registry.settings.taxonomy import ProvisionType
    from unlisted.models import UnlistedKind, UnlistedSetting

    code = party.ids['authority']
    consortium = Consortium(name=f'Consortium {code}', members=[ConsortiumMember(authority_code=code),
                                                                  ConsortiumMember(authority_code=PARTNERS[code])])
    db.session.add(consortium)
    db.session.flush()
    db.session.add(ConsortiumCommissioner(consortium_id=consortium.id, user_id=party.users['commissioner']))
    entry = UnlistedSetting(kind=UnlistedKind.IN_HOUSE, owner_authority_code=code,
                        provision_type=ProvisionType.CHILDRENS_HOME, name=f'In-house home {code}',
                        authority_code=code, easting=400000.0, northing=300000.0)
    db.session.add(entry)
    db.session.commit()
    party.ids['consortium'], party.ids['unlisted_setting'] = consortium.id, entry.id


def _add_workspace_objects(a: Party, b: Party) -> None:
    """A shared shortlist per authority, once the commissioner workspace exists (it is being built alongside).

    Shared, so that the only thing keeping authority X out of Y's shortlist is the authority check.
    """
    try:
        from workspace.models import Shortlist
    except ImportError:
        return
    for party in (a, b):
        shortlist = Shortlist(authority_code=party.ids['authority'], owner_id=party.users['commissioner'],
                              name=f'Shortlist {party.ids["authority"]}', criteria={}, is_shared=True)
        db.session.add(shortlist)
        db.session.commit()
        party.ids['shortlist'] = shortlist.id


def _add_notification(party: Party) -> None:
    """A notification for the organisation's owner: only they may mark it read."""
    from notifications.models import Notification

    notification = Notification(user_id=party.users['provider'], kind='qualification.suspended',
                                subject_type='qualifications', subject_id=party.ids['qualification'],
                                title='Qualification suspended', body='', link='')
    db.session.add(notification)
    db.session.commit()
    party.ids['notification'] = notification.id


def _add_placement_objects(a: Party, b: Party) -> None:
    """Per party: a referral from its authority to its own home, the provider's offer, accepted as a placement.

    Through the real services; the offer page, the accept page and the placement all exist afterwards.
    """
    try:
        from placements import services as placement_services
    except ImportError:
        return
    from datetime import date, timedelta

    from registry.settings.models import Setting
    from workspace.models import ShortlistEntry

    today = date.today()
    for party in (a, b):
        db.session.add(ShortlistEntry(shortlist_id=party.ids['shortlist'], rank=1, setting_id=party.ids['setting'],
                                      snapshot={'rank': 1, 'setting_id': party.ids['setting'], 'setting_name': 'Home',
                                                'provider_name': 'Org', 'provision_type_label': "Children's home",
                                                'authority_name': 'Leeds', 'district_name': 'Leeds',
                                                'distance_miles': 1.0, 'vacancies': 1,
                                                'vacancies_confirmed_at': None, 'judgement_label': None,
                                                'accepted_by_us': False, 'meets_requirements': True,
                                                'reasons': []}))
        db.session.get(Setting, party.ids['setting']).vacancies = 1
        db.session.commit()
        party.ids['shortlist_entry'] = db.session.scalar(db.select(ShortlistEntry.id).where(
            ShortlistEntry.shortlist_id == party.ids['shortlist']))
        commissioner = db.session.get(User, party.users['commissioner'])
        provider = db.session.get(User, party.users['provider'])
        referral = placement_services.send_referral(placement_services.ReferralDetails(
            age=12, sex='female', provision_type='childrens-home', start_date=today + timedelta(days=3),
            response_deadline=today + timedelta(days=1), origin_authority=party.ids['authority'],
            risk_notes='Secret risk notes'), [placement_services.Candidate(party.ids['setting'])],
            actor=commissioner)
        offer = placement_services.make_offer(referral.responses[0], weekly_price_pence=500000,
                                              available_from=today, valid_until=today + timedelta(days=7),
                                              actor=provider)
        placement = placement_services.accept_offer(offer, start_date=today, planned_end_date=None,
                                                    actor=commissioner)
        party.ids.update(referral=referral.id, referral_response=referral.responses[0].id, offer=offer.id,
                         placement=placement.id)
def _add_conflict_of_interest(party: Party) -> None:
    """A board member's conflict of interest with the party's organisation (only its author may withdraw it)."""
    from qualification import conflicts
    from registry.organisations.models import Organisation

    member = make_user(Role.BOARD_MEMBER)
    organisation = db.session.get(Organisation, party.ids['organisation'])
    party.users['board'] = member.id
    party.ids['conflict'] = conflicts.declare(organisation, 'A former employer', actor=member).id


def _add_ofsted_review(party: Party) -> None:
    """An item in the board's Ofsted review queue about the party's home (the board's, not the provider's)."""
    from registry.ofsted.models import OfstedReviewItem, ReviewReason

    item = OfstedReviewItem(setting_id=party.ids['setting'], reason=ReviewReason.REGISTRATION_SUSPENDED,
                            detail='Registration active -> suspended', suspended_setting=False)
    db.session.add(item)
    db.session.commit()
    party.ids['ofsted_review'] = item.id


@pytest.fixture
def world(app) -> World:
    return build_world(app)


def sign_in(app: Flask, client, user_id: int | None, *, second_factor: bool = True) -> None:
    """Put ``user_id`` in the client's session (``None`` signs out) as Flask-Login would."""
    session_id = None
    if user_id is not None:
        with app.app_context():
            session_id = db.session.get(User, user_id).get_id()
            db.session.remove()
    with client.session_transaction() as session:
        session.clear()
        if session_id is None:
            return
        session['_user_id'] = session_id
        session['_fresh'] = True
        if second_factor:
            session['second_factor_verified'] = True


def csrf_token(html: str) -> str:
    """The CSRF token from a rendered form."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, 'no csrf_token field on the page'
    return match.group(1)


__all__ = ['PASSWORD', 'SECRET_POSTCODE', 'SECRET_STREET', 'World', 'build_world', 'csrf_token', 'sign_in']
