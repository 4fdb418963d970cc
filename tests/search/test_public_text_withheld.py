"""No children's home street or postcode reaches a public page, the API or the index through any field, even when
the text was put straight into the database; ``flask registry check-public-text`` finds such texts."""

from __future__ import annotations

import csv
import re

import pytest
from sqlalchemy import select

from registry.accounts.models import Role
from registry.extensions import db
from registry.indexing import ReindexRequest
from registry.organisations.models import MemberRole, Membership
from registry.settings.taxonomy import Lot, ProvisionType
from search.models import SearchEntry, SearchVocabulary
from tests.factories import make_user, register_with_ofsted
from tests.search.conftest import make_organisation, make_setting, qualify

#: A real Kirkstall postcode; the homes' streets are made up.
POSTCODE = 'LS5 3BT'
#: Ways the secrets could show up in a page or a JSON document.
SECRETS = re.compile(r'kirkstall|LS5\s*3BT|LS5 3\b|14 Abbey', re.I)


@pytest.fixture
def homes(app, app_ctx):
    """Three listed children's homes written straight to the database (no form, no service, no outbox):
    one whose description gives its street and postcode, one whose name is its street, and one that is fine."""
    organisation = make_organisation('Kirkdale Care Ltd')
    qualify(organisation, Lot.CHILDRENS_HOMES)
    leaky = make_setting(organisation, 'Willow House', ProvisionType.CHILDRENS_HOME, POSTCODE,
                         description='A warm home at 12 Kirkstall Road, LS5 3BT. Ask for Flat 2 when you visit.')
    named = make_setting(organisation, 'Abbey Walk', ProvisionType.CHILDRENS_HOME, POSTCODE,
                         description='A small home for two children.')
    fine = make_setting(organisation, 'Oak House', ProvisionType.CHILDRENS_HOME, POSTCODE,
                        description='A therapeutic home for three young people with autism.')
    leaky.address_line_1 = '12 Kirkstall Road'
    register_with_ofsted(leaky, urn='SC555001')
    named.address_line_1 = '14 Abbey Walk'
    db.session.commit()
    result = app.test_cli_runner().invoke(args=['search', 'reindex'])
    assert result.exit_code == 0, result.output
    return organisation, leaky, named, fine


PUBLIC_PAGES = ['/directory', '/directory?authority=E08000035', '/directory?q=home&page_size=100',
                '/directory?postcode=LS5+3BT&radius=25', '/directory/providers/{organisation}',
                '/api/v1/settings?page_size=100', '/api/v1/settings?postcode=LS5+3BT&radius=25',
                '/api/v1/settings/{leaky}', '/api/v1/settings/{named}', '/api/v1/providers/{organisation}',
                '/api/v1/hsds/services']


def test_no_public_page_or_api_response_carries_a_homes_street_or_postcode(client, homes):
    organisation, leaky, named, fine = homes
    seen = ''
    for template in PUBLIC_PAGES:
        url = template.format(organisation=organisation.id, leaky=leaky.id, named=named.id)
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        if 'postcode=LS5' in url:  # the page repeats the searcher's own postcode back to them
            body = body.replace('LS5 3BT', '').replace('LS5+3BT', '').replace('LS53BT', '')
        found = SECRETS.search(body)
        assert found is None, (url, body[max(0, found.start() - 200):found.end() + 200])
        seen += body
    # every home stays listed: only the text that gave the address away is withheld
    assert 'Oak House' in seen and 'A therapeutic home for three young people' in seen
    assert 'A small home for two children' in seen and "Children's home (name withheld)" in seen
    assert f'"id": {leaky.id}' in seen or f'"id":{leaky.id}' in seen


@pytest.mark.parametrize('words', ['Kirkstall', 'kirkstall road', '"LS5 3BT"', 'Abbey Walk', 'Flat 2'])
def test_searching_for_a_homes_street_or_postcode_finds_nothing(client, homes, words):
    response = client.get('/api/v1/settings', query_string={'q': words})
    assert response.status_code == 200
    assert response.get_json()['results'] == []


