"""Setting verbs: add, change and confirm vacancies. Each is one transaction, audited and queued for re-indexing."""

from __future__ import annotations

from registry.audit.services import changes, record
from registry.db import unit_of_work, utcnow
from registry.errors import DomainError, PermissionDenied
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.geography.postcodes import PostcodeError, lookup
from registry.indexing import enqueue_settings
from registry.organisations import permissions
from registry.organisations.models import Organisation
from registry.settings.models import Setting, VacancyChange
from registry.settings.public_text import problem_message, public_text_findings
from registry.settings.taxonomy import (
    NEEDS,
    URN_PATTERN,
    Lot,
    ProvisionType,
    RegistrationStatus,
    SexAccepted,
    normalise_urn,
)

#: The fields a provider edits, in form order.
SETTING_FIELDS = (
    'provision_type', 'name', 'urn', 'address_line_1', 'address_line_2', 'town', 'postcode', 'places',
    'age_min', 'age_max', 'sex_accepted', 'needs', 'description', 'coverage',
)
#: Derived from the postcode; recorded in the audit trail when they change.
LOCATION_FIELDS = ('easting', 'northing', 'district_code', 'district_name', 'authority_code')

MAX_PLACES = 200
MAX_AGE = 25
MAX_DESCRIPTION = 2000


