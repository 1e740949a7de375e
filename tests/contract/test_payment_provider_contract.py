"""The payment provider contract: the same behaviours against every provider.

Runs against the local provider (on SQLite and on PostgreSQL) and against the Stripe
provider talking to stripe-mock (``BAZAAR_TEST_STRIPE_URL``; required when CI=true),
which checks every request against Stripe's published API. stripe-mock keeps no state,
so there idempotency is checked by the key reaching Stripe; the local provider must
actually return the same object.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import stripe

from billing.interfaces import (
    CheckoutSession,
    InvalidWebhook,
    MeterEvent,
    PaymentProvider,
    ProviderError,
    WebhookEvent,
    short_lived_key,
)
from core.db import utcnow

WEBHOOK_SECRET = "whsec_contract_test_secret"


class RecordingHTTPClient(stripe.RequestsClient):
    """stripe-python's own HTTP client, remembering each request's headers."""

    def __init__(self):
        super().__init__(timeout=10)
        self.sent: list[tuple[str, str, dict]] = []
        self.bodies: list[str] = []

    def request(self, method, url, headers, post_data=None):
        self.sent.append((method, url, dict(headers or {})))
        self.bodies.append(post_data.decode() if isinstance(post_data, bytes) else post_data or "")
        return super().request(method, url, headers, post_data)


@pytest.fixture
def provider(app, payment_provider_name) -> PaymentProvider:
    if payment_provider_name == "local":
        from billing.local_provider import LocalProvider

        return LocalProvider(app.extensions["bazaar.engine"], WEBHOOK_SECRET)
    from billing.stripe_provider import StripeProvider
    from tests.conftest import STRIPE_MOCK_URL

    client = stripe.StripeClient("sk_test_bazaarcontract",
                                 base_addresses={"api": STRIPE_MOCK_URL},
                                 http_client=RecordingHTTPClient(), max_network_retries=0)
    # stripe-mock serves v1 meter events only, not the v2 meter event stream.
    return StripeProvider(client, WEBHOOK_SECRET, meter_events="v1")


def idempotency_keys_sent(provider) -> list[str]:
    http = provider.client._requestor._client
    return [headers.get("Idempotency-Key") for _, _, headers in http.sent]


def assert_idempotent(provider, create, key: str) -> str:
    """Calling ``create`` twice with the same key gives the same object (local), or
    at least reaches Stripe with that key both times (stripe-mock doesn't dedupe)."""
    first = create()
    second = create()
    assert isinstance(first, str) and first
    if provider.name == "local":
        assert second == first
    else:
        assert idempotency_keys_sent(provider)[-2:] == [key, key]
    return first


def customer(provider, key="customer:workspace:1") -> str:
    return provider.create_customer(name="Acme", email="billing@acme.test",
                                    metadata={"workspace_id": "1"}, idempotency_key=key)


def flat_price(provider, product_id: str, key: str = "price:plan:1") -> str:
    return provider.create_price(product_id=product_id, currency="eur", unit_amount=1900,
                                 idempotency_key=key)


def product(provider, key: str = "product:listing:1") -> str:
    return provider.create_product(name="Ledger", metadata={"listing_id": "1"},
                                   idempotency_key=key)


# --- objects --------------------------------------------------------------------------


def test_provider_implements_the_protocol(provider):
    assert isinstance(provider, PaymentProvider)
    assert provider.name in {"local", "stripe"}


def test_customer_is_created_once_per_idempotency_key(provider):
    customer_id = assert_idempotent(provider, lambda: customer(provider),
                                    "customer:workspace:1")
    assert customer_id.startswith("cus_")
    other = customer(provider, key="customer:workspace:2")
    assert other.startswith("cus_")
    if provider.name == "local":
        assert other != customer_id


def test_product_is_created_once_per_idempotency_key(provider):
    product_id = assert_idempotent(provider, lambda: product(provider), "product:listing:1")
    assert product_id.startswith("prod_")


def test_meter_is_created_once_per_idempotency_key(provider):
    meter_id = assert_idempotent(
        provider, lambda: provider.create_meter(display_name="Ledger (invoices)",
                                                event_name="bazaar_listing_1",
                                                idempotency_key="meter:listing:1"),
        "meter:listing:1")
    assert meter_id.startswith("mtr_") or meter_id.startswith("meter_")


def test_flat_and_metered_prices(provider):
    product_id = product(provider)
    flat = assert_idempotent(provider, lambda: flat_price(provider, product_id), "price:plan:1")
    meter_id = provider.create_meter(display_name="Ledger", event_name="bazaar_listing_1",
                                     idempotency_key="meter:listing:1")
    metered = provider.create_price(product_id=product_id, currency="eur", unit_amount=2,
                                    meter_id=meter_id, idempotency_key="price:plan:1:usage")
    assert flat.startswith("price_") and metered.startswith("price_")
    if provider.name == "local":
        assert flat != metered


def last_request_params(provider) -> dict[str, list[str]]:
    """The form fields of the last request the Stripe provider sent."""
    from urllib.parse import parse_qs

    return parse_qs(provider.client._requestor._client.bodies[-1])


def stored_request(provider, kind: str, object_id: str) -> dict:
    return provider.get(kind, object_id).data["request"]


def test_included_units_make_a_graduated_tiered_metered_price(provider):
    product_id = product(provider)
    meter_id = provider.create_meter(display_name="Ledger", event_name="bazaar_listing_1",
                                     idempotency_key="meter:listing:1")
    price_id = provider.create_price(product_id=product_id, currency="usd", unit_amount=3,
                                     meter_id=meter_id, included_units=100,
                                     idempotency_key="price:listing:1:metered:3usd:included:100")
    assert price_id.startswith("price_")
    if provider.name == "local":
        request = stored_request(provider, "price", price_id)
        assert request["tiers"] == [{"up_to": 100, "unit_amount": 0},
                                    {"up_to": None, "unit_amount": 3}]
        assert request["meter"] == meter_id
    else:
        # What Stripe needs for included units: graduated tiers and no flat unit_amount
        # (stripe-mock checked the request against Stripe's published API).
        params = last_request_params(provider)
        assert params["billing_scheme"] == ["tiered"]
        assert params["tiers_mode"] == ["graduated"]
        assert params["tiers[0][up_to]"] == ["100"] and params["tiers[0][unit_amount]"] == ["0"]
        assert params["tiers[1][up_to]"] == ["inf"] and params["tiers[1][unit_amount]"] == ["3"]
        assert params["recurring[usage_type]"] == ["metered"]
        assert params["recurring[meter]"] == [meter_id]
        assert "unit_amount" not in params


def test_a_usage_price_without_included_units_is_per_unit(provider):
    product_id = product(provider)
    meter_id = provider.create_meter(display_name="Ledger", event_name="bazaar_listing_1",
                                     idempotency_key="meter:listing:1")
    price_id = provider.create_price(product_id=product_id, currency="usd", unit_amount=3,
                                     meter_id=meter_id, idempotency_key="price:per-unit")
    if provider.name == "local":
        assert "tiers" not in stored_request(provider, "price", price_id)
    else:
        params = last_request_params(provider)
        assert params["unit_amount"] == ["3"] and "billing_scheme" not in params


def test_included_units_need_a_meter_and_a_count(provider):
    product_id = product(provider)
    with pytest.raises(ProviderError, match="metered"):
        provider.create_price(product_id=product_id, currency="usd", unit_amount=1500,
                              included_units=10, idempotency_key="price:flat:included")
    meter_id = provider.create_meter(display_name="Ledger", event_name="bazaar_listing_1",
                                     idempotency_key="meter:listing:1")
    with pytest.raises(ProviderError, match="at least 0"):
        provider.create_price(product_id=product_id, currency="usd", unit_amount=3,
                              meter_id=meter_id, included_units=-1,
                              idempotency_key="price:negative")
    with pytest.raises(TypeError):
        provider.create_price(product_id=product_id, currency="usd", unit_amount=3,
                              meter_id=meter_id, included_units=Decimal("1.5"),
                              idempotency_key="price:fraction")


def test_prices_take_integer_minor_units_only(provider):
    product_id = product(provider)
    with pytest.raises(TypeError):
        provider.create_price(product_id=product_id, currency="eur",
                              unit_amount=Decimal("19.00"), idempotency_key="price:bad")
    with pytest.raises(TypeError):
        provider.create_price(product_id=product_id, currency="eur", unit_amount=19.0,
                              idempotency_key="price:bad")


def test_a_request_the_provider_refuses_raises_provider_error(provider):
    product_id = product(provider)
    with pytest.raises(ProviderError) as refused:
        provider.create_price(product_id=product_id, currency="eur", unit_amount=100,
                              recurring_interval="fortnight", idempotency_key="price:odd")
    assert str(refused.value)
    assert refused.value.status == 400


def test_meter_event_is_sent_with_its_identifier_as_idempotency_key(provider):
    customer_id = customer(provider)
    result = provider.record_meter_event(event_name="bazaar_listing_1",
                                         customer_id=customer_id, value=7,
                                         identifier="1:evt-1", timestamp=utcnow())
    assert result is None
    if provider.name == "stripe":
        assert idempotency_keys_sent(provider)[-1] == "1:evt-1"


def test_meter_events_in_a_batch_are_taken_and_out_of_window_ones_refused_each(provider):
    customer_id, now = customer(provider), utcnow()

    def event(identifier, timestamp):
        return MeterEvent(event_name="bazaar_listing_1", customer_id=customer_id, value=3,
                          identifier=identifier, timestamp=timestamp)

    batch = [event("1:good", now), event("1:old", now - timedelta(days=36)),
             event("1:ahead", now + timedelta(minutes=10))][:max(provider.meter_batch_size, 1)]
    refused = provider.record_meter_events(batch)
    assert set(refused) == {e.identifier for e in batch} - {"1:good"}
    assert all(isinstance(error, ProviderError) for error in refused.values())
    if provider.meter_batch_size == 1:  # one event per call: the others one by one
        for late in (event("1:old", now - timedelta(days=36)),
                     event("1:ahead", now + timedelta(minutes=10))):
            assert set(provider.record_meter_events([late])) == {late.identifier}


def test_meter_event_accepts_naive_utc_timestamps(provider):
    # SQLite hands datetimes back naive; they are UTC.
    provider.record_meter_event(event_name="bazaar_listing_1", customer_id=customer(provider),
                                value=1, identifier="1:evt-naive",
                                timestamp=utcnow().replace(tzinfo=None) - timedelta(hours=1))


# --- checkout, portal, Connect ----------------------------------------------------------


def test_checkout_session_for_a_subscription_with_trial_and_destination_charge(provider):
    customer_id = customer(provider)
    product_id = product(provider)
    price_id = flat_price(provider, product_id)
    meter_id = provider.create_meter(display_name="Ledger", event_name="bazaar_listing_1",
                                     idempotency_key="meter:listing:1")
    usage_price = provider.create_price(product_id=product_id, currency="eur", unit_amount=3,
                                        meter_id=meter_id, idempotency_key="price:usage")
    account_id = provider.create_express_account(email="partner@ledger.test",
                                                 metadata={"partner_id": "4"},
                                                 idempotency_key="account:partner:4")

    def start():
        return provider.create_checkout_session(
            customer_id=customer_id, price_ids=[price_id], metered_price_ids=[usage_price],
            trial_days=14, success_url="https://bazaar.test/installs/1?checkout=done",
            cancel_url="https://bazaar.test/apps/ledger", metadata={"install_id": "1"},
            application_fee_percent=Decimal("15"), destination_account=account_id,
            idempotency_key="checkout:install:1")

    session = start()
    assert isinstance(session, CheckoutSession)
    assert session.id.startswith("cs_") and session.url
    again = start()
    if provider.name == "local":
        assert again == session
        assert session.url == f"/billing/local-checkout/{session.id}"
    else:
        assert idempotency_keys_sent(provider)[-1] == "checkout:install:1"
        assert session.url.startswith("https://")


def test_checkout_session_without_trial_or_connect(provider):
    customer_id = customer(provider)
    price_id = flat_price(provider, product(provider))
    session = provider.create_checkout_session(
        customer_id=customer_id, price_ids=[price_id], trial_days=0,
        success_url="https://bazaar.test/ok", cancel_url="https://bazaar.test/cancel",
        metadata={}, application_fee_percent=None, destination_account=None,
        idempotency_key="checkout:install:2")
    assert isinstance(session, CheckoutSession) and session.url


def test_portal_session_url_once_per_idempotency_key(provider):
    customer_id = customer(provider)
    key = short_lived_key("portal:workspace:1")
    url = assert_idempotent(provider, lambda: provider.create_portal_session(
        customer_id=customer_id, return_url="https://bazaar.test/billing",
        idempotency_key=key), key)
    assert isinstance(url, str) and url


def test_a_subscriptions_current_state_can_be_read(provider):
    if provider.name == "local":
        # Test mode holds what its simulated checkout made; stripe-mock knows any id.
        provider.record_subscription({"id": "sub_contract_1", "object": "subscription",
                                      "status": "active", "metadata": {"bazaar": "1"}})
    state = provider.retrieve_subscription(subscription_id="sub_contract_1")
    assert isinstance(state, dict)
    assert state["id"] == "sub_contract_1" and state["status"] == "active"
    assert isinstance(state["metadata"], dict)
    if provider.name == "local":
        provider.cancel_subscription(subscription_id="sub_contract_1",
                                     idempotency_key="cancel:subscription:1")
        assert provider.retrieve_subscription(
            subscription_id="sub_contract_1")["status"] == "canceled"
        with pytest.raises(ProviderError) as unknown:
            provider.retrieve_subscription(subscription_id="sub_nobody")
        assert unknown.value.code == "resource_missing"


def test_cancelling_a_subscription_twice_is_fine(provider):
    # stripe-mock answers for any id; the local provider remembers the first cancellation.
    for _ in range(2):
        assert provider.cancel_subscription(subscription_id="sub_contract_1",
                                            idempotency_key="cancel:subscription:1") is None


def test_express_account_and_onboarding_link(provider):
    account_id = assert_idempotent(
        provider, lambda: provider.create_express_account(
            email="partner@ledger.test", metadata={"partner_id": "4"},
            idempotency_key="account:partner:4"),
        "account:partner:4")
    assert account_id.startswith("acct_")
    key = short_lived_key("account_link:partner:4")
    url = assert_idempotent(provider, lambda: provider.create_account_link(
        account_id=account_id, refresh_url="https://bazaar.test/partner/payouts",
        return_url="https://bazaar.test/partner/payouts?done=1", idempotency_key=key), key)
    assert isinstance(url, str) and url


def test_short_lived_keys_change_each_minute():
    from datetime import UTC, datetime

    first = datetime(2026, 11, 3, 9, 15, 2, tzinfo=UTC)
    assert short_lived_key("portal:workspace:1", first) == "portal:workspace:1:202611030915"
    assert short_lived_key("portal:workspace:1", first + timedelta(seconds=50)) == \
        short_lived_key("portal:workspace:1", first)
    assert short_lived_key("portal:workspace:1", first + timedelta(minutes=1)) != \
        short_lived_key("portal:workspace:1", first)


# --- webhooks ---------------------------------------------------------------------------


def event_payload(event_id: str = "evt_1", created: int | None = None) -> bytes:
    return json.dumps({
        "id": event_id, "object": "event", "type": "invoice.paid",
        "created": created or int(time.time()),
        "data": {"object": {"id": "in_1", "object": "invoice", "amount_paid": 1900,
                            "currency": "eur"}},
    }).encode()


def stripe_signature(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp=None) -> str:
    # stripe-python's own signing helper, as Stripe signs real deliveries.
    return stripe.WebhookSignature.generate_signature_header(payload.decode(), secret,
                                                            timestamp=timestamp)


def test_webhook_signed_the_stripe_way_is_accepted(provider):
    payload = event_payload("evt_signed", created=1_700_000_000)
    event = provider.parse_webhook(payload, stripe_signature(payload))
    assert isinstance(event, WebhookEvent)
    assert event.id == "evt_signed" and event.type == "invoice.paid"
    assert event.created.timestamp() == 1_700_000_000 and event.created.tzinfo is not None
    assert event.data_object == {"id": "in_1", "object": "invoice", "amount_paid": 1900,
                                 "currency": "eur"}
    assert event.account is None  # the platform's own event


def test_a_connected_accounts_event_says_which_account(provider):
    # Connect endpoints get the events of connected accounts with their id in "account":
    # https://docs.stripe.com/connect/webhooks
    payload = json.dumps({
        "id": "evt_payout", "object": "event", "type": "payout.paid", "created": 1_700_000_000,
        "account": "acct_partner_1",
        "data": {"object": {"id": "po_1", "object": "payout", "amount": 2610, "currency": "usd",
                            "status": "paid"}}}).encode()
    event = provider.parse_webhook(payload, stripe_signature(payload))
    assert (event.type, event.account, event.data_object["id"]) == (
        "payout.paid", "acct_partner_1", "po_1")


@pytest.mark.parametrize("tamper", ["wrong secret", "stale", "altered body", "no header",
                                    "garbage header", "non-ASCII signature",
                                    "non-ASCII digit in timestamp"])
def test_webhook_with_a_bad_or_stale_signature_is_refused(provider, tamper):
    payload = event_payload()
    header = stripe_signature(payload)
    if tamper == "wrong secret":
        header = stripe_signature(payload, secret="whsec_someone_else")
    elif tamper == "stale":
        header = stripe_signature(payload, timestamp=int(time.time()) - 301)
    elif tamper == "altered body":
        payload = payload.replace(b"1900", b"19")
    elif tamper == "no header":
        header = ""
    elif tamper == "garbage header":
        header = "t=abc,v2=123"
    elif tamper == "non-ASCII signature":  # header values arrive as Latin-1 text
        header += "é"
    elif tamper == "non-ASCII digit in timestamp":  # "²".isdigit() but int("²") fails
        header = header.replace("t=", "t=²", 1)
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(payload, header)


def test_webhook_body_that_is_not_an_event_is_refused(provider):
    for payload in (b"not json", b'{"id": "evt_1"}'):
        with pytest.raises(InvalidWebhook):
            provider.parse_webhook(payload, stripe_signature(payload))


def test_refunding_an_invoice_makes_one_credit_note_per_idempotency_key(provider):
    key = "refund:invoice:7:after:0:amount:500"
    note = assert_idempotent(provider, lambda: provider.refund_invoice(
        invoice_id="in_contract_1", amount=500, idempotency_key=key), key)
    assert note.startswith("cn_")
    if provider.name == "stripe":
        # The credit note refunds the amount in cash (not credit to a balance).
        body = provider.client._requestor._client.bodies[-1]
        assert "refund_amount=500" in body and "invoice=in_contract_1" in body


def test_a_refund_takes_a_positive_integer_amount(provider):
    with pytest.raises(TypeError):
        provider.refund_invoice(invoice_id="in_contract_1", amount=Decimal("5.00"),
                                idempotency_key="refund:decimal")
    with pytest.raises(ProviderError):
        provider.refund_invoice(invoice_id="in_contract_1", amount=0,
                                idempotency_key="refund:zero")
