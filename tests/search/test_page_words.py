"""Words on the public directory pages: no literal "None", each place named once, pages that pass the house checks."""

from __future__ import annotations

import re

import pytest

from registry.extensions import db
from registry.settings.taxonomy import ProvisionType
from search.entries import build_entries
from search.sql_engine import SqlEngine
from tests.house_checks import problems


@pytest.fixture
def indexed(directory):
    SqlEngine().reindex(build_entries())
    return directory


def _text(html: str) -> str:
    main = html[html.index('<main'):html.index('</main>')]
    return re.sub(r'\s+', ' ', re.sub(r'<[^>]+>', ' ', main))


def test_a_profile_with_no_company_number_website_or_urn_says_so_in_words(client, indexed):
    organisation = indexed.leeds_fostering.organisation
    organisation.company_number = ''
    organisation.charity_number = organisation.website = ''
    # a type Ofsted does not register: one it registers is listed only with a URN verified against the register
    indexed.leeds_fostering.urn = ''
    indexed.leeds_fostering.provision_type = ProvisionType.LOCAL_AUTHORITY_FOSTERING
    db.session.commit()
    SqlEngine().reindex(build_entries())
    html = client.get(f'/directory/providers/{organisation.id}').get_data(as_text=True)
    text = _text(html)
    assert 'None' not in text.replace('None at present', '')
    assert 'Not registered with Companies House' in text and 'No website given' in text
    assert problems(html) == []


def test_a_district_with_its_authoritys_name_is_named_once(client, indexed):
    profile = _text(client.get(f'/directory/providers/{indexed.leeds_fostering.organisation_id}').get_data(
        as_text=True))
    directory = _text(client.get('/directory?q=Leeds+Fostering').get_data(as_text=True))
    for text in (profile, directory):
        assert 'Leeds' in text and 'Leeds, Leeds' not in text
