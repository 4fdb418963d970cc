"""Provision types, lots, Ofsted judgements and the needs taxonomy: the shared vocabulary as data."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Lot(enum.StrEnum):
    """Service categories a provider qualifies for nationally."""

    CHILDRENS_HOMES = 'childrens-homes'
    FOSTERING = 'fostering'
    ASSESSMENT = 'assessment-services'
    #: Supported accommodation for 16 and 17 year olds (registered by Ofsted since 2023): the 2026.2 scheme's lot.
    SUPPORTED_ACCOMMODATION = 'supported-accommodation'

    @property
    def label(self) -> str:
        return {'childrens-homes': "Children's homes", 'fostering': 'Fostering',
                'assessment-services': 'Assessment services',
                'supported-accommodation': 'Supported accommodation (16 and 17 year olds)'}[self.value]


@dataclass(frozen=True)
class ProvisionTypeInfo:
    label: str
    lot: Lot
    #: Registered with Ofsted, so a URN is required and registration must be active to be listed.
    ofsted_registered: bool
    #: Ofsted redacts the address: only the district and authority are ever public.
    confidential_address: bool
    #: Ofsted's name for the type in its register, for matching imports.
    ofsted_names: tuple[str, ...] = ()


class ProvisionType(enum.StrEnum):
    """What kind of setting this is."""

    CHILDRENS_HOME = 'childrens-home'
    SECURE_CHILDRENS_HOME = 'secure-childrens-home'
    INDEPENDENT_FOSTERING_AGENCY = 'independent-fostering-agency'
    LOCAL_AUTHORITY_FOSTERING = 'local-authority-fostering'
    RESIDENTIAL_FAMILY_CENTRE = 'residential-family-centre'
    ASSESSMENT_SERVICE = 'assessment-service'
    SUPPORTED_ACCOMMODATION = 'supported-accommodation'

    @property
    def info(self) -> ProvisionTypeInfo:
        return PROVISION_TYPES[self]

    @property
    def label(self) -> str:
        return self.info.label

    @property
    def lot(self) -> Lot:
        return self.info.lot


PROVISION_TYPES: dict[ProvisionType, ProvisionTypeInfo] = {
    ProvisionType.CHILDRENS_HOME: ProvisionTypeInfo(
        "Children's home", Lot.CHILDRENS_HOMES, True, True,
        ("Children's home", "Children's Home", "Residential special school (registered as a children's home)")),
    ProvisionType.SECURE_CHILDRENS_HOME: ProvisionTypeInfo(
        "Secure children's home", Lot.CHILDRENS_HOMES, True, True, ("Secure children's home",)),
    ProvisionType.INDEPENDENT_FOSTERING_AGENCY: ProvisionTypeInfo(
        'Independent fostering agency', Lot.FOSTERING, True, False, ('Independent Fostering Agency',)),
    ProvisionType.LOCAL_AUTHORITY_FOSTERING: ProvisionTypeInfo(
        'Local authority fostering service', Lot.FOSTERING, False, False),
    ProvisionType.RESIDENTIAL_FAMILY_CENTRE: ProvisionTypeInfo(
        'Residential family centre', Lot.ASSESSMENT, True, False, ('Residential Family Centre',)),
    ProvisionType.ASSESSMENT_SERVICE: ProvisionTypeInfo(
        'Parenting or specialist assessment service', Lot.ASSESSMENT, False, False),
    # Ofsted redacts every supported accommodation address in its register (young people live there, often
    # alone), so the directory treats the addresses as confidential exactly as it does children's homes'.
    ProvisionType.SUPPORTED_ACCOMMODATION: ProvisionTypeInfo(
        'Supported accommodation (16 and 17 year olds)', Lot.SUPPORTED_ACCOMMODATION, True, True,
        ('Supported Accommodation',)),
}

#: Types whose registered places Ofsted's register leaves empty (fostering agencies) or does not hold at all (the
#: types it does not register): their places are "not published", never 0 (the market pages and the capacity page).
PLACES_NOT_PUBLISHED = frozenset({ProvisionType.INDEPENDENT_FOSTERING_AGENCY.value} | {
    kind.value for kind in ProvisionType if not kind.info.ofsted_registered})
#: A registered-places cell for one of :data:`PLACES_NOT_PUBLISHED` (as written to CSV; pages capitalise it).
NOT_PUBLISHED = 'not published'
#: Said under every table or file holding a :data:`NOT_PUBLISHED` cell.
PLACES_NOTE = 'Ofsted publishes no places for fostering agencies.'


class Judgement(enum.StrEnum):
    """Ofsted's overall judgement, best first."""

    OUTSTANDING = 'outstanding'
    GOOD = 'good'
    REQUIRES_IMPROVEMENT = 'requires-improvement'
    INADEQUATE = 'inadequate'

    @property
    def label(self) -> str:
        return {'outstanding': 'Outstanding', 'good': 'Good',
                'requires-improvement': 'Requires improvement to be good',
                'inadequate': 'Inadequate'}[self.value]

    @property
    def rank(self) -> int:
        """4 for outstanding down to 1 for inadequate, so "at least good" is ``rank >= 3``."""
        return {'outstanding': 4, 'good': 3, 'requires-improvement': 2, 'inadequate': 1}[self.value]

    @classmethod
    def from_ofsted(cls, text: str) -> Judgement | None:
        """Parse Ofsted's wording ("Requires improvement to be good"); None for blank or unknown."""
        cleaned = (text or '').strip().lower()
        for member in cls:
            if cleaned in {member.value, member.label.lower()}:
                return member
        if cleaned.startswith('requires improvement'):
            return cls.REQUIRES_IMPROVEMENT
        return None


