"""Every email this package sends, one function each, so each can later be routed through a notification service.

Emails never carry child details: they name the referral by its reference, the authority and the setting, and
ask the reader to sign in. All go through :func:`registry.notifications.services.queue_email` (the outbox), in
the caller's unit of work.
"""

from __future__ import annotations

from flask import current_app, has_request_context, url_for
from sqlalchemy import select

from placements.pricing import pounds
from registry.accounts.models import Role, User
from registry.extensions import db
from registry.notifications.services import queue_email
from registry.organisations.models import Membership, Organisation


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


def provider_addresses(organisation_id: int | None) -> list[str]:
    """The organisation's active members, or its contact address when it has none."""
    if organisation_id is None:
        return []
    addresses = list(db.session.scalars(
        select(User.email).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation_id, User.is_active_account.is_(True))
        .order_by(User.email)))
    if not addresses:
        organisation = db.session.get(Organisation, organisation_id)
        if organisation is not None and organisation.contact_email:
            addresses = [organisation.contact_email]
    return addresses


def commissioner_addresses(authority_code: str) -> list[str]:
    """Every active commissioner of an authority."""
    return list(db.session.scalars(
        select(User.email).where(User.role == Role.COMMISSIONER, User.authority_code == authority_code,
                                 User.is_active_account.is_(True)).order_by(User.email)))


def referrer_addresses(referral) -> list[str]:
    """The officer who sent the referral, or (if they have left) the authority's commissioners."""
    user = referral.created_by
    if user is not None and user.is_active_account:
        return [user.email]
    return commissioner_addresses(referral.authority_code)


def email_new_referral(referral, organisation_id: int, responses: list) -> None:
    """Tell a provider that a referral asks about one or more of its settings."""
    settings = [response.setting.name for response in responses if response.setting is not None]
    for address in provider_addresses(organisation_id):
        queue_email(address, 'referral-new', f'New referral {referral.reference} from {referral.authority.name}',
                    referral=referral, settings=settings, referral_link=_referral_link(referral))


def email_deadline_reminder(response) -> None:
    """Remind a provider that a referral's response deadline is close."""
    referral = response.referral
    for address in provider_addresses(response.organisation_id):
        queue_email(address, 'referral-deadline', f'Referral {referral.reference}: response due '
                    f'{referral.response_deadline:%d %B %Y}', referral=referral, response=response,
                    referral_link=_referral_link(referral))


def email_response_received(response) -> None:
    """Tell the referring commissioner that a provider has offered or declined."""
    referral = response.referral
    offered = response.offer is not None
    subject = (f'Offer for referral {referral.reference}' if offered
               else f'Declined: referral {referral.reference}')
    for address in referrer_addresses(referral):
        queue_email(address, 'referral-response', subject, referral=referral, response=response,
                    price=pounds(response.offer.weekly_price_pence) if offered else '',
                    referral_link=_referral_link(referral))


def email_not_selected(response) -> None:
    """Tell a provider that the child was placed elsewhere."""
    referral = response.referral
    for address in provider_addresses(response.organisation_id):
        queue_email(address, 'referral-not-selected', f'Referral {referral.reference}: not selected',
                    referral=referral, response=response)


def email_offer_accepted(response, placement) -> None:
    """Tell the provider its offer was accepted, and ask it to confirm the setting's vacancies."""
    referral = response.referral
    for address in provider_addresses(response.organisation_id):
        queue_email(address, 'referral-offer-accepted', f'Offer accepted: referral {referral.reference}',
                    referral=referral, response=response, placement=placement,
                    price=pounds(placement.weekly_price_pence), vacancies_link=_vacancies_link(placement),
                    placement_link=link('placements.view_placement', placement_id=placement.id))


def email_referral_closed(response) -> None:
    """Tell a provider still waiting or offering that the referral was closed without a placement."""
    referral = response.referral
    for address in provider_addresses(response.organisation_id):
        queue_email(address, 'referral-closed', f'Referral {referral.reference} closed', referral=referral,
                    response=response)


def email_out_of_area_notice(placement) -> None:
    """Tell the host authority's commissioners that another authority placed a child in their area.

    No child details: the placing authority, the setting, the type of placement and the start date.
    """
    for address in commissioner_addresses(placement.host_authority_code):
        queue_email(address, 'placement-out-of-area',
                    f'Out-of-area placement into {placement.host_authority.name} by {placement.home_authority.name}',
                    placement=placement, host_link=link('placements.list_placements', view='host'))


def email_placement_ended(placement) -> None:
    """Tell the provider the home authority recorded the end of a placement (and to update vacancies)."""
    for address in provider_addresses(placement.organisation_id):
        queue_email(address, 'placement-ended', f'Placement {placement.reference} ended', placement=placement,
                    vacancies_link=_vacancies_link(placement))
