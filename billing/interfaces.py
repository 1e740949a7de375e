"""The payment provider contract: what every implementation offers and returns.

Two implementations are chosen by configuration at start-up (``billing.init_app``):
``billing.stripe_provider`` (Stripe, whenever ``STRIPE_SECRET_KEY`` is set; pointed at
stripe-mock in tests through ``STRIPE_API_BASE``) and ``billing.local_provider`` (the
embedded default, a clearly labelled test mode that keeps its objects in the
database). One contract test suite (``tests/contract``) runs against both.

Callers get plain dataclasses and ids, never a provider's raw JSON. Every write takes
an ``idempotency_key`` the caller builds deterministically from what it stands for
(``f"customer:{workspace_id}"``), so a retry after a timeout can never create a second
object: https://docs.stripe.com/api/idempotent_requests
Money is integer minor units (cents) with an explicit currency.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol, runtime_checkable

# gunicorn kills a worker whose request runs longer than its ``--timeout`` (30 s unless
# set: scripts/run and the deploy examples keep that default), and the client gets a
# 500. A provider call, retries included, must end well before, so the request can
# still answer "try again" (503). STRIPE_CALL_BUDGET is that call's time in seconds;
# the most it may be leaves the request 5 s of its own work. core/settings.py holds the
# same numbers as the setting's default and range (tests/unit/test_settings.py checks).
WORKER_TIMEOUT = 30
DEFAULT_CALL_BUDGET = 12.0
MIN_CALL_BUDGET = 2.0
MAX_CALL_BUDGET = WORKER_TIMEOUT - 5.0

# Stripe refuses a webhook whose signature is older than this many seconds (its
# default tolerance); the local provider uses the same window.
WEBHOOK_TOLERANCE_SECONDS = 300
# ... and we refuse one dated further ahead than this: a clock a little fast is not
# an attack, a signature "from" years ahead is a replay waiting to happen (stripe-python
# checks only the past side).
WEBHOOK_MAX_AHEAD_SECONDS = 300

UNAVAILABLE_MESSAGE = "Payments are unavailable right now; please try again in a few minutes."

# Stripe's limits for meter event timestamps, checked by both providers before sending
# (``check_meter_event_timestamp``):
# https://docs.stripe.com/api/billing/meter-event/create#create_billing_meter_event-timestamp
METER_EVENT_MAX_AGE = timedelta(days=35)
METER_EVENT_MAX_AHEAD = timedelta(minutes=5)


class ProviderUnavailable(RuntimeError):
    """The provider could not be reached or could not answer now (network error,
    timeout, 5xx, 429): try again later. Nothing the customer did is wrong.

    ``str(error)`` is the message to show a customer; ``detail`` says what happened
    (for logs and operators, never shown to customers)."""

    def __init__(self, detail: str = ""):
        super().__init__(UNAVAILABLE_MESSAGE)
        self.detail = detail
        self.customer_message = UNAVAILABLE_MESSAGE


class ProviderError(RuntimeError):
    """The provider refused the request (a 4xx other than 429): retrying the same
    request will fail the same way. ``str(error)`` is the provider's message;
    ``status`` the HTTP status and ``code`` the provider's error code, when known."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class InvalidWebhook(ValueError):
    """A webhook whose signature is missing, wrong or stale, or whose body is not an
    event: answer 400 and change nothing."""


@dataclass(frozen=True)
class CheckoutSession:
    """A hosted checkout page for a subscription: send the customer to ``url``."""

    id: str
    url: str


@dataclass(frozen=True)
class WebhookEvent:
    """A verified event from the provider. ``data_object`` is the object the event is
    about (a subscription, an invoice...) as a plain dict, as the provider sent it;
    only the billing webhook handler reads it, and it turns it into our own records."""

    id: str
    type: str
    created: datetime  # aware UTC
    data_object: dict = field(default_factory=dict)
    # The connected account (``acct_...``) an event happened on, for the events of
    # partners' accounts that Stripe sends to a Connect endpoint (``payout.*``); None
    # for the platform's own events. https://docs.stripe.com/connect/webhooks
    account: str | None = None


