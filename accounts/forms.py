"""Account forms. Flask-WTF adds the CSRF token to each."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    StringField,
)
from wtforms.validators import Email, EqualTo, InputRequired, Length

# Specific messages, said the way the GOV.UK design system words them
# (https://design-system.service.gov.uk/components/error-message/): each names
# the field and what to do, and shows both beside it and in the error summary.
EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com."


def _email_validators(missing: str) -> list:
    return [InputRequired(message=missing), Email(check_deliverability=False, message=EMAIL_FORMAT),
            Length(max=254, message="The email address must be at most 254 characters.")]


def _password_validators(missing: str) -> list:
    # The sign-up rules, wherever a password is chosen.
    return [InputRequired(message=missing),
            Length(min=10, message="The password must be at least 10 characters."),
            Length(max=200, message="The password must be at most 200 characters.")]


def _name_validators() -> list:
    return [InputRequired(message="Enter your name."),
            Length(max=80, message="Your name must be at most 80 characters.")]


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[
        InputRequired(message="Enter your email address."),
        Length(max=254, message="The email address must be at most 254 characters.")])
    password = PasswordField("Password", validators=[
        InputRequired(message="Enter your password."),
        Length(max=200, message="The password must be at most 200 characters.")])
    remember = BooleanField("Keep me signed in")


class RegisterForm(FlaskForm):
    display_name = StringField("Your name", validators=_name_validators())
    email = EmailField("Email", validators=_email_validators("Enter your email address."))
    password = PasswordField("Password", validators=_password_validators("Enter a password."))
    confirm = PasswordField(
        "Repeat password",
        validators=[InputRequired(message="Repeat your password."),
                    EqualTo("password", message="The passwords do not match.")],
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[
        InputRequired(message="Enter your current password."),
        Length(max=200, message="The password must be at most 200 characters.")])
    new_password = PasswordField("New password",
                                 validators=_password_validators("Enter a new password."))
    confirm = PasswordField(
        "Repeat new password",
        validators=[InputRequired(message="Repeat your new password."),
                    EqualTo("new_password", message="The passwords do not match.")],
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", validators=_email_validators("Enter your email address."))


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField("New password",
                                 validators=_password_validators("Enter a new password."))
    confirm = PasswordField(
        "Repeat new password",
        validators=[InputRequired(message="Repeat your new password."),
                    EqualTo("new_password", message="The passwords do not match.")],
    )


class DisplayNameForm(FlaskForm):
    display_name = StringField("Your name", validators=_name_validators())


class ChangeEmailForm(FlaskForm):
    email = EmailField("New email address",
                       validators=_email_validators("Enter your new email address."))
    password = PasswordField("Your password", validators=[
        InputRequired(message="Enter your password."),
        Length(max=200, message="The password must be at most 200 characters.")])
