"""Forms for adding and changing a setting and for keeping its vacancies current."""

from __future__ import annotations

from itertools import groupby

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import HiddenField, RadioField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, NumberRange, ValidationError

from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.inputs import max_length
from registry.organisations.forms import WholeNumberField, address_fields, number_required, strip
from registry.settings import public_text, services
from registry.settings.taxonomy import NEEDS, ProvisionType, SexAccepted, normalise_urn


def _urn_filter(value):
    return normalise_urn(value) if isinstance(value, str) else value


class SettingForm(FlaskForm):
    """A children's home, fostering branch or assessment service."""

    provision_type = RadioField('Type of setting', widget=GovRadioInput(),
                                choices=[(kind.value, kind.label) for kind in ProvisionType],
                                invalid_choice_message='Select the type of setting')
    name = StringField('Name of the setting', widget=GovTextInput(), filters=[strip],
                       validators=[DataRequired('Enter the name of the setting'),
                                   max_length(200, 'Name of the setting')])
    urn = StringField('Ofsted unique reference number (URN)', widget=GovTextInput(), filters=[_urn_filter],
                      description='For settings registered with Ofsted: SC and 6 digits, like SC123456, or 7 digits. '
                                  'Leave blank for local authority fostering and assessment services')
    address_line_1, address_line_2, town, postcode = address_fields(
        'We use this to find the local authority and to measure distances')
    places = WholeNumberField('Registered places', description='The number of children you are registered to care for',
                              invalid_value_message='Registered places must be a whole number, like 4',
                              validators=[number_required('Enter the number of registered places'),
                                          NumberRange(1, services.MAX_PLACES, 'Registered places must be between '
                                                                              f'1 and {services.MAX_PLACES}')])
    age_min = WholeNumberField('Youngest age', invalid_value_message='Youngest age must be a whole number, like 8',
                               validators=[number_required('Enter the youngest age you care for'),
                                           NumberRange(0, services.MAX_AGE,
                                                       f'Youngest age must be between 0 and {services.MAX_AGE}')])
    age_max = WholeNumberField('Oldest age', invalid_value_message='Oldest age must be a whole number, like 17',
                               validators=[number_required('Enter the oldest age you care for'),
                                           NumberRange(0, services.MAX_AGE,
                                                       f'Oldest age must be between 0 and {services.MAX_AGE}')])
    sex_accepted = RadioField('Which children can you care for?', widget=GovRadioInput(),
                              default=SexAccepted.ANY.value,
                              choices=[(sex.value, sex.label) for sex in SexAccepted],
                              invalid_choice_message='Select which children you can care for')
    needs = SelectMultipleField('Needs you can meet', widget=GovCheckboxesInput(),
                                description='Select all that apply', choices=list(NEEDS.items()),
                                invalid_choice_message='Select needs from the list')
    description = TextAreaField('Description', widget=GovCharacterCount(), filters=[strip],
                                description='What commissioners should know: the home or service, its approach, '
                                            'staffing and the children it suits. Never include children’s details',
                                validators=[max_length(services.MAX_DESCRIPTION, 'Description')])
    coverage = SelectMultipleField('Local authorities you take placements from', choices=[],
                                   invalid_choice_message='Select local authorities from the list')
    submit = SubmitField('Save', widget=GovSubmitInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        authorities = db.session.scalars(db.select(LocalAuthority)
                                         .order_by(LocalAuthority.region_name, LocalAuthority.name)).all()
        self.coverage.choices = [(authority.code, authority.name) for authority in authorities]
        #: For the template: checkboxes grouped by region.
        self.coverage_regions = [(region, list(group))
                                 for region, group in groupby(authorities, key=lambda a: a.region_name)]

    def validate_urn(self, field) -> None:
        try:
            provision_type = ProvisionType(self.provision_type.data)
        except ValueError:
            return
        problem = services.urn_problem(provision_type, field.data or '')
        if problem:
            raise ValidationError(problem)

    def _address_in_public_text(self) -> list[public_text.AddressFinding]:
        """Parts of a children's home's address typed into its name or description (both are public)."""
        try:
            provision_type = ProvisionType(self.provision_type.data)
        except ValueError:
            return []
        values = {field: self[field].data for field in
                  ('name', 'description', 'address_line_1', 'address_line_2', 'postcode')}
        return public_text.public_text_findings(values, confidential=provision_type.info.confidential_address)

    def validate_name(self, field) -> None:
        findings = [finding for finding in self._address_in_public_text() if finding.field == 'name']
        if findings:
            raise ValidationError(public_text.problem_message('name', findings))

    def validate_description(self, field) -> None:
        findings = [finding for finding in self._address_in_public_text() if finding.field == 'description']
        if findings:
            raise ValidationError(public_text.problem_message('description', findings))

    def validate_age_max(self, field) -> None:
        if self.age_min.data is not None and field.data is not None and self.age_min.data > field.data:
            raise ValidationError('The oldest age must be the same as or more than the youngest age')

    def values(self) -> dict:
        """The submitted fields, as the service expects them."""
        return {field: self[field].data for field in services.SETTING_FIELDS}


class ConfirmVacanciesForm(FlaskForm):
    """The one-click "still correct" confirmation; carries the number the provider saw."""

    vacancies = HiddenField()
    submit = SubmitField('Confirm', widget=GovSubmitInput())


class ChangeVacanciesForm(FlaskForm):
    """Enter a new number of vacancies."""

    vacancies = WholeNumberField('Vacancies now', invalid_value_message='Vacancies must be a whole number, like 2',
                                 validators=[number_required('Enter the number of vacancies'),
                                             NumberRange(0, services.MAX_PLACES, 'Vacancies must be between '
                                                                                 f'0 and {services.MAX_PLACES}')])
    note = StringField('Note (optional)', widget=GovTextInput(), filters=[strip],
                       description='For example, a child moving on next week', validators=[max_length(200, 'Note')])
    submit = SubmitField('Save vacancies', widget=GovSubmitInput())
