"""Automatic rules and follow-up triggers, evaluated without Flask or a database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from qualification.rules import evaluate, evaluate_all, matches, triggered_ids
from qualification.schemes import Condition, load_scheme

TODAY = date(2026, 6, 1)


@pytest.fixture(scope='module')
def scheme():
    return load_scheme('2026.1')


@pytest.mark.parametrize(('question_id', 'answer', 'expected'), [
    ('ins-el-amount', 5_000_000_00, 'pass'),
    ('ins-el-amount', 4_999_999_99, 'fail'),
    ('ins-pl-amount', 10_000_000_00, 'pass'),
    ('ins-pi-amount', 1_000_000_00, 'pass'),
    ('ins-pi-amount', 999_999_00, 'fail'),
    ('ins-el-amount', None, 'fail'),
    ('ins-el-expiry', '2026-06-02', 'pass'),
    ('ins-el-expiry', '2026-06-01', 'fail'),
    ('ins-el-expiry', 'not a date', 'fail'),
    ('reg-lowest-judgement', 'good', 'pass'),
    ('reg-lowest-judgement', 'requires-improvement', 'pass'),
    ('reg-lowest-judgement', 'inadequate', 'fail'),
    ('wf-dbs-enhanced', 'yes', 'pass'),
    ('wf-dbs-enhanced', 'no', 'fail'),
    ('org-insolvency', 'no', 'pass'),
    ('org-insolvency', 'yes', 'fail'),
    ('wf-supervision', 'monthly', 'pass'),
    ('wf-supervision', 'less-often', 'fail'),
    ('fin-year-end', (TODAY - timedelta(days=300)).isoformat(), 'pass'),
    ('fin-year-end', (TODAY - timedelta(days=600)).isoformat(), 'fail'),
    ('org-legal-name', 'Anything Ltd', 'assessor'),
    ('sg-policy', None, 'assessor'),
    ('fin-largest-customer', 90, 'assessor'),
])
def test_rule_outcome_for_each_answer(scheme, question_id, answer, expected):
    assert evaluate(scheme.questions[question_id], answer, today=TODAY) == expected


@pytest.mark.parametrize(('net_assets', 'guarantee', 'expected'), [
    (100, None, 'pass'),
    (0, None, 'pass'),
    (-100, None, 'fail'),
    (-100, 'no', 'fail'),
    (-100, 'yes', 'pass'),
])
def test_negative_net_assets_pass_only_with_a_parent_guarantee(scheme, net_assets, guarantee, expected):
    answers = {'fin-net-assets': net_assets, 'fin-parent-guarantee': guarantee}
    assert evaluate(scheme.questions['fin-net-assets'], net_assets, answers) == expected


def test_follow_ups_are_shown_only_when_triggered(scheme):
    lots = ['childrens-homes']
    shown = triggered_ids(scheme, {'fin-net-assets': 500}, lots)
    assert 'fin-parent-guarantee' not in shown and 'fin-guarantee-letter' not in shown
    shown = triggered_ids(scheme, {'fin-net-assets': -500, 'fin-parent-guarantee': 'yes'}, lots)
    assert {'fin-parent-guarantee', 'fin-guarantee-letter'} <= shown
    # a follow-up of a follow-up disappears when its parent does
    shown = triggered_ids(scheme, {'fin-net-assets': 500, 'fin-parent-guarantee': 'yes'}, lots)
    assert 'fin-guarantee-letter' not in shown
    # lot-specific questions appear only for their lot
    assert 'ch-places' in shown and 'fos-carers' not in shown
    assert 'as-rfc-registered' not in triggered_ids(scheme, {'as-service-types': ['specialist']},
                                                    ['assessment-services'])
    assert 'as-rfc-registered' in triggered_ids(scheme, {'as-service-types': ['residential-family-centre']},
                                                ['assessment-services'])


def test_evaluate_all_covers_shown_questions_only(scheme):
    outcomes = evaluate_all(scheme, ['fostering'], {'wf-employs-social-workers': 'yes', 'wf-swe-registered': 'no'})
    assert outcomes['wf-swe-registered'] == 'fail'
    assert 'ch-places' not in outcomes and outcomes['fos-out-of-hours'] == 'fail'


@pytest.mark.parametrize(('condition', 'value', 'expected'), [
    (Condition('contains', 'a'), ['a', 'b'], True),
    (Condition('not_contains', 'a'), ['b'], True),
    (Condition('less_than', 0), -1, True),
    (Condition('greater_than', 0), 0, False),
    (Condition('max', 10), 10, True),
    (Condition('in', ('x', 'y')), 'y', True),
    (Condition('not_equals', 'yes'), 'no', True),
    (Condition('min_rows', 2), [{}], False),
    (Condition('min', 5), 'five', False),
    (Condition('equals', 'yes'), None, False),
])
def test_condition_operators(condition, value, expected):
    assert matches(condition, value, TODAY) is expected
