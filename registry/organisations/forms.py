"""Forms for an organisation's details, inviting colleagues and changing their roles."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import IntegerField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Optional, StopValidation, ValidationError

from registry.geography.postcodes import PostcodeError, normalise
from registry.inputs import max_length
from registry.organisations.models import LegalForm, MemberRole, Sector

COMPANY_NUMBER = re.compile(r'^(\d{8}|[A-Z]{2}\d{6})$')
CHARITY_NUMBER = re.compile(r'^(\d{6,8}|SC\d{6})$')
PHONE_CHARACTERS = re.compile(r'^\+?[\d ]+$')


def strip(value):
    """Filter: trim surrounding whitespace from text input."""
    return value.strip() if isinstance(value, str) else value


def compact_upper(value):
    """Filter: remove all spaces and upper-case (reference numbers as people type them)."""
    return re.sub(r'\s+', '', value).upper() if isinstance(value, str) else value


def add_form_error(form: FlaskForm, field_name: str, message: str) -> None:
    """Show a rule broken in a service as an inline error and in the error summary."""
    field = form[field_name]
    field.errors = [*field.errors, message]
    # Form.errors is cached after validate(); forget it so the summary includes this error.
    form._errors = None


class WholeNumberField(IntegerField):
    """An integer typed into a GOV.UK text input; blank is no value (so InputRequired says what to enter)."""

    widget = GovTextInput()

    def process_formdata(self, valuelist):
        if valuelist and not str(valuelist[0]).strip():
            self.data = None
            return
        super().process_formdata([str(valuelist[0]).strip()] if valuelist else valuelist)


def number_required(message: str):
    """Validator for :class:`WholeNumberField`: a number must be entered (0 counts)."""

    def check(form, field) -> None:
        if field.data is None and not field.process_errors:
            raise StopValidation(message)

    return check


def postcode_format(form, field) -> None:
    """Validator: the shape of a UK postcode, normalised to ``SW1A 2AA``."""
    try:
        field.data = normalise(field.data or '')
    except PostcodeError as exc:
        raise ValidationError(str(exc)) from None


def address_fields(postcode_description: str = '') -> tuple[StringField, StringField, StringField, StringField]:
    """Address line 1, line 2, town and postcode, as every address form asks for them.

    Called in the class body so the fields keep their place in the form (and in its error summary).
    """
    return (
        StringField('Address line 1', widget=GovTextInput(), filters=[strip],
                    validators=[DataRequired('Enter address line 1, typically the building and street'),
                                max_length(120, 'Address line 1')]),
        StringField('Address line 2 (optional)', widget=GovTextInput(), filters=[strip],
                    validators=[max_length(120, 'Address line 2')]),
        StringField('Town or city', widget=GovTextInput(), filters=[strip],
                    validators=[DataRequired('Enter the town or city'), max_length(80, 'Town or city')]),
        StringField('Postcode', widget=GovTextInput(), filters=[strip], description=postcode_description,
                    validators=[DataRequired('Enter a postcode'), postcode_format]),
    )


class OrganisationForm(FlaskForm):
    """The legal entity's details, as used for every qualification."""

    legal_name = StringField('Legal name', widget=GovTextInput(), filters=[strip],
                             description='As registered with Companies House or the Charity Commission',
                             validators=[DataRequired('Enter the legal name'), max_length(200, 'Legal name')])
    trading_name = StringField('Trading name (optional)', widget=GovTextInput(), filters=[strip],
                               description='If different from the legal name',
                               validators=[max_length(200, 'Trading name')])
    legal_form = RadioField('Legal form', widget=GovRadioInput(),
                            choices=[(form.value, form.label) for form in LegalForm],
                            invalid_choice_message='Select the legal form')
    company_number = StringField('Companies House number', widget=GovTextInput(), filters=[compact_upper],
                                 description='8 characters, for example 01234567 or SC123456')
    charity_number = StringField('Charity number', widget=GovTextInput(), filters=[compact_upper],
                                 description='Charity Commission number (6 to 8 digits), or SC and 6 digits '
                                             'for a Scottish charity')
    sector = RadioField('Sector', widget=GovRadioInput(), choices=[(sector.value, sector.label) for sector in Sector],
                        invalid_choice_message='Select the sector')
    address_line_1, address_line_2, town, postcode = address_fields()
    contact_name = StringField('Contact name', widget=GovTextInput(), filters=[strip],
                               validators=[DataRequired('Enter the name of the contact'),
                                           max_length(120, 'Contact name')])
    contact_email = StringField('Contact email address', widget=GovTextInput(), filters=[strip],
                                validators=[DataRequired('Enter the contact email address'),
                                            max_length(254, 'Contact email address'),
                                            Email('Enter an email address in the correct format, '
                                                  'like name@example.com')])
    contact_phone = StringField('Contact telephone number', widget=GovTextInput(), filters=[strip],
                                description='For international numbers include the country code',
                                validators=[DataRequired('Enter the contact telephone number')])
    website = StringField('Website (optional)', widget=GovTextInput(), filters=[strip],
                          validators=[Optional(), max_length(200, 'Website')])
    submit = SubmitField('Save and continue', widget=GovSubmitInput())

    def _legal_form(self) -> LegalForm | None:
        try:
            return LegalForm(self.legal_form.data)
        except ValueError:
            return None

    def validate_company_number(self, field) -> None:
        legal_form = self._legal_form()
        if not field.data:
            if legal_form is not None and legal_form.needs_company_number:
                raise ValidationError(f'Enter the Companies House number for a {legal_form.label.lower()}')
            return
        if not COMPANY_NUMBER.match(field.data):
            raise ValidationError('Companies House number must be 8 characters: 8 digits, like 01234567, '
                                  'or 2 letters and 6 digits, like SC123456')

    def validate_charity_number(self, field) -> None:
        legal_form = self._legal_form()
        if not field.data:
            if legal_form is not None and legal_form.needs_charity_number:
                raise ValidationError(f'Enter the charity number for a {legal_form.label.lower()}')
            return
        if not CHARITY_NUMBER.match(field.data):
            raise ValidationError('Charity number must be 6 to 8 digits, like 1234567, '
                                  'or SC and 6 digits for a Scottish charity, like SC012345')

    def validate_contact_phone(self, field) -> None:
        digits = re.sub(r'\D', '', field.data or '')
        if not PHONE_CHARACTERS.match(field.data or '') or not 10 <= len(digits) <= 13:
            raise ValidationError('Enter a telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192')

    def validate_website(self, field) -> None:
        if not field.data:
            return
        if '://' not in field.data:
            field.data = f'https://{field.data}'
        parsed = urlparse(field.data)
        if parsed.scheme != 'https' or '.' not in parsed.netloc or ' ' in field.data:
            raise ValidationError('Enter a website address starting with https://, like https://www.example.org')


class InviteColleagueForm(FlaskForm):
    """Invite a colleague by email."""

    email = StringField('Email address', widget=GovTextInput(), filters=[strip],
                        validators=[DataRequired('Enter your colleague’s email address'),
                                    max_length(254, 'Email address'),
                                    Email('Enter an email address in the correct format, like name@example.com')])
    role = RadioField('Role', widget=GovRadioInput(), default=MemberRole.EDITOR.value,
                      choices=[(role.value, role.label) for role in MemberRole],
                      invalid_choice_message='Select a role')
    message = TextAreaField('Message (optional)', widget=GovTextArea(), filters=[strip],
                            validators=[max_length(500, 'Message')])
    submit = SubmitField('Send invitation', widget=GovSubmitInput())


class MemberRoleForm(FlaskForm):
    """Change a colleague's role."""

    role = RadioField('Role', widget=GovRadioInput(), choices=[(role.value, role.label) for role in MemberRole],
                      invalid_choice_message='Select a role')
    submit = SubmitField('Change role', widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A single button for a confirmation page (removing a colleague, accepting an invitation)."""

    submit = SubmitField('Confirm', widget=GovSubmitInput())
