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


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=200)])
    remember = BooleanField("Keep me signed in")


class RegisterForm(FlaskForm):
    display_name = StringField("Your name", validators=[InputRequired(), Length(max=80)])
    email = EmailField("Email", validators=[InputRequired(), Email(check_deliverability=False),
                                            Length(max=254)])
    password = PasswordField(
        "Password",
        validators=[InputRequired(), Length(min=10, max=200, message="Use 10 to 200 characters.")],
    )
    confirm = PasswordField(
        "Repeat password",
        validators=[InputRequired(), EqualTo("password", message="The passwords do not match.")],
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[InputRequired(),
                                                                      Length(max=200)])
    new_password = PasswordField(
        "New password",
        validators=[InputRequired(), Length(min=10, max=200, message="Use 10 to 200 characters.")],
    )
    confirm = PasswordField(
        "Repeat new password",
        validators=[InputRequired(), EqualTo("new_password", message="The passwords do not match.")],
    )


def _new_password(label: str) -> PasswordField:
    # The sign-up rules, wherever a password is chosen.
    return PasswordField(label, validators=[
        InputRequired(), Length(min=10, max=200, message="Use 10 to 200 characters.")])


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired(), Email(check_deliverability=False),
                                            Length(max=254)])


class ResetPasswordForm(FlaskForm):
    new_password = _new_password("New password")
    confirm = PasswordField(
        "Repeat new password",
        validators=[InputRequired(), EqualTo("new_password", message="The passwords do not match.")],
    )


class DisplayNameForm(FlaskForm):
    display_name = StringField("Your name", validators=[InputRequired(), Length(max=80)])


class ChangeEmailForm(FlaskForm):
    email = EmailField("New email address", validators=[
        InputRequired(), Email(check_deliverability=False), Length(max=254)])
    password = PasswordField("Your password", validators=[InputRequired(), Length(max=200)])
