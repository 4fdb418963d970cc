"""Forms for the board workspace, qualification changes and local lists (some built per application)."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovRadioInput, GovSelect, GovSubmitInput, GovTextArea
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, HiddenField, RadioField, SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from qualification.review import LOT_OUTCOMES, QUESTION_OUTCOMES
from registry.inputs import GovDateField, date_required, max_length, parse_money
from registry.settings.taxonomy import Lot

LOT_CHOICES = [(lot.value, lot.label) for lot in Lot]


class AssignForm(FlaskForm):
    assessor_id = SelectField('Assessor', coerce=int, widget=GovSelect(),
                              validators=[InputRequired('Select an assessor')],
                              invalid_value_message='Select an assessor from the list',
                              invalid_choice_message='Select an assessor from the list')
    submit = SubmitField('Assign', widget=GovSubmitInput())


class StartReviewForm(FlaskForm):
    submit = SubmitField('Start review', widget=GovSubmitInput())


class ClarificationForm(FlaskForm):
    message = TextAreaField('Message to the provider', widget=GovTextArea(),
                            validators=[Optional(), max_length(2000, 'Message')],
                            description='The questions marked "Ask for clarification" are sent with your comments.')
    submit = SubmitField('Send request for clarification', widget=GovSubmitInput())


class SignOffForm(FlaskForm):
    decision = RadioField('What do you want to do?', widget=GovRadioInput(),
                          choices=[('sign-off', 'Sign off the proposed decision'),
                                   ('send-back', 'Send it back to the assessor')],
                          validators=[InputRequired('Select whether to sign off or send back')],
                          invalid_choice_message='Select whether to sign off or send back')
    comment = TextAreaField('Comment', widget=GovTextArea(), validators=[max_length(2000, 'Comment')],
                            description='Required when you send the decision back.')
    submit = SubmitField('Continue', widget=GovSubmitInput())

    def validate_comment(self, field):
        if self.decision.data == 'send-back' and not (field.data or '').strip():
            raise ValidationError('Explain why you are sending the decision back')


class AcceptAutomaticMarksForm(FlaskForm):
    """One button: record the automatic rules' marks for every question not yet marked."""

    submit = SubmitField('Accept all automatic marks', widget=GovSubmitInput())


class CarryMarksForm(FlaskForm):
    """One button: give the unchanged answers of a renewal the marks they had last time."""

    submit = SubmitField('Carry previous marks', widget=GovSubmitInput())


class OverrideForm(FlaskForm):
    """A board member's reasons for approving despite the failures listed."""

    reasons = TextAreaField('Why should the board approve despite these failures?', widget=GovTextArea(),
                            description='The second board member sees these reasons when signing off, and they are '
                                        'kept in the audit trail.',
                            validators=[InputRequired('Explain why the board should approve despite these failures'),
                                        Length(min=20, max=4000, message='Reasons must be between 20 and 4000 '
                                                                         'characters')])
    submit = SubmitField('Record override', widget=GovSubmitInput())


class ConflictForm(FlaskForm):
    """Declare a conflict of interest with an organisation."""

    organisation_id = SelectField('Organisation', coerce=int, widget=GovSelect(),
                                  validators=[InputRequired('Select the organisation')],
                                  invalid_value_message='Select an organisation from the list',
                                  invalid_choice_message='Select an organisation from the list')
    reason = TextAreaField('What is the conflict of interest?', widget=GovTextArea(),
                           description='For example, a former employer in the last 3 years, a relative who works '
                                       'there, or shares you hold.',
                           validators=[InputRequired('Describe the conflict of interest'),
                                       max_length(2000, 'Conflict of interest')])
    submit = SubmitField('Declare conflict of interest', widget=GovSubmitInput())


class WithdrawConflictForm(FlaskForm):
    """Withdraw a declaration that no longer applies."""

    reason = TextAreaField('Why does it no longer apply? (optional)', widget=GovTextArea(),
                           validators=[Optional(), max_length(2000, 'Reason')])
    submit = SubmitField('Withdraw declaration', widget=GovSubmitInput())


class ReasonForm(FlaskForm):
    reason = TextAreaField('Reason', widget=GovTextArea(), description='The provider sees this reason.',
                           validators=[InputRequired('Enter the reason'), max_length(2000, 'Reason')])
    submit = SubmitField('Confirm', widget=GovSubmitInput())


def _field_key(value: str) -> str:
    return re.sub(r'[^0-9A-Za-z_]', '_', value)