class SettingError(DomainError):
    """A setting breaks a rule; ``field`` names the form field to show it against."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def urn_problem(provision_type: ProvisionType, urn: str) -> str | None:
    """Why ``urn`` (already normalised) cannot be used for ``provision_type``, or None."""
    if provision_type.info.ofsted_registered:
        if not urn:
            return f'Enter the Ofsted URN: a {provision_type.label.lower()} must be registered with Ofsted'
        if not URN_PATTERN.match(urn):
            return 'Enter the URN as SC and 6 digits, like SC123456, or 7 digits, like 2654321'
    elif urn:
        return f'Leave the URN blank: a {provision_type.label.lower()} is not registered with Ofsted'
    return None


def _check_urn_unique(urn: str | None, organisation: Organisation, setting: Setting | None) -> None:
    if not urn:
        return
    query = db.select(Setting).where(Setting.urn == urn)
    if setting is not None and setting.id is not None:
        query = query.where(Setting.id != setting.id)
    other = db.session.scalar(query)
    if other is None:
        return
    if other.organisation_id == organisation.id:
        raise SettingError(f'URN {urn} is already used by your setting {other.name}', 'urn')
    # never say whose setting it is: that would disclose another provider's details
    raise SettingError(f'URN {urn} is already registered to a setting of another organisation. '
                       'Check the URN on your Ofsted registration certificate, or contact the registry team '
                       'if you think it is yours', 'urn')


def _prepare(data: dict, organisation: Organisation, setting: Setting | None = None) -> dict:
    """Check the rules and return the column values, including the geocoded location."""
    provision_type = ProvisionType(data['provision_type'])
    urn = normalise_urn(data.get('urn') or '')
    problem = urn_problem(provision_type, urn)
    if problem:
        raise SettingError(problem, 'urn')
    urn = urn or None
    _check_urn_unique(urn, organisation, setting)

    places, age_min, age_max = int(data['places']), int(data['age_min']), int(data['age_max'])
    if not 1 <= places <= MAX_PLACES:
        raise SettingError(f'Registered places must be between 1 and {MAX_PLACES}', 'places')
    if setting is not None and setting.vacancies > places:
        raise SettingError(f'Places cannot be fewer than the {setting.vacancies} vacancies you have. '
                           'Change the vacancies first', 'places')
    for field, value in (('age_min', age_min), ('age_max', age_max)):
        if not 0 <= value <= MAX_AGE:
            raise SettingError(f'Ages must be between 0 and {MAX_AGE}', field)
    if age_min > age_max:
        raise SettingError('The oldest age must be the same as or more than the youngest age', 'age_max')

    needs = list(dict.fromkeys(data.get('needs') or []))
    unknown = [need for need in needs if need not in NEEDS]
    if unknown:
        raise SettingError('Select needs from the list', 'needs')
    coverage: list[str] = []
    if provision_type.lot == Lot.FOSTERING:
        coverage = sorted(set(data.get('coverage') or []))
        known = set(db.session.scalars(db.select(LocalAuthority.code).where(LocalAuthority.code.in_(coverage))))
        if set(coverage) - known:
            raise SettingError('Select local authorities from the list', 'coverage')
    description = (data.get('description') or '').strip()
    if len(description) > MAX_DESCRIPTION:
        raise SettingError(f'Description must be {MAX_DESCRIPTION} characters or fewer', 'description')

    try:
        location = lookup(data.get('postcode') or '')
    except PostcodeError as exc:
        raise SettingError(str(exc), 'postcode') from None
    # a children's home's address is confidential, and its name and description are public
    findings = public_text_findings({'name': data.get('name'), 'description': description,
                                     'address_line_1': data.get('address_line_1'),
                                     'address_line_2': data.get('address_line_2'), 'postcode': location.postcode},
                                    confidential=provision_type.info.confidential_address)
    if findings:
        raise SettingError(problem_message(findings[0].field, findings), findings[0].field)
    return {
        'provision_type': provision_type,
        'name': (data.get('name') or '').strip(),
        'urn': urn,
        'address_line_1': (data.get('address_line_1') or '').strip(),
        'address_line_2': (data.get('address_line_2') or '').strip(),
        'town': (data.get('town') or '').strip(),
        'postcode': location.postcode,
        'easting': location.easting,
        'northing': location.northing,
        'district_code': location.district_code,
        'district_name': location.district_name,
        'authority_code': location.authority_code,
        'places': places,
        'age_min': age_min,
        'age_max': age_max,
        'sex_accepted': SexAccepted(data.get('sex_accepted') or SexAccepted.ANY),
        'needs': needs,
        'description': description,
        'coverage': coverage,
    }


def _registration_status(provision_type: ProvisionType, current: RegistrationStatus | None) -> RegistrationStatus:
    """Not-required for types Ofsted does not register; otherwise keep what Ofsted said, active by default."""
    if not provision_type.info.ofsted_registered:
        return RegistrationStatus.NOT_REQUIRED
    if current is None or current == RegistrationStatus.NOT_REQUIRED:
        return RegistrationStatus.ACTIVE
    return current


def create_setting(organisation: Organisation, data: dict, *, actor) -> Setting:
    """Add a setting to an organisation, geocoding its postcode.

    :param data: the fields in :data:`SETTING_FIELDS`.
    :raises PermissionDenied: if ``actor`` is not a member.
    :raises SettingError: if a rule is broken (``field`` says which).
    """
    if not permissions.can_edit_organisation(actor, organisation):
        raise PermissionDenied('You cannot add settings to this organisation')
    values = _prepare(data, organisation)
    with unit_of_work():
        setting = Setting(organisation_id=organisation.id, vacancies=0,
                          registration_status=_registration_status(values['provision_type'], None), **values)
        db.session.add(setting)
        db.session.flush()
        record('setting.create', setting, actor=actor,
               after={**values, 'registration_status': setting.registration_status})
        enqueue_settings([setting.id], 'setting created')
    return setting


def update_setting(setting: Setting, data: dict, *, actor) -> Setting:
    """Change a setting's details, recording the changed fields before and after.

    :raises PermissionDenied: if ``actor`` is not a member.
    :raises SettingError: if a rule is broken (``field`` says which).
    """
    if not permissions.can_edit_organisation(actor, setting.organisation):
        raise PermissionDenied('You cannot change this setting')
    values = _prepare(data, setting.organisation, setting)
    values['registration_status'] = _registration_status(values['provision_type'], setting.registration_status)
    before, after = changes(setting, [*SETTING_FIELDS, *LOCATION_FIELDS, 'registration_status'], values)
    if not after:
        return setting
    with unit_of_work():
        for field, value in after.items():
            setattr(setting, field, value)
        record('setting.update', setting, actor=actor, before=before, after=after)
        enqueue_settings([setting.id], 'setting updated')
    return setting


def update_vacancies(setting: Setting, vacancies: int, *, actor, note: str = '') -> VacancyChange:
    """Confirm the current number of vacancies, or set a new one; either way the confirmation time is now.

    :raises PermissionDenied: if ``actor`` is not a member.
    :raises SettingError: if ``vacancies`` is negative or more than the registered places.
    """
    if not permissions.can_edit_organisation(actor, setting.organisation):
        raise PermissionDenied('You cannot change this setting’s vacancies')
    vacancies = int(vacancies)
    if vacancies < 0:
        raise SettingError('Vacancies cannot be negative', 'vacancies')
    if vacancies > setting.places:
        raise SettingError(f'Vacancies cannot be more than the {setting.places} registered places', 'vacancies')
    previous = setting.vacancies
    now = utcnow()
    with unit_of_work():
        setting.vacancies = vacancies
        setting.vacancies_confirmed_at = now
        change = VacancyChange(setting_id=setting.id, vacancies=vacancies, changed_at=now,
                               changed_by_id=getattr(actor, 'id', None), note=(note or '').strip()[:200])
        db.session.add(change)
        action = 'setting.vacancies_confirm' if previous == vacancies else 'setting.vacancies_change'
        record(action, setting, actor=actor, reason=change.note, before={'vacancies': previous},
               after={'vacancies': vacancies, 'vacancies_confirmed_at': now})
        enqueue_settings([setting.id], 'vacancies confirmed' if previous == vacancies else 'vacancies changed')
    return change
