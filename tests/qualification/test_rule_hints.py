"""Rules' thresholds reach the provider as hints generated from the scheme's rule data, never written twice."""

from __future__ import annotations

import re
import textwrap

import pytest

from qualification import rules
from qualification.answers import format_money
from qualification.schemes import Condition, load_scheme, parse_scheme
from tests.qualification.test_views import section_url, start


@pytest.fixture(scope='module')
def scheme():
    return load_scheme('2026.1')


@pytest.mark.parametrize(('question_id', 'expected'), [
    ('ins-el-amount', 'To qualify, the answer must be at least £5,000,000.'),
    ('ins-pi-amount', 'To qualify, the answer must be at least £1,000,000.'),
    ('ins-el-expiry', 'To qualify, the answer must be a date in the future.'),
    ('fin-year-end', 'To qualify, the answer must be a date within the last 18 months.'),
    ('sg-policy-reviewed', 'To qualify, the answer must be a date within the last 12 months.'),
    ('reg-lowest-judgement', 'To qualify, the answer must be anything but Inadequate.'),
    ('wf-supervision', 'To qualify, the answer must be anything but Less often than every 6 weeks.'),
    ('wf-dbs-enhanced', 'To qualify, the answer must be Yes.'),
    ('org-insolvency', 'To qualify, the answer must be No.'),
    ('fin-net-assets', 'To qualify, the answer must be at least £0; if it is not, the answer to ‘Will a parent '
                       'company or investor guarantee your obligations’ must be Yes.'),
    ('org-legal-name', ''),
    ('fin-accounts', ''),
])
def test_each_automatic_rule_of_the_scheme_reads_as_a_requirement(scheme, question_id, expected):
    question = scheme.questions[question_id]
    assert rules.rule_requirement(question, scheme.questions) == expected
    hint = rules.provider_hint(question, scheme.questions)
    assert hint.endswith(expected) and (not question.hint or hint.startswith(question.hint))


@pytest.mark.parametrize(('condition', 'words'), [
    (Condition('max', 10), 'no more than 10'),
    (Condition('greater_than', 2), 'more than 2'),
    (Condition('less_than', 5), 'less than 5'),
    (Condition('min_rows', 2), 'at least 2 rows'),
    (Condition('within_last_days', 14), 'a date within the last 14 days'),
    (Condition('within_last_days', 730), 'a date within the last 24 months'),
])
def test_other_operators_read_as_words(scheme, condition, words):
    assert rules.describe_condition(condition, scheme.questions['fin-largest-customer']) == words


def test_hint_follows_the_rule_data_when_a_scheme_changes_its_threshold():
    text = textwrap.dedent('''
        version: '9.9'
        title: Test
        lots: [{id: childrens-homes, label: Children's homes}]
        sections:
          - id: insurance
            title: Insurance
            questions:
              - {id: cover, type: money, label: Cover, hint: Per claim., rule: {auto: {min: 250000}}}
    ''')
    question = parse_scheme(text.encode(), '9.9.yaml').questions['cover']
    assert rules.provider_hint(question) == 'Per claim. To qualify, the answer must be at least £250,000.'


def test_no_hint_in_the_scheme_restates_its_rule_by_hand(scheme):
    """The threshold lives once, in the rule; a hand-written copy would go stale when the rule changes."""
    for question in scheme.questions.values():
        condition = question.rule.condition
        if condition is None or not question.hint:
            continue
        if question.type == 'money' and condition.value:
            assert format_money(condition.value) not in question.hint, question.id
        assert not re.search(r'\bat least\b', question.hint, re.I), question.id


def test_provider_sees_the_thresholds_as_hints_on_the_questions(client, login_as, organisation, provider):
    login_as(provider)
    application = start(client, organisation)
    insurance = client.get(section_url(application, 'insurance')).get_data(as_text=True)
    hint = re.search(r'<div id="ins-el-amount-hint" class="govuk-hint">\s*(.*?)\s*</div>', insurance, re.S)
    assert hint and hint.group(1) == 'To qualify, the answer must be at least £5,000,000.'
    assert 'aria-describedby="ins-el-amount-hint"' in insurance
    financial = client.get(section_url(application, 'financial')).get_data(as_text=True)
    assert 'To qualify, the answer must be a date within the last 18 months.' in financial
