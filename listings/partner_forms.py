"""Partner portal forms.

The forms only collect and convert what people type (prices as "19.99",
tags as "a, b", ticked scopes with their justifications); the catalog's rules
stay on ``ListingCreate``/``ListingUpdate``/``ReleaseCreate`` and in the
services, whose messages the forms place beside the right field.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from core.money import currency_choices, is_currency, major_to_minor_digits
from listings.models import Listing, PricingModel
from listings.scopes import REGIONS, SCOPES

PRICING_CHOICES = [
    SelectChoice(PricingModel.FREE.value, "Free"),
    SelectChoice(PricingModel.FLAT_MONTHLY.value, "Flat monthly price"),
    SelectChoice(PricingModel.USAGE.value, "Usage-based"),
]
MONEY_FIELDS = ("monthly_price", "unit_price")


class MultiCheckboxField(SelectMultipleField):
    """A set of checkboxes (works without JavaScript, unlike a multi-select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def parse_money(text: str | None, currency: str) -> int:
    """A price typed by a person ("19.99") as integer minor units (1999).

    Exact: ``Decimal``, never float. Blank means zero. Raises ``ValueError``
    with a message for the person on negatives, non-numbers and more decimals
    than the currency has (two, or none for currencies such as JPY).
    """
    # Commas are refused, not stripped: "19,99" must not become 1999.00.
    text = (text or "").strip()
    if not text:
        return 0
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError("Enter a number, like 19.99.") from None
    if not amount.is_finite():
        raise ValueError("Enter a number, like 19.99.")
    if amount < 0:
        raise ValueError("A price cannot be negative.")
    if amount.adjusted() > 15:
        # "1e999999999" is a valid Decimal whose int() would take minutes.
        raise ValueError("That price is too large.")
    # The currency's own minor-unit digits: 2 for USD, 0 for JPY, 3 for KWD.
    places = major_to_minor_digits((currency or "usd").strip() or "usd") \
        if is_currency(currency) else 2
    minor = amount.scaleb(places)
    if minor != minor.to_integral_value():
        if places == 0:
            raise ValueError(f"{currency.upper()} prices have no decimals.")
        raise ValueError("Use at most two decimals, like 19.99.")
    return int(minor)


def format_money_input(minor: int, currency: str) -> str:
    """Integer minor units back to what a person would type: 1999 -> "19.99"."""
    places = major_to_minor_digits(currency) if is_currency(currency) else 2
    if places == 0:
        return str(minor)
    return str(Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places)))


def friendly_message(label: str, message: str) -> str:
    """Turn a model's terse message ("is required") into a sentence beside a field."""
    message = message.strip()
    # Pydantic's own wording for length limits, said the way the model's rules are.
    message = re.sub(r"^String should have at most (\d+) characters?$",
                     r"must be at most \1 characters", message)
    if message == "is required":
        # Say what to do, not what is wrong: "Enter a name."
        noun = label if label[1:2].isupper() else label[:1].lower() + label[1:]
        return f"Enter {'an' if noun[:1] in 'aeiou' else 'a'} {noun}."
    if message.startswith(("is ", "must ")):
        message = f"{label} {message}"
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "?", "!")) else message + "."


class MessagesMixin:
    """Place {field: message} (from pydantic or a ``ListingError``) beside fields."""

    def add_error(self, name: str | None, message: str) -> None:
        """One message per field: the first problem found is the one shown."""
        field = self._fields.get(name) if name else None
        if field is None:
            if message not in self.form_errors:
                self.form_errors.append(message)
            return
        if not field.errors:
            # WTForms leaves ``errors`` a tuple until validate() has run.
            field.errors = list(field.errors)
            field.errors.append(friendly_message(field.label.text, message))

    def add_errors(self, messages: dict[str, str]) -> None:
        for name, message in messages.items():
            self.add_error(None if name == "__all__" else name, message)

    @property
    def has_errors(self) -> bool:
        return bool(self.form_errors) or any(field.errors for field in self)


