"""Forms: the standard referral, an offer, a decline, accepting an offer, closing a referral, ending a placement."""

from __future__ import annotations

import re
from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, NumberRange, Optional, StopValidation, ValidationError

from placements.identifiers import identifier_problem
from placements.pricing import pounds as format_pounds
from placements.services import (
    MAX_NOTES_LENGTH,
    MAX_SETTINGS,
    MAX_WEEKLY_PRICE_PENCE,
    NOTE_FIELDS,
    OFFER_AHEAD_DAYS,
    offer_date_problems,
)
from placements.states import CloseReason, DeclineReason, EndReason
from registry.inputs import max_length
from registry.organisations.forms import WholeNumberField, number_required, strip
from registry.settings.taxonomy import NEEDS, ProvisionType
from workspace.forms import GovDateField, check_home_authority, check_home_postcode, home_authority_choices

_MONEY = re.compile(r'^\d{1,12}(\.\d{1,2})?$')
#: The most a pounds field takes unless it says otherwise (what an integer column of pence holds comfortably).
MAX_POUNDS_PENCE = 999_999_99


class PoundsField(StringField):
    """An amount in pounds typed as "1250" or "£1,250.50"; ``data`` is whole pence (an int) or None."""

    widget = GovTextInput()

    def __init__(self, *args, maximum_pence: int = MAX_POUNDS_PENCE, **kwargs):
        super().__init__(*args, **kwargs)
        self.maximum_pence = maximum_pence

    def process_formdata(self, valuelist):
        self.raw = (valuelist[0] if valuelist else '') or ''
        cleaned = self.raw.strip().lstrip('£').replace(',', '').strip()
        if not cleaned:
            self.data = None
            return
        # errors name the field as GOV.UK does, without the label's "(optional)"
        name = re.sub(r'\s*\(optional\)$', '', self.label.text)
        if not _MONEY.match(cleaned):
            self.data = None
            raise ValueError(f'{name} must be an amount in pounds, like 1250 or 1250.50')
        pounds, _dot, pence = cleaned.partition('.')
        self.data = int(pounds) * 100 + int((pence + '00')[:2])
        if self.data > self.maximum_pence:
            self.data = None
            raise ValueError(f'{name} must be {format_pounds(self.maximum_pence)} or less')

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ''
        return f'{self.data // 100}' if self.data % 100 == 0 else f'{self.data / 100:.2f}'


def _amount_required(message: str):
    def check(form, field) -> None:
        if field.data is None and not field.process_errors:
            raise StopValidation(message)

    return check


def _date_required(message: str):
    def check(form, field) -> None:
        if field.data is None and not field.process_errors:
            raise StopValidation(message)

    return check


def _no_identifiers(label: str):
    """Validator: refuse free text holding a date of birth, NHS number or full postcode."""

    def check(form, field) -> None:
        problem = identifier_problem(field.data or '', label)
        if problem:
            raise ValidationError(problem)

    return check


def _notes(label: str, description: str) -> TextAreaField:
    return TextAreaField(label, widget=GovCharacterCount(), filters=[strip], description=description,
                         validators=[Optional(), max_length(MAX_NOTES_LENGTH, label), _no_identifiers(label)])