def marks_form(questions, existing: dict):
    """One outcome and comment per question, pre-filled with the stored marks.

    Automatic marks are shown beside each question but never pre-selected: they become outcomes only when the
    assessor accepts them explicitly (:class:`AcceptAutomaticMarksForm`) or chooses the same outcome.
    """

    class MarksForm(FlaskForm):
        submit = SubmitField('Save marks', widget=GovSubmitInput())

        def validate(self, extra_validators=None):
            ok = super().validate(extra_validators)
            for question in self.questions:
                outcome, comment = self[f'outcome_{question.key}'], self[f'comment_{question.key}']
                if outcome.data in {'fail', 'clarify'} and not (comment.data or '').strip():
                    comment.errors = list(comment.errors) + [f'{question.label}: explain the outcome in a comment']
                    ok = False
            self._errors = None
            return ok

        def marks(self) -> dict[str, tuple[str, str]]:
            return {question.id: (self[f'outcome_{question.key}'].data, self[f'comment_{question.key}'].data or '')
                    for question in self.questions if self[f'outcome_{question.key}'].data}

    rows = []
    for question in questions:
        key = _field_key(question.id)
        rows.append(_Row(question.id, key, question.label))
        setattr(MarksForm, f'outcome_{key}', RadioField(
            f'Outcome for {question.label}', choices=list(QUESTION_OUTCOMES), widget=GovRadioInput(),
            validators=[Optional()], invalid_choice_message=f'Select an outcome for {question.label}'))
        setattr(MarksForm, f'comment_{key}', TextAreaField(
            f'Comment on {question.label}', widget=GovTextArea(),
            validators=[Optional(), max_length(2000, f'Comment on {question.label}')]))
    MarksForm.questions = rows
    form = MarksForm()
    if not form.is_submitted():
        for row in rows:
            stored = existing.get(row.id)
            if stored is not None:
                form[f'outcome_{row.key}'].data, form[f'comment_{row.key}'].data = stored.outcome, stored.comment
    return form


class _Row:
    def __init__(self, id_: str, key: str, label: str):
        self.id, self.key, self.label = id_, key, label


def decision_form(lots: list[str]):
    """Approve or reject, with reasons, for every lot applied for."""

    class DecisionForm(FlaskForm):
        submit = SubmitField('Propose decision', widget=GovSubmitInput())

        def decisions(self) -> dict[str, tuple[str, str]]:
            return {lot: (self[f'outcome_{_field_key(lot)}'].data, self[f'reasons_{_field_key(lot)}'].data or '')
                    for lot in self.lots}

    for lot in lots:
        label = Lot(lot).label
        setattr(DecisionForm, f'outcome_{_field_key(lot)}', RadioField(
            f'Decision for {label}', choices=list(LOT_OUTCOMES), widget=GovRadioInput(),
            validators=[InputRequired(f'Select approve or reject for {label}')],
            invalid_choice_message=f'Select approve or reject for {label}'))
        setattr(DecisionForm, f'reasons_{_field_key(lot)}', TextAreaField(
            f'Reasons for {label}', widget=GovTextArea(), description='The provider sees these reasons.',
            validators=[InputRequired(f'Enter the reasons for {label}'),
                        max_length(4000, f'Reasons for {label}')]))
    DecisionForm.lots = list(lots)
    return DecisionForm()


