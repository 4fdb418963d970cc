"""Forms: email preferences, and the (empty) forms that carry CSRF for marking notifications read."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput
from wtforms import RadioField, SubmitField
from wtforms.validators import InputRequired

from notifications.models import EmailFrequency


class PreferencesForm(FlaskForm):
    """How a person wants notifications emailed."""

    email_frequency = RadioField(
        'How do you want to be emailed about notifications?', widget=GovRadioInput(),
        choices=[(choice.value, choice.label) for choice in EmailFrequency],
        validators=[InputRequired('Select how you want to be emailed about notifications')],
        invalid_choice_message='Select how you want to be emailed about notifications')
    submit = SubmitField('Save preferences', widget=GovSubmitInput())


class MarkReadForm(FlaskForm):
    """Mark one notification, or all of them, as read."""

    submit = SubmitField('Mark as read', widget=GovSubmitInput())
