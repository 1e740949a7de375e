"""Partner portal forms for API keys. Flask-WTF adds the CSRF token to each."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from api.services import MAX_LABEL_LENGTH


class NewApiKeyForm(FlaskForm):
    label = StringField("Key name", validators=[
        InputRequired(message="Give the key a name, such as “Production”, to tell it apart later."),
        Length(max=MAX_LABEL_LENGTH, message=f"Use at most {MAX_LABEL_LENGTH} characters."),
    ])