class LocalRequirementsForm(FlaskForm):
    lot = RadioField('Lot', choices=LOT_CHOICES, widget=GovRadioInput(), validators=[InputRequired('Select a lot')],
                     invalid_choice_message='Select a lot')
    questions = TextAreaField('Local questions', widget=GovTextArea(),
                              validators=[Optional(), max_length(8000, 'Local questions')],
                              description='One question a line. Start a line with "yes/no:" for a yes or no question.')
    documents = TextAreaField('Documents you accept', widget=GovTextArea(),
                              validators=[Optional(), max_length(4000, 'Documents you accept')],
                              description='One document a line.')
    prices = TextAreaField('Price schedule', widget=GovTextArea(),
                           validators=[Optional(), max_length(4000, 'Price schedule')],
                           description='One placement type a line, then a bar and the weekly price in pounds, '
                                       'for example "Solo placement | 5200.00".')
    submit = SubmitField('Publish requirements', widget=GovSubmitInput())

    def parsed_questions(self) -> list[dict[str, str]]:
        rows = []
        for line in (self.questions.data or '').splitlines():
            line = line.strip()
            if line.lower().startswith('yes/no:'):
                rows.append({'text': line[7:].strip(), 'type': 'yes-no'})
            elif line:
                rows.append({'text': line, 'type': 'text'})
        return rows

    def parsed_documents(self) -> list[str]:
        return [line.strip() for line in (self.documents.data or '').splitlines() if line.strip()]

    def validate_prices(self, field):
        self.price_rows = []
        for number, line in enumerate((field.data or '').splitlines(), start=1):
            if not line.strip():
                continue
            placement, _bar, price = line.partition('|')
            try:
                pence = parse_money(price)
            except ValueError:
                raise ValidationError(f'Price schedule line {number}: enter a placement type, a bar and a weekly '
                                      'price in pounds up to £10,000,000, for example "Solo placement | 5200.00"'
                                      ) from None
            if not placement.strip() or pence <= 0:
                raise ValidationError(f'Price schedule line {number}: enter a placement type and a price above £0')
            self.price_rows.append({'placement_type': placement.strip(), 'weekly_price_pence': pence})

    def validate_questions(self, field):
        if not (self.parsed_questions() or self.parsed_documents() or (self.prices.data or '').strip()):
            raise ValidationError('Add at least one local question, document or price')


def local_apply_form(requirements):
    """The authority's local questions, plus confirmation of its documents and price schedule."""

    class LocalApplyForm(FlaskForm):
        submit = SubmitField('Apply to join the list', widget=GovSubmitInput())

        def answers(self) -> dict[str, str]:
            return {question['id']: (self[f'answer_{question["id"]}'].data or '').strip()
                    for question in requirements.questions}

    for question in requirements.questions:
        if question['type'] == 'yes-no':
            field = RadioField(question['text'], choices=[('yes', 'Yes'), ('no', 'No')], widget=GovRadioInput(),
                               validators=[InputRequired(f'Answer "{question["text"]}"')],
                               invalid_choice_message=f'Answer "{question["text"]}" with yes or no')
        else:
            field = TextAreaField(question['text'], widget=GovTextArea(),
                                  validators=[InputRequired(f'Answer "{question["text"]}"'),
                                              max_length(4000, f'Answer to "{question["text"]}"')])
        setattr(LocalApplyForm, f'answer_{question["id"]}', field)
    if requirements.documents or requirements.price_schedule:
        LocalApplyForm.accepts_terms = BooleanField(
            'We accept the price schedule and hold the documents listed',
            validators=[InputRequired('Confirm that you accept the price schedule and hold the documents listed')])
    return LocalApplyForm()


class LocalDecisionForm(FlaskForm):
    decision = RadioField('Decision', choices=[('accept', 'Accept onto our local list'), ('decline', 'Decline')],
                          widget=GovRadioInput(), validators=[InputRequired('Select accept or decline')],
                          invalid_choice_message='Select accept or decline')
    # no Optional(): it would stop the chain before validate_reason can require a reason for a decline
    reason = TextAreaField('Reason', widget=GovTextArea(), description='The provider sees this reason.',
                           validators=[max_length(2000, 'Reason')])
    submit = SubmitField('Confirm decision', widget=GovSubmitInput())

    def validate_reason(self, field):
        if self.decision.data == 'decline' and not (field.data or '').strip():
            raise ValidationError('Enter the reason you are declining')


class SchemeUploadForm(FlaskForm):
    """A scheme version file to check, preview and compare before publishing."""

    file = FileField('Scheme file', widget=GovFileInput(multiple=False),
                     description='A YAML file in the scheme format, with a version number after the newest '
                                 'published one, for example 2026.2.yaml.')
    submit = SubmitField('Upload and check', widget=GovSubmitInput())

    def validate_file(self, field):
        if not isinstance(field.data, FileStorage) or not field.data.filename:
            raise ValidationError('Select a scheme file')


class SchemePublishForm(FlaskForm):
    """When applications start using a draft version; publishing fixes its content."""

    effective_from = GovDateField('Date it takes effect',
                                  description='Applications started on or after this date use the new version; '
                                              'applications already started keep theirs. For example, 1 4 2027.',
                                  validators=[date_required('Enter the date the version takes effect')])
    reason = TextAreaField('Note for the audit trail (optional)', widget=GovTextArea(),
                           validators=[Optional(), max_length(2000, 'Note')])
    #: The content previewed: publication is refused if the draft was replaced since.
    sha256 = HiddenField()
    submit = SubmitField('Publish this version', widget=GovSubmitInput())