@dataclass(frozen=True)
class MeterEvent:
    """One meter event to report: ``value`` units of usage by ``customer_id`` at
    ``timestamp`` on the meter that counts ``event_name``. ``identifier`` is our own
    id for it, the same for every resend (the provider keeps the first one only)."""

    event_name: str
    customer_id: str
    value: int
    identifier: str
    timestamp: datetime


@runtime_checkable
class PaymentProvider(Protocol):
    """What billing needs from a payment provider.

    Every method may raise ``ProviderUnavailable`` (retry later) or ``ProviderError``
    (the provider refused the request); none raises anything else for input of the
    declared types (a ``unit_amount`` that isn't an ``int`` is a ``TypeError``: money
    is never a float or a Decimal here).
    ``name`` is what ``BillingCustomer.provider`` / ``ProviderObject.provider`` record
    ("stripe" or "local"), so ids of one provider are never used with the other.
    """

    name: str

    def ping(self) -> bool:
        """True when the provider answers now (reported by /readyz); never raises."""

    def create_customer(self, *, name: str, email: str, metadata: dict[str, str],
                        idempotency_key: str) -> str:
        """Create a customer and return its id.

        https://docs.stripe.com/api/customers/create"""

    def create_product(self, *, name: str, metadata: dict[str, str],
                       idempotency_key: str) -> str:
        """Create a product (one per paid listing) and return its id.

        https://docs.stripe.com/api/products/create"""

    def create_meter(self, *, display_name: str, event_name: str,
                     idempotency_key: str) -> str:
        """Create a billing meter that sums the ``value`` of the meter events named
        ``event_name``, mapped to customers by ``stripe_customer_id``; return its id.

        https://docs.stripe.com/api/billing/meter/create"""

    def create_price(self, *, product_id: str, currency: str, unit_amount: int,
                     recurring_interval: str = "month", meter_id: str | None = None,
                     included_units: int = 0, idempotency_key: str) -> str:
        """Create a recurring price and return its id: a flat ``unit_amount`` per
        interval, or, with ``meter_id``, ``unit_amount`` per unit the meter counts
        (usage-based, billed in arrears). ``unit_amount`` is integer minor units of
        ``currency`` (a lowercase ISO code).

        With ``included_units`` > 0 (metered prices only) the first that many units of
        each period are free: a graduated tiered price, charging what ``usage_charge``
        says. A non-int ``included_units`` is a ``TypeError``; a negative one, or one
        on a price without a meter, is refused (``ProviderError``).

        https://docs.stripe.com/api/prices/create
        https://docs.stripe.com/billing/subscriptions/usage-based/implementation-guide
        https://docs.stripe.com/products-prices/pricing-models#graduated-pricing"""

    def record_meter_event(self, *, event_name: str, customer_id: str, value: int,
                           identifier: str, timestamp: datetime) -> None:
        """Report ``value`` units of usage by ``customer_id`` at ``timestamp``.

        ``identifier`` is our own event id: the provider ignores a second event with
        the same identifier, so resending after a timeout never counts twice (it is
        also the idempotency key). Stripe refuses timestamps older than 35 days or more
        than 5 minutes in the future.

        https://docs.stripe.com/api/billing/meter-event/create"""

    # The most events one ``record_meter_events`` call takes: 100 on Stripe's v2 meter
    # event stream, 1 when each event is its own call (Stripe's v1 meter events).
    meter_batch_size: int

    def record_meter_events(self, events: Sequence[MeterEvent]) -> dict[str, ProviderError]:
        """Report up to ``meter_batch_size`` meter events in one go; return the events
        refused one by one, as ``{identifier: ProviderError}`` (empty when all were
        taken). An event whose timestamp is outside Stripe's window (older than 35
        days, more than 5 minutes ahead) is refused here without being sent.

        A failure of the whole batch raises instead: ``ProviderUnavailable`` (nothing
        may be assumed taken: send them all again; the identifiers make that safe) or
        ``ProviderError`` (all of them refused). Stripe's stream validates events
        after answering, so an event it drops later is not reported here (Stripe
        sends ``v1.billing.meter.error_report_triggered`` for those).

        https://docs.stripe.com/api/v2/billing-meter-stream
        https://docs.stripe.com/api/billing/meter-event/create"""

    def create_checkout_session(self, *, customer_id: str, price_ids: Sequence[str],
                                trial_days: int, success_url: str, cancel_url: str,
                                metadata: dict[str, str],
                                application_fee_percent: Decimal | None,
                                destination_account: str | None,
                                idempotency_key: str,
                                metered_price_ids: Sequence[str] = (),
                                collect_payment_method: bool = False) -> CheckoutSession:
        """Start a hosted checkout for a subscription to ``price_ids`` (flat prices,
        quantity 1) and ``metered_price_ids`` (usage prices, which take no quantity).

        With ``trial_days`` > 0 the subscription starts with a trial and no card is
        asked for up front, unless ``collect_payment_method`` (a trial customer adding
        a card before the trial ends). ``metadata`` is set on the session and on the
        subscription, so the webhooks about either carry it. With
        ``destination_account`` the charges are destination charges to that connected
        account, keeping ``application_fee_percent`` for the platform.
        Access must come from the verified webhooks, never from ``success_url``.

        https://docs.stripe.com/api/checkout/sessions/create
        https://docs.stripe.com/connect/subscriptions#collect-fees"""

    def cancel_subscription(self, *, subscription_id: str, idempotency_key: str) -> None:
        """Cancel the subscription now: the customer is not charged for it again.

        Cancelling one that is already cancelled (or unknown to the provider)
        is not an error: the end state is the same.

        https://docs.stripe.com/api/subscriptions/cancel"""

    def retrieve_subscription(self, *, subscription_id: str) -> dict:
        """The subscription as the provider holds it now, as a plain dict shaped like
        the one in its webhooks (``id``, ``status``, ``trial_end``,
        ``cancel_at_period_end``, the period's end, ``metadata``...). Only the webhook
        handler reads it: it applies this current state rather than the event's copy,
        so events arriving out of order never move a subscription back.
        Raises ``ProviderError`` with code ``resource_missing`` for an unknown id.

        https://docs.stripe.com/api/subscriptions/retrieve
        https://docs.stripe.com/webhooks#event-ordering"""

    def create_portal_session(self, *, customer_id: str, return_url: str,
                              idempotency_key: str) -> str:
        """Return the URL of a customer portal session where the customer manages
        cards and sees invoices, coming back to ``return_url``. Sessions are
        short-lived: build the key with ``short_lived_key``.

        https://docs.stripe.com/api/customer_portal/sessions/create"""

    def create_express_account(self, *, email: str, metadata: dict[str, str],
                               idempotency_key: str) -> str:
        """Create a Connect Express account for a partner (able to receive transfers)
        and return its id.

        https://docs.stripe.com/api/accounts/create
        https://docs.stripe.com/connect/express-accounts"""

    def create_account_link(self, *, account_id: str, refresh_url: str,
                            return_url: str, idempotency_key: str) -> str:
        """Return a one-time onboarding URL for a connected account. Links are
        short-lived: build the key with ``short_lived_key``.

        https://docs.stripe.com/api/account_links/create"""

    def refund_invoice(self, *, invoice_id: str, amount: int, idempotency_key: str) -> str:
        """Give ``amount`` minor units of the paid invoice ``invoice_id`` back to the
        customer's payment method, through a credit note with that ``refund_amount``;
        return the credit note's id. The ledger books it when the provider's
        ``credit_note.created`` webhook arrives (the local provider sends it at once).
        A non-int ``amount`` is a ``TypeError``; one of 0 or less is refused.

        https://docs.stripe.com/api/credit_notes/create
        https://docs.stripe.com/invoicing/dashboard/credit-notes"""

    def parse_webhook(self, payload: bytes, signature_header: str) -> WebhookEvent:
        """Verify the ``Stripe-Signature`` header on the raw request body and return
        the event. Raises ``InvalidWebhook`` for a missing, wrong or stale signature
        (older than ``WEBHOOK_TOLERANCE_SECONDS``, or dated more than
        ``WEBHOOK_MAX_AHEAD_SECONDS`` ahead) or a body that isn't an event, and its
        subclass ``billing.events.UnusableEvent`` for an event of a shape we cannot use
        (``billing.events.parse_event``).

        https://docs.stripe.com/webhooks#verify-events"""


