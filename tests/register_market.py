"""Entries from Ofsted's register that are not on the national list, placed where the register lets the service place
them: shared by the tests of distances to them (the placement finder, the commissioner search, the API and HSDS)."""

from __future__ import annotations

import search
from registry.extensions import db
from registry.ofsted.models import OfstedRegisterEntry
from registry.settings.taxonomy import ProvisionType, RegistrationStatus
from unlisted import services as unlisted_services
from unlisted.models import UnlistedSetting

LEEDS = 'E08000035'


def _register(urn: str, provision_type: ProvisionType, name: str, postcode: str) -> None:
    db.session.add(OfstedRegisterEntry(urn=urn, provision_type_text=provision_type.label, provision_type=provision_type,
                                       registration_status=RegistrationStatus.ACTIVE, name=name, town='Leeds',
                                       postcode=postcode, local_authority_name='Leeds', authority_code=LEEDS,
                                       owner_name='Unlisted Ltd', row_hash=urn * 8))


def add_leeds_register_market() -> dict[str, UnlistedSetting]:
    """A Leeds children's home (address redacted, so placed at Leeds' centre), a fostering agency whose postcode
    cannot be found (also at the centre) and one at LS2 8BH, indexed; by URN (SC500001 to SC500003)."""
    _register('SC500001', ProvisionType.CHILDRENS_HOME, 'REDACTED', '')
    _register('SC500002', ProvisionType.INDEPENDENT_FOSTERING_AGENCY, 'Lost Fostering', 'ZZ9 9ZZ')
    _register('SC500003', ProvisionType.INDEPENDENT_FOSTERING_AGENCY, 'Found Fostering', 'LS2 8BH')
    db.session.commit()
    unlisted_services.refresh_from_register()
    search.engine().reindex(search.build_entries())
    return {row.urn: row for row in db.session.scalars(db.select(UnlistedSetting))}
