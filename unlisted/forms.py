"""Recording an in-house home or fostering service."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, NumberRange, Optional

from registry.inputs import max_length
from registry.organisations.forms import WholeNumberField, number_required
from registry.settings.taxonomy import NEEDS, SexAccepted
from unlisted.services import IN_HOUSE_TYPES


class InHouseForm(FlaskForm):
    name = StringField('Name of the home or service', widget=GovTextInput(), validators=[
        InputRequired('Enter the name of the home or service'),
        max_length(200, 'Name of the home or service')])
    provision_type = RadioField('Type', widget=GovRadioInput(), choices=[(kind.value, kind.label)
                                                                          for kind in IN_HOUSE_TYPES],
                                validators=[InputRequired('Choose the type of provision')],
                                invalid_choice_message='Choose the type of provision')
    postcode = StringField('Postcode', widget=GovTextInput(), validators=[InputRequired('Enter the postcode')],
                           description='Commissioners see where it is; a children\'s home\'s address is never public')
    places = WholeNumberField('Places', widget=GovTextInput(),
                              invalid_value_message='Places must be a whole number, like 4', validators=[
        number_required('Enter the number of places'), NumberRange(0, 500, 'Enter places from 0 to 500')])
    vacancies = WholeNumberField('Vacancies now', widget=GovTextInput(),
                                 invalid_value_message='Vacancies must be a whole number, like 1', validators=[
        number_required('Enter the vacancies now (0 if none)'), NumberRange(0, 500, 'Enter vacancies from 0 to 500')])
    age_min = WholeNumberField('Youngest age', widget=GovTextInput(),
                               invalid_value_message='Youngest age must be a whole number, like 8', validators=[
        number_required('Enter the youngest age'), NumberRange(0, 25, 'Enter an age from 0 to 25')])
    age_max = WholeNumberField('Oldest age', widget=GovTextInput(),
                               invalid_value_message='Oldest age must be a whole number, like 17', validators=[
        number_required('Enter the oldest age'), NumberRange(0, 25, 'Enter an age from 0 to 25')])
    sex = RadioField('Cares for', widget=GovRadioInput(), default=SexAccepted.ANY.value,
                     choices=[(SexAccepted.ANY.value, 'Girls and boys'), (SexAccepted.FEMALE.value, 'Girls only'),
                              (SexAccepted.MALE.value, 'Boys only')],
                     validators=[InputRequired('Choose which children it cares for')],
                     invalid_choice_message='Choose which children it cares for')
    needs = SelectMultipleField('Needs it meets', widget=GovCheckboxesInput(), choices=list(NEEDS.items()),
                                invalid_choice_message='Choose needs from the list')
    description = TextAreaField('Description', widget=GovTextArea(), validators=[
        Optional(), max_length(2000, 'Description')])
    submit = SubmitField('Record in-house service', widget=GovSubmitInput())

    def data_for_service(self) -> dict:
        return {'name': self.name.data, 'provision_type': self.provision_type.data, 'postcode': self.postcode.data,
                'places': self.places.data, 'vacancies': self.vacancies.data, 'age_min': self.age_min.data,
                'age_max': self.age_max.data, 'sex': self.sex.data, 'needs': self.needs.data or [],
                'description': self.description.data or ''}


class CloseForm(FlaskForm):
    submit = SubmitField('Close', widget=GovSubmitInput())
