"""Forms of the editor console. Flask-WTF adds the CSRF token to each.

The services in ``listings.services`` have the final say on every rule; these
forms give the friendly messages beside the fields and the length limits.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import DateInput

from listings.models import BadgeKind

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ReasonForm(FlaskForm):
    """A required reason the partner (or reviewer) will read: reject, delist.

    Pages with several of these give each its own ``prefix`` so the field ids
    stay unique, e.g. ``release-7-reason``.
    """

    reason = TextAreaField("Reason", filters=[_strip], validators=[
        DataRequired(message="Give the partner a reason."),
        Length(max=2000, message="Keep the reason to 2,000 characters."),
    ])


def parse_expiry(text: str) -> datetime | None:
    """"2030-12-31" -> the last second of that day, aware UTC; None when malformed."""
    if not DATE_RE.match(text or ""):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)


class ExpiryDayMixin:
    """An ``expires_at`` day field (YYYY-MM-DD) read as the last second of that day in UTC."""

    def validate_expires_at(self, field) -> None:
        if field.data and parse_expiry(field.data) is None:
            raise ValidationError("Enter the date as YYYY-MM-DD, for example 2030-12-31.")

    @property
    def expiry(self) -> datetime | None:
        """The chosen day as its last second in UTC, or None when left empty."""
        return parse_expiry(self.expires_at.data) if self.expires_at.data else None


class BadgeForm(ExpiryDayMixin, FlaskForm):
    """Award a badge, optionally until the end of a given day (UTC)."""

    # The service checks the kind, so a forged value gets its "Unknown badge." message.
    # "Top rated" is not offered: it is derived from reviews (listings/badges.py).
    kind = SelectField("Badge", choices=[SelectChoice(kind.value, kind.label) for kind in BadgeKind
                                         if kind != BadgeKind.TOP_RATED],
                       validate_choice=False)
    expires_at = StringField("Expires on (optional)", widget=DateInput(), filters=[_strip])
    note = StringField("Note (optional)", filters=[_strip],
                       validators=[Length(max=300, message="Keep the note to 300 characters.")])


class CollectionForm(FlaskForm):
    name = StringField("Name", filters=[_strip], validators=[
        DataRequired(message="Name the collection."),
        Length(max=80, message="Keep the name to 80 characters."),
    ])
    description = TextAreaField("Description (optional)", filters=[_strip], validators=[
        Length(max=500, message="Keep the description to 500 characters."),
    ])


class CollectionItemsForm(FlaskForm):
    """The collection editor. Each listing's position (``position-<id>``) and
    remove box (``remove-<id>``) are read from the request by the view, since
    they depend on the collection's contents."""

    add_slug = StringField("Add a listing by its slug (optional)", filters=[_strip],
                           validators=[Length(max=80, message="A slug has at most 80 characters.")])


# --- stale-app pruning: exemptions and the dry-run preview --------------------------


class ExemptionForm(ExpiryDayMixin, FlaskForm):
    """Exempt a listing from one prune rule (or all of them) until the end of a day (UTC).

    The rule's choices are set by the view (they carry the rules' titles); the
    service checks the rule, so a forged value gets its "Unknown rule" message.
    """

    # Own ids: the editor's listing page has other forms with these field names.
    rule = SelectField("Rule", validate_choice=False, id="exempt-rule")
    reason = TextAreaField("Reason", id="exempt-reason", filters=[_strip], validators=[
        DataRequired(message="Give a reason for the exemption; the audit log keeps it."),
        Length(max=1000, message="Keep the reason to 1,000 characters."),
    ])
    expires_at = StringField("Exempt until", id="exempt-expires-at", widget=DateInput(),
                             filters=[_strip], validators=[
        DataRequired(message="Choose the day the exemption ends."),
    ])


class PreviewRunForm(FlaskForm):
    """A dry run of the prune job, optionally as of a later day."""

    as_of = StringField("As of (optional)", widget=DateInput(), filters=[_strip])

    def validate_as_of(self, field) -> None:
        if field.data and parse_day(field.data) is None:
            raise ValidationError("Enter the date as YYYY-MM-DD, for example 2030-12-31.")


def parse_day(text: str) -> date | None:
    """"2030-12-31" -> that date; None when malformed."""
    if not DATE_RE.match(text or ""):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


# --- the audit log's filters (GET: no CSRF token) -------------------------------------


class AuditFilterForm(FlaskForm):
    """The audit log's filters, read from the query string. The view checks the
    actor and the app against the database; a wrong value is shown beside its
    field with status 400, never an error page."""

    class Meta:
        csrf = False

    actor = StringField("Who", filters=[_strip])
    action = StringField("Action", filters=[_strip])
    object_type = StringField("Object", filters=[_strip])
    name = StringField("App or collection name", filters=[_strip], validators=[
        Length(max=80, message="Search for at most 80 characters of a name.")])
    listing = StringField("App id", filters=[_strip])
    since = StringField("From", widget=DateInput(), filters=[_strip])
    until = StringField("To", widget=DateInput(), filters=[_strip])

    def _day(self, field) -> date | None:
        day = parse_day(field.data) if field.data else None
        if field.data and (day is None or not 1970 <= day.year <= 9000):
            raise ValidationError("Enter the date as YYYY-MM-DD, for example 2026-12-05.")
        return day

    def validate_since(self, field) -> None:
        self._day(field)

    def validate_until(self, field) -> None:
        until = self._day(field)
        since = parse_day(self.since.data or "")
        if until and since and since > until:
            raise ValidationError("The “From” day must be on or before the “To” day.")

    def validate_listing(self, field) -> None:
        if field.data and not field.data.isdigit():
            raise ValidationError("An app id is a whole number.")


# --- a collection's settings and the app picker -----------------------------------------


class CollectionRenameForm(FlaskForm):
    """Rename a collection: its name, its public address (slug) and description.
    The service checks the slug's form and that no other collection uses it."""

    name = StringField("Name", filters=[_strip], validators=[
        DataRequired(message="Name the collection."),
        Length(max=80, message="Keep the name to 80 characters."),
    ])
    slug = StringField("Address (slug)", filters=[_strip], validators=[
        DataRequired(message="Give the collection an address, e.g. spring-picks."),
        Length(max=80, message="Keep the address to 80 characters."),
    ])
    description = TextAreaField("Description (optional)", filters=[_strip], validators=[
        Length(max=500, message="Keep the description to 500 characters."),
    ])


class AddToCollectionForm(FlaskForm):
    """The "Add" button beside a search result: which app to put last."""

    listing_id = StringField("App", filters=[_strip])

    def validate_listing_id(self, field) -> None:
        if not (field.data or "").isdigit():
            raise ValidationError("Choose an app from the search results.")
