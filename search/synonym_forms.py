"""The form of the editors' synonym page. Flask-WTF adds the CSRF token.

``search.synonyms`` has the final say on a line (format, loops, terms already in
another line); this form gives the friendly messages for an empty or long one.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from search.synonyms import MAX_LINE_LENGTH


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SynonymLineForm(FlaskForm):
    """One synonym line, Solr format: "a, b, c" or "a => b"."""

    line = StringField("Synonym line", filters=[_strip], validators=[
        DataRequired(message="Type a synonym line, e.g. 'email, e-mail, mail'."),
        Length(max=MAX_LINE_LENGTH,
               message=f"Keep the line to {MAX_LINE_LENGTH} characters."),
    ])
