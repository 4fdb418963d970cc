"""The board's outcome for a review item."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from registry.ofsted.models import ReviewOutcome


class ResolveReviewForm(FlaskForm):
    """Record an outcome and its reasons; the view offers only the outcomes open to the item."""

    outcome = RadioField('Outcome', widget=GovRadioInput(), choices=[(outcome.value, outcome.label)
                                                                     for outcome in ReviewOutcome],
                         validators=[InputRequired('Select an outcome')])
    reason = TextAreaField('Reasons', widget=GovTextArea(), validators=[
        InputRequired('Give the reasons for the outcome'),
        Length(max=2000, message='Reasons must be 2,000 characters or fewer')])
    submit = SubmitField('Record outcome', widget=GovSubmitInput())
