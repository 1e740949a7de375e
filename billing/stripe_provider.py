"""The Stripe payment provider: the only module that imports ``stripe``.

A ``stripe.StripeClient`` is injected (``build_client`` makes the one the app uses,
with a time budget per call and an API base that tests point at stripe-mock). Every Stripe
exception becomes ``ProviderUnavailable`` (retry later) or ``ProviderError`` (refused),
and every answer becomes an id or one of the dataclasses of ``billing.interfaces``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

import stripe

from billing.events import parse_event

# The whole time one call may take, retries included (``STRIPE_CALL_BUDGET``).
from billing.interfaces import (
    DEFAULT_CALL_BUDGET,
    WEBHOOK_TOLERANCE_SECONDS,
    CheckoutSession,
    InvalidWebhook,
    MeterEvent,
    ProviderError,
    ProviderUnavailable,
    WebhookEvent,
    check_included_units,
    check_meter_event_timestamp,
    check_refund_amount,
    check_signature_not_ahead,
    record_each,
)
from core.settings import STRIPE_METER_EVENT_MODES as METER_EVENT_MODES

# stripe-python retries network errors, timeouts, 409s and 5xx that Stripe marks
# retryable, reusing the same idempotency key, so a retry is always safe.
MAX_NETWORK_RETRIES = 1
# Reaching Stripe takes milliseconds; a connection that hangs is a network fault, so
# connecting gets at most a quarter of an attempt's time (and never more than this).
MAX_CONNECT_TIMEOUT = 2.0

# How usage reaches Stripe (``STRIPE_METER_EVENTS``, one of ``METER_EVENT_MODES``):
# "stream", Stripe's v2 meter event stream, up to 100 events a request and 10,000
# requests a second (https://docs.stripe.com/api/v2/billing-meter-stream); or "v1", one
# request per event and at most 1,000 a second
# (https://docs.stripe.com/api/billing/meter-event/create), the one stripe-mock serves
# (it answers "Unrecognized request URL" for /v2).
STREAM_BATCH_SIZE = 100
# A meter event session's token lasts 15 minutes; a new one is made this long before
# it runs out, so no request goes out with a token about to expire.
SESSION_RENEW_AHEAD = timedelta(minutes=1)

T = TypeVar("T")


def retry_pauses(retries: int) -> float:
    """The longest stripe-python sleeps in total between ``retries`` retries: the n-th
    pause is at most min(INITIAL_DELAY x 2^(n-1), MAX_DELAY); its jitter only shortens it
    (``stripe/_http_client.py``, ``_sleep_time_seconds``)."""
    return sum(min(stripe.HTTPClient.INITIAL_DELAY * 2 ** (n - 1), stripe.HTTPClient.MAX_DELAY)
               for n in range(1, retries + 1))


def attempt_timeouts(budget: float, retries: int = MAX_NETWORK_RETRIES) -> tuple[float, float]:
    """(connect, read) timeouts per attempt such that every attempt timing out, plus the
    pauses between them, still ends within ``budget`` seconds.

    The read timeout bounds each wait for the server's next bytes
    (https://requests.readthedocs.io/en/latest/user/advanced/#timeouts): a server that
    accepts and never answers, or stops mid-answer, is given up on in time.
    """
    per_attempt = (budget - retry_pauses(retries)) / (retries + 1)
    connect = min(MAX_CONNECT_TIMEOUT, per_attempt / 4)
    return connect, per_attempt - connect


def build_client(api_key: str, api_base: str | None = None, *,
                 budget: float = DEFAULT_CALL_BUDGET,
                 timeout: tuple[float, float] | None = None,
                 max_network_retries: int = MAX_NETWORK_RETRIES) -> stripe.StripeClient:
    """A ``StripeClient`` for ``api_key`` whose every call, retries included, ends
    within ``budget`` seconds (``timeout``, (connect, read), overrides the split);
    ``api_base`` (e.g. stripe-mock's URL) replaces https://api.stripe.com for every
    API call, meter events included."""
    base_addresses = {}
    if api_base:
        api_base = api_base.rstrip("/")
        base_addresses = {"api": api_base, "meter_events": api_base}
    return stripe.StripeClient(
        api_key,
        base_addresses=base_addresses,
        http_client=stripe.RequestsClient(
            timeout=timeout or attempt_timeouts(budget, max_network_retries)),
        max_network_retries=max_network_retries,
    )


def _translate(call: Callable[[], T]) -> T:
    """Run one Stripe call, turning its exceptions into ours.

    https://docs.stripe.com/api/errors: 429 and 5xx (and no answer at all) are worth
    retrying later; any other 4xx is a request Stripe refused.
    """
    try:
        return call()
    except stripe.APIConnectionError as error:  # network error or timeout
        raise ProviderUnavailable(f"could not reach Stripe: {error.user_message or error}") from error
    except stripe.RateLimitError as error:
        raise ProviderUnavailable("Stripe is rate limiting us (429)") from error
    except stripe.StripeError as error:
        status = error.http_status
        if status is None or status >= 500:
            raise ProviderUnavailable(f"Stripe answered {status or 'nothing usable'}") from error
        message = error.user_message or "Stripe refused the request."
        raise ProviderError(message, status=status, code=error.code) from error


def _options(idempotency_key: str) -> dict:
    return {"idempotency_key": idempotency_key}


def _rfc3339(moment: datetime) -> str:
    """The v2 API's timestamps: RFC 3339 in UTC, e.g. 2024-06-01T12:00:00.000Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _moment(value) -> datetime:
    """A v2 timestamp (RFC 3339, or Unix seconds) as an aware datetime."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class MeterEventSessions:
    """The meter event session a provider's threads share: made on first use with the
    secret key, and again ``SESSION_RENEW_AHEAD`` before it expires or when Stripe
    says it has (one new session however many threads find the old one expired).
    https://docs.stripe.com/api/v2/billing-meter-stream/session/create"""

    def __init__(self, create: Callable[[], object]):
        self._create = create  # makes a session at Stripe (a translated call)
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at: datetime | None = None
        # The last failure to make a session (monotonic time, error): threads that
        # waited on it fail with it rather than each paying a timeout in turn.
        self._failure: tuple[float, Exception] | None = None

    def token(self, expired: str | None = None) -> str:
        """A session token to send with; ``expired`` is one Stripe just refused."""
        asked_at = time.monotonic()
        with self._lock:
            if self._failure is not None and self._failure[0] >= asked_at:
                raise self._failure[1]
            stale = self._token is None or self._token == expired \
                or datetime.now(UTC) >= self._renew_at
            if stale:
                try:
                    session = self._create()
                except Exception as error:
                    self._failure = (time.monotonic(), error)
                    raise
                self._failure = None
                self._token = session.authentication_token
                self._renew_at = _moment(session.expires_at) - SESSION_RENEW_AHEAD
            return self._token


class StripeProvider:
    """``PaymentProvider`` over the Stripe API (or stripe-mock)."""

    name = "stripe"

    def __init__(self, client: stripe.StripeClient, webhook_secret: str,
                 connect_webhook_secret: str | None = None, request_budget=None,
                 meter_events: str = "stream"):
        if meter_events not in METER_EVENT_MODES:
            raise ValueError(f"meter_events must be one of {', '.join(METER_EVENT_MODES)}")
        self.client = client
        self.meter_events = meter_events
        self.meter_batch_size = STREAM_BATCH_SIZE if meter_events == "stream" else 1
        self._sessions = MeterEventSessions(lambda: self._call(
            lambda: self.client.v2.billing.meter_event_session.create()))
        # ``billing.providers.RequestBudget``: asked before every call, so the calls
        # of one web request together stay inside the worker timeout.
        self.request_budget = request_budget
        # Stripe signs each webhook endpoint's events with that endpoint's own secret:
        # the platform's endpoint, and the Connect endpoint that receives the events of
        # partners' connected accounts (payouts), even at the same URL.
        self._webhook_secrets = [secret for secret in (webhook_secret, connect_webhook_secret)
                                 if secret]

    def __repr__(self) -> str:  # never show the secrets
        return "<StripeProvider>"

    def ping(self) -> bool:
        """True when Stripe's API answers now, even with a refusal (it is up); never
        raises. One GET without retries (https://docs.stripe.com/api/balance/balance_retrieve),
        for /readyz."""
        try:
            self.client.v1.balance.retrieve(options={"max_network_retries": 0})
        except stripe.APIConnectionError:  # no answer: network error or timeout
            return False
        except stripe.StripeError as error:
            return error.http_status is not None and error.http_status < 500
        return True

    def _call(self, call: Callable[[], T]) -> T:
        if self.request_budget is not None:
            self.request_budget.before_call()
        return _translate(call)

    def create_customer(self, *, name: str, email: str, metadata: dict[str, str],
                        idempotency_key: str) -> str:
        params = {"name": name, "email": email, "metadata": metadata}
        customer = self._call(lambda: self.client.v1.customers.create(
            params, _options(idempotency_key)))
        return customer.id

    def create_product(self, *, name: str, metadata: dict[str, str],
                       idempotency_key: str) -> str:
        params = {"name": name, "metadata": metadata}
        product = self._call(lambda: self.client.v1.products.create(
            params, _options(idempotency_key)))
        return product.id

    def create_meter(self, *, display_name: str, event_name: str,
                     idempotency_key: str) -> str:
        params = {
            "display_name": display_name,
            "event_name": event_name,
            "default_aggregation": {"formula": "sum"},
            "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
            "value_settings": {"event_payload_key": "value"},
        }
        meter = self._call(lambda: self.client.v1.billing.meters.create(
            params, _options(idempotency_key)))
        return meter.id

    def create_price(self, *, product_id: str, currency: str, unit_amount: int,
                     recurring_interval: str = "month", meter_id: str | None = None,
                     included_units: int = 0, idempotency_key: str) -> str:
        if isinstance(unit_amount, bool) or not isinstance(unit_amount, int):
            raise TypeError("unit_amount must be an int of minor units")
        check_included_units(included_units, meter_id)
        recurring: dict = {"interval": recurring_interval}
        if meter_id:
            recurring.update({"usage_type": "metered", "meter": meter_id})
        params: dict = {"product": product_id, "currency": currency.lower(),
                        "recurring": recurring}
        if included_units:
            # Graduated tiers: the included units at 0, every unit after at the unit
            # price. A tiered price takes its amounts from the tiers only (no top-level
            # unit_amount): https://docs.stripe.com/api/prices/create#create_price-tiers
            params.update({"billing_scheme": "tiered", "tiers_mode": "graduated", "tiers": [
                {"up_to": included_units, "unit_amount": 0},
                {"up_to": "inf", "unit_amount": unit_amount},
            ]})
        else:
            params["unit_amount"] = unit_amount
        price = self._call(lambda: self.client.v1.prices.create(
            params, _options(idempotency_key)))
        return price.id

    def record_meter_event(self, *, event_name: str, customer_id: str, value: int,
                           identifier: str, timestamp: datetime) -> None:
        # Stripe would refuse it (400); refused here without a call, as on the stream.
        timestamp = check_meter_event_timestamp(timestamp)
        params = {
            "event_name": event_name,
            "identifier": identifier,
            "timestamp": int(timestamp.timestamp()),
            "payload": {"stripe_customer_id": customer_id, "value": str(value)},
        }
        self._call(lambda: self.client.v1.billing.meter_events.create(
            params, _options(identifier)))

    def record_meter_events(self, events: Sequence[MeterEvent]) -> dict[str, ProviderError]:
        if self.meter_events == "v1":
            return record_each(self, events)
        if len(events) > STREAM_BATCH_SIZE:
            raise ProviderError(f"At most {STREAM_BATCH_SIZE} meter events per request.",
                                status=400)
        # The stream validates events only after answering, so what Stripe would refuse
        # for its timestamp is refused here, where the sender can still mark it.
        refused: dict[str, ProviderError] = {}
        sending = []
        for event in events:
            try:
                timestamp = check_meter_event_timestamp(event.timestamp)
            except ProviderError as error:
                refused[event.identifier] = error
                continue
            sending.append({
                "event_name": event.event_name,
                "identifier": event.identifier,
                "timestamp": _rfc3339(timestamp),
                "payload": {"stripe_customer_id": event.customer_id, "value": str(event.value)},
            })
        if sending:
            self._call(lambda: self._stream({"events": sending}))
        return refused

    def _stream(self, params: dict) -> None:
        """One request to the meter event stream, with the session's token; an expired
        session is replaced once (a second refusal is an outage: try later)."""
        token = self._sessions.token()
        try:
            self.client.v2.billing.meter_event_stream.create(params, {"api_key": token})
        except stripe.TemporarySessionExpiredError:
            token = self._sessions.token(expired=token)
            try:
                self.client.v2.billing.meter_event_stream.create(params, {"api_key": token})
            except stripe.TemporarySessionExpiredError as error:
                raise ProviderUnavailable(
                    "Stripe refused a new meter event session as expired") from error

    def create_checkout_session(self, *, customer_id: str, price_ids: Sequence[str],
                                trial_days: int, success_url: str, cancel_url: str,
                                metadata: dict[str, str],
                                application_fee_percent: Decimal | None,
                                destination_account: str | None,
                                idempotency_key: str,
                                metered_price_ids: Sequence[str] = (),
                                collect_payment_method: bool = False) -> CheckoutSession:
        line_items = [{"price": price_id, "quantity": 1} for price_id in price_ids]
        # Stripe refuses a quantity on a metered price: usage decides the amount.
        line_items += [{"price": price_id} for price_id in metered_price_ids]
        subscription_data: dict = {"metadata": metadata}
        params: dict = {
            "mode": "subscription",
            "customer": customer_id,
            "line_items": line_items,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "metadata": metadata,
            "subscription_data": subscription_data,
        }
        if trial_days > 0:
            subscription_data["trial_period_days"] = trial_days
            if not collect_payment_method:
                # A trial starts without a card; Stripe asks for one before it ends.
                params["payment_method_collection"] = "if_required"
        if destination_account:
            # Destination charges: https://docs.stripe.com/connect/subscriptions
            subscription_data["transfer_data"] = {"destination": destination_account}
            if application_fee_percent is not None:
                subscription_data["application_fee_percent"] = str(application_fee_percent)
        session = self._call(lambda: self.client.v1.checkout.sessions.create(
            params, _options(idempotency_key)))
        return CheckoutSession(id=session.id, url=session.url)

    def cancel_subscription(self, *, subscription_id: str, idempotency_key: str) -> None:
        try:
            self._call(lambda: self.client.v1.subscriptions.cancel(
                subscription_id, None, _options(idempotency_key)))
        except ProviderError as error:
            # Already gone is what we wanted.
            if error.code != "resource_missing":
                raise

    def retrieve_subscription(self, *, subscription_id: str) -> dict:
        subscription = self._call(lambda: self.client.v1.subscriptions.retrieve(subscription_id))
        # Plain dicts, like the webhook bodies the handler reads.
        return subscription.to_dict()

    def create_portal_session(self, *, customer_id: str, return_url: str,
                              idempotency_key: str) -> str:
        params = {"customer": customer_id, "return_url": return_url}
        session = self._call(lambda: self.client.v1.billing_portal.sessions.create(
            params, _options(idempotency_key)))
        return session.url

    def create_express_account(self, *, email: str, metadata: dict[str, str],
                               idempotency_key: str) -> str:
        params = {
            "type": "express",
            "email": email,
            "metadata": metadata,
            # Destination charges need the transfers capability on the partner's side.
            "capabilities": {"transfers": {"requested": True},
                             "card_payments": {"requested": True}},
        }
        account = self._call(lambda: self.client.v1.accounts.create(
            params, _options(idempotency_key)))
        return account.id

    def create_account_link(self, *, account_id: str, refresh_url: str,
                            return_url: str, idempotency_key: str) -> str:
        params = {"account": account_id, "refresh_url": refresh_url,
                  "return_url": return_url, "type": "account_onboarding"}
        link = self._call(lambda: self.client.v1.account_links.create(
            params, _options(idempotency_key)))
        return link.url

    def refund_invoice(self, *, invoice_id: str, amount: int, idempotency_key: str) -> str:
        check_refund_amount(amount)
        # A credit note for ``amount`` refunded in full to the invoice's payment: Stripe
        # refunds the charge and sends ``credit_note.created`` with the refund in it.
        params = {"invoice": invoice_id, "amount": amount, "refund_amount": amount}
        credit_note = self._call(lambda: self.client.v1.credit_notes.create(
            params, _options(idempotency_key)))
        return credit_note.id

    def parse_webhook(self, payload: bytes, signature_header: str) -> WebhookEvent:
        refused: Exception | None = None
        # stripe-python's compare_digest raises TypeError on a non-ASCII header.
        if not (signature_header or "").isascii():
            raise InvalidWebhook("The webhook signature is missing, wrong or too old.")
        for secret in self._webhook_secrets:
            try:
                # stripe-python's own check of the signature on the raw body (house
                # rule 7); the body is parsed by us, into validated shapes, only after.
                stripe.WebhookSignature.verify_header(payload, signature_header, secret,
                                                      tolerance=WEBHOOK_TOLERANCE_SECONDS)
            except stripe.SignatureVerificationError as error:
                refused = error  # perhaps signed by the other endpoint's secret
                continue
            except ValueError as error:  # not UTF-8
                raise InvalidWebhook("The webhook body is not a JSON event.") from error
            check_signature_not_ahead(signature_header)
            # The raw JSON, not stripe's objects: callers get plain dicts.
            return parse_event(payload)
        raise InvalidWebhook("The webhook signature is missing, wrong or too old.") from refused
