"""The scheme loader: the real scheme loads; broken files are refused with precise messages; published is immutable."""

from __future__ import annotations

import textwrap

import pytest
from sqlalchemy import select

from qualification import services
from qualification.applications import Answer, Application, Evidence, SchemeVersion
from qualification.schemes import SchemeError, list_versions, load_scheme, parse_scheme
from qualification.states import ApplicationAction
from registry.db import unit_of_work
from registry.extensions import db
from tests.qualification.conftest import PDF_BYTES

MINIMAL = '''
version: '{version}'
title: Test scheme
published: {published}
lots:
  - {{id: childrens-homes, label: Children's homes}}
  - {{id: fostering, label: Fostering}}
sections:
  - id: insurance
    title: Insurance
    questions:
{questions}
'''

GOOD_QUESTIONS = '''
      - id: ins-el-amount
        type: money
        label: Employer's liability cover
        rule: {auto: {min: 5000000}}
      - id: ins-el-expiry
        type: date
        label: Expiry
        rule: {auto: {date_after_today: true}}
'''


def scheme_text(questions: str, version: str = '9.1', published: str = 'true') -> str:
    return MINIMAL.format(version=version, published=published, questions=textwrap.indent(
        textwrap.dedent(questions).strip('\n'), ' ' * 6))


def test_the_2026_1_scheme_loads_with_every_section_and_lot():
    scheme = load_scheme('2026.1')
    assert scheme.published and scheme.lot_ids == ('childrens-homes', 'fostering', 'assessment-services')
    assert {section.id for section in scheme.sections} >= {
        'organisation', 'financial', 'insurance', 'regulation', 'safeguarding', 'workforce', 'policies', 'quality',
        'childrens-homes', 'fostering', 'assessment'}
    assert 40 <= len(scheme.questions) <= 70
    assert {question.type for question in scheme.questions.values()} == {
        'text', 'yes-no', 'choice', 'number', 'money', 'date', 'evidence', 'rows'}
    # money rules are written in pounds and held in pence
    assert scheme.questions['ins-el-amount'].rule.condition.value == 5_000_000_00
    assert scheme.questions['ins-pi-amount'].rule.condition.value == 1_000_000_00
    assert scheme.questions['reg-lowest-judgement'].rule.condition.value == ('inadequate',)
    assert scheme.questions['fin-net-assets'].rule.otherwise.question == 'fin-parent-guarantee'
    assert scheme.questions['fin-parent-guarantee'].id in {
        child for follow_up in scheme.questions['fin-net-assets'].follow_ups for child in follow_up.show}
    assert [section.id for section in scheme.sections_for(['fostering'])][-1] == 'fostering'
    assert list_versions()[0] == '2026.1'