class ListingForm(MessagesMixin, FlaskForm):
    """A listing's details; the slug is only chosen once (``NewListingForm``)."""

    name = StringField("Name")
    tagline = StringField("Tagline")
    category_id = SelectField("Category", coerce=int, choices=[])
    description = TextAreaField("Description")
    tags = StringField("Tags")
    pricing_model = SelectField("Pricing model", choices=PRICING_CHOICES,
                                default=PricingModel.FREE.value)
    # ISO 4217 codes, the common ones first; an unknown one is refused by the model.
    currency = SelectField("Currency", default="usd", validate_choice=False,
                           choices=[SelectChoice(code, label) for code, label in currency_choices()])
    monthly_price = StringField("Monthly price")
    unit_name = StringField("Unit name")
    unit_price = StringField("Price per unit")
    included_units = IntegerField("Included units", default=0, validators=[Optional()])
    trial_days = IntegerField("Free trial (days)", default=0, validators=[Optional()])
    website_url = URLField("Website")
    support_url = URLField("Support page")
    privacy_url = URLField("Privacy policy")
    data_residency = MultiCheckboxField(
        "Data residency", choices=[SelectChoice(code, name) for code, name in REGIONS.items()])
    # Checked by listings.icons when the listing is saved; optional.
    icon = FileField("Icon (optional)")

    def listing_values(self) -> dict:
        """The values for ``ListingCreate``/``ListingUpdate``.

        Prices are converted to minor units here; a price that cannot be
        converted gets its message beside the field and is sent as 0 so the
        model can still report on every other field in the same answer.
        """
        currency = (self.currency.data or "").strip()
        values = {
            "name": self.name.data or "",
            "tagline": self.tagline.data or "",
            "description": self.description.data or "",
            "tags": self.tags.data or "",
            "pricing_model": self.pricing_model.data or "",
            "currency": currency,
            "unit_name": (self.unit_name.data or "").strip() or None,
            "included_units": self.included_units.data or 0,
            "trial_days": self.trial_days.data or 0,
            "website_url": self.website_url.data,
            "support_url": self.support_url.data,
            "privacy_url": self.privacy_url.data,
            "data_residency": self.data_residency.data or [],
        }
        for name in MONEY_FIELDS:
            try:
                values[name] = parse_money(self[name].data, currency)
            except ValueError as error:
                self.add_error(name, str(error))
                values[name] = 0
        return values

    @classmethod
    def data_from_listing(cls, listing: Listing) -> dict:
        """What the edit form shows for an existing listing."""
        return {
            "name": listing.name,
            "tagline": listing.tagline,
            "category_id": listing.category_id,
            "description": listing.description,
            "tags": ", ".join(listing.tags),
            "pricing_model": listing.pricing_model,
            "currency": listing.currency,
            "monthly_price": format_money_input(listing.monthly_price, listing.currency),
            "unit_name": listing.unit_name or "",
            "unit_price": format_money_input(listing.unit_price, listing.currency),
            "included_units": listing.included_units,
            "trial_days": listing.trial_days,
            "website_url": listing.website_url or "",
            "support_url": listing.support_url or "",
            "privacy_url": listing.privacy_url or "",
            "data_residency": list(listing.data_residency),
        }


class NewListingForm(ListingForm):
    slug = StringField("Slug (web address)")

    def listing_values(self) -> dict:
        values = super().listing_values()
        values["slug"] = self.slug.data
        return values


def justification_field_name(scope: str) -> str:
    """The form field holding the justification of ``scope`` ("contacts:read" -> "why_contacts_read")."""
    return "why_" + re.sub(r"[^a-z0-9]+", "_", scope.lower())


class ReleaseForm(MessagesMixin, FlaskForm):
    """A release and its manifest: each requested scope is ticked and justified."""

    version = StringField("Version")
    changelog = TextAreaField("What changed")
    redirect_url = URLField("Redirect URL")
    # The webhook URL is no longer part of a release: the partner changes it at once
    # on the listing's webhook page (listings/webhook_settings.py).
    # Unknown names are left for ReleaseCreate to refuse with its own message.
    scopes = MultiCheckboxField("Requested scopes", choices=[SelectChoice(name) for name in SCOPES],
                                validate_choice=False)

    def justification(self, scope: str):
        """The justification field of a scope in the registry, else None."""
        return self._fields.get(justification_field_name(scope))

    def prefill_from(self, release) -> None:
        """Start from ``release``'s URLs and manifest (ticked scopes with their reasons)."""
        self.redirect_url.data = release.redirect_url
        self.scopes.data = list(release.scope_names)
        for item in release.scopes:
            field = self.justification(item["scope"])
            if field is not None:
                field.data = item["justification"]

    def release_values(self) -> dict:
        """The values for ``ReleaseCreate``, with the manifest built from the ticked scopes."""
        ticked = self.scopes.data or []
        requested = []
        for scope in ticked:
            field = self.justification(scope)
            requested.append({"scope": scope, "justification": (field.data or "") if field else ""})
        for scope in SCOPES:
            field = self.justification(scope)
            if scope not in ticked and (field.data or "").strip():
                # Likely a forgotten tick: asking is kinder than dropping the text.
                self.add_error(field.name, "Tick this scope to request it, or clear the justification.")
        return {
            "version": self.version.data or "",
            "changelog": self.changelog.data or "",
            "redirect_url": self.redirect_url.data or "",
            "scopes": requested,
        }

    def add_release_errors(self, messages: dict[str, str]) -> None:
        """Like ``add_errors``, but "scopes.2.justification" goes beside that scope's field."""
        ticked = self.scopes.data or []
        for name, message in messages.items():
            parts = name.split(".")
            if parts[0] == "scopes" and len(parts) >= 2 and parts[1].isdigit():
                index = int(parts[1])
                scope = ticked[index] if index < len(ticked) else ""
                field = self.justification(scope)
                if len(parts) == 3 and parts[2] == "justification" and field is not None:
                    self.add_error(field.name, message)
                else:
                    self.add_error("scopes", message)
            else:
                self.add_error(None if name == "__all__" else name, message)


for _scope in SCOPES:
    setattr(ReleaseForm, justification_field_name(_scope),
            StringField(f"Why your app needs {_scope}"))


class ScreenshotForm(MessagesMixin, FlaskForm):
    image = FileField("Image (PNG, JPEG or WebP, at most 5 MB and 4096 pixels a side)")
    caption = StringField("Caption")


class ReplyForm(MessagesMixin, FlaskForm):
    body = TextAreaField("Your public reply")
