"""Account forms: they check the shape of input; services check the rules."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import Email, EqualTo, InputRequired, Length, Regexp

from registry.inputs import max_length

EMAIL_FORMAT = 'Enter an email address in the correct format, like name@example.com'


def _email_field(label: str = 'Email address') -> EmailField:
    return EmailField(label, widget=GovTextInput(), validators=[
        InputRequired('Enter your email address'),
        max_length(254, 'Email address'),
        Email(EMAIL_FORMAT, check_deliverability=False)])


def _new_password_fields(label: str = 'Create a password') -> tuple[PasswordField, PasswordField]:
    password = PasswordField(label, widget=GovPasswordInput(),
                             description='Use 12 characters or more. A few unrelated words make a strong password.',
                             validators=[InputRequired('Enter a password'),
                                         Length(min=12, message='Password must be 12 characters or more'),
                                         max_length(200, 'Password')])
    confirm = PasswordField('Confirm password', widget=GovPasswordInput(), validators=[
        InputRequired('Confirm your password'), EqualTo('password', 'Passwords must match')])
    return password, confirm


class RegisterForm(FlaskForm):
    """Create a provider account."""

    full_name = StringField('Full name', widget=GovTextInput(), validators=[
        InputRequired('Enter your full name'), max_length(120, 'Full name')])
    email = _email_field()
    password, confirm_password = _new_password_fields()
    submit = SubmitField('Create account', widget=GovSubmitInput())


class SignInForm(FlaskForm):
    """Email and password."""

    email = EmailField('Email address', widget=GovTextInput(), validators=[InputRequired('Enter your email address')])
    password = PasswordField('Password', widget=GovPasswordInput(), validators=[InputRequired('Enter your password')])
    next = HiddenField()
    submit = SubmitField('Sign in', widget=GovSubmitInput())


class CodeForm(FlaskForm):
    """A 6-digit TOTP code."""

    code = StringField('Security code', widget=GovTextInput(),
                       description='The 6-digit code shown in your authenticator app',
                       validators=[InputRequired('Enter the security code'),
                                   Regexp(r'^\s*\d{3}\s?\d{3}\s*$', message='Enter the 6-digit security code')])
    submit = SubmitField('Continue', widget=GovSubmitInput())


class ResendForm(FlaskForm):
    """Send the confirmation email again."""

    submit = SubmitField('Send the email again', widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A single button, for actions such as signing out."""

    submit = SubmitField('Continue', widget=GovSubmitInput())


class RequestResetForm(FlaskForm):
    """Ask for a password reset link."""

    email = _email_field()
    submit = SubmitField('Send reset link', widget=GovSubmitInput())


class ResetPasswordForm(FlaskForm):
    """Choose a new password from an emailed link."""

    password, confirm_password = _new_password_fields('New password')
    submit = SubmitField('Save password', widget=GovSubmitInput())


class ChangePasswordForm(FlaskForm):
    """Change password while signed in."""

    current_password = PasswordField('Current password', widget=GovPasswordInput(),
                                     validators=[InputRequired('Enter your current password')])
    password, confirm_password = _new_password_fields('New password')
    submit = SubmitField('Change password', widget=GovSubmitInput())
