"""What only the local provider does (the contract suite covers the shared behaviour):
it keeps its objects in the database, refuses what Stripe would refuse, and signs
webhooks for the simulated checkout."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlmodel import select

from billing.interfaces import InvalidWebhook, ProviderError
from billing.local_provider import STORE, LocalProvider
from billing.models import ProviderObject
from core.db import utcnow


@pytest.fixture
def provider(app) -> LocalProvider:
    return LocalProvider(app.extensions["bazaar.engine"], "whsec_local_units")


def stored(db, kind: str) -> list[ProviderObject]:
    db.expire_all()
    return list(db.exec(select(ProviderObject).where(ProviderObject.provider == STORE,
                                                     ProviderObject.kind == kind)))


def customer(provider, key="customer:workspace:1", name="Acme") -> str:
    return provider.create_customer(name=name, email="billing@acme.test",
                                    metadata={"workspace_id": "1"}, idempotency_key=key)


def test_objects_are_kept_in_the_database_with_their_fields(provider, db):
    customer_id = customer(provider)
    assert customer_id.startswith("cus_local_")
    [row] = stored(db, "customer")
    assert row.provider_id == customer_id
    assert row.local_key == "customer:workspace:1"
    assert row.data["request"] == {"name": "Acme", "email": "billing@acme.test",
                                   "metadata": {"workspace_id": "1"}}


def test_objects_exist_even_when_the_callers_transaction_rolls_back(provider, db):
    # Like Stripe: what the provider made doesn't depend on our transaction.
    customer_id = customer(provider, key="customer:workspace:9")
    db.rollback()
    assert [row.provider_id for row in stored(db, "customer")] == [customer_id]
    assert customer(provider, key="customer:workspace:9") == customer_id


def test_reusing_a_key_for_a_different_request_is_refused(provider, db):
    customer(provider)
    with pytest.raises(ProviderError) as refused:
        customer(provider, name="Someone else")
    assert refused.value.code == "idempotency_error"
    assert len(stored(db, "customer")) == 1


def test_meter_event_with_a_known_identifier_is_ignored(provider, db):
    customer_id = customer(provider)
    for value in (5, 5, 9):
        provider.record_meter_event(event_name="bazaar_listing_1", customer_id=customer_id,
                                    value=value, identifier="1:evt-1", timestamp=utcnow())
    provider.record_meter_event(event_name="bazaar_listing_1", customer_id=customer_id,
                                value=2, identifier="1:evt-2", timestamp=utcnow())
    events = {row.local_key: row.data["value"] for row in stored(db, "meter_event")}
    assert events == {"1:evt-1": 5, "1:evt-2": 2}


@pytest.mark.parametrize("offset", [timedelta(days=-36), timedelta(minutes=6)])
def test_meter_event_outside_stripes_time_window_is_refused(provider, db, offset):
    with pytest.raises(ProviderError):
        provider.record_meter_event(event_name="bazaar_listing_1", customer_id=customer(provider),
                                    value=1, identifier="1:evt-late", timestamp=utcnow() + offset)
    assert stored(db, "meter_event") == []


def test_unknown_ids_are_refused_like_stripe_does(provider):
    with pytest.raises(ProviderError, match="No such product"):
        provider.create_price(product_id="prod_missing", currency="eur", unit_amount=100,
                              idempotency_key="price:1")
    with pytest.raises(ProviderError, match="No such customer"):
        provider.create_portal_session(customer_id="cus_missing", return_url="/billing",
                                       idempotency_key="portal:workspace:1")
    with pytest.raises(ProviderError, match="No such account"):
        provider.create_account_link(account_id="acct_missing", refresh_url="/r", return_url="/r",
                                     idempotency_key="account_link:partner:1")
    with pytest.raises(ProviderError, match="No such price"):
        provider.create_checkout_session(
            customer_id=customer(provider), price_ids=["price_missing"], trial_days=0,
            success_url="/ok", cancel_url="/no", metadata={}, application_fee_percent=None,
            destination_account=None, idempotency_key="checkout:1")


def test_checkout_session_is_stored_open_for_the_simulated_page(provider):
    product_id = provider.create_product(name="Ledger", metadata={}, idempotency_key="product:1")
    price_id = provider.create_price(product_id=product_id, currency="EUR", unit_amount=1900,
                                     idempotency_key="price:1")
    session = provider.create_checkout_session(
        customer_id=customer(provider), price_ids=[price_id], trial_days=14,
        success_url="/ok", cancel_url="/no", metadata={"install_id": "3"},
        application_fee_percent=None, destination_account=None, idempotency_key="checkout:3")
    row = provider.get("checkout_session", session.id)
    assert row.data["status"] == "open"
    assert row.data["request"]["price_ids"] == [price_id]
    assert row.data["request"]["metadata"] == {"install_id": "3"}
    assert provider.get("price", price_id).data["request"]["currency"] == "eur"


def test_the_simulated_checkout_can_sign_its_own_webhooks(provider):
    payload = json.dumps({"id": "evt_local_1", "type": "checkout.session.completed",
                          "created": int(time.time()), "data": {"object": {"id": "cs_1"}}})
    event = provider.parse_webhook(payload.encode(), provider.sign_webhook(payload))
    assert event.type == "checkout.session.completed"
    stale = provider.sign_webhook(payload, timestamp=int(time.time()) - 600)
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(payload.encode(), stale)
