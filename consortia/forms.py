"""Consortium forms: name and members (admins), a commissioner's role (admins)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovSelect, GovSubmitInput, GovTextInput
from wtforms import EmailField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import Email, InputRequired

from registry.inputs import max_length


class ConsortiumForm(FlaskForm):
    """Create or change a consortium. Member choices (the 153 authorities) are set by the view."""

    name = StringField('Consortium name', widget=GovTextInput(), validators=[
        InputRequired('Enter the consortium name'),
        max_length(120, 'Consortium name')])
    members = SelectMultipleField('Member authorities', widget=GovCheckboxesInput(), choices=[], validate_choice=False,
                                  validators=[InputRequired('Choose at least two member authorities')])
    submit = SubmitField('Save consortium', widget=GovSubmitInput())


class GrantRoleForm(FlaskForm):
    """Give a commissioner of a member authority a role in the consortium (choices set by the view)."""

    user_id = SelectField('Commissioner', widget=GovSelect(), choices=[],
                          validators=[InputRequired('Select a commissioner')],
                          invalid_choice_message='Select a commissioner from the list')
    submit = SubmitField('Give consortium role', widget=GovSubmitInput())


class RevokeRoleForm(FlaskForm):
    submit = SubmitField('Remove role', widget=GovSubmitInput())


class InviteCommissionerForm(FlaskForm):
    """Invite a new commissioner of a member authority who acts for the consortium (authorities set by the view)."""

    invite_name = StringField('Full name', widget=GovTextInput(), validators=[
        InputRequired('Enter their full name'), max_length(120, 'Full name')])
    invite_email = EmailField('Email address', widget=GovTextInput(), validators=[
        InputRequired('Enter their email address'),
        max_length(254, 'Email address'),
        Email('Enter an email address in the correct format, like name@example.com', check_deliverability=False)])
    invite_authority = SelectField('Their authority', widget=GovSelect(), choices=[],
                                   validators=[InputRequired('Select their authority')],
                                   invalid_choice_message='Select their authority from the list')
    invite = SubmitField('Send invitation', widget=GovSubmitInput())
