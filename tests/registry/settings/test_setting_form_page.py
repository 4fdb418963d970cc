"""The setting form as a person meets it: every question group has its question, every label ticks its own box."""

from __future__ import annotations

import re

import pytest

from registry.accounts.models import Role
from tests.factories import make_user
from tests.house_checks import problems
from tests.registry.organisations.helpers import make_organisation


@pytest.fixture
def owner(app_ctx):
    return make_user(Role.PROVIDER)


def test_each_coverage_label_ticks_its_own_authority_and_every_group_has_its_question(client, login_as, owner):
    organisation = make_organisation(owner)
    login_as(owner)
    html = client.get(f'/organisations/{organisation.id}/settings/new').get_data(as_text=True)
    assert problems(html) == []
    boxes = dict(re.findall(r'<input class="govuk-checkboxes__input" id="([^"]+)" name="coverage" type="checkbox" '
                            r'value="(E\d{8})"', html))
    labels = dict((name.strip(), target) for target, name in re.findall(
        r'<label class="govuk-label govuk-checkboxes__label" for="(coverage[^"]*)">\s*([^<]+)</label>', html))
    assert len(boxes) == len(labels) == 153
    assert boxes[labels['Bedford']] == 'E06000055' and boxes[labels['Derbyshire']] == 'E10000007'
    legends = [re.sub(r'\s+', ' ', text).strip() for text in re.findall(r'<legend[^>]*>(.*?)</legend>', html, re.S)]
    for question in ('Type of setting', 'Which children can you care for?', 'Needs you can meet'):
        assert question in legends
