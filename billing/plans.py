"""A listing's plan at the payment provider: one product, and the price its plan asks for.

``ensure_prices`` makes what is missing (once: each object is remembered in a
``ProviderObject`` row under the provider's name, and every create carries a
deterministic idempotency key, so a retry after a timeout never makes a second one).
A changed price is a new price under a new key; the old one stays, because
subscriptions made on it keep using it (https://docs.stripe.com/products-prices/manage-prices#edit-price).
Usage prices count the same meter the usage sender reports to (``meter_event_name``);
a plan's included units make it a graduated tiered price (the first units of each
period at 0, see ``billing.interfaces.usage_charge``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from billing.models import ProviderObject
from billing.usage_sender import _remember, meter_event_name, provider_name
from core.db import utcnow
from listings.models import Listing, PricingModel
from listings.plans import ListingPlan, PlanInterval, implicit_plan

_CONFLICT = ["provider", "kind", "local_key"]


@dataclass(frozen=True)
class ListingPrices:
    """The provider's price ids to subscribe a workspace to ``listing``: flat prices
    (quantity 1) and metered ones (billed by usage)."""

    product_id: str
    flat_price_ids: list[str] = field(default_factory=list)
    metered_price_ids: list[str] = field(default_factory=list)


def _known(session: Session, provider: str, kind: str, local_key: str) -> ProviderObject | None:
    return session.exec(select(ProviderObject).where(
        ProviderObject.provider == provider, ProviderObject.kind == kind,
        ProviderObject.local_key == local_key)).first()


def _ensure(session: Session, provider_label: str, kind: str, local_key: str, create) -> str:
    """The provider id remembered for ``local_key``, creating it with ``create()`` once."""
    known = _known(session, provider_label, kind, local_key)
    if known is None:
        _remember(session, ProviderObject, dict(
            provider=provider_label, kind=kind, local_key=local_key, provider_id=create(),
            data={}, created_at=utcnow()), _CONFLICT)
        # Another request may have been first: the row that won is the one to use.
        known = _known(session, provider_label, kind, local_key)
    return known.provider_id


def price_key(listing: Listing, plan: ListingPlan | None = None) -> str:
    """What a price of the listing is, as ``listing:<id>:<flat|metered>:<amount><currency>``,
    followed by ``:included:<units>`` for a usage price with free units (so a change of
    the included units, like a change of the unit price, makes a new price) and by
    ``:year`` for a yearly one. Made from what is charged, not from the plan's id: two
    plans at the same price share it, and a changed plan gets a new one."""
    plan = plan or implicit_plan(listing)
    if listing.pricing_model == PricingModel.FLAT_MONTHLY:
        key = f"listing:{listing.id}:flat:{plan.price}{listing.currency.lower()}"
        return key + (":year" if plan.interval == PlanInterval.YEAR else "")
    key = f"listing:{listing.id}:metered:{plan.unit_price}{listing.currency.lower()}"
    included = int(plan.included_units or 0)
    return f"{key}:included:{included}" if included > 0 else key


def ensure_prices(session: Session, provider, listing: Listing,
                  plan: ListingPlan | None = None) -> ListingPrices:
    """Make sure ``listing`` has its product and the price of ``plan`` (by default its
    first plan) at ``provider``, recurring by the plan's interval, and return their ids.
    Call it outside any write of your own: it commits what it records (like a remote
    call, what the provider made exists from now on).

    Raises ``ValueError`` for a free listing; ``ProviderUnavailable`` /
    ``ProviderError`` from the provider pass through.
    """
    if listing.pricing_model not in (PricingModel.FLAT_MONTHLY, PricingModel.USAGE):
        raise ValueError(f"{listing.name} is free: there is nothing to pay for.")
    label = provider_name(provider)
    product_id = _ensure(session, label, "product", f"listing:{listing.id}",
                         lambda: provider.create_product(
                             name=listing.name[:250],
                             metadata={"listing_id": str(listing.id)},
                             idempotency_key=f"product:listing:{listing.id}"))
    plan = plan or implicit_plan(listing)
    key = price_key(listing, plan)
    if listing.pricing_model == PricingModel.FLAT_MONTHLY:
        # A yearly plan is a price recurring every year
        # (https://docs.stripe.com/api/prices/create#create_price-recurring-interval).
        price_id = _ensure(session, label, "price", key, lambda: provider.create_price(
            product_id=product_id, currency=listing.currency.lower(),
            unit_amount=int(plan.price), recurring_interval=plan.interval,
            idempotency_key=f"price:{key}"))
        return ListingPrices(product_id=product_id, flat_price_ids=[price_id])
    # The same meter the usage sender reports to, so what is billed is what was reported.
    meter_event_name(session, provider, listing)
    meter_id = _known(session, label, "meter", f"listing:{listing.id}").provider_id
    # The included units are free each period: a graduated tiered price (0 for them,
    # the unit price after), so the provider's invoice already leaves them out.
    price_id = _ensure(session, label, "price", key, lambda: provider.create_price(
        product_id=product_id, currency=listing.currency.lower(),
        unit_amount=int(plan.unit_price), recurring_interval="month", meter_id=meter_id,
        included_units=max(0, int(plan.included_units or 0)),
        idempotency_key=f"price:{key}"))
    return ListingPrices(product_id=product_id, metered_price_ids=[price_id])
