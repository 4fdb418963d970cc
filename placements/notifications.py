"""Every email this package sends and every in-service notification, one function each.

Each event reaches its recipients through :func:`notifications.services.notify`, so it appears in their list at
``/notifications/`` (and the unread count) as well as by email. The email is this package's own, richer one
(``placements/templates/email/``) for people who want an email each time; people who chose a daily summary get
the event in their digest instead. An organisation with no members is still emailed at its contact address.

Neither emails nor notifications carry child details: they name the referral by its reference, the authority and
the setting, and ask the reader to sign in. All go through the outbox, in the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app, has_request_context, url_for
from sqlalchemy import select

from notifications import recipients
from notifications.events import register_event
from notifications.models import EmailFrequency, NotificationPreference
from notifications.services import notify
from notifications.standing import path_for
from placements.pricing import pounds
from registry.accounts.models import Role, User
from registry.extensions import db
from registry.notifications.services import queue_email
from registry.organisations.models import Organisation
from registry.templating import format_date

register_event('referral.new', 'New referral', 'New referral {reference} from {authority}',
               '{authority} asks about {settings}. Respond by {deadline}: make an offer or decline with a reason.')
register_event('referral.deadline', 'Referral response due', 'Referral {reference}: response due {deadline}',
               '{authority} is waiting for your answer about {setting}.')
register_event('referral.offer_received', 'Offer received', 'Offer for referral {reference} from {organisation}',
               '{organisation} offered a place at {setting}: {price} a week, available from {available_from}, '
               'offer valid until {valid_until}.')
register_event('referral.declined', 'Referral declined', 'Declined: referral {reference} by {organisation}',
               '{organisation} declined for {setting}: {reason}.')
register_event('referral.offer_accepted', 'Offer accepted', 'Offer accepted: referral {reference}',
               '{authority} accepted your offer for {setting}: placement {placement} starts on {start_date} at '
               '{price} a week. Confirm the setting\'s vacancies.')
register_event('referral.not_selected', 'Not selected', 'Referral {reference}: not selected',
               '{authority} placed the child with another provider, so {setting} was not selected. You do not need '
               'to hold the place any longer.')
register_event('referral.closed', 'Referral closed', 'Referral {reference} closed',
               '{authority} closed the referral without a placement. You do not need to hold a place for {setting}.')
register_event('placement.out_of_area', 'Out-of-area placement', 'Out-of-area placement into {host} by {home}',
               '{home} placed a child at {setting} ({provision_type}) from {start_date}.')
register_event('placement.ended', 'Placement ended', 'Placement {placement} ended',
               '{home} recorded that placement {placement} at {setting} ended on {ended_on} ({reason}). Update the '
               'setting\'s vacancies.')


def _tell(kind: str, subject_object, people: Iterable[User], context: dict, *, template: str, email_subject: str,
          fallback: Iterable[str] = (), **email_context) -> None:
    """One event to ``people``: in their notifications list, and by this package's email to those who want each
    email (the others get it in their daily summary). ``fallback`` addresses, with no account, get the email only.
    """
    people = list({user.id: user for user in people if user is not None and user.is_active_account}.values())
    daily = set(db.session.scalars(select(NotificationPreference.user_id).where(
        NotificationPreference.user_id.in_([user.id for user in people]),
        NotificationPreference.email_frequency == EmailFrequency.DAILY))) if people else set()
    for user in people:
        if user.id not in daily:
            queue_email(user.email, template, email_subject, **email_context)
    for address in fallback:
        queue_email(address, template, email_subject, **email_context)
    # notify lists it for everyone; those just emailed are not emailed again, the rest wait for their digest
    notify(kind, subject_object, people, context)


def link(endpoint: str, **values) -> str:
    """An absolute link for an email, built the same way from a request or a scheduled command."""
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context():
            path = url_for(endpoint, **values)
    return current_app.config['SERVER_BASE_URL'].rstrip('/') + path


def _referral_link(referral) -> str:
    return link('placements.view_referral', referral_id=referral.id)


def _vacancies_link(placement) -> str:
    return link('settings.update_vacancies', setting_id=placement.setting_id) if placement.setting_id else ''


def _provider_people(organisation_id: int | None) -> tuple[list[User], list[str]]:
    """(the organisation's active members, its contact address when it has none)."""
    if organisation_id is None:
        return [], []
    people = recipients.provider_members(organisation_id)
    if people:
        return people, []
    organisation = db.session.get(Organisation, organisation_id)
    return [], [organisation.contact_email] if organisation is not None and organisation.contact_email else []


def commissioner_addresses(authority_code: str) -> list[str]:
    """Every active commissioner of an authority."""
    return list(db.session.scalars(
        select(User.email).where(User.role == Role.COMMISSIONER, User.authority_code == authority_code,
                                 User.is_active_account.is_(True)).order_by(User.email)))


def referrers(referral) -> list[User]:
    """The officer who sent the referral, or (if they have left) the authority's commissioners."""
    user = referral.created_by
    if user is not None and user.is_active_account:
        return [user]
    return recipients.commissioners_of([referral.authority_code])


def _setting_name(response) -> str:
    return response.setting.name if response.setting is not None else 'your setting'


def _tell_provider(kind: str, subject_object, organisation_id: int | None, context: dict, **email) -> None:
    people, fallback = _provider_people(organisation_id)
    _tell(kind, subject_object, people, context, fallback=fallback, **email)


def email_new_referral(referral, organisation_id: int, responses: list) -> None:
    """Tell a provider that a referral asks about one or more of its settings."""
    settings = [response.setting.name for response in responses if response.setting is not None]
    _tell_provider('referral.new', referral, organisation_id,
                   {'reference': referral.reference, 'authority': referral.authority.name,
                    'settings': ', '.join(settings) or 'your settings',
                    'deadline': format_date(referral.response_deadline),
                    'link': path_for('placements.view_referral', referral_id=referral.id)},
                   template='referral-new',
                   email_subject=f'New referral {referral.reference} from {referral.authority.name}',
                   referral=referral, settings=settings, referral_link=_referral_link(referral))


def email_deadline_reminder(response) -> None:
    """Remind a provider that a referral's response deadline is close."""
    referral = response.referral
    _tell_provider('referral.deadline', referral, response.organisation_id,
                   {'reference': referral.reference, 'authority': referral.authority.name,
                    'setting': _setting_name(response), 'deadline': format_date(referral.response_deadline),
                    'link': path_for('placements.view_referral', referral_id=referral.id)},
                   template='referral-deadline',
                   email_subject=f'Referral {referral.reference}: response due {referral.response_deadline:%d %B %Y}',
                   referral=referral, response=response, referral_link=_referral_link(referral))


def email_response_received(response) -> None:
    """Tell the referring commissioner that a provider has offered or declined."""
    referral = response.referral
    offer = response.offer
    organisation = response.organisation.display_name if response.organisation else 'A provider'
    context = {'reference': referral.reference, 'organisation': organisation, 'setting': _setting_name(response),
               'link': path_for('placements.view_referral', referral_id=referral.id)}
    if offer is not None:
        kind, subject = 'referral.offer_received', f'Offer for referral {referral.reference}'
        context.update(price=pounds(offer.weekly_price_pence), available_from=format_date(offer.available_from),
                       valid_until=format_date(offer.valid_until))
    else:
        kind, subject = 'referral.declined', f'Declined: referral {referral.reference}'
        context['reason'] = response.decline_reason.label.lower() if response.decline_reason else 'no reason given'
    _tell(kind, referral, referrers(referral), context, template='referral-response', email_subject=subject,
          referral=referral, response=response, price=pounds(offer.weekly_price_pence) if offer else '',
          referral_link=_referral_link(referral))


def email_not_selected(response) -> None:
    """Tell a provider that the child was placed elsewhere."""
    referral = response.referral
    _tell_provider('referral.not_selected', referral, response.organisation_id,
                   {'reference': referral.reference, 'authority': referral.authority.name,
                    'setting': _setting_name(response),
                    'link': path_for('placements.view_referral', referral_id=referral.id)},
                   template='referral-not-selected', email_subject=f'Referral {referral.reference}: not selected',
                   referral=referral, response=response)


def email_offer_accepted(response, placement) -> None:
    """Tell the provider its offer was accepted, and ask it to confirm the setting's vacancies."""
    referral = response.referral
    _tell_provider('referral.offer_accepted', placement, response.organisation_id,
                   {'reference': referral.reference, 'authority': referral.authority.name,
                    'setting': _setting_name(response), 'placement': placement.reference,
                    'start_date': format_date(placement.start_date), 'price': pounds(placement.weekly_price_pence),
                    'link': path_for('placements.view_placement', placement_id=placement.id)},
                   template='referral-offer-accepted', email_subject=f'Offer accepted: referral {referral.reference}',
                   referral=referral, response=response, placement=placement,
                   price=pounds(placement.weekly_price_pence), vacancies_link=_vacancies_link(placement),
                   placement_link=link('placements.view_placement', placement_id=placement.id))


def email_referral_closed(response) -> None:
    """Tell a provider still waiting or offering that the referral was closed without a placement."""
    referral = response.referral
    _tell_provider('referral.closed', referral, response.organisation_id,
                   {'reference': referral.reference, 'authority': referral.authority.name,
                    'setting': _setting_name(response),
                    'link': path_for('placements.view_referral', referral_id=referral.id)},
                   template='referral-closed', email_subject=f'Referral {referral.reference} closed',
                   referral=referral, response=response)


def email_out_of_area_notice(placement) -> None:
    """Tell the host authority's commissioners that another authority placed a child in their area.

    No child details: the placing authority, the setting, the type of placement and the start date.
    """
    _tell('placement.out_of_area', placement, recipients.commissioners_of([placement.host_authority_code]),
          {'host': placement.host_authority.name, 'home': placement.home_authority.name,
           'setting': placement.setting.name if placement.setting else 'a setting',
           'provision_type': placement.provision_type.label, 'start_date': format_date(placement.start_date),
           'link': path_for('placements.list_placements', view='host')},
          template='placement-out-of-area',
          email_subject=f'Out-of-area placement into {placement.host_authority.name} by '
                        f'{placement.home_authority.name}',
          placement=placement, host_link=link('placements.list_placements', view='host'))


def email_placement_ended(placement) -> None:
    """Tell the provider the home authority recorded the end of a placement (and to update vacancies)."""
    _tell_provider('placement.ended', placement, placement.organisation_id,
                   {'placement': placement.reference, 'home': placement.home_authority.name,
                    'setting': placement.setting.name if placement.setting else 'your setting',
                    'ended_on': format_date(placement.ended_on),
                    'reason': placement.end_reason.label.lower() if placement.end_reason else '',
                    'link': path_for('placements.view_placement', placement_id=placement.id)},
                   template='placement-ended', email_subject=f'Placement {placement.reference} ended',
                   placement=placement, vacancies_link=_vacancies_link(placement))
