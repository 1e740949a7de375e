"""The listing form's preview: how the catalog card and the top of the app's page
would look with what the partner has typed, before anything is saved.

The template ``listings/partner/_listing_preview.html`` draws it; without JavaScript
the form's "Preview" button posts the form and the page comes back with it filled
in (nothing saved); ``static/js/partner-listing-preview.js`` updates it as they type.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask_login import current_user

from core import money
from core.db import get_session
from listings.models import Partner, PricingModel
from listings.partner_forms import parse_money

# The name of the form's "Preview" submit button.
PREVIEW_BUTTON = "preview"


def previewing() -> bool:
    """Whether this POST asks for a preview rather than a save."""
    return PREVIEW_BUTTON in request.form


@dataclass
class ListingPreview:
    name: str
    tagline: str
    category: str
    partner: str
    price: str
    trial_days: int


def _price(form) -> str:
    model = form.pricing_model.data or PricingModel.FREE.value
    currency = (form.currency.data or "usd").strip().lower() or "usd"

    def amount(field) -> str:
        try:
            return money.format_money(parse_money(field.data, currency), currency)
        except (ValueError, KeyError):
            return (field.data or "").strip() or "?"

    if model == PricingModel.FLAT_MONTHLY:
        return f"{amount(form.monthly_price)} / month"
    if model == PricingModel.USAGE:
        unit = (form.unit_name.data or "").strip() or "unit"
        return f"{amount(form.unit_price)} per {unit}"
    return "Free"


def listing_preview(form) -> ListingPreview:
    """What the card and page header show for ``form``'s current values (never saved,
    never validated: a price that does not parse is shown as typed)."""
    choices = {str(value): label for value, label, *_ in form.category_id.iter_choices()}
    partner = get_session().get(Partner, current_user.partner_id)
    try:
        trial_days = max(int(form.trial_days.data or 0), 0)
    except (TypeError, ValueError):
        trial_days = 0
    return ListingPreview(
        name=(form.name.data or "").strip() or "Your app's name",
        tagline=(form.tagline.data or "").strip() or "Your tagline, in one sentence.",
        category=choices.get(str(form.category_id.data), ""),
        partner=partner.name if partner else "",
        price=_price(form),
        trial_days=trial_days if form.pricing_model.data != PricingModel.FREE else 0,
    )
