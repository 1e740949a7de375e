"""The listing form's preview: how the catalog card and the top of the app's page
would look with what the partner has typed, before anything is saved.

The template ``listings/partner/_listing_preview.html`` draws it; without JavaScript
the form's "Preview" button posts the form and the page comes back with it filled
in (nothing saved); ``static/js/partner-listing-preview.js`` updates it as they type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import request
from flask_login import current_user

from core import money
from core.db import get_session
from listings.models import Listing, Partner, PricingModel
from listings.partner_forms import parse_money
from listings.plans import ListingPlan, card_plan, stored_plans

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
    # The listing's other plans, for the live preview's "From ..." (js): each a flat
    # "amount" and a usage "unit_amount" in major units, and an "interval".
    other_plans: list[dict] = field(default_factory=list)
    first_interval: str = "month"


def _price(form, first: ListingPlan | None, others: list[ListingPlan]) -> str:
    """The card's price for what is typed: the typed price is the first plan's, and
    with other plans the card says "From" the cheapest, as ``card_plan`` picks it."""
    model = form.pricing_model.data or PricingModel.FREE.value
    currency = (form.currency.data or "usd").strip().lower() or "usd"
    flat = model == PricingModel.FLAT_MONTHLY
    if model not in (PricingModel.FLAT_MONTHLY, PricingModel.USAGE):
        return "Free"
    typed = form.monthly_price if flat else form.unit_price
    # The first plan keeps its interval (usage is billed monthly).
    interval = first.interval if first and flat else "month"
    per = f" / {interval}" if flat else f" per {(form.unit_name.data or '').strip() or 'unit'}"
    try:
        minor = parse_money(typed.data, currency)
    except (ValueError, KeyError):
        return f"{(typed.data or '').strip() or '?'}{per}"
    # Plans priced the other way are retired when the form is saved (sync_first_plan).
    offered = [plan for plan in others if (plan.price if flat else plan.unit_price) > 0]
    if not offered:
        return f"{money.format_money(minor, currency)}{per}"
    typed_plan = ListingPlan(name="", interval=interval, price=minor if flat else 0,
                             unit_price=0 if flat else minor, position=-1)
    shown = card_plan([typed_plan, *offered], model)
    amount = money.format_money(shown.price if flat else shown.unit_price, currency)
    return f"From {amount} / {shown.interval}" if flat else f"From {amount}{per}"


def _plans(listing: Listing | None) -> tuple[ListingPlan | None, list[ListingPlan]]:
    """The listing's first plan and its others (none for a new listing)."""
    if listing is None or listing.id is None:
        return None, []
    plans = stored_plans(get_session(), listing.id)
    return (plans[0], plans[1:]) if plans else (None, [])


def listing_preview(form, listing: Listing | None = None) -> ListingPreview:
    """What the card and page header show for ``form``'s current values (never saved,
    never validated: a price that does not parse is shown as typed); ``listing`` is
    the listing being edited, whose other plans the card's "From" counts."""
    choices = {str(value): label for value, label, *_ in form.category_id.iter_choices()}
    partner = get_session().get(Partner, current_user.partner_id)
    try:
        trial_days = max(int(form.trial_days.data or 0), 0)
    except (TypeError, ValueError):
        trial_days = 0
    first, others = _plans(listing)
    currency = (listing.currency if listing else "usd") or "usd"
    return ListingPreview(
        name=(form.name.data or "").strip() or "Your app's name",
        tagline=(form.tagline.data or "").strip() or "Your tagline, in one sentence.",
        category=choices.get(str(form.category_id.data), ""),
        partner=partner.name if partner else "",
        price=_price(form, first, others),
        trial_days=trial_days if form.pricing_model.data != PricingModel.FREE else 0,
        other_plans=[{"amount": str(money.to_major(plan.price, currency)),
                      "unit_amount": str(money.to_major(plan.unit_price, currency)),
                      "interval": plan.interval} for plan in others],
        first_interval=first.interval if first else "month",
    )
