"""Scheme versions published by the board: upload checked by the loader, preview, diff, publication with an effective
date, and which version a new application uses (applications already open keep theirs)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from flask import url_for
from sqlalchemy import func, select

from qualification import scheme_publishing, services
from qualification.applications import SchemeVersion
from qualification.demo import BOARD_SCHEMES_DIR
from qualification.demo import load as load_schemes_demo
from qualification.schemes import SchemeError, load_scheme
from qualification.states import SchemeVersionStatus
from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.errors import DomainError, InvalidTransition, PermissionDenied
from registry.extensions import db
from tests.factories import make_user
from tests.qualification.conftest import make_member, make_organisation

V2 = (BOARD_SCHEMES_DIR / '2026.2.yaml').read_bytes()
V1 = load_scheme('2026.1')


def _v2_with(old: str, new: str, version: str = '2026.2') -> bytes:
    text = V2.decode()
    assert old in text
    return text.replace(old, new).replace("version: '2026.2'", f"version: '{version}'").encode()


@pytest.fixture
def member(app_ctx):
    return make_user(Role.BOARD_MEMBER)


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _upload(client, content: bytes, filename: str = '2026.2.yaml'):
    return client.post(url_for('qualification.board_scheme_upload'),
                       data={'file': (io.BytesIO(content), filename)}, content_type='multipart/form-data')


# --- upload -------------------------------------------------------------------------------------------------------

def test_board_member_uploading_an_invalid_file_sees_the_loaders_precise_message_and_nothing_is_kept(
        client, login_as, member):
    login_as(member)
    broken = _v2_with('        type: number\n        label: How many premises',
                      '        type: numbre\n        label: How many premises')

    response = _upload(client, broken)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'govuk-error-summary' in page
    assert ("2026.2.yaml: sections[11].questions[1] (sa-premises): unknown type &#39;numbre&#39;; expected one of "
            'text, yes-no, choice, number, money, date, evidence, rows') in page
    assert db.session.scalar(select(func.count()).select_from(SchemeVersion)) == 0
    assert _audit('scheme_version.upload') == []


@pytest.mark.parametrize('content, message', [
    (b'', '2026.2.yaml: the file is empty'),
    (b'\xff\xfe\x00v', '2026.2.yaml: the file must be text in UTF-8'),
    (b'version: [unclosed', '2026.2.yaml: not valid YAML'),
    (V2.replace(b'\n  - id: supported-accommodation\n    title', b'\n  - id: supported-accommodation\n    titel'),
     "2026.2.yaml: sections[11] (supported-accommodation): unknown key 'titel'"),
    (V2.replace(b"version: '2026.2'", b"version: '2026.1'"),
     '2026.2.yaml: version: 2026.1 is already published; published versions never change'),
    (V2.replace(b"version: '2026.2'", b"version: '2025.9'"),
     '2026.2.yaml: version: 2025.9 must come after the newest published version, 2026.1'),
])
def test_upload_is_refused_with_a_message_saying_where_and_why(member, content, message):
    with pytest.raises(SchemeError) as refused:
        scheme_publishing.upload_draft(content, '2026.2.yaml', actor=member)
    assert str(refused.value).startswith(message)
    assert db.session.scalar(select(func.count()).select_from(SchemeVersion)) == 0


def test_a_draft_can_be_replaced_by_a_corrected_upload_but_a_published_version_cannot(member):
    first = scheme_publishing.upload_draft(_v2_with('How many premises', 'How many homes'), 'v2.yaml', actor=member)
    assert first.status == SchemeVersionStatus.DRAFT
    again = scheme_publishing.upload_draft(V2, 'v2.yaml', actor=member)
    assert again.version == '2026.2' and 'How many premises' in again.content
    assert services.get_scheme('2026.2').questions['sa-premises'].label.startswith('How many premises')

    scheme_publishing.publish(again, effective_from=date.today(), actor=member)
    with pytest.raises(SchemeError, match='2026.2 is already published'):
        scheme_publishing.upload_draft(_v2_with('How many premises', 'How many flats'), 'v2.yaml', actor=member)
    with pytest.raises(InvalidTransition, match='You cannot publish a scheme version that is published'):
        scheme_publishing.publish(again, effective_from=date.today(), actor=member)
    db.session.expire_all()
    assert 'How many premises' in db.session.get(SchemeVersion, '2026.2').content
    assert len(_audit('scheme_version.upload')) == 2 and len(_audit('scheme_version.publish')) == 1


# --- preview and diff ---------------------------------------------------------------------------------------------

def test_preview_shows_every_section_and_question_with_the_hints_providers_see(client, login_as, member):
    recorded = scheme_publishing.upload_draft(V2, '2026.2.yaml', actor=member)
    login_as(member)

    page = client.get(url_for('qualification.board_scheme', version=recorded.version)).get_data(as_text=True)

    preview = page.split('id="preview"')[1]
    for section in services.get_scheme('2026.2').sections:
        assert f'id="preview-{section.id}"' in preview
    assert 'Which kinds of supported accommodation do you provide?' in preview
    assert 'As registered with Ofsted.' in preview
    assert 'Supported lodgings (a young person living in a host&#39;s home)' in preview
    # the rule's own sentence, as the provider's hint says it
    assert 'To qualify, the answer must be Yes.' in preview
    assert 'To qualify, the answer must be at least £5,000,000.' in preview
    assert 'Upload: A blank copy of the licence or occupancy agreement' in preview
    # which lots a section is asked of
    assert 'For: Supported accommodation (16 and 17 year olds)</p>' in preview.split('id="preview-supported')[1]
    # nothing can be typed into a preview
    assert '<input' not in preview.split('Back to scheme versions')[0]
    assert 'Publish this version' in page


def test_diff_against_the_current_version_lists_the_new_lot_section_and_questions():
    diff = scheme_publishing.diff_schemes(V1, load_scheme_file('2026.2'))

    assert diff.lots_added == [('supported-accommodation', 'Supported accommodation (16 and 17 year olds)')]
    assert [section.id for section in diff.sections_added] == ['supported-accommodation']
    assert [question.id for question in diff.questions_added] == [
        'sa-accommodation-types', 'sa-premises', 'sa-registered-manager', 'sa-quality-standards', 'sa-support',
        'sa-moving-on', 'sa-occupancy-agreement']
    assert diff.questions_removed == [] and diff.sections_removed == [] and diff.lots_removed == []
    # every question of 2026.1 is unchanged, so its answers carry forward
    assert diff.questions_changed == []
    [regulation] = diff.sections_changed
    assert regulation.id == 'regulation' and [change.what for change in regulation.changes] == ['Description']


def load_scheme_file(version: str):
    from qualification.schemes import parse_scheme

    return parse_scheme((BOARD_SCHEMES_DIR / f'{version}.yaml').read_bytes(), f'{version}.yaml')


def test_diff_shows_wording_and_rule_changes_and_removed_questions(client, login_as, member):
    changed = V2.decode().replace(
        "label: What is the organisation's registered legal name?", "label: What is your organisation's legal name?"
    ).replace('rule: {auto: {min: 5000000}}', 'rule: {auto: {min: 10000000}}', 1)
    start = changed.index('      - id: reg-enforcement\n')
    end = changed.index('      - id: reg-certificate\n')
    changed = changed[:start] + changed[end:]
    recorded = scheme_publishing.upload_draft(changed.encode(), '2026.2.yaml', actor=member)

    diff = scheme_publishing.diff_schemes(V1, services.get_scheme(recorded.version))

    changes = {item.id: item.changes for item in diff.questions_changed}
    assert changes['org-legal-name'] == [scheme_publishing.Change(
        'Wording', "What is the organisation's registered legal name?", "What is your organisation's legal name?")]
    assert changes['ins-el-amount'] == [scheme_publishing.Change(
        'Rule', 'To qualify, the answer must be at least £5,000,000.',
        'To qualify, the answer must be at least £10,000,000.')]
    assert [question.id for question in diff.questions_removed] == ['reg-enforcement', 'reg-enforcement-details']

    login_as(member)
    page = client.get(url_for('qualification.board_scheme', version='2026.2')).get_data(as_text=True)
    changes_part = page.split('id="changes"')[1].split('id="preview"')[0]
    assert 'Changes since version 2026.1' in page
    assert '<del>To qualify, the answer must be at least £5,000,000.</del>' in changes_part
    assert '<ins>To qualify, the answer must be at least £10,000,000.</ins>' in changes_part
    assert 'Removed: Has Ofsted taken enforcement action' in changes_part
    assert 'Added: Supported accommodation (16 and 17 year olds)' in changes_part


# --- publication and the version a new application uses -----------------------------------------------------------

def test_publishing_with_a_future_date_leaves_new_applications_on_the_current_version_until_then(member):
    recorded = scheme_publishing.upload_draft(V2, '2026.2.yaml', actor=member)
    effective = date.today() + timedelta(days=30)

    scheme_publishing.publish(recorded, effective_from=effective, actor=member, reason='Supported accommodation')

    db.session.expire_all()
    recorded = db.session.get(SchemeVersion, '2026.2')
    assert recorded.status == SchemeVersionStatus.PUBLISHED and recorded.effective_from == effective
    assert recorded.published_by_id == member.id and recorded.published_at is not None
    [event] = _audit('scheme_version.publish')
    assert event.actor_id == member.id and event.object_id == '2026.2' and event.reason == 'Supported accommodation'
    assert event.before == {'status': 'draft'}
    assert event.after['status'] == 'published' and event.after['effective_from'] == effective.isoformat()
    assert services.effective_version() == '2026.1'
    assert services.effective_version(effective - timedelta(days=1)) == '2026.1'
    assert services.effective_version(effective) == '2026.2'


def test_an_application_started_on_or_after_the_date_uses_the_new_version_and_an_open_one_keeps_its_own(member):
    before_org, after_org = make_organisation(), make_organisation()
    before_member, after_member = make_member(before_org), make_member(after_org)
    opened_before = services.start_application(before_org, ['childrens-homes'], actor=before_member)
    assert opened_before.scheme_version == '2026.1'

    recorded = scheme_publishing.upload_draft(V2, '2026.2.yaml', actor=member)
    scheme_publishing.publish(recorded, effective_from=date.today(), actor=member)

    opened_after = services.start_application(after_org, ['supported-accommodation', 'childrens-homes'],
                                              actor=after_member)
    assert opened_after.scheme_version == '2026.2'
    assert opened_after.lots == ['childrens-homes', 'supported-accommodation']
    scheme = services.scheme_for(opened_after)
    assert 'supported-accommodation' in [section.id for section in scheme.sections_for(opened_after.lots)]
    db.session.expire_all()
    assert db.session.get(type(opened_before), opened_before.id).scheme_version == '2026.1'
    assert services.scheme_for(opened_before).version == '2026.1'
    third = make_organisation()
    with pytest.raises(DomainError, match='Select at least one of the lots offered by the scheme'):
        services.start_application(third, ['supported-accommodation'], actor=make_member(third), version='2026.1')


def test_the_effective_date_cannot_be_in_the_past(member):
    recorded = scheme_publishing.upload_draft(V2, '2026.2.yaml', actor=member)
    with pytest.raises(DomainError, match='today or in the future'):
        scheme_publishing.publish(recorded, effective_from=date.today() - timedelta(days=1), actor=member)
    assert db.session.get(SchemeVersion, '2026.2').status == SchemeVersionStatus.DRAFT


def test_board_member_publishes_through_the_pages_and_the_provider_is_offered_the_new_lot(client, login_as, member):
    login_as(member)
    response = _upload(client, V2)
    assert response.status_code == 302
    assert response.headers['Location'].endswith('/qualification/board/schemes/2026.2')
    page = client.get(response.headers['Location']).get_data(as_text=True)
    assert 'Version 2026.2 is valid' in page and 'Draft: not used by any application yet' in page

    bad = client.post(url_for('qualification.board_scheme', version='2026.2'),
                      data={'effective_from': ['31', '2', '2027']})
    assert bad.status_code == 200 and 'govuk-error-summary' in bad.get_data(as_text=True)
    assert 'Date it takes effect must be a real date' in bad.get_data(as_text=True)
    today = date.today()
    published = client.post(url_for('qualification.board_scheme', version='2026.2'),
                             data={'effective_from': [str(today.day), str(today.month), str(today.year)]})
    assert published.status_code == 302
    listing = client.get(url_for('qualification.board_schemes')).get_data(as_text=True)
    assert 'New applications use version <strong>2026.2</strong> today' in listing

    organisation = make_organisation()
    login_as(make_member(organisation))
    start = client.get(url_for('qualification.start_application', organisation_id=organisation.id))
    assert 'Supported accommodation (16 and 17 year olds)' in start.get_data(as_text=True)


@pytest.mark.parametrize('role', [Role.ASSESSOR, Role.ADMIN, Role.PROVIDER, Role.COMMISSIONER])
def test_only_board_members_upload_or_publish(client, login_as, member, role):
    draft = scheme_publishing.upload_draft(V2, '2026.2.yaml', actor=member)
    other = make_user(role)
    with pytest.raises(PermissionDenied):
        scheme_publishing.upload_draft(V2, '2026.2.yaml', actor=other)
    with pytest.raises(PermissionDenied):
        scheme_publishing.publish(draft, effective_from=date.today(), actor=other)

    login_as(other)
    assert client.get(url_for('qualification.board_scheme_upload')).status_code == 403
    assert _upload(client, V2).status_code == 403
    today = date.today()
    response = client.post(url_for('qualification.board_scheme', version='2026.2'),
                           data={'effective_from': [str(today.day), str(today.month), str(today.year)]})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(SchemeVersion, '2026.2').status == SchemeVersionStatus.DRAFT
    # the rest of the board may read the versions; providers and commissioners may not
    listing = client.get(url_for('qualification.board_schemes')).status_code
    assert listing == (200 if role in (Role.ASSESSOR, Role.ADMIN) else 403)


def test_demo_data_publishes_2026_2_through_the_same_workflow(member):
    summary = load_schemes_demo(None, lambda _line: None)

    assert 'Published scheme version 2026.2' in summary
    recorded = db.session.get(SchemeVersion, '2026.2')
    assert recorded.is_published and recorded.effective_from == date.today()
    assert [event.actor_id for event in _audit('scheme_version.publish')] == [member.id]
    assert services.effective_version() == '2026.2'
    assert load_schemes_demo(None, lambda _line: None) == 'Scheme version 2026.2 is already published.'


def test_publishing_is_refused_when_the_draft_was_replaced_since_it_was_previewed(client, login_as, member):
    first = scheme_publishing.upload_draft(V2, '2026.2.yaml', actor=member)
    login_as(member)
    page = client.get(url_for('qualification.board_scheme', version='2026.2')).get_data(as_text=True)
    previewed = first.sha256
    assert f'name="sha256" type="hidden" value="{previewed}"' in page
    # a colleague uploads a corrected draft meanwhile
    scheme_publishing.upload_draft(_v2_with('How many premises', 'How many homes'), '2026.2.yaml',
                                   actor=make_user(Role.BOARD_MEMBER))
    today = date.today()

    response = client.post(url_for('qualification.board_scheme', version='2026.2'), data={
        'effective_from': [str(today.day), str(today.month), str(today.year)], 'sha256': previewed})

    assert response.status_code == 200
    assert 'Version 2026.2 was replaced or published by someone else since you opened it' in response.get_data(
        as_text=True)
    db.session.expire_all()
    assert db.session.get(SchemeVersion, '2026.2').status == SchemeVersionStatus.DRAFT
    assert _audit('scheme_version.publish') == []
    with pytest.raises(InvalidTransition, match='replaced or published by someone else'):
        scheme_publishing.publish(db.session.get(SchemeVersion, '2026.2'), effective_from=today, actor=member,
                                  expected_sha256=previewed)
