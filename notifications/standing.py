"""News about a provider's standing: who is told when a qualification, a registration or a listing changes.

Recipients, and nobody else: the provider's members; the commissioners of every authority and consortium that
accepted the provider for the lot concerned (a consortium's acceptance reaches its member authorities' commissioners
and the holders of its role); the national board where it must act (an Ofsted registration stopped or a judgement
lowered); and the owners of saved shortlists holding a setting that stopped being listed.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select

from notifications import recipients
from notifications.services import notify
from registry.extensions import db
from registry.notifications.signals import setting_standing_changed
from registry.settings.taxonomy import PROVISION_TYPES, Judgement, RegistrationStatus

#: Qualification actions people are told about, and the event each is.
QUALIFICATION_EVENTS = {
    'suspend': 'qualification.suspended',
    'revoke': 'qualification.revoked',
    'expire': 'qualification.expired',
    'reinstate': 'qualification.reinstated',
}
#: Actions that take the provider's settings for the lot out of the directory.
DELISTING_ACTIONS = {'suspend': 'national qualification suspended', 'revoke': 'national qualification revoked',
                     'expire': 'national qualification expired'}


def path_for(endpoint: str, **values) -> str:
    """A path inside the service for a link (works in the CLI too, without a request)."""
    if endpoint not in current_app.view_functions:
        return ''
    return current_app.url_map.bind('localhost').build(endpoint, values)


def _provider_and_authorities(kind: str, subject, organisation, lot, context: dict, *, board: bool = False) -> None:
    """One event told to the provider's members, every authority and consortium that accepted it for ``lot``, and the
    board."""
    notify(kind, subject, recipients.provider_members(organisation.id),
           {**context, 'link': path_for('qualification.organisation_qualifications',
                                        organisation_id=organisation.id)})
    notify(kind, subject, recipients.commissioners_who_accepted(organisation.id, lot),
           {**context, 'link': path_for('workspace.authority_view')})
    if board:
        notify(kind, subject, recipients.board(), {**context, 'link': path_for('qualification.board_qualifications')})


def qualification_changed(qualification, action: str, reason: str = '') -> None:
    """Tell people a qualification was suspended, revoked, expired or reinstated (in the caller's transaction)."""
    kind = QUALIFICATION_EVENTS.get(str(action))
    if kind is None:
        return
    organisation = qualification.organisation
    context = {'organisation': organisation.display_name, 'lot': qualification.lot_label,
               'reason': f'Reason: {reason.strip()}' if reason and reason.strip() else ''}
    _provider_and_authorities(kind, qualification, organisation, qualification.lot, context)
    if str(action) in DELISTING_ACTIONS:
        from registry.settings.models import Setting

        types = [ptype.value for ptype, info in PROVISION_TYPES.items() if info.lot == qualification.lot]
        settings = db.session.scalars(select(Setting).where(Setting.organisation_id == organisation.id,
                                                            Setting.provision_type.in_(types))).all()
        listing_removed(settings, DELISTING_ACTIONS[str(action)])


def listing_removed(settings: Iterable, reason: str) -> None:
    """Tell the owner of every saved shortlist holding one of ``settings`` that it is no longer listed."""
    from workspace.models import Shortlist, ShortlistEntry

    by_id = {setting.id: setting for setting in settings}
    if not by_id:
        return
    rows = db.session.execute(
        select(ShortlistEntry, Shortlist).join(Shortlist, Shortlist.id == ShortlistEntry.shortlist_id)
        .where(ShortlistEntry.setting_id.in_(list(by_id))).order_by(Shortlist.id, ShortlistEntry.rank)).all()
    for entry, shortlist in rows:
        setting = by_id[entry.setting_id]
        notify('shortlist.listing_removed', shortlist, [shortlist.owner],
               {'setting': entry.snapshot.get('setting_name') or setting.name,
                'organisation': setting.organisation.display_name, 'shortlist': shortlist.name, 'reason': reason,
                'link': path_for('workspace.view_shortlist', shortlist_id=shortlist.id)})


def _setting_changed(setting, *, change: str, before, after) -> None:
    """Receiver of :data:`registry.notifications.signals.setting_standing_changed` (Ofsted's register)."""
    organisation = setting.organisation
    context = {'organisation': organisation.display_name, 'setting': setting.name, 'urn': setting.urn or ''}
    if change == 'registration-stopped':
        status = RegistrationStatus(after).label.lower()
        _provider_and_authorities('ofsted.registration_stopped', setting, organisation, setting.provision_type.lot,
                                  {**context, 'status': status}, board=True)
        listing_removed([setting], f'Ofsted registration {status}')
    elif change == 'judgement-lowered':
        _provider_and_authorities('ofsted.judgement_lowered', setting, organisation, setting.provision_type.lot,
                                  {**context, 'judgement': Judgement(after).label,
                                   'previous': Judgement(before).label}, board=True)


def local_application_submitted(local_application) -> None:
    """Tell the people who decide a new local application: the commissioners of the authority, or those holding
    the consortium's role for an application to a consortium's list."""
    requirements = local_application.requirements
    if local_application.consortium_id is not None:
        deciders = recipients.consortium_commissioners([local_application.consortium_id])
        list_name = f"{local_application.owner.name}'s list"
    else:
        deciders = recipients.commissioners_of([local_application.authority_code])
        list_name = 'your local list'
    notify('local_application.submitted', local_application, deciders,
           {'organisation': local_application.organisation.display_name, 'lot': local_application.lot_label,
            'owner': local_application.owner.name, 'list_name': list_name,
            'version': requirements.version if requirements else '',
            'link': path_for('qualification.local_application', local_application_id=local_application.id)})


def requirements_published(requirements) -> None:
    """Tell providers on, or applying to, the owner's list (an authority's or a consortium's) for the lot that a new
    version was published."""
    from qualification.models import LocalApplication, LocalApplicationStatus

    owned = (LocalApplication.consortium_id == requirements.consortium_id if requirements.is_consortium
             else LocalApplication.authority_code == requirements.authority_code)
    applications = db.session.scalars(select(LocalApplication).where(
        owned, LocalApplication.lot == requirements.lot,
        LocalApplication.status.in_([LocalApplicationStatus.SUBMITTED, LocalApplicationStatus.ACCEPTED]))
        .order_by(LocalApplication.organisation_id)).all()
    told: set[int] = set()
    for application in applications:
        if application.organisation_id in told:
            continue
        told.add(application.organisation_id)
        notify('local_requirements.published', requirements, recipients.provider_members(application.organisation_id),
               {'owner': requirements.owner.name, 'lot': requirements.lot_label,
                'version': requirements.version, 'organisation': application.organisation.display_name,
                'link': path_for('qualification.organisation_qualifications',
                                 organisation_id=application.organisation_id)})


def connect() -> None:
    """Listen to the core's signals (idempotent: blinker keeps one connection per receiver)."""
    setting_standing_changed.connect(_setting_changed)
