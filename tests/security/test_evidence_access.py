"""Commissioners see a provider's evidence only from approved applications, and only through the links the provider
profile gives them: counting through evidence ids, drafts and applications still under review reach nothing.
"""

from __future__ import annotations

import io
import re

import pytest
from flask import url_for
from sqlalchemy import select

from qualification import board, services
from qualification.applications import Evidence
from qualification.evidence import check_upload
from qualification.states import ApplicationStatus
from registry.accounts.models import Role
from registry.extensions import db
from tests.factories import make_user
from tests.qualification.board_helpers import board_users, mark_everything, submit_application_over_http
from tests.qualification.conftest import PDF_BYTES, make_member, make_organisation


@pytest.fixture
def organisation(app_ctx):
    return make_organisation()


@pytest.fixture
def provider(organisation):
    return make_member(organisation)


def approve(application) -> None:
    """The board's real verbs: assign, mark every question, propose approval, a second board member signs off."""
    users = board_users()
    board.assign(application, users['assessor'], actor=users['member'])
    mark_everything(application, users['assessor'])
    board.propose_decision(application, {lot: ('approve', 'Meets the national standard') for lot in application.lots},
                           actor=users['assessor'])
    board.sign_off(application, actor=users['member2'])
    assert application.status == ApplicationStatus.APPROVED


@pytest.fixture
def documents(app_ctx, client, login_as, organisation, provider, tmp_path, monkeypatch):
    """An approved application with evidence, then a renewal draft with a document of its own."""
    monkeypatch.setitem(app_ctx.config, 'STORAGE_LOCAL_DIR', str(tmp_path / 'documents'))
    application = submit_application_over_http(client, login_as, organisation, provider)
    approved_ids = [item.id for item in application.evidence]
    approve(application)
    draft = services.start_application(organisation, ['childrens-homes'], actor=provider)
    upload = check_upload(io.BytesIO(PDF_BYTES), 'next-year-accounts.pdf', 10 ** 6)
    draft_evidence = services.upload_evidence(draft, 'pol-complaints', upload, actor=provider)
    return {'organisation': organisation.id, 'approved': approved_ids, 'draft': draft_evidence.id,
            'provider': provider}


def _profile_links(client, organisation_id) -> dict[int, str]:
    page = client.get(url_for('search.provider_profile', organisation_id=organisation_id))
    assert page.status_code == 200
    links = re.findall(r'href="(/qualification/evidence/(\d+)\?t=[^"]+)"', page.get_data(as_text=True))
    return {int(evidence_id): href.replace('&amp;', '&') for href, evidence_id in links}


def test_a_commissioner_downloads_approved_evidence_through_the_profiles_links(client, login_as, documents):
    login_as(make_user(Role.COMMISSIONER))
    links = _profile_links(client, documents['organisation'])
    assert sorted(links) == sorted(documents['approved'])  # the draft's document is not listed
    for href in links.values():
        response = client.get(href)
        assert response.status_code == 302 and '/documents/' in response.headers['Location']
        assert client.get(response.headers['Location']).data.startswith(b'%PDF')


def test_a_commissioner_counting_through_evidence_ids_reaches_nothing(client, login_as, documents):
    login_as(make_user(Role.COMMISSIONER))
    newest = db.session.scalar(select(db.func.max(Evidence.id)))
    for evidence_id in range(1, newest + 3):
        response = client.get(url_for('qualification.download_evidence', evidence_id=evidence_id))
        assert response.status_code in (403, 404), evidence_id


def test_a_commissioner_cannot_reach_a_drafts_document_even_with_a_signed_link_for_another(client, login_as,
                                                                                             documents):
    login_as(make_user(Role.COMMISSIONER))
    href = next(iter(_profile_links(client, documents['organisation']).values()))
    token = href.split('t=', 1)[1]
    forged = url_for('qualification.download_evidence', evidence_id=documents['draft'], t=token)
    assert client.get(forged).status_code == 403


def test_a_profile_link_works_only_for_the_commissioner_it_was_given_to(client, login_as, documents):
    login_as(make_user(Role.COMMISSIONER))
    href = next(iter(_profile_links(client, documents['organisation']).values()))
    login_as(make_user(Role.COMMISSIONER, authority_code='E08000035'))
    assert client.get(href).status_code == 403


def test_evidence_of_an_application_still_under_review_is_not_shown_to_commissioners(client, login_as, organisation,
                                                                                    provider, tmp_path, monkeypatch,
                                                                                    app_ctx):
    monkeypatch.setitem(app_ctx.config, 'STORAGE_LOCAL_DIR', str(tmp_path / 'documents'))
    application = submit_application_over_http(client, login_as, organisation, provider)
    evidence_id = application.evidence[0].id
    from tests.qualification.board_helpers import make_qualification

    make_qualification(organisation)  # even while the organisation holds a qualification (an annual review)
    login_as(make_user(Role.COMMISSIONER))
    assert client.get(url_for('qualification.download_evidence', evidence_id=evidence_id)).status_code == 403
    assert _profile_links(client, organisation.id) == {}


def test_members_and_the_board_still_open_documents_from_the_application_pages(client, login_as, documents):
    for user in (documents['provider'], make_user(Role.ASSESSOR)):
        login_as(user)
        for evidence_id in (*documents['approved'], documents['draft']):
            response = client.get(url_for('qualification.download_evidence', evidence_id=evidence_id))
            assert response.status_code == 302, (user.role, evidence_id)
