"""Listing plans at the payment provider: one product per listing, one price per price
point, made once with deterministic idempotency keys, against the local provider and
(with BAZAAR_TEST_STRIPE_URL) the Stripe provider on stripe-mock."""

from __future__ import annotations

import pytest
import stripe
from sqlmodel import select

from billing.models import ProviderObject
from billing.plans import ensure_prices
from billing.usage_sender import meter_event_name
from tests import factories


class Recording:
    """The provider, remembering each create call and its idempotency key."""

    def __init__(self, provider):
        self._provider = provider
        self.name = provider.name
        self.calls: list[tuple[str, dict]] = []

    def __getattr__(self, attribute):
        method = getattr(self._provider, attribute)

        def call(**kwargs):
            self.calls.append((attribute, kwargs))
            return method(**kwargs)

        return call

    def keys(self, method: str) -> list[str]:
        return [kwargs["idempotency_key"] for name, kwargs in self.calls if name == method]


@pytest.fixture
def provider(app, payment_provider_name) -> Recording:
    if payment_provider_name == "local":
        from billing.local_provider import LocalProvider

        return Recording(LocalProvider(app.extensions["bazaar.engine"], "whsec_plans"))
    from billing.stripe_provider import StripeProvider
    from tests.conftest import STRIPE_MOCK_URL

    client = stripe.StripeClient("sk_test_bazaarplans", base_addresses={"api": STRIPE_MOCK_URL},
                                 max_network_retries=0)
    return Recording(StripeProvider(client, "whsec_plans", meter_events="v1"))


def remembered(db, provider, kind: str) -> list[ProviderObject]:
    db.expire_all()
    return list(db.exec(select(ProviderObject).where(ProviderObject.provider == provider.name,
                                                     ProviderObject.kind == kind)
                        .order_by(ProviderObject.id)))


def test_flat_price_is_made_once_with_deterministic_keys(db, provider):
    listing = factories.make_paid_listing(db, monthly_price=1500, currency="usd")

    first = ensure_prices(db, provider, listing)
    again = ensure_prices(db, provider, listing)

    assert first == again
    assert len(first.flat_price_ids) == 1 and first.metered_price_ids == []
    assert provider.keys("create_product") == [f"product:listing:{listing.id}"]
    assert provider.keys("create_price") == [f"price:listing:{listing.id}:flat:1500usd"]
    [price_call] = [kwargs for name, kwargs in provider.calls if name == "create_price"]
    assert price_call["unit_amount"] == 1500 and isinstance(price_call["unit_amount"], int)
    assert price_call["recurring_interval"] == "month" and price_call.get("meter_id") is None
    assert [row.local_key for row in remembered(db, provider, "price")] == [
        f"listing:{listing.id}:flat:1500usd"]


def test_a_changed_price_makes_a_new_price_and_keeps_the_old(db, provider):
    listing = factories.make_paid_listing(db, monthly_price=1500)
    ensure_prices(db, provider, listing)
    listing.monthly_price = 1900
    factories.save(db, listing)

    ensure_prices(db, provider, listing)

    assert provider.keys("create_product") == [f"product:listing:{listing.id}"]
    assert provider.keys("create_price") == [f"price:listing:{listing.id}:flat:1500usd",
                                             f"price:listing:{listing.id}:flat:1900usd"]
    assert [row.local_key for row in remembered(db, provider, "price")] == [
        f"listing:{listing.id}:flat:1500usd", f"listing:{listing.id}:flat:1900usd"]


def test_usage_price_counts_the_meter_the_usage_sender_reports_to(db, provider):
    listing = factories.make_usage_listing(db, unit_price=2)
    # The usage sender made the meter first: the price must use that one, not a second.
    event_name = meter_event_name(db, provider, listing)

    prices = ensure_prices(db, provider, listing)

    assert prices.flat_price_ids == [] and len(prices.metered_price_ids) == 1
    assert len(provider.keys("create_meter")) == 1
    [meter] = remembered(db, provider, "meter")
    assert meter.data["event_name"] == event_name
    [price_call] = [kwargs for name, kwargs in provider.calls if name == "create_price"]
    assert price_call["meter_id"] == meter.provider_id
    assert price_call["unit_amount"] == 2
    assert provider.keys("create_price") == [f"price:listing:{listing.id}:metered:2usd"]


def test_free_listing_has_nothing_to_price(db, provider):
    listing = factories.make_listing(db)
    with pytest.raises(ValueError, match="free"):
        ensure_prices(db, provider, listing)
    assert provider.calls == []


def test_included_units_make_a_graduated_price_and_a_change_makes_a_new_one(db, provider):
    listing = factories.make_usage_listing(db, unit_price=3, included_units=100)

    prices = ensure_prices(db, provider, listing)
    assert ensure_prices(db, provider, listing) == prices
    listing.included_units = 250
    factories.save(db, listing)
    changed = ensure_prices(db, provider, listing)

    assert changed.metered_price_ids != prices.metered_price_ids
    assert provider.keys("create_price") == [
        f"price:listing:{listing.id}:metered:3usd:included:100",
        f"price:listing:{listing.id}:metered:3usd:included:250"]
    calls = [kwargs for name, kwargs in provider.calls if name == "create_price"]
    assert [(call["unit_amount"], call["included_units"]) for call in calls] == [
        (3, 100), (3, 250)]
    # Both stay known: subscriptions made on the first price keep it.
    assert len(remembered(db, provider, "price")) == 2


def test_without_included_units_the_usage_price_is_per_unit(db, provider):
    listing = factories.make_usage_listing(db, unit_price=3, included_units=0)
    ensure_prices(db, provider, listing)
    [call] = [kwargs for name, kwargs in provider.calls if name == "create_price"]
    assert call["included_units"] == 0
    assert provider.keys("create_price") == [f"price:listing:{listing.id}:metered:3usd"]


@pytest.mark.parametrize(("quantity", "included", "expected"), [
    (0, 100, 0), (99, 100, 0), (100, 100, 0), (101, 100, 3), (1234, 100, 3402),
    (5, 0, 15),
])
def test_usage_charge_leaves_the_included_units_out(quantity, included, expected):
    from billing.interfaces import usage_charge

    assert usage_charge(quantity, 3, included) == expected


def test_usage_charge_takes_whole_numbers_only():
    from decimal import Decimal

    from billing.interfaces import usage_charge

    with pytest.raises(TypeError):
        usage_charge(10, Decimal("0.5"), 0)
    with pytest.raises(TypeError):
        usage_charge(10.0, 3, 0)