def check_refund_amount(amount: int) -> None:
    """The checks both providers make on ``refund_invoice``'s ``amount``."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("amount must be an int of minor units")
    if amount <= 0:
        raise ProviderError("A refund amount must be greater than 0.", status=400)


def check_meter_event_timestamp(timestamp: datetime, now: datetime | None = None) -> datetime:
    """``timestamp`` as aware UTC (SQLite hands back naive UTC); ``ProviderError`` when
    Stripe would refuse it: older than ``METER_EVENT_MAX_AGE`` or more than
    ``METER_EVENT_MAX_AHEAD`` ahead of ``now`` (default: the clock)."""
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    if timestamp < now - METER_EVENT_MAX_AGE or timestamp > now + METER_EVENT_MAX_AHEAD:
        raise ProviderError("Meter event timestamps must be within the past 35 days "
                            "and no more than 5 minutes in the future.", status=400)
    return timestamp


def record_each(provider, events: Sequence[MeterEvent]) -> dict[str, ProviderError]:
    """``record_meter_events`` for a provider whose API takes one event per call: each
    event through ``provider.record_meter_event``, in order. A refusal is noted for
    its event; ``ProviderUnavailable`` stops and raises (the identifiers make sending
    the whole batch again safe)."""
    refused: dict[str, ProviderError] = {}
    for event in events:
        try:
            provider.record_meter_event(
                event_name=event.event_name, customer_id=event.customer_id,
                value=event.value, identifier=event.identifier, timestamp=event.timestamp)
        except ProviderError as error:
            refused[event.identifier] = error
    return refused


def short_lived_key(name: str, now: datetime | None = None) -> str:
    """The idempotency key for a short-lived object (a portal session, an account
    link) named ``name``: the same within a minute, so a retried request gets the same
    object, and a fresh one a minute later, when the old one may have been used up."""
    return f"{name}:{(now or datetime.now(UTC)):%Y%m%d%H%M}"


def usage_charge(quantity: int, unit_amount: int, included_units: int = 0) -> int:
    """What ``quantity`` units of one period cost on a metered price of ``unit_amount``
    minor units per unit whose first ``included_units`` are free (Stripe's graduated
    tiers: 0 up to ``included_units``, ``unit_amount`` for each unit after)."""
    for value in (quantity, unit_amount, included_units):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("usage is charged in whole units and integer minor units")
    return max(0, quantity - included_units) * unit_amount


def check_included_units(included_units: int, meter_id: str | None) -> None:
    """The checks both providers make on ``create_price``'s ``included_units``."""
    if isinstance(included_units, bool) or not isinstance(included_units, int):
        raise TypeError("included_units must be an int")
    if included_units < 0:
        raise ProviderError("included_units must be at least 0.", status=400)
    if included_units and meter_id is None:
        raise ProviderError("Included units need a metered price (a meter id).", status=400)


def check_signature_not_ahead(signature_header: str, now: float | None = None) -> None:
    """Raise ``InvalidWebhook`` when the ``Stripe-Signature`` header's timestamp
    (``t=``) is more than ``WEBHOOK_MAX_AHEAD_SECONDS`` ahead of ``now``. Call it once
    the signature itself was verified (so ``t`` is the sender's).
    https://docs.stripe.com/webhooks#replay-attacks"""
    now = time.time() if now is None else now
    for item in (signature_header or "").split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit() \
                and int(value) > now + WEBHOOK_MAX_AHEAD_SECONDS:
            raise InvalidWebhook("The webhook signature is dated in the future.")
