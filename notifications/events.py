"""The events people are told about: what each is called, and the words of its title and text.

A producer adds its own with :func:`register_event`. Titles and texts are ``str.format`` templates filled from the
context given to :func:`notifications.services.notify`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """One kind of news."""

    kind: str
    #: For the list page's filter and the digest's headings.
    label: str
    title: str
    body: str = ''


EVENTS: dict[str, Event] = {}


def register_event(kind: str, label: str, title: str, body: str = '') -> Event:
    """Declare an event kind (once; declaring it again with other words is a mistake and raises)."""
    event = Event(kind, label, title, body)
    existing = EVENTS.get(kind)
    if existing is not None and existing != event:
        raise ValueError(f'Notification event {kind!r} is already declared differently')
    EVENTS[kind] = event
    return event


for _action, _label in (('suspended', 'suspended'), ('revoked', 'revoked'), ('expired', 'expired'),
                        ('reinstated', 'reinstated')):
    register_event(f'qualification.{_action}', f'Qualification {_label}',
                   '{organisation}: national qualification for {lot} ' + _label,
                   "{organisation}'s national qualification for {lot} was " + _label + '. {reason}')

register_event('ofsted.registration_stopped', 'Ofsted registration stopped',
               '{organisation}: Ofsted registration {status} for {setting}',
               "Ofsted's register shows {setting} (URN {urn}) as {status}. It has been removed from the directory "
               'until its registration is active again.')
register_event('ofsted.judgement_lowered', 'Ofsted judgement lowered',
               '{organisation}: Ofsted judgement for {setting} lowered to {judgement}',
               "Ofsted's latest judgement for {setting} (URN {urn}) is {judgement}; it was {previous}.")
register_event('local_application.submitted', 'New local or consortium application',
               '{organisation} applied to join {list_name} for {lot}',
               '{organisation} answered the local requirements of {owner} (version {version}) for {lot} and is '
               'waiting for your decision.')
register_event('local_requirements.published', 'New local requirements',
               '{owner} published new local requirements for {lot}',
               '{owner} published version {version} of its local requirements for {lot}. {organisation} is on '
               'or applying to that list: check whether the new version asks for anything more.')
register_event('shortlist.listing_removed', 'Shortlisted setting no longer listed',
               '{setting} on your shortlist "{shortlist}" is no longer listed',
               '{setting} ({organisation}) is no longer listed in the directory: {reason}. Your shortlist '
               '"{shortlist}" marks it.')