def test_the_index_itself_holds_no_street_or_postcode_of_a_home(homes):
    for entry in db.session.scalars(select(SearchEntry)):
        assert SECRETS.search(entry.doc) is None and SECRETS.search(entry.body) is None
        assert SECRETS.search(entry.name) is None
    assert not db.session.scalars(select(SearchVocabulary.term)
                                  .where(SearchVocabulary.term.in_(['kirkstall', 'abbey']))).all()


def test_the_provider_sees_why_and_the_description_returns_once_fixed(app, client, login_as, homes):
    organisation, leaky, named, fine = homes
    owner = make_user(Role.PROVIDER)
    db.session.add(Membership(user=owner, organisation=organisation, role=MemberRole.OWNER))
    db.session.commit()
    login_as(owner)
    page = client.get(f'/settings/{leaky.id}').get_data(as_text=True)
    assert "The directory does not show this home's description" in page
    assert '‘12 Kirkstall Road’ is a house number and street' in page and '‘LS5 3BT’ is a postcode' in page
    page = client.get(f'/settings/{named.id}').get_data(as_text=True)
    assert "does not show this home's name" in page
    response = client.post(f'/settings/{leaky.id}/edit', data={
        'provision_type': 'childrens-home', 'name': 'Willow House', 'urn': 'SC555001',
        'address_line_1': '12 Kirkstall Road', 'address_line_2': '', 'town': 'Leeds', 'postcode': POSTCODE,
        'places': '4', 'age_min': '0', 'age_max': '17', 'sex_accepted': 'any',
        'description': 'A warm home in north-west Leeds.'})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    api = client.get(f'/api/v1/settings/{leaky.id}').get_json()
    assert api['description'] == 'A warm home in north-west Leeds.'


def test_check_public_text_reports_the_homes_and_requeues_them(app, homes, tmp_path):
    organisation, leaky, named, fine = homes
    report = tmp_path / 'public-text.csv'
    result = app.test_cli_runner().invoke(args=['registry', 'check-public-text', '--csv', str(report)])
    assert result.exit_code == 0, result.output
    assert "Checked the name and description of 3 children's homes." in result.output
    assert '2 give their address away' in result.output
    assert f'setting {leaky.id}  Willow House (Kirkdale Care Ltd, Leeds): description: ‘12 Kirkstall Road’ ' \
           '(a house number and street); description: ‘LS5 3BT’ (a postcode); description: ‘Flat 2’' in result.output
    assert f'setting {named.id}  Abbey Walk (Kirkdale Care Ltd, Leeds): name: ‘Abbey Walk’ (the home’s street)' \
        in result.output
    assert f'setting {fine.id} ' not in result.output
    queued = db.session.scalars(select(ReindexRequest.setting_id).where(
        ReindexRequest.reason == 'public text withheld')).all()
    assert sorted(queued) == sorted([leaky.id, named.id])
    with report.open(encoding='utf-8') as handle:
        rows = list(csv.DictReader(handle))
    assert [(int(row['setting_id']), row['field'], row['kind'], row['found']) for row in rows] == [
        (leaky.id, 'description', 'house-number', '12 Kirkstall Road'),
        (leaky.id, 'description', 'postcode', 'LS5 3BT'), (leaky.id, 'description', 'flat', 'Flat 2'),
        (named.id, 'name', 'street', 'Abbey Walk')]


def test_check_public_text_says_so_when_every_home_is_clean(app, app_ctx):
    organisation = make_organisation('Clean Homes Ltd')
    make_setting(organisation, 'Oak House', ProvisionType.CHILDRENS_HOME, POSTCODE, description='A calm home.')
    make_setting(organisation, 'Leeds Fostering', ProvisionType.INDEPENDENT_FOSTERING_AGENCY, POSTCODE,
                 description='Visit us at 2 Example Road, LS5 3BT.')  # public address: not checked
    db.session.commit()
    result = app.test_cli_runner().invoke(args=['registry', 'check-public-text'])
    assert result.exit_code == 0
    assert "Checked the name and description of 1 children's homes." in result.output
    assert 'None gives its address away.' in result.output
