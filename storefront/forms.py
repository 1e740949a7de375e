"""Storefront forms: an admin's role change and a customer's review. Flask-WTF adds
the CSRF token to each."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length

from accounts.models import Role


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(role.value, role.value.capitalize())
                                         for role in Role])
    partner_id = SelectField("Partner organisation", coerce=int, choices=[])


RATING_CHOICES = [SelectChoice("5", "5 stars: excellent"), SelectChoice("4", "4 stars: good"),
                  SelectChoice("3", "3 stars: fair"), SelectChoice("2", "2 stars: poor"),
                  SelectChoice("1", "1 star: bad")]
RATING_MESSAGE = "Choose a rating from 1 to 5 stars."


class ReviewForm(FlaskForm):
    """A customer's review of an app. ``ReviewCreate`` has the final say on the values;
    these validators give the friendly messages and the maxlength attributes."""

    # Validated with AnyOf instead of the choice check so "0", "6" or "abc" get one clear message.
    rating = RadioField("Your rating", choices=RATING_CHOICES, validate_choice=False,
                        validators=[InputRequired(message=RATING_MESSAGE),
                                    AnyOf([choice.value for choice in RATING_CHOICES],
                                          message=RATING_MESSAGE)])
    title = StringField("Title", validators=[DataRequired(message="Enter a title for your review."),
                                             Length(max=120, message="The title must be at most 120 characters.")])
    body = TextAreaField("Your review", validators=[
        Length(max=5000, message="Your review must be at most 5,000 characters.")])
