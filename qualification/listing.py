"""The listing rule, in one place: which settings appear in the directory.

A setting is listed while its organisation holds an active, in-date qualification for the lot that
covers the setting's provision type, the setting is not suspended, and (for types Ofsted
registers) its URN is verified against the latest imported register: present in the latest release,
of the same provision type, registered as active, in the authority of the setting's postcode.

Ofsted is the gate even before any register has been imported: then no setting of a type Ofsted
registers is listed (an invented URN must never be), so a new deployment imports the register first
(``flask registry import-ofsted``; the demo loads the 2025 release). The same test, in Python and
with the reasons in words, is ``registry.ofsted.services.verify_setting``.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from sqlalchemy import Select, and_, bindparam, case, exists, or_, select, union

from qualification.models import LocalApplication, LocalApplicationStatus, Qualification, QualificationStatus
from registry.extensions import db
from registry.settings.models import Setting
from registry.settings.taxonomy import PROVISION_TYPES, RegistrationStatus


def _lot_of_setting():
    """SQL expression: the lot that covers ``Setting.provision_type``."""
    return case({ptype.value: info.lot.value for ptype, info in PROVISION_TYPES.items()},
                value=Setting.provision_type)


def _ofsted_registered_types() -> list[str]:
    return [ptype.value for ptype, info in PROVISION_TYPES.items() if info.ofsted_registered]


def listed_condition(today: date | None = None):
    """A SQL condition on ``Setting`` that is true exactly for listed settings."""
    return _listed_on(today or date.today())


@lru_cache(maxsize=4)
def _listed_on(today: date):
    """The condition for one day, made once: every index write builds its entry through it, and making it took
    about a millisecond (SQL expressions are immutable, so one can be shared)."""
    # imported here: registry.ofsted's views import this module (capacity), so a top-level import is circular
    from registry.ofsted.models import OfstedRegisterEntry

    qualified = exists().where(
        Qualification.organisation_id == Setting.organisation_id,
        Qualification.lot == _lot_of_setting(),
        Qualification.status == QualificationStatus.ACTIVE,
        Qualification.valid_from <= today,
        Qualification.valid_to >= today,
    )
    verified = exists().where(
        OfstedRegisterEntry.urn == Setting.urn,
        OfstedRegisterEntry.provision_type == Setting.provision_type,
        OfstedRegisterEntry.registration_status == RegistrationStatus.ACTIVE,
        OfstedRegisterEntry.removed_as_at.is_(None),
        OfstedRegisterEntry.authority_code == Setting.authority_code,
    )
    registered = or_(Setting.provision_type.not_in(_ofsted_registered_types()),
                     and_(Setting.registration_status == RegistrationStatus.ACTIVE, verified))
    return and_(qualified, Setting.suspended_at.is_(None), registered)


def listed_settings_query(today: date | None = None) -> Select:
    """``select(Setting)`` restricted to listed settings."""
    return select(Setting).where(listed_condition(today))


def is_listed(setting: Setting, today: date | None = None) -> bool:
    """Whether one setting is listed right now."""
    return db.session.scalar(select(Setting.id).where(Setting.id == setting.id, listed_condition(today))) is not None


def accepted_authority_codes(organisation_id: int, lot=None) -> list[str]:
    """Authorities that have accepted the organisation onto their local list (optionally for one lot): directly, or
    through a consortium they belong to (one consortium acceptance counts for every member)."""
    parameters = {'organisation_id': organisation_id} | ({} if lot is None else {'lot': lot})
    return sorted(db.session.scalars(_accepted_codes(lot is not None), parameters))


@lru_cache(maxsize=2)
def _accepted_codes(by_lot: bool):
    """The union behind :func:`accepted_authority_codes`, made once (every index write runs it)."""
    from consortia.models import ConsortiumMember

    accepted = (LocalApplication.organisation_id == bindparam('organisation_id'),
                LocalApplication.status == LocalApplicationStatus.ACCEPTED,
                *((LocalApplication.lot == bindparam('lot'),) if by_lot else ()))
    direct = select(LocalApplication.authority_code).where(*accepted, LocalApplication.authority_code.is_not(None))
    through = select(ConsortiumMember.authority_code).join(
        LocalApplication, LocalApplication.consortium_id == ConsortiumMember.consortium_id).where(*accepted)
    return union(direct, through)


def unlisted_reasons(setting_ids, today: date | None = None) -> dict[int, str]:
    """For each of ``setting_ids`` no longer listed, why (``national qualification suspended``, ``Ofsted
    registration cancelled``...); listed settings are left out. Saved shortlists flag their entries with it."""
    today = today or date.today()
    ids = {int(setting_id) for setting_id in setting_ids}
    if not ids:
        return {}
    listed = set(db.session.scalars(select(Setting.id).where(Setting.id.in_(ids), listed_condition(today))))
    missing = ids - listed
    if not missing:
        return {}
    settings = {setting.id: setting for setting in db.session.scalars(select(Setting).where(Setting.id.in_(missing)))}
    reasons = {}
    for setting_id in sorted(missing):
        setting = settings.get(setting_id)
        if setting is None:
            reasons[setting_id] = 'removed from the directory'
        elif setting.suspended_at is not None:
            reasons[setting_id] = 'setting suspended'
        elif setting.provision_type.info.ofsted_registered and setting.registration_status != RegistrationStatus.ACTIVE:
            status = RegistrationStatus(setting.registration_status) if setting.registration_status else None
            reasons[setting_id] = f'Ofsted registration {status.label.lower()}' if status else \
                'no active Ofsted registration'
        else:
            latest = db.session.scalar(select(Qualification).where(
                Qualification.organisation_id == setting.organisation_id,
                Qualification.lot == setting.provision_type.lot).order_by(Qualification.id.desc()).limit(1))
            if latest is None:
                reasons[setting_id] = 'no national qualification'
            elif latest.status != QualificationStatus.ACTIVE:
                reasons[setting_id] = f'national qualification {QualificationStatus(latest.status).value}'
            elif latest.valid_to < today:
                reasons[setting_id] = 'national qualification expired'
            else:
                reasons[setting_id] = 'not currently listed'
    return reasons


def acceptance_layers(authority_code: str | None) -> dict[tuple[int, str], list[str]]:
    """For one authority: (organisation id, lot) to the names of the layers that accepted the organisation for its
    authority, the authority itself first, then each consortium (``Accepted by Leeds``, ``Accepted by West Yorkshire
    consortium``). Pages say which layer accepted with it; two queries for the whole page."""
    from consortia.models import Consortium, ConsortiumMember
    from registry.geography.models import LocalAuthority

    if not authority_code:
        return {}
    layers: dict[tuple[int, str], list[str]] = {}
    direct = db.session.execute(select(LocalApplication.organisation_id, LocalApplication.lot, LocalAuthority.name)
                                .join(LocalAuthority, LocalAuthority.code == LocalApplication.authority_code)
                                .where(LocalApplication.authority_code == authority_code,
                                       LocalApplication.status == LocalApplicationStatus.ACCEPTED))
    through = db.session.execute(
        select(LocalApplication.organisation_id, LocalApplication.lot, Consortium.name)
        .join(Consortium, Consortium.id == LocalApplication.consortium_id)
        .join(ConsortiumMember, ConsortiumMember.consortium_id == Consortium.id)
        .where(ConsortiumMember.authority_code == authority_code,
               LocalApplication.status == LocalApplicationStatus.ACCEPTED).order_by(Consortium.name))
    for organisation_id, lot, name in [*direct, *through]:
        names = layers.setdefault((organisation_id, getattr(lot, 'value', lot)), [])
        if name not in names:
            names.append(name)
    return layers
