"""Administration forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import EmailField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Email, InputRequired, Optional, ValidationError

from registry.accounts.models import Role
from registry.accounts.services import STAFF_ROLES
from registry.inputs import max_length


class InviteUserForm(FlaskForm):
    """Invite a commissioner, assessor, board member or administrator."""

    full_name = StringField('Full name', widget=GovTextInput(), validators=[
        InputRequired('Enter their full name'), max_length(120, 'Full name')])
    email = EmailField('Email address', widget=GovTextInput(), validators=[
        InputRequired('Enter their email address'),
        max_length(254, 'Email address'),
        Email('Enter an email address in the correct format, like name@example.com', check_deliverability=False)])
    role = RadioField('Role', widget=GovRadioInput(), choices=[(role.value, role.label) for role in STAFF_ROLES],
                      validators=[InputRequired('Select a role')], invalid_choice_message='Select a role')
    #: Choices (the 153 local authorities) are set by the view.
    authority_code = SelectField('Local authority', widget=GovSelect(), choices=[], validate_choice=False,
                                 description='Commissioners only: the authority they work for')
    submit = SubmitField('Send invitation', widget=GovSubmitInput())

    def validate_authority_code(self, field):
        """A commissioner must be tied to an authority (the service checks it is a real one)."""
        if self.role.data == Role.COMMISSIONER.value and not field.data:
            raise ValidationError('Select the local authority the commissioner works for')


class UserActionForm(FlaskForm):
    """Confirm an action on a user, with an optional reason for the audit trail."""

    reason = TextAreaField('Reason (optional)', widget=GovTextArea(), validators=[
        Optional(), max_length(500, 'Reason')])
    submit = SubmitField('Confirm', widget=GovSubmitInput())


class RoleFilterForm(FlaskForm):
    """Filter the user list by role (a GET form, so no CSRF token)."""

    class Meta:
        csrf = False

    role = SelectField('Role', widget=GovSelect(), validators=[Optional()],
                       choices=[('', 'All roles')] + [(role.value, role.label) for role in Role],
                       invalid_choice_message='Select a role from the list')
    submit = SubmitField('Filter', widget=GovSubmitInput())