BROKEN = [
    ('''
      - id: ins-el-amount
        type: moneyy
        label: Cover
     ''', "9.1.yaml: sections[0].questions[0] (ins-el-amount): unknown type 'moneyy'; expected one of text, "
          "yes-no, choice, number, money, date, evidence, rows"),
    ('''
      - id: a-question
        type: text
        label: A
      - id: a-question
        type: text
        label: B
     ''', "9.1.yaml: sections[0].questions[1] (a-question): duplicate question id 'a-question' "
          "(first used at sections[0].questions[0] (a-question))"),
    ('''
      - id: has-parent
        type: yes-no
        label: Parent?
        follow_up: {when: {equals: yes}, show: [no-such-question]}
     ''', "9.1.yaml: sections[0].questions[0] (has-parent).follow_up[0]: shows unknown question 'no-such-question'"),
    ('''
      - id: cover
        type: text
        label: Cover
        rule: {auto: {min: 5}}
     ''', "9.1.yaml: sections[0].questions[0] (cover): rule: operator 'min' cannot apply to a text question "
          "(it applies to number, money)"),
    ('''
      - id: expiry
        type: date
        label: Expiry
        rule: {auto: {equals: yes}}
     ''', "9.1.yaml: sections[0].questions[0] (expiry): rule: operator 'equals' cannot apply to a date question "
          "(it applies to text, yes-no, choice, number)"),
    ('''
      - id: judgement
        type: choice
        label: Judgement
        choices: [good, inadequate]
        rule: {auto: {not_in: [terrible]}}
     ''', "9.1.yaml: sections[0].questions[0] (judgement): rule: 'terrible' is not one of the choices "
          "(good, inadequate)"),
    ('''
      - id: policy
        type: evidence
        label: Policy
        evidence: The policy
        rule: {auto: {equals: yes}}
     ''', "9.1.yaml: sections[0].questions[0] (policy): an evidence question cannot have an automatic rule; "
          "use assessor"),
    ('''
      - id: cover
        type: money
        label: Cover
        applies_to: [adoption]
     ''', "9.1.yaml: sections[0].questions[0] (cover): applies_to: unknown lot 'adoption'; expected one of "
          "childrens-homes, fostering"),
    ('''
      - id: cover
        type: money
        label: Cover
        validation: {max_length: 5}
     ''', "9.1.yaml: sections[0].questions[0] (cover): validation 'max_length' does not apply to a money question "
          "(allowed: min, max)"),
    ('''
      - id: cover
        type: money
        label: Cover
        colour: red
     ''', "9.1.yaml: sections[0].questions[0] (cover): unknown key 'colour'; expected one of id, type, label, hint, "
          "required, validation, applies_to, follow_up, evidence, rule, choices, multiple, multiline, columns, "
          "max_rows, help, expires"),
    ('''
      - id: Cover Amount
        type: money
        label: Cover
     ''', "9.1.yaml: sections[0].questions[0] (Cover Amount): id 'Cover Amount' must be lower-case words joined by "
          "hyphens"),
    ('''
      - id: net-assets
        type: money
        label: Net assets
        rule: {auto: {min: 0}, otherwise: {question: guarantee, equals: yes}}
     ''', "9.1.yaml: sections[0].questions[0] (net-assets): rule otherwise refers to unknown question 'guarantee'"),
    ('''
      - id: upload
        type: evidence
        label: Upload
     ''', "9.1.yaml: sections[0].questions[0] (upload): an evidence question must say what to upload in 'evidence'"),
    ('''
      - id: a
        type: yes-no
        label: A
        follow_up: {when: {equals: yes}, show: [b]}
      - id: b
        type: yes-no
        label: B
        follow_up: {when: {equals: yes}, show: [a]}
     ''', "9.1.yaml: sections[0].questions[1] (b): follow-up questions form a loop"),
]


@pytest.mark.parametrize(('questions', 'message'), BROKEN)
def test_loader_rejects_a_broken_scheme_with_a_precise_message(tmp_path, questions, message):
    (tmp_path / '9.1.yaml').write_text(scheme_text(questions))
    with pytest.raises(SchemeError) as caught:
        load_scheme('9.1', tmp_path)
    assert str(caught.value) == message


def test_loader_rejects_a_file_whose_version_does_not_match_its_name(tmp_path):
    (tmp_path / '9.2.yaml').write_text(scheme_text(GOOD_QUESTIONS, version='9.1'))
    with pytest.raises(SchemeError, match=r"^9\.2\.yaml: version: '9\.1' does not match the file name"):
        load_scheme('9.2', tmp_path)


def test_loader_rejects_invalid_yaml_and_missing_versions(tmp_path):
    with pytest.raises(SchemeError, match='not valid YAML'):
        parse_scheme(b'sections: [unclosed', 'bad.yaml')
    with pytest.raises(SchemeError, match=r'^7\.7\.yaml: no such scheme version'):
        load_scheme('7.7', tmp_path)
    with pytest.raises(SchemeError, match='no such scheme version'):
        load_scheme('../../etc/passwd', tmp_path)


def test_loader_caches_by_content(tmp_path):
    path = tmp_path / '9.1.yaml'
    path.write_text(scheme_text(GOOD_QUESTIONS))
    assert load_scheme('9.1', tmp_path) is load_scheme('9.1', tmp_path)
    path.write_text(scheme_text(GOOD_QUESTIONS.replace("Employer's liability cover", 'EL cover')))
    assert load_scheme('9.1', tmp_path).questions['ins-el-amount'].label == 'EL cover'


