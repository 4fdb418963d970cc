"""Only the referring authority and the providers it approached see a referral; every view is audited.

Another authority, another provider and the national board are refused (403); anonymous visitors are sent to
sign in (as everywhere in the service) and see nothing.
"""

from __future__ import annotations

from datetime import date

import pytest
from flask import url_for

from placements import services
from placements.models import Offer, Placement, Referral
from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.errors import PermissionDenied
from registry.extensions import db
from tests.factories import make_user
from tests.placements.conftest import offer, send


def _routes(referral, world):
    zephyr = next(r for r in referral.responses if r.setting_id == world.zephyr.id)
    made = db.session.scalars(db.select(Offer)).first()
    return [
        ('get', url_for('placements.view_referral', referral_id=referral.id), None),
        ('get', url_for('placements.make_offer', referral_id=referral.id, response_id=zephyr.id), None),
        ('post', url_for('placements.make_offer', referral_id=referral.id, response_id=zephyr.id),
         {'weekly_price': '1', 'available_from': ['1', '1', '2030'], 'valid_until': ['1', '1', '2030']}),
        ('post', url_for('placements.decline', referral_id=referral.id, response_id=zephyr.id), {'reason': 'location'}),
        ('get', url_for('placements.accept_offer', referral_id=referral.id, offer_id=made.id), None),
        ('post', url_for('placements.accept_offer', referral_id=referral.id, offer_id=made.id),
         {'start_date': ['1', '1', '2030']}),
        ('post', url_for('placements.close_referral', referral_id=referral.id), {'reason': 'no-longer-needed'}),
    ]


@pytest.mark.parametrize('who', ['other authority', 'other provider', 'board member', 'admin'])
def test_nobody_else_can_see_or_act_on_a_referral(world, client, login_as, who):
    referral = send(world, world.zephyr, world.abbey)
    offer(world, referral, world.abbey, world.aire_user)
    login_as({'other authority': world.westminster_officer, 'other provider': world.calder_user,
              'board member': make_user(Role.BOARD_MEMBER), 'admin': make_user(Role.ADMIN)}[who])

    for method, url, data in _routes(referral, world):
        response = getattr(client, method)(url, data=data)
        assert response.status_code in {403, 404}, (url, response.status_code)
        page = response.get_data(as_text=True)
        assert 'gone missing' not in page and 'Zephyr House' not in page

    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status.value == 'open'
    assert db.session.scalar(db.select(db.func.count()).select_from(Placement)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == 'referral.view')) == 0
    # and it is not in their lists
    for endpoint in ('placements.list_referrals', 'placements.inbox', 'placements.list_placements'):
        listing = client.get(url_for(endpoint))
        assert referral.reference not in listing.get_data(as_text=True)


def test_anonymous_visitor_is_sent_to_sign_in_and_sees_nothing(world, client):
    referral = send(world)
    offer(world, referral, world.zephyr, world.aire_user)

    for method, url, data in _routes(referral, world):
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 302 and '/sign-in' in response.headers['Location'], url
        assert 'gone missing' not in response.get_data(as_text=True)
    for endpoint in ('placements.list_referrals', 'placements.inbox', 'placements.list_placements'):
        assert client.get(url_for(endpoint)).status_code == 302


def test_a_provider_sees_only_its_own_settings_responses(world, client, login_as):
    referral = send(world, world.zephyr, world.bradford_home)
    offer(world, referral, world.bradford_home, world.pennine_user, pence=7_123_00)
    login_as(world.aire_user)

    page = client.get(url_for('placements.view_referral', referral_id=referral.id)).get_data(as_text=True)

    assert 'Zephyr House' in page
    assert 'Bradford Moor House' not in page and '7,123' not in page and 'Pennine' not in page


def test_a_provider_cannot_answer_for_another_providers_setting(world, client, login_as):
    referral = send(world, world.zephyr, world.bradford_home)
    theirs = next(r for r in referral.responses if r.setting_id == world.bradford_home.id)
    login_as(world.aire_user)  # approached for Zephyr, not for Bradford Moor House

    response = client.post(url_for('placements.decline', referral_id=referral.id, response_id=theirs.id),
                           data={'reason': 'location'})

    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        services.decline(theirs, reason='location', actor=world.aire_user)


def test_a_colleague_in_the_referring_authority_can_see_and_accept(world, client, login_as):
    referral = send(world)
    made = offer(world, referral, world.zephyr, world.aire_user, available_from=date.today())
    login_as(world.leeds_colleague)

    assert client.get(url_for('placements.view_referral', referral_id=referral.id)).status_code == 200
    response = client.post(url_for('placements.accept_offer', referral_id=referral.id, offer_id=made.id),
                           data={'start_date': [str(date.today().day), str(date.today().month),
                                                str(date.today().year)]})
    assert response.status_code == 302


def test_commissioners_of_other_authorities_cannot_send_referrals_for_leeds(world, app_ctx):
    with pytest.raises(PermissionDenied):
        send(world, actor=world.aire_user)
    referral = send(world, actor=world.westminster_officer)
    assert referral.authority_code == 'E09000033'  # a commissioner refers for their own authority only


def test_every_view_of_a_referral_is_audited_with_who_and_as_what(world, client, login_as):
    referral = send(world)
    login_as(world.leeds_officer)
    client.get(url_for('placements.view_referral', referral_id=referral.id))
    login_as(world.pennine_user)
    client.get(url_for('placements.view_referral', referral_id=referral.id))

    views = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == 'referral.view')
                               .order_by(AuditEvent.id)).all()
    assert [(event.actor_id, event.after['as']) for event in views] == [
        (world.leeds_officer.id, 'commissioner'), (world.pennine_user.id, 'provider')]
    assert all(event.object_id == str(referral.id) for event in views)


def test_audit_events_never_hold_child_details(world, client, login_as):
    referral = send(world)
    offer(world, referral, world.zephyr, world.aire_user)

    for event in db.session.scalars(db.select(AuditEvent)):
        text = f'{event.before} {event.after} {event.reason}'
        assert 'missing' not in text and 'EHC' not in text and 'education' not in text.lower()
