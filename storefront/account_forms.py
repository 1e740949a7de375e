"""The account deletion form. Flask-WTF adds the CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import InputRequired, Length


class DeleteAccountForm(FlaskForm):
    password = PasswordField("Your password", validators=[
        InputRequired(message="Enter your password to confirm."), Length(max=200)])
