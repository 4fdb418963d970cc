"""Consortia: admins create them; one consortium acceptance counts for every member authority in search and the
finder (saying which layer accepted); the three layers of requirements; and who may act for a consortium."""

from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import select

import search
from consortia import services
from consortia.models import Consortium
from qualification import local
from qualification.listing import accepted_authority_codes
from qualification.models import LocalApplication
from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.errors import DomainError, PermissionDenied
from registry.extensions import db
from registry.settings.taxonomy import Lot, SexAccepted
from search.query import parse_query
from tests.factories import make_user
from tests.qualification.conftest import make_member
from tests.workspace.conftest import _criteria as criteria
from tests.workspace.conftest import make_organisation, make_setting, qualify, reindex
from workspace import services as workspace_services

BRADFORD, CALDERDALE, KIRKLEES, LEEDS, WAKEFIELD = 'E08000032', 'E08000033', 'E08000034', 'E08000035', 'E08000036'
MANCHESTER, WESTMINSTER = 'E08000003', 'E09000033'
WEST_YORKSHIRE = [BRADFORD, CALDERDALE, KIRKLEES, LEEDS, WAKEFIELD]
HOMES = Lot.CHILDRENS_HOMES


@pytest.fixture
def admin(app_ctx):
    return make_user(Role.ADMIN)


@pytest.fixture
def west_yorkshire(admin) -> Consortium:
    return services.create_consortium('West Yorkshire consortium', WEST_YORKSHIRE, actor=admin)


@pytest.fixture
def acting(west_yorkshire, admin):
    """A Bradford commissioner who acts for West Yorkshire."""
    user = make_user(Role.COMMISSIONER, authority_code=BRADFORD)
    services.grant_role(west_yorkshire, user, actor=admin)
    return user


def _publish(owner, actor, questions=None, lot=HOMES):
    return local.publish_requirements(owner, lot, actor=actor, documents=[], price_schedule=[],
                                      questions=questions or [{'text': 'Will you join our forum?', 'type': 'yes-no'}])


def _qualified_provider():
    organisation = make_organisation('Aire Valley Care Ltd')
    qualify(organisation, HOMES)
    home = make_setting(organisation, 'Aire House', 'LS1 4DY', sex=SexAccepted.ANY)
    db.session.commit()
    return organisation, home, make_member(organisation)


def _accepted_by_consortium(consortium, acting_user):
    organisation, home, provider = _qualified_provider()
    requirements = _publish(consortium, acting_user)
    item = local.apply_locally(organisation, requirements, {'q1': 'yes'}, accepts_terms=False, actor=provider)
    local.decide(item, True, actor=acting_user, reason='')
    return organisation, home, provider, item


# --- admin pages -----------------------------------------------------------------------------------------------

def test_admin_creates_a_consortium_from_the_153_and_the_change_is_audited(admin, client, login_as):
    login_as(admin)
    response = client.post(url_for('consortia.new_consortium'),
                           data={'name': 'West Yorkshire consortium', 'members': WEST_YORKSHIRE})
    assert response.status_code == 302
    consortium = db.session.scalar(select(Consortium))
    assert consortium.authority_codes == sorted(WEST_YORKSHIRE)
    page = client.get(url_for('consortia.consortium_detail', consortium_id=consortium.id)).get_data(as_text=True)
    assert 'Kirklees' in page and 'Wakefield' in page
    client.post(url_for('consortia.edit_consortium', consortium_id=consortium.id),
                data={'name': 'West Yorkshire consortium', 'members': [BRADFORD, LEEDS]})
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == 'consortia')
                                 .order_by(AuditEvent.id)).all()
    assert actions == ['consortium.create', 'consortium.update']
    db.session.expire_all()
    assert db.session.get(Consortium, consortium.id).authority_codes == [BRADFORD, LEEDS]


