"""No address in a children's home's public text: the checks themselves, the setting form and the service guard."""

from __future__ import annotations

import pytest

from registry.accounts.models import Role
from registry.extensions import db
from registry.settings import services
from registry.settings.models import Setting
from registry.settings.public_text import find_address, public_text_findings, streets_of
from tests.factories import make_user
from tests.registry.organisations.helpers import make_organisation, make_setting, setting_form

STREETS = ('Kirkstall Road',)
POSTCODE = 'LS5 3BT'


@pytest.mark.parametrize(('text', 'expected'), [
    ('A home in LS5 3BT with a garden', [('postcode', 'LS5 3BT')]),
    ('Our postcode is ls53bt', [('postcode', 'ls53bt')]),
    ('In the LS5 3 area of Leeds', [('postcode', 'LS5 3')]),
    ('Another home at LS6 2AB and one in M1 1AE', [('postcode', 'LS6 2AB'), ('postcode', 'M1 1AE')]),
    ('We are at 12 Kirkstall Road, Leeds', [('house-number', '12 Kirkstall Road')]),
    ('Find us on kirkstall rd.', [('street', 'kirkstall rd')]),
    ('On Kirkstall Road itself', [('street', 'Kirkstall Road')]),
    ('Flat 3, Abbey House', [('flat', 'Flat 3')]),
    ('Apartment 12 upstairs', [('flat', 'Apartment 12')]),
    ("Our sister home is at 12a The Grove and 14-16 St Mark's Close",
     [('house-number', '12a The Grove'), ('house-number', "14-16 St Mark's Close")]),
    ('We are 5 minutes from the M62 and 2 miles from junction 2 of the M1', []),
    ('Just off the M62 5 miles out', []),
    ('Staff hold a Level 3 Diploma; KS2 3 pupils attend; ages 8 to 17', []),
    ('4 children near the park, 2 minutes from the road', []),
    ('Rated Good in 2019. Park View school is nearby', []),
    ('A home for 4 Young People; fees from £5,000 Park Lane prices aside', []),
    ('Call 0113 496 0000 or quote URN SC123456', []),
    ('Near Kirkstall Abbey and the Kirkstall Forge development', []),
    ('', []),
])
def test_find_address_finds_postcodes_streets_house_numbers_and_flats(text, expected):
    assert find_address(text, streets=STREETS, postcode=POSTCODE) == expected


def test_a_homes_own_outcode_and_sector_needs_its_space_so_a_motorway_is_not_mistaken_for_it():
    assert find_address('Close to the M62', postcode='M6 2AB') == []
    assert find_address('In the M6 2 area', postcode='M6 2AB') == [('postcode', 'M6 2')]


@pytest.mark.parametrize(('lines', 'streets'), [
    (('12 Kirkstall Road', ''), ('Kirkstall Road',)),
    (('Flat 3, 12 Kirkstall Road', ''), ('Kirkstall Road',)),
    (('Willow House', 'Kirkstall Rd'), ('Kirkstall Rd',)),
    (('Willow House', ''), ()),
    (('12 Broadway', ''), ('Broadway',)),
])
def test_streets_of_an_address_leave_out_house_names(lines, streets):
    assert streets_of(*lines) == streets


def test_only_confidential_homes_are_checked():
    values = {'name': 'Oak', 'description': 'At 12 Kirkstall Road, LS5 3BT', 'address_line_1': '12 Kirkstall Road',
              'postcode': POSTCODE}
    assert public_text_findings(values, confidential=False) == []
    assert [finding.kind for finding in public_text_findings(values, confidential=True)] == \
        ['house-number', 'postcode']


@pytest.fixture
def owner(app_ctx):
    return make_user(Role.PROVIDER)


@pytest.fixture
def organisation(owner):
    return make_organisation(owner)


def test_provider_cannot_put_a_childrens_homes_address_in_its_description_or_name(client, login_as, owner,
                                                                                   organisation):
    login_as(owner)
    data = setting_form(name='Kirkstall Road House', address_line_1='12 Kirkstall Road', postcode=POSTCODE,
                        description='A warm home at 12 Kirkstall Road, LS5 3BT, near the park.')
    response = client.post(f'/organisations/{organisation.id}/settings/new', data=data)
    body = response.get_data(as_text=True)
    assert 'There is a problem' in body and 'href="#description"' in body and 'href="#name"' in body
    assert ('Description must not include the home’s address: remove ‘12 Kirkstall Road’ (a house number and '
            'street) and ‘LS5 3BT’ (a postcode)') in body
    assert 'Name must not include the home’s address: remove ‘Kirkstall Road’ (the home’s street)' in body
    assert 'this text is shown publicly' in body
    assert db.session.scalar(db.select(db.func.count()).select_from(Setting)) == 0


def test_a_fostering_branch_may_give_its_address_because_it_is_public(client, login_as, owner, organisation):
    login_as(owner)
    data = setting_form(provision_type='independent-fostering-agency', name='Leeds branch',
                        description='Visit us at 1 Park Row, LS1 4DY.', coverage=['E08000035'])
    assert client.post(f'/organisations/{organisation.id}/settings/new', data=data).status_code == 302


def test_an_existing_home_with_its_address_in_the_description_cannot_be_saved_until_fixed(client, login_as, owner,
                                                                                         organisation):
    setting = make_setting(organisation, owner, address_line_1='12 Kirkstall Road', postcode=POSTCODE)
    setting.description = 'Find us on Kirkstall Road.'  # saved before the check existed
    db.session.commit()
    login_as(owner)
    page = client.get(f'/settings/{setting.id}').get_data(as_text=True)
    assert 'id="public-text-withheld"' in page and "does not show this home's description" in page
    assert '‘Kirkstall Road’ is the home’s street' in page
    data = setting_form(address_line_1='12 Kirkstall Road', postcode=POSTCODE, places='5',
                        description='Find us on Kirkstall Road.')
    response = client.post(f'/settings/{setting.id}/edit', data=data)
    assert 'Description must not include the home’s address' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Setting, setting.id).places == 4
    data['description'] = 'A calm home in north-west Leeds.'
    assert client.post(f'/settings/{setting.id}/edit', data=data).status_code == 302
    assert 'public-text-withheld' not in client.get(f'/settings/{setting.id}').get_data(as_text=True)


def test_the_service_refuses_an_address_in_public_text_whatever_calls_it(owner, organisation):
    data = setting_form(address_line_1='Flat 2, 7 Abbey Walk', postcode=POSTCODE, description='Flat 2 is ours.')
    data.update(places=4, age_min=8, age_max=17)
    with pytest.raises(services.SettingError, match='Description must not include') as refused:
        services.create_setting(organisation, data, actor=owner)
    assert refused.value.field == 'description'
    data.update(description='A calm home.', name='The Abbey Walk home')
    with pytest.raises(services.SettingError, match='Name must not include'):
        services.create_setting(organisation, data, actor=owner)
