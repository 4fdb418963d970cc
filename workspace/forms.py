"""Forms: describe the child for the finder, name a shortlist, add a note, share a shortlist."""

from __future__ import annotations

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
from wtforms import (
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, NumberRange, Optional, StopValidation, ValidationError

from registry.extensions import db
from registry.geography import postcodes
from registry.geography.models import LocalAuthority
from registry.inputs import GovDateField, date_required, max_length
from registry.organisations.forms import WholeNumberField, number_required, strip
from registry.settings.taxonomy import NEEDS, Judgement, ProvisionType
from workspace.services import MAX_NOTE_LENGTH

MAX_AGE, MAX_DISTANCE_MILES, MAX_CHILDREN = 25, 300, 6


def home_authority_choices() -> list[tuple[str, str]]:
    """Choices for the child's home local authority, asked for when their postcode is not known."""
    rows = db.session.execute(db.select(LocalAuthority.code, LocalAuthority.name).order_by(LocalAuthority.name))
    return [('', 'Choose an authority'), *((code, name) for code, name in rows)]


def check_home_postcode(field) -> None:
    """A given home postcode is found in the postcode directory and kept in its standard form."""
    if field.data:
        try:
            field.data = postcodes.lookup(field.data).postcode
        except postcodes.PostcodeError as exc:
            raise StopValidation(str(exc)) from None


def check_home_authority(field, postcode_field) -> None:
    """The home authority is one of the choices, and the child's home is given by postcode or by authority."""
    if field.data and field.data not in {code for code, _name in field.choices if code}:
        raise ValidationError('Choose a local authority in England')
    if not field.data and not postcode_field.data and not postcode_field.errors:
        raise ValidationError("Enter the child's home postcode or choose their home local authority")


class FinderForm(FlaskForm):
    """Describe the child (or sibling group) who needs a placement. Read from the query string."""

    class Meta:
        csrf = False

    age = WholeNumberField("Child's age", invalid_value_message="Enter the child's age as a whole number, like 12",
                           validators=[number_required("Enter the child's age"),
                                       NumberRange(0, MAX_AGE, f"Child's age must be between 0 and {MAX_AGE}")])
    sex = RadioField("Child's sex", widget=GovRadioInput(), choices=[('female', 'Female'), ('male', 'Male')],
                     validators=[DataRequired("Select the child's sex")],
                     invalid_choice_message="Select the child's sex")
    needs = SelectMultipleField('Needs the placement must meet', widget=GovCheckboxesInput(),
                                description='Select all that apply', choices=list(NEEDS.items()),
                                invalid_choice_message='Select needs from the list')
    postcode = StringField('Home postcode', widget=GovTextInput(), filters=[strip],
                           description='Where the child lives now; distances are measured from here',
                           validators=[Optional(), max_length(10, 'Home postcode')])
    authority = SelectField('Or home local authority', widget=GovSelect(), choices=[], validate_choice=False,
                            description='If you do not know the postcode, distances are measured from the '
                                        'centre of the authority')
    max_distance = WholeNumberField('Maximum distance in miles',
                                    invalid_value_message='Enter the maximum distance as a whole number of miles',
                                    validators=[number_required('Enter the maximum distance in miles'),
                                                NumberRange(1, MAX_DISTANCE_MILES,
                                                            f'Maximum distance must be between 1 and '
                                                            f'{MAX_DISTANCE_MILES} miles')])
    start_date = GovDateField('Placement start date', description='For example, 27 3 2027',
                              validators=[date_required('Enter the placement start date')])
    placement = RadioField('Placed alone or with siblings?', widget=GovRadioInput(), default='solo',
                           choices=[('solo', 'Alone'), ('siblings', 'With brothers or sisters')],
                           validators=[DataRequired('Select whether the child is placed alone or with siblings')],
                           invalid_choice_message='Select whether the child is placed alone or with siblings')
    children = WholeNumberField('How many children in total, if placed with siblings?',
                                description=f'From 2 to {MAX_CHILDREN}, including this child',
                                invalid_value_message='Enter the number of children as a whole number, like 2')
    min_judgement = RadioField('Lowest Ofsted judgement you will accept', widget=GovRadioInput(), default='',
                               choices=[('', 'Any, including not yet judged'),
                                        *[(judgement.value, judgement.label) for judgement in Judgement]],
                               validators=[Optional(), AnyOf(['', *[j.value for j in Judgement]])],
                               invalid_choice_message='Select a judgement from the list')
    provision_types = SelectMultipleField('Types of placement', widget=GovCheckboxesInput(),
                                          description='Leave blank for every type',
                                          choices=[(kind.value, f'{kind.label} ({kind.lot.label})')
                                                   for kind in ProvisionType],
                                          invalid_choice_message='Select types from the list')
    market = RadioField('Providers', widget=GovRadioInput(), default='all',
                        choices=[('all', 'Include providers not yet on the national list'),
                                 ('listed', 'National list only')],
                        description='Ofsted-registered settings not yet qualified, and in-house services, come after '
                                    'qualified ones',
                        validators=[Optional()], invalid_choice_message='Select which providers to include')
    submit = SubmitField('Find placements', widget=GovSubmitInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.authority.choices = home_authority_choices()

    def validate_postcode(self, field) -> None:
        check_home_postcode(field)

    def validate_authority(self, field) -> None:
        check_home_authority(field, self.postcode)

    def validate_start_date(self, field) -> None:
        if field.data is not None and field.data < date.today():
            raise ValidationError('Placement start date must be today or in the future')

    def validate_children(self, field) -> None:
        # Only asked for a sibling group; a typo is already reported by the field itself.
        if self.placement.data != 'siblings' or field.process_errors:
            return
        if field.data is None or not 2 <= field.data <= MAX_CHILDREN:
            raise ValidationError(f'Enter how many children need placing together, from 2 to {MAX_CHILDREN}')

    def criteria(self) -> dict:
        """The validated answers as JSON-ready criteria (what a shortlist stores)."""
        siblings = self.placement.data == 'siblings'
        return {
            'age': self.age.data,
            'sex': self.sex.data,
            'needs': list(self.needs.data or []),
            'postcode': self.postcode.data or '',
            'authority': '' if self.postcode.data else (self.authority.data or ''),
            'max_distance_miles': self.max_distance.data,
            'start_date': self.start_date.data.isoformat(),
            'placement': 'siblings' if siblings else 'solo',
            'children': self.children.data if siblings else 1,
            'min_judgement': self.min_judgement.data or '',
            'provision_types': list(self.provision_types.data or []),
            'market': 'listed' if self.market.data == 'listed' else 'all',
        }


def criteria_args(criteria: dict) -> dict:
    """Criteria back as finder URL arguments (to re-run or change a saved search)."""
    start = date.fromisoformat(criteria['start_date']) if criteria.get('start_date') else None
    args = {'age': criteria.get('age'), 'sex': criteria.get('sex'), 'needs': criteria.get('needs') or [],
            'postcode': criteria.get('postcode') or '', 'authority': criteria.get('authority') or '',
            'max_distance': criteria.get('max_distance_miles'), 'placement': criteria.get('placement') or 'solo',
            'children': criteria.get('children') if criteria.get('placement') == 'siblings' else '',
            'min_judgement': criteria.get('min_judgement') or '',
            'provision_types': criteria.get('provision_types') or [], 'market': criteria.get('market') or 'all'}
    if start:
        args['start_date'] = [str(start.day), str(start.month), str(start.year)]
    return args


class ShortlistForm(FlaskForm):
    """Name the shortlist being saved."""

    name = StringField('Name this shortlist', widget=GovTextInput(), filters=[strip],
                       description='For example, the child’s initials and the date. Do not use their full name',
                       validators=[DataRequired('Enter a name for the shortlist'),
                                   max_length(120, 'Name')])
    submit = SubmitField('Save as shortlist', widget=GovSubmitInput())


class NoteForm(FlaskForm):
    """Add a note to a shortlist (notes cannot be changed afterwards)."""

    body = TextAreaField('Add a note', widget=GovCharacterCount(), filters=[strip],
                         description='Notes are kept with your name and the time, and cannot be changed',
                         validators=[DataRequired('Enter a note'),
                                     max_length(MAX_NOTE_LENGTH, 'Note')])
    submit = SubmitField('Add note', widget=GovSubmitInput())


class ShareForm(FlaskForm):
    """Share the shortlist with the authority's commissioners, or stop sharing it."""

    shared = HiddenField(validators=[AnyOf(['1', '0'], message='Choose whether to share')])
    submit = SubmitField('Share', widget=GovSubmitInput())