@pytest.mark.parametrize('data, message', [
    ({'name': '', 'members': [LEEDS, BRADFORD]}, 'Enter the consortium name'),
    ({'name': 'Just Leeds', 'members': [LEEDS]}, 'Choose at least two member authorities'),
    ({'name': 'Made up', 'members': [LEEDS, 'E99999999']}, 'Unknown local authority: E99999999'),
])
def test_bad_consortium_input_is_refused_with_an_error_summary_and_nothing_saved(admin, client, login_as, data,
                                                                                  message):
    login_as(admin)
    response = client.post(url_for('consortia.new_consortium'), data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'There is a problem' in page and message in page
    assert db.session.scalar(select(Consortium.id)) is None


def test_only_admins_reach_the_consortium_pages(app_ctx, client, login_as):
    login_as(make_user(Role.COMMISSIONER, authority_code=LEEDS))
    assert client.get(url_for('consortia.list_consortia')).status_code == 403
    assert client.get(url_for('consortia.new_consortium')).status_code == 403


def test_only_commissioners_of_member_authorities_can_have_a_consortium_role(west_yorkshire, admin):
    outsider = make_user(Role.COMMISSIONER, authority_code=MANCHESTER)
    with pytest.raises(DomainError):
        services.grant_role(west_yorkshire, outsider, actor=admin)
    with pytest.raises(PermissionDenied):
        services.grant_role(west_yorkshire, make_user(Role.COMMISSIONER, authority_code=LEEDS),
                            actor=make_user(Role.COMMISSIONER, authority_code=LEEDS))


# --- acting for a consortium -----------------------------------------------------------------------------------

def test_only_commissioners_with_a_role_publish_and_decide_for_the_consortium(west_yorkshire, acting, client,
                                                                              login_as):
    leeds = make_user(Role.COMMISSIONER, authority_code=LEEDS)  # a member authority, but no consortium role
    with pytest.raises(PermissionDenied):
        _publish(west_yorkshire, leeds)
    organisation, _home, _provider, item = _accepted_by_consortium(west_yorkshire, acting)
    login_as(leeds)
    assert client.get(url_for('consortia.requirements', consortium_id=west_yorkshire.id)).status_code == 403
    assert client.get(url_for('qualification.local_application', local_application_id=item.id)).status_code == 403
    login_as(acting)
    page = client.get(url_for('consortia.requirements', consortium_id=west_yorkshire.id)).get_data(as_text=True)
    assert 'West Yorkshire consortium' in page and organisation.display_name in page


def test_a_commissioner_whose_authority_leaves_loses_the_consortium_role(west_yorkshire, acting, admin):
    services.update_consortium(west_yorkshire, west_yorkshire.name, [LEEDS, WAKEFIELD], actor=admin)
    with pytest.raises(PermissionDenied):
        _publish(west_yorkshire, acting)


# --- one acceptance for every member ---------------------------------------------------------------------------

def test_one_consortium_acceptance_counts_for_every_member_in_search(west_yorkshire, acting, client, login_as):
    organisation, home, _provider, _item = _accepted_by_consortium(west_yorkshire, acting)
    assert accepted_authority_codes(organisation.id, lot=HOMES) == sorted(WEST_YORKSHIRE)
    reindex()
    for code in WEST_YORKSHIRE:
        assert search.search(parse_query({'accepted_by': code})).ids == [home.id], code
    assert search.search(parse_query({'accepted_by': MANCHESTER})).ids == []

    login_as(make_user(Role.COMMISSIONER, authority_code=KIRKLEES))
    page = client.get(url_for('search.commissioner_search', accepted_by=KIRKLEES)).get_data(as_text=True)
    assert 'Aire House' in page and 'Accepted by West Yorkshire consortium' in page


def test_the_page_says_which_layer_accepted(west_yorkshire, acting, client, login_as):
    organisation, home, provider, _item = _accepted_by_consortium(west_yorkshire, acting)
    leeds = make_user(Role.COMMISSIONER, authority_code=LEEDS)
    leeds_requirements = _publish(LEEDS, leeds, [{'text': 'Will you attend our panel?', 'type': 'yes-no'}])
    leeds_item = local.apply_locally(organisation, leeds_requirements, {'q1': 'yes'}, accepts_terms=False,
                                     actor=provider)
    local.decide(leeds_item, True, actor=leeds, reason='')
    reindex()
    login_as(leeds)
    page = client.get(url_for('search.commissioner_search', accepted_by=LEEDS)).get_data(as_text=True)
    assert 'Accepted by Leeds and West Yorkshire consortium' in page
    login_as(make_user(Role.COMMISSIONER, authority_code=WAKEFIELD))
    page = client.get(url_for('search.commissioner_search', accepted_by=WAKEFIELD)).get_data(as_text=True)
    assert 'Accepted by West Yorkshire consortium' in page and 'Accepted by Leeds' not in page


def _finder_reason(authority_code: str) -> tuple[bool, str]:
    child = workspace_services.child_from_criteria(criteria(min_judgement='', needs=[]))
    match = next(match for match in workspace_services.find_placements(child, authority_code)
                 if match.entry.name == 'Aire House')
    return next((reason.met, reason.text) for reason in match.reasons if reason.kind == 'accepted')


def test_the_finder_counts_the_consortium_acceptance_and_says_so(west_yorkshire, acting):
    _accepted_by_consortium(west_yorkshire, acting)
    reindex()
    assert _finder_reason(CALDERDALE) == (True, 'Accepted by West Yorkshire consortium')
    # a commissioner of a non-member authority does not see the consortium's acceptance as theirs
    assert _finder_reason(MANCHESTER) == (False, 'Not yet accepted by Manchester')


def test_a_non_member_commissioner_does_not_see_the_acceptance_as_theirs(west_yorkshire, acting, client, login_as):
    _accepted_by_consortium(west_yorkshire, acting)
    reindex()
    login_as(make_user(Role.COMMISSIONER, authority_code=MANCHESTER))
    page = client.get(url_for('search.commissioner_search', q='Aire')).get_data(as_text=True)
    assert 'Aire House' in page
    assert 'Accepted by West Yorkshire consortium' not in page and "Not on my authority's list" in page
    page = client.get(url_for('search.commissioner_search', accepted_by=MANCHESTER)).get_data(as_text=True)
    assert 'Aire House' not in page


def test_leaving_the_consortium_takes_the_acceptance_away_from_search(west_yorkshire, acting, admin):
    organisation, home, _provider, _item = _accepted_by_consortium(west_yorkshire, acting)
    services.update_consortium(west_yorkshire, west_yorkshire.name, [BRADFORD, CALDERDALE, KIRKLEES, WAKEFIELD],
                               actor=admin)
    search.drain()
    assert search.search(parse_query({'accepted_by': LEEDS})).ids == []
    assert search.search(parse_query({'accepted_by': WAKEFIELD})).ids == [home.id]


# --- three layers: national, consortium, authority ---------------------------------------------------------------

def test_an_authority_in_a_consortium_asks_only_its_delta(west_yorkshire, acting, client, login_as):
    organisation, _home, provider = _qualified_provider()
    consortium_requirements = _publish(west_yorkshire, acting, [
        {'text': 'Will you join the West Yorkshire forum?', 'type': 'yes-no'},
        {'text': 'How do you keep children in their school?', 'type': 'text'}])
    leeds = make_user(Role.COMMISSIONER, authority_code=LEEDS)
    leeds_requirements = _publish(LEEDS, leeds, [{'text': 'Will you attend the Leeds panel?', 'type': 'yes-no'}])

    # the authority layer waits for the consortium layer beneath it
    with pytest.raises(DomainError, match='join West Yorkshire consortium'):
        local.apply_locally(organisation, leeds_requirements, {'q1': 'yes'}, accepts_terms=False, actor=provider)
    login_as(provider)
    page = client.get(url_for('qualification.apply_locally', organisation_id=organisation.id,
                              requirements_id=leeds_requirements.id)).get_data(as_text=True)
    assert 'To do first' in page

    item = local.apply_locally(organisation, consortium_requirements, {'q1': 'yes', 'q2': 'A link worker'},
                               accepts_terms=False, actor=provider)
    local.decide(item, True, actor=acting, reason='')
    page = client.get(url_for('qualification.apply_locally', organisation_id=organisation.id,
                              requirements_id=leeds_requirements.id)).get_data(as_text=True)
    # only Leeds's own item is asked; the consortium's accepted answers are shown as done
    assert 'Will you attend the Leeds panel?' in page
    assert 'Accepted by West Yorkshire consortium' in page and 'A link worker' in page
    assert 'name="answer_q2"' not in page and page.count('name="answer_q1"') == 2  # one yes/no question

    response = client.post(url_for('qualification.apply_locally', organisation_id=organisation.id,
                                   requirements_id=leeds_requirements.id), data={'answer_q1': 'yes'})
    assert response.status_code == 302
    leeds_item = db.session.scalar(select(LocalApplication).where(LocalApplication.authority_code == LEEDS))
    assert leeds_item.answers == {'q1': 'yes'}
    login_as(leeds)
    page = client.get(url_for('qualification.local_application', local_application_id=leeds_item.id)
                      ).get_data(as_text=True)
    assert 'Already done at the consortium layer' in page and 'A link worker' in page


def test_authorities_outside_any_consortium_keep_a_single_local_layer(app_ctx):
    organisation, _home, provider = _qualified_provider()
    westminster = make_user(Role.COMMISSIONER, authority_code=WESTMINSTER)
    requirements = _publish(WESTMINSTER, westminster)
    item = local.apply_locally(organisation, requirements, {'q1': 'yes'}, accepts_terms=False, actor=provider)
    assert (item.authority_code, item.consortium_id) == (WESTMINSTER, None)
    assert local.layers_below(organisation.id, requirements) == []


def test_the_provider_sees_consortium_lists_it_can_join(west_yorkshire, acting, client, login_as):
    organisation, _home, provider = _qualified_provider()
    _publish(west_yorkshire, acting)
    login_as(provider)
    page = client.get(url_for('qualification.organisation_qualifications', organisation_id=organisation.id)
                      ).get_data(as_text=True)
    assert 'West Yorkshire consortium (consortium), Children' in page


def test_demo_consortia_have_believable_membership(app_ctx):
    from consortia.demo import CONSORTIA

    west_yorkshire, north_east, north_london = (CONSORTIA[name][0] for name in CONSORTIA)
    assert sorted(west_yorkshire) == sorted(WEST_YORKSHIRE)
    assert len(north_east) == 12 and len(north_london) == 6


def test_our_authority_page_lists_the_consortiums_acceptances_with_the_layer(west_yorkshire, acting, client,
                                                                             login_as):
    organisation, _home, _provider, _item = _accepted_by_consortium(west_yorkshire, acting)
    login_as(make_user(Role.COMMISSIONER, authority_code=WAKEFIELD))
    page = client.get(url_for('workspace.authority_view')).get_data(as_text=True)
    assert organisation.display_name in page and 'West Yorkshire consortium' in page
    login_as(make_user(Role.COMMISSIONER, authority_code=MANCHESTER))
    assert organisation.display_name not in client.get(url_for('workspace.authority_view')).get_data(as_text=True)


def test_admin_invites_a_commissioner_who_acts_for_the_consortium_from_the_start(west_yorkshire, admin, client,
                                                                                 login_as):
    from consortia.models import ConsortiumCommissioner
    from registry.accounts.models import User

    login_as(admin)
    url = url_for('consortia.consortium_detail', consortium_id=west_yorkshire.id)
    refused = client.post(url, data={'invite_name': 'Mo Khan', 'invite_email': 'mo@example.org',
                                     'invite_authority': MANCHESTER, 'invite': 'Send invitation'})
    assert refused.status_code == 400 and 'There is a problem' in refused.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == 'mo@example.org')) is None
    response = client.post(url, data={'invite_name': 'Mo Khan', 'invite_email': 'mo@example.org',
                                      'invite_authority': KIRKLEES, 'invite': 'Send invitation'})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == 'mo@example.org'))
    assert (user.role, user.authority_code) == (Role.COMMISSIONER, KIRKLEES)
    assert db.session.scalar(select(ConsortiumCommissioner.id).where(
        ConsortiumCommissioner.user_id == user.id, ConsortiumCommissioner.consortium_id == west_yorkshire.id))
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ['user.invite', 'consortium.grant_role']
