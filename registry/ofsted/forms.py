"""The board's outcome for a review item."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.validators import InputRequired

from registry.inputs import max_length
from registry.ofsted.models import ReviewOutcome


class ResolveReviewForm(FlaskForm):
    """Record an outcome and its reasons; the view offers only the outcomes open to the item."""

    outcome = RadioField('Outcome', widget=GovRadioInput(), choices=[(outcome.value, outcome.label)
                                                                     for outcome in ReviewOutcome],
                         validators=[InputRequired('Select an outcome')], invalid_choice_message='Select an outcome')
    reason = TextAreaField('Reasons', widget=GovTextArea(), validators=[
        InputRequired('Give the reasons for the outcome'),
        max_length(2000, 'Reasons')])
    submit = SubmitField('Record outcome', widget=GovSubmitInput())