class ReferralForm(FlaskForm):
    """The standard referral: the child without identity, the settings to approach and the deadline."""

    settings = SelectMultipleField('Settings to send the referral to', widget=GovCheckboxesInput(), coerce=int,
                                   description=f'Untick any you do not want to approach (up to {MAX_SETTINGS})',
                                   choices=[], validate_choice=False,
                                   invalid_value_message='Select settings from the list')
    age = WholeNumberField("Child's age", invalid_value_message="Enter the child's age as a whole number, like 12",
                           validators=[number_required("Enter the child's age"),
                                       NumberRange(0, 25, "Child's age must be between 0 and 25")])
    sex = RadioField("Child's sex", widget=GovRadioInput(), choices=[('female', 'Female'), ('male', 'Male')],
                     validators=[DataRequired("Select the child's sex")],
                     invalid_choice_message="Select the child's sex")
    provision_type = RadioField('Type of placement', widget=GovRadioInput(),
                                choices=[(kind.value, kind.label) for kind in ProvisionType],
                                validators=[DataRequired('Select the type of placement')],
                                invalid_choice_message='Select the type of placement')
    needs = SelectMultipleField('Needs the placement must meet', widget=GovCheckboxesInput(),
                                description='Select all that apply', choices=list(NEEDS.items()),
                                invalid_choice_message='Select needs from the list')
    children = WholeNumberField('How many children need placing together?',
                                description='1 for a child placed alone; up to 6 for brothers and sisters',
                                invalid_value_message='Enter the number of children as a whole number, like 1',
                                validators=[number_required('Enter how many children need placing together'),
                                            NumberRange(1, 6, 'Enter how many children need placing together, '
                                                              'from 1 to 6')])
    start_date = GovDateField('Placement start date', description='For example, 27 3 2027',
                              validators=[_date_required('Enter the placement start date')])
    expected_duration_weeks = WholeNumberField(
        'Expected duration in weeks', description='Leave blank if not known; for a long-term placement, enter 52',
        invalid_value_message='Enter the expected duration as a whole number of weeks, like 12',
        validators=[Optional(), NumberRange(1, 520, 'Expected duration must be between 1 and 520 weeks')])
    origin_postcode = StringField("Child's home postcode", widget=GovTextInput(), filters=[strip],
                                  description='Distances are measured from here. Providers see only the district, '
                                              'like LS1',
                                  validators=[Optional(), max_length(10, "Child's home postcode")])
    origin_authority = SelectField('Or home local authority', widget=GovSelect(), choices=[], validate_choice=False,
                                   description='If you do not give a postcode, distances are measured from the '
                                               'centre of the authority')
    max_distance = WholeNumberField('Maximum distance from home in miles', description='Leave blank for no limit',
                                    invalid_value_message='Enter the maximum distance as a whole number of miles',
                                    validators=[Optional(), NumberRange(1, 300, 'Maximum distance must be between '
                                                                                '1 and 300 miles')])
    location_notes = _notes(NOTE_FIELDS['location_notes'],
                            'For example, areas the child must be kept away from, or must stay near')
    education_notes = _notes(NOTE_FIELDS['education_notes'],
                             'For example, school year, an education, health and care plan, or education on site')
    risk_notes = _notes(NOTE_FIELDS['risk_notes'],
                        'For example, going missing, exploitation, self-harm, or behaviour that challenges')
    other_notes = _notes(NOTE_FIELDS['other_notes'], 'Anything else a provider needs to decide whether to offer')
    response_deadline = GovDateField('Respond by', description='Providers are reminded the day before',
                                     validators=[_date_required('Enter the date providers must respond by')])
    indicative_budget = PoundsField('Indicative weekly budget (optional)',
                                    description='Providers see this. Leave blank if you do not want to give one',
                                    validators=[Optional()])
    submit = SubmitField('Send referral', widget=GovSubmitInput())

    def __init__(self, *args, setting_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.settings.choices = list(setting_choices)
        self.origin_authority.choices = home_authority_choices()

    def validate_settings(self, field) -> None:
        offered = {value for value, _label in field.choices}
        if not field.data:
            raise ValidationError('Select at least one setting to send the referral to')
        if any(value not in offered for value in field.data):
            raise ValidationError('Select settings from the list')
        if len(field.data) > MAX_SETTINGS:
            raise ValidationError(f'Select {MAX_SETTINGS} settings or fewer')

    def validate_origin_postcode(self, field) -> None:
        check_home_postcode(field)

    def validate_origin_authority(self, field) -> None:
        check_home_authority(field, self.origin_postcode)

    def validate_start_date(self, field) -> None:
        if field.data is not None and field.data < date.today():
            raise ValidationError('Placement start date must be today or in the future')

    def validate_response_deadline(self, field) -> None:
        if field.data is None:
            return
        if field.data < date.today():
            raise ValidationError('Respond by date must be today or in the future')
        if self.start_date.data is not None and field.data > self.start_date.data:
            raise ValidationError('Respond by date must be on or before the placement start date')

    def validate_indicative_budget(self, field) -> None:
        if field.data is not None and field.data <= 0:
            raise ValidationError('Indicative weekly budget must be more than £0')

    def details_kwargs(self) -> dict:
        """The answers as keyword arguments for :class:`placements.services.ReferralDetails`."""
        return {
            'age': self.age.data, 'sex': self.sex.data, 'provision_type': self.provision_type.data,
            'needs': list(self.needs.data or []), 'children': self.children.data,
            'start_date': self.start_date.data, 'response_deadline': self.response_deadline.data,
            'expected_duration_weeks': self.expected_duration_weeks.data,
            'max_distance_miles': self.max_distance.data, 'origin_postcode': self.origin_postcode.data or '',
            'origin_authority': '' if self.origin_postcode.data else (self.origin_authority.data or ''),
            'location_notes': self.location_notes.data or '', 'education_notes': self.education_notes.data or '',
            'risk_notes': self.risk_notes.data or '', 'other_notes': self.other_notes.data or '',
            'indicative_budget_pence': self.indicative_budget.data,
        }


class OfferForm(FlaskForm):
    """Offer a place at the setting."""

    weekly_price = PoundsField('Weekly price', description='The full weekly fee, in pounds',
                               maximum_pence=MAX_WEEKLY_PRICE_PENCE,
                               validators=[_amount_required('Enter the weekly price')])
    available_from = GovDateField('Available from', description='The first day the child could move in',
                                  validators=[_date_required('Enter the date the place is available from')])
    valid_until = GovDateField('Offer valid until',
                               description='The last day the commissioner can accept this offer, at most '
                                           f'{OFFER_AHEAD_DAYS} days from today',
                               validators=[_date_required('Enter the date the offer is valid until')])
    conditions = TextAreaField('Conditions (optional)', widget=GovCharacterCount(), filters=[strip],
                               description='For example, a transition plan, a matching visit, or extra staffing '
                                           'included in the price. Do not include the child’s name',
                               validators=[Optional(), max_length(MAX_NOTES_LENGTH, 'Conditions'),
                                           _no_identifiers('Conditions')])
    submit = SubmitField('Send offer', widget=GovSubmitInput())

    def validate_weekly_price(self, field) -> None:
        if field.data is not None and field.data <= 0:
            raise ValidationError('Weekly price must be more than £0')

    def validate_available_from(self, field) -> None:
        self._check_dates(field)

    def validate_valid_until(self, field) -> None:
        self._check_dates(field)

    def _check_dates(self, field) -> None:
        problem = offer_date_problems(self.available_from.data, self.valid_until.data, date.today()).get(field.name)
        if problem:
            raise ValidationError(problem)


class DeclineForm(FlaskForm):
    """Decline with a coded reason."""

    reason = RadioField('Why are you declining?', widget=GovRadioInput(),
                        choices=[(reason.value, reason.label) for reason in DeclineReason],
                        validators=[DataRequired('Select why you are declining')],
                        invalid_choice_message='Select why you are declining')
    notes = TextAreaField('Notes', widget=GovCharacterCount(), filters=[strip],
                          description='Required if you chose another reason. Do not include the child’s name',
                          validators=[Optional(), max_length(MAX_NOTES_LENGTH, 'Notes'), _no_identifiers('Notes')])
    submit = SubmitField('Decline referral', widget=GovSubmitInput())

    def validate_notes(self, field) -> None:
        if self.reason.data == DeclineReason.OTHER.value and not field.data:
            raise ValidationError('Say why you are declining')


class AcceptForm(FlaskForm):
    """Accept an offer: the placement's start and planned end."""

    start_date = GovDateField('Placement start date', validators=[_date_required('Enter the placement start date')])
    planned_end_date = GovDateField('Planned end date (optional)', description='Leave blank if not yet planned')
    submit = SubmitField('Accept offer and record placement', widget=GovSubmitInput())


class CloseForm(FlaskForm):
    """Close a referral without a placement."""

    reason = RadioField('Why are you closing this referral?', widget=GovRadioInput(),
                        choices=[(reason.value, reason.label) for reason in CloseReason],
                        validators=[DataRequired('Select why you are closing the referral')],
                        invalid_choice_message='Select why you are closing the referral')
    submit = SubmitField('Close referral', widget=GovSubmitInput())


class EndForm(FlaskForm):
    """Record the end of a placement."""

    reason = RadioField('Why did the placement end?', widget=GovRadioInput(),
                        choices=[(reason.value, reason.label) for reason in EndReason],
                        validators=[DataRequired('Select why the placement ended')],
                        invalid_choice_message='Select why the placement ended')
    ended_on = GovDateField('Date the placement ended', description='For example, 27 3 2027',
                            validators=[_date_required('Enter the date the placement ended')])
    submit = SubmitField('Record end of placement', widget=GovSubmitInput())