def test_published_scheme_that_changed_after_first_use_is_refused(app, app_ctx, tmp_path, monkeypatch, provider,
                                                                  organisation):
    monkeypatch.setitem(app.config, 'QUALIFICATION_SCHEMES_DIR', str(tmp_path))
    path = tmp_path / '9.1.yaml'
    path.write_text(scheme_text(GOOD_QUESTIONS))
    services.start_application(organisation, ['childrens-homes'], actor=provider)
    recorded = db.session.get(SchemeVersion, '9.1')
    assert recorded.is_published and recorded.sha256 == load_scheme('9.1', tmp_path).sha256
    path.write_text(scheme_text(GOOD_QUESTIONS.replace('5000000', '1')))
    with pytest.raises(SchemeError, match=r'^9\.1\.yaml: published version 9\.1 has changed since it was first used'):
        services.get_scheme('9.1')


def test_unpublished_scheme_may_still_change(app, app_ctx, tmp_path, monkeypatch, provider, organisation):
    monkeypatch.setitem(app.config, 'QUALIFICATION_SCHEMES_DIR', str(tmp_path))
    path = tmp_path / '9.1.yaml'
    path.write_text(scheme_text(GOOD_QUESTIONS, published='false'))
    services.start_application(organisation, ['childrens-homes'], actor=provider)
    path.write_text(scheme_text(GOOD_QUESTIONS.replace('5000000', '1'), published='false'))
    assert services.get_scheme('9.1').questions['ins-el-amount'].rule.condition.value == 100


CHANGED_QUESTIONS = GOOD_QUESTIONS.replace('rule: {auto: {min: 5000000}}', 'rule: {auto: {min: 10000000}}') + '''
      - id: ins-policy
        type: evidence
        label: Insurance schedule
        evidence: The schedule
'''


def test_new_version_carries_forward_answers_to_unchanged_questions(app, app_ctx, tmp_path, monkeypatch,
                                                                    provider, organisation):
    from qualification.evidence import CheckedUpload

    monkeypatch.setitem(app.config, 'QUALIFICATION_SCHEMES_DIR', str(tmp_path))
    v1 = GOOD_QUESTIONS + '''
      - id: ins-policy
        type: evidence
        label: Insurance schedule
        evidence: The schedule
'''
    (tmp_path / '9.1.yaml').write_text(scheme_text(v1))
    first = services.start_application(organisation, ['childrens-homes'], actor=provider)
    upload = CheckedUpload('schedule.pdf', 'application/pdf', len(PDF_BYTES), 'a' * 64, PDF_BYTES)
    services.save_answers(first, 'insurance', {'ins-el-amount': 600_000_000, 'ins-el-expiry': '2030-01-31'},
                          actor=provider, uploads={'ins-policy': [upload]})
    services.withdraw(first, actor=provider)

    # 9.2 changes the EL amount rule, keeps the expiry question and the evidence question as they were
    (tmp_path / '9.2.yaml').write_text(scheme_text(CHANGED_QUESTIONS, version='9.2'))
    second = services.start_application(organisation, ['childrens-homes'], actor=provider)
    assert second.scheme_version == '9.2' and second.carried_forward_from_id == first.id
    answers = {answer.question_id: answer.value for answer in db.session.scalars(
        select(Answer).where(Answer.application_id == second.id))}
    assert answers == {'ins-el-expiry': '2030-01-31'}
    carried = db.session.scalars(select(Evidence).where(Evidence.application_id == second.id)).one()
    original = db.session.scalars(select(Evidence).where(Evidence.application_id == first.id)).one()
    assert carried.storage_key == original.storage_key and carried.filename == 'schedule.pdf'

    # removing the carried copy keeps the file the first application still refers to
    services.remove_evidence(carried, actor=provider)
    from registry.storage import get_storage
    assert get_storage().open(original.storage_key).read() == PDF_BYTES


def test_one_open_application_per_organisation(app_ctx, provider, organisation):
    from registry.errors import DomainError

    services.start_application(organisation, ['fostering'], actor=provider)
    with pytest.raises(DomainError, match='already has an open application'):
        services.start_application(organisation, ['childrens-homes'], actor=provider)
    application = db.session.scalars(select(Application)).one()
    with unit_of_work():
        from qualification.workflow import apply_transition
        apply_transition(application, ApplicationAction.WITHDRAW, actor=provider)
    services.start_application(organisation, ['childrens-homes'], actor=provider)