class RegistrationStatus(enum.StrEnum):
    """A setting's registration with Ofsted."""

    ACTIVE = 'active'
    SUSPENDED = 'suspended'
    CANCELLED = 'cancelled'
    RESIGNED = 'resigned'
    NOT_REQUIRED = 'not-required'

    @property
    def label(self) -> str:
        return {'active': 'Active', 'suspended': 'Suspended', 'cancelled': 'Cancelled',
                'resigned': 'Resigned', 'not-required': 'Not registered with Ofsted (not required)'}[self.value]


class SexAccepted(enum.StrEnum):
    """Which children a setting can care for."""

    ANY = 'any'
    FEMALE = 'female'
    MALE = 'male'

    @property
    def label(self) -> str:
        return {'any': 'Any', 'female': 'Girls only', 'male': 'Boys only'}[self.value]


#: Needs a setting can meet, with common definitions so that every authority searches the same words.
NEEDS: dict[str, str] = {
    'emotional-behavioural': 'Emotional and behavioural difficulties',
    'mental-health': 'Mental health needs',
    'learning-disability': 'Learning disabilities',
    'physical-disability': 'Physical disabilities',
    'autism': 'Autism',
    'complex-health': 'Complex health needs',
    'child-sexual-exploitation': 'Risk of child sexual exploitation',
    'child-criminal-exploitation': 'Risk of criminal exploitation or county lines',
    'substance-misuse': 'Substance misuse',
    'self-harm': 'Self-harm',
    'harmful-sexual-behaviour': 'Harmful sexual behaviour',
    'unaccompanied-asylum-seeking': 'Unaccompanied asylum-seeking children',
    'sibling-groups': 'Sibling groups',
    'parent-and-child': 'Parent and child',
    'therapeutic-care': 'Therapeutic care',
    'education-on-site': 'Education on site',
    'remand-or-custody': 'Young people on remand or leaving custody',
    'emergency': 'Emergency placements (same day)',
    'short-breaks': 'Short breaks',
    'step-down': 'Step-down from secure or hospital',
}

#: Ofsted URNs: ``SC`` and six digits, or seven digits for registrations since 2020.
URN_PATTERN = re.compile(r'^(SC\d{6}|\d{7})$')


def normalise_urn(raw: str) -> str:
    """Upper-case and strip spaces from a URN as typed."""
    return re.sub(r'\s+', '', raw or '').upper()
