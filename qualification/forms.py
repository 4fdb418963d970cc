"""Forms: the section form is built from the scheme at request time; the others are fixed."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    Field,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, ValidationError

from qualification import answers as answer_rules
from qualification import rules
from qualification.evidence import ALLOWED_DESCRIPTION, EvidenceRejected, check_upload
from qualification.schemes import Question, Scheme, Section
from registry.inputs import max_length


class DayMonthYearField(Field):
    """Three inputs sharing one name (what GovDateInput renders); parsing happens in the section form."""

    widget = GovDateInput()

    def process_formdata(self, valuelist):
        # exactly three boxes whatever was posted: the widget unpacks day, month and year
        self.raw_data = [*list(valuelist)[:3], '', '', ''][:3]
        self.data = None

    def _value(self):
        return ''


class LotsForm(FlaskForm):
    """Choose the lots to apply for."""

    lots = SelectMultipleField('Which services do you want to qualify for?', choices=[],
                               widget=GovCheckboxesInput(), validate_choice=False,
                               description='Select all that apply. You answer the shared sections once.')
    submit = SubmitField('Start application', widget=GovSubmitInput())

    def validate_lots(self, field):
        allowed = {value for value, _label in field.choices}
        if not field.data:
            raise ValidationError('Select at least one service to qualify for')
        if any(value not in allowed for value in field.data):
            raise ValidationError('Select only the services shown')


class DeclarationForm(FlaskForm):
    """The declaration made on submission."""

    name = StringField('Your full name', widget=GovTextInput(),
                       validators=[InputRequired('Enter your full name'), max_length(120, 'Full name')])
    role = StringField('Your role in the organisation', widget=GovTextInput(),
                       description='For example, Responsible individual or Director',
                       validators=[InputRequired('Enter your role in the organisation'),
                                   max_length(120, 'Role')])
    confirm = BooleanField('I declare that the information in this application is true and complete, and I will '
                           'tell the national board of any material change.', widget=GovCheckboxInput(),
                           validators=[InputRequired('Confirm the declaration to submit the application')])
    submit = SubmitField('Accept and submit', widget=GovSubmitInput())


class WithdrawForm(FlaskForm):
    """Confirm withdrawal."""

    reason = TextAreaField('Why are you withdrawing? (optional)', widget=GovTextArea(),
                           validators=[max_length(2000, 'Reason')])
    submit = SubmitField('Withdraw application', widget=GovSubmitInput())


class ConfirmSectionForm(FlaskForm):
    """One button: the carried-forward section is unchanged."""

    submit = SubmitField('Confirm this section is unchanged', widget=GovSubmitInput())


class RemoveEvidenceForm(FlaskForm):
    """CSRF-protected button to remove a document."""


def row_field_name(question_id: str, index: int, column_id: str) -> str:
    return f'{question_id}__{index}__{column_id}'


class SectionFormBase(FlaskForm):
    """A section page; fields are added per question by :func:`section_form`."""

    scheme: Scheme
    section: Section
    lots: list[str]
    questions: list[Question]
    existing_answers: dict[str, Any]
    existing_evidence: dict[str, int]

    #: Filled by validate(): question id -> cleaned value (only shown, non-evidence questions).
    cleaned: dict[str, Any]
    #: question id -> list of checked uploads.
    uploads: dict[str, list]
    #: Errors on individual cells of repeating rows: field name -> message.
    row_errors: dict[str, str]

    def validate(self, extra_validators=None) -> bool:
        """Check every shown question; follow-ups only when the submitted answers trigger them."""
        super().validate(extra_validators)
        self.cleaned, self.uploads, self.row_errors = {}, {}, {}
        # "Save and come back later" keeps partial answers: formats are still checked, required-ness is not
        partial = bool(self.save_and_return.data)
        raw: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for question in self.questions:
            value, error = self._clean(question)
            raw[question.id] = value
            if error:
                errors[question.id] = error
        values = dict(self.existing_answers)
        values.update({key: value for key, value in raw.items()})
        shown = rules.triggered_ids(self.scheme, values, self.lots)
        max_bytes = int(current_app.config['MAX_UPLOAD_MB']) * 1024 * 1024
        for question in self.questions:
            if question.id not in shown:
                continue
            field = self[question.id]
            if question.type == 'evidence':
                files = [item for item in (field.raw_data or []) if getattr(item, 'filename', '')]
                checked = []
                for item in files:
                    try:
                        checked.append(check_upload(item.stream, item.filename, max_bytes))
                    except EvidenceRejected as exc:
                        errors[question.id] = str(exc)
                if checked:
                    self.uploads[question.id] = checked
                elif (question.required and not partial and not self.existing_evidence.get(question.id)
                      and question.id not in errors):
                    errors[question.id] = answer_rules.required_message(question)
                continue
            if question.id in errors:
                continue
            if raw[question.id] is None and question.required and not partial:
                errors[question.id] = answer_rules.required_message(question)
            else:
                self.cleaned[question.id] = raw[question.id]
        if errors or self.row_errors:
            # a browser never sends a chosen file twice: say so on every file that was fine but is not kept
            for question_id, checked in self.uploads.items():
                if question_id not in errors:
                    names = ', '.join(item.filename for item in checked)
                    errors[question_id] = (f'Choose {names} again: files are not kept while other answers on '
                                           'this page need correcting')
        for question_id, message in errors.items():
            self[question_id].errors = list(self[question_id].errors or []) + [message]
        self._errors = None  # WTForms caches form.errors; recompute with the errors added above
        return not errors and not self.row_errors and not any(
            field.errors for name, field in self._fields.items() if name not in {q.id for q in self.questions})

    def _clean(self, question: Question) -> tuple[Any, str | None]:
        if question.type == 'evidence':
            return None, None
        if question.type == 'rows':
            rows = []
            for index in range(question.max_rows):
                rows.append({column.id: self[row_field_name(question.id, index, column.id)].data or ''
                             for column in question.columns})
            value, row_errors = answer_rules.clean_rows(question, rows)
            for index, column_id, message in row_errors:
                name = row_field_name(question.id, index, column_id)
                self.row_errors[name] = message
                self[name].errors = [message]
            return value, None  # cell errors sit on the cells themselves (see row_errors)
        data = self[question.id]
        if question.type == 'date':
            return answer_rules.clean_date(question.label, data.raw_data, question.validation)
        if question.type == 'money':
            return answer_rules.clean_money(question.label, data.data, question.validation)
        if question.type == 'number':
            return answer_rules.clean_number(question.label, data.data, question.validation)
        if question.type in ('yes-no', 'choice'):
            return answer_rules.clean_choice(question, data.data)
        return answer_rules.clean_text(question.label, data.data, question.validation)


def _field_for(question: Question, questions: dict[str, Question]) -> Field:
    description = rules.provider_hint(question, questions)
    if question.type == 'text':
        if question.multiline:
            return TextAreaField(question.label, widget=GovTextArea(), description=description)
        return StringField(question.label, widget=GovTextInput(), description=description)
    if question.type in ('number', 'money'):
        return StringField(question.label, widget=GovTextInput(), description=description)
    if question.type == 'date':
        return DayMonthYearField(question.label, description=description or 'For example, 27 3 2027')
    if question.type == 'yes-no' or (question.type == 'choice' and not question.multiple):
        return RadioField(question.label, choices=list(question.choices), widget=GovRadioInput(),
                          validate_choice=False, description=description)
    if question.type == 'choice':
        return SelectMultipleField(question.label, choices=list(question.choices), widget=GovCheckboxesInput(),
                                   validate_choice=False, description=description or 'Select all that apply')
    if question.type == 'evidence':
        hint = f'{question.evidence} Upload a {ALLOWED_DESCRIPTION}.'
        return FileField(question.label, widget=GovFileInput(multiple=False), description=hint)
    raise ValueError(question.type)


def choice_label(value: str, label: str) -> str:
    """A choice's words for people: a scheme choice given only as a code ("requires-improvement") reads as
    "Requires improvement"."""
    return value.replace('-', ' ').capitalize() if label == value else label


def _cell_field(column, index: int) -> Field:
    """One cell of a repeating table: a select of the options shown for a choice column, else a text box."""
    label = f'{column.label}, row {index + 1}'
    if column.type == 'choice':
        options = [('', 'Select an option')] + [(value, choice_label(value, text)) for value, text in column.choices]
        # the cleaning in answer_rules.clean_rows gives the GOV.UK message for anything not offered
        return SelectField(label, choices=options, widget=GovSelect(), validate_choice=False)
    return StringField(label, widget=GovTextInput())


def section_form(scheme: Scheme, section: Section, lots: list[str], answers: dict[str, Any],
                 evidence_counts: dict[str, int]) -> SectionFormBase:
    """Build the form class for one section and instantiate it, pre-filled with ``answers``."""
    questions = section.questions_for(lots)
    all_questions = scheme.questions
    attrs: dict[str, Any] = {'scheme': scheme, 'section': section, 'lots': list(lots), 'questions': questions,
                             'existing_answers': answers, 'existing_evidence': evidence_counts}
    for question in questions:
        if question.type == 'rows':
            for index in range(question.max_rows):
                for column in question.columns:
                    attrs[row_field_name(question.id, index, column.id)] = _cell_field(column, index)
            # anchor for the error summary; its description is the hint shown above the table
            attrs[question.id] = Field(question.label, description=rules.provider_hint(question, all_questions))
        else:
            attrs[question.id] = _field_for(question, all_questions)
    attrs['save_and_continue'] = SubmitField('Save and continue', widget=GovSubmitInput())
    attrs['save_and_return'] = SubmitField('Save and come back later', widget=GovSubmitInput())
    form_class = type(f'SectionForm_{section.id.replace("-", "_")}', (SectionFormBase,), attrs)
    form = form_class()  # Flask-WTF reads request.form and request.files on POST
    if not form.is_submitted():
        _prefill(form, questions, answers)
    return form


def _prefill(form: SectionFormBase, questions: list[Question], answers: dict[str, Any]) -> None:
    for question in questions:
        value = answers.get(question.id)
        if value is None:
            continue
        if question.type == 'rows':
            for index, row in enumerate(value[:question.max_rows]):
                for column in question.columns:
                    cell = row.get(column.id)
                    form[row_field_name(question.id, index, column.id)].data = '' if cell is None else str(cell)
        elif question.type == 'money':
            form[question.id].data = answer_rules.money_input(value)
        elif question.type == 'number':
            form[question.id].data = str(value)
        elif question.type == 'date':
            year, month, day = value.split('-')
            form[question.id].raw_data = [str(int(day)), str(int(month)), year]
        elif question.type != 'evidence':
            form[question.id].data = value
