"""Building demo organisations and settings from the register."""

from __future__ import annotations

from sqlalchemy import func, select

from qualification.listing import is_listed
from registry.extensions import db
from registry.ofsted.demo import ADDRESS_WITHHELD, authority_postcodes, build_directory_from_register
from registry.ofsted.services import import_register
from registry.organisations.models import Organisation
from registry.settings.models import Setting
from registry.settings.taxonomy import ProvisionType
from tests.registry.ofsted.conftest import AS_AT, register_row


def test_operator_can_seed_the_directory_from_the_register_twice_without_duplicates(app_ctx, register_file):
    import_register(register_file([
        register_row('SC100001', owner='Acme Care Ltd'),
        register_row('SC100002', owner='Acme Care Ltd', authority='Leeds'),
        register_row('SC100003', owner='Hope Fostering Ltd', provision_type='Independent Fostering Agency',
                     name='Hope Fostering', postcode='SW1A 2AA', places=''),
        register_row('SC100004', owner='School Trust', provision_type='Boarding School'),
        register_row('SC100005', owner='', authority='Kent'),
    ]), as_at=AS_AT)

    first = build_directory_from_register()
    second = build_directory_from_register()

    assert (first.organisations_created, first.settings_created, first.skipped) == (2, 3, 1)
    assert (second.organisations_created, second.organisations_reused, second.settings_created,
            second.settings_existing) == (0, 2, 0, 3)
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 2
    home = db.session.scalars(select(Setting).where(Setting.urn == 'SC100002')).one()
    assert home.provision_type == ProvisionType.CHILDRENS_HOME
    assert home.name == "Children's home in Leeds (URN SC100002)"
    assert home.address_line_1 == ADDRESS_WITHHELD and home.town == 'Leeds'
    assert home.authority_code == 'E08000035' and home.postcode == authority_postcodes()['E08000035'].postcode
    agency = db.session.scalars(select(Setting).where(Setting.urn == 'SC100003')).one()
    assert (agency.name, agency.postcode, agency.authority_code) == ('Hope Fostering', 'SW1A 2AA', 'E09000033')
    assert is_listed(home) and is_listed(agency)


def test_every_authority_has_a_postcode_inside_it():
    from registry.geography.postcodes import lookup

    places = authority_postcodes()
    assert len(places) == 153
    sample = [places[code] for code in ('E09000033', 'E08000035', 'E10000016', 'E06000001')]
    assert all(lookup(place.postcode).authority_code == place.authority_code for place in sample)
