"""The local payment provider: the embedded default, a clearly labelled TEST MODE.

No money moves. It keeps what it is asked to create as ``ProviderObject`` rows
(provider ``"local_store"``, one ``kind`` per Stripe object type, the idempotency key as
``local_key``, the fields in ``data``) with Stripe-like ids (``cus_local_...``), and
behaves like Stripe wherever billing's services can tell: the same idempotency key
gives the same object (and a different request under a used key is refused), a meter
event whose identifier was already seen is ignored, unknown ids and out-of-range meter
event timestamps are refused with ``ProviderError``, and webhooks are signed with
Stripe's scheme, so the same handler and tests work with either provider.

Its checkout, portal and onboarding URLs point at Bazaar's own simulated pages
(``/billing/local-checkout/<session id>`` and friends).

Like a remote service, each call works in its own short transaction on the engine
and commits before it returns: what it made exists whatever the caller's transaction
does next. Call it as you would call Stripe, after committing your own writes (house
rule 5): on SQLite a write transaction the caller still holds would make it wait.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from billing.events import parse_event
from billing.interfaces import (
    WEBHOOK_TOLERANCE_SECONDS,
    CheckoutSession,
    InvalidWebhook,
    MeterEvent,
    ProviderError,
    WebhookEvent,
    check_included_units,
    check_meter_event_timestamp,
    check_refund_amount,
    check_signature_not_ahead,
)
from billing.models import ProviderObject
from core.db import utcnow

# ProviderObject.provider of the local provider's own records. Billing's services
# record what they made under provider "local" (the provider's ``name``); a separate
# value keeps the two from ever colliding on (provider, kind, local_key).
STORE = "local_store"

CHECKOUT_URL = "/billing/local-checkout/{id}"
PORTAL_URL = "/billing/local-portal/{id}"
ONBOARDING_URL = "/billing/local-onboarding/{id}"


def signature_header(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``payload``: ``t=<unix time>,v1=<hex
    HMAC-SHA256 of "<t>.<payload>" keyed with the secret>``, Stripe's documented
    scheme (https://docs.stripe.com/webhooks#verify-manually)."""
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8")
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.{payload}".encode("utf-8"),
                      hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(payload: bytes, header: str | None, secret: str,
                     tolerance: int = WEBHOOK_TOLERANCE_SECONDS) -> None:
    """Raise ``InvalidWebhook`` unless ``header`` carries a v1 signature of
    ``payload`` made with ``secret`` no more than ``tolerance`` seconds ago."""
    if not header:
        raise InvalidWebhook("The webhook has no signature.")
    # A real header is ASCII; other text would make int() or compare_digest raise.
    if not header.isascii():
        raise InvalidWebhook("The webhook signature header is malformed.")
    timestamp = None
    signatures = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise InvalidWebhook("The webhook signature header is malformed.")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidWebhook("The webhook body is not UTF-8.") from None
    expected = signature_header(text, secret, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise InvalidWebhook("The webhook signature is wrong.")
    if timestamp < time.time() - tolerance:
        raise InvalidWebhook("The webhook signature is too old.")


def _new_id(prefix: str) -> str:
    return f"{prefix}_local_{secrets.token_hex(12)}"


class LocalProvider:
    """``PaymentProvider`` kept in Bazaar's own database (test mode, no money moves)."""

    name = "local"
    test_mode = True
    # Like Stripe's v2 meter event stream: a batch is one transaction here.
    meter_batch_size = 100

    def __init__(self, engine: Engine, webhook_secret: str):
        self._engine = engine
        self._webhook_secret = webhook_secret

    def __repr__(self) -> str:  # never show the secret
        return "<LocalProvider test mode>"

    def ping(self) -> bool:
        """Always True: it lives in the database, which /readyz checks itself."""
        return True

    # --- storage -----------------------------------------------------------------------

    def _session(self) -> Session:
        return Session(self._engine, expire_on_commit=False)

    def get(self, kind: str, object_id: str) -> ProviderObject | None:
        """The stored object of ``kind`` with this id (for the simulated pages)."""
        with self._session() as session:
            return session.exec(select(ProviderObject).where(
                ProviderObject.provider == STORE, ProviderObject.kind == kind,
                ProviderObject.provider_id == object_id)).first()

    def _require(self, kind: str, object_id: str | None) -> ProviderObject:
        found = self.get(kind, object_id) if object_id else None
        if found is None:
            # Stripe's answer for an id it doesn't know.
            raise ProviderError(f"No such {kind}: '{object_id}'", status=400,
                                code="resource_missing")
        return found

    def _insert_once(self, kind: str, local_key: str, provider_id: str,
                     data: dict) -> ProviderObject:
        """Insert the row unless one with this key exists (also against a concurrent
        insert: ON CONFLICT DO NOTHING on the unique key), commit, and return the
        stored row: the new one, or the one that was there first."""
        with self._session() as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            session.execute(insert(ProviderObject).values(
                provider=STORE, kind=kind, local_key=local_key, provider_id=provider_id,
                data=data, created_at=utcnow(),
            ).on_conflict_do_nothing(index_elements=["provider", "kind", "local_key"]))
            session.commit()
            return session.exec(select(ProviderObject).where(
                ProviderObject.provider == STORE, ProviderObject.kind == kind,
                ProviderObject.local_key == local_key)).one()

    def _create(self, kind: str, prefix: str, idempotency_key: str, request: dict,
                extra: dict | None = None) -> ProviderObject:
        """The object made for ``idempotency_key``: made now, or the one made before
        for the same request. Like Stripe, a different request under a used key is
        refused (https://docs.stripe.com/api/idempotent_requests)."""
        if not idempotency_key:
            raise ProviderError("An idempotency key is required.", status=400)
        stored = self._insert_once(kind, idempotency_key, _new_id(prefix),
                                   {"request": request, **(extra or {})})
        if stored.data.get("request") != request:
            raise ProviderError(
                "Keys for idempotent requests can only be used with the same parameters "
                "they were first used with.", status=400, code="idempotency_error")
        return stored

    # --- PaymentProvider ----------------------------------------------------------------

    def create_customer(self, *, name: str, email: str, metadata: dict[str, str],
                        idempotency_key: str) -> str:
        request = {"name": name, "email": email, "metadata": dict(metadata)}
        return self._create("customer", "cus", idempotency_key, request).provider_id

    def create_product(self, *, name: str, metadata: dict[str, str],
                       idempotency_key: str) -> str:
        request = {"name": name, "metadata": dict(metadata)}
        return self._create("product", "prod", idempotency_key, request).provider_id

    def create_meter(self, *, display_name: str, event_name: str,
                     idempotency_key: str) -> str:
        request = {"display_name": display_name, "event_name": event_name,
                   "aggregation": "sum", "customer_key": "stripe_customer_id"}
        return self._create("meter", "mtr", idempotency_key, request).provider_id

    def create_price(self, *, product_id: str, currency: str, unit_amount: int,
                     recurring_interval: str = "month", meter_id: str | None = None,
                     included_units: int = 0, idempotency_key: str) -> str:
        if isinstance(unit_amount, bool) or not isinstance(unit_amount, int):
            raise TypeError("unit_amount must be an int of minor units")
        check_included_units(included_units, meter_id)
        if unit_amount < 0:
            raise ProviderError("unit_amount must be at least 0.", status=400)
        if len(currency) != 3 or not currency.isalpha():
            raise ProviderError(f"Invalid currency: {currency}", status=400)
        if recurring_interval not in {"day", "week", "month", "year"}:
            raise ProviderError(f"Invalid recurring interval: {recurring_interval}", status=400)
        self._require("product", product_id)
        if meter_id is not None:
            self._require("meter", meter_id)
        request = {"product": product_id, "currency": currency.lower(),
                   "unit_amount": unit_amount, "interval": recurring_interval,
                   "meter": meter_id}
        if included_units:
            # Stripe's graduated tiers, recorded as Stripe keeps them.
            request["tiers"] = [{"up_to": included_units, "unit_amount": 0},
                                {"up_to": None, "unit_amount": unit_amount}]
        return self._create("price", "price", idempotency_key, request).provider_id

    def record_meter_event(self, *, event_name: str, customer_id: str, value: int,
                           identifier: str, timestamp: datetime) -> None:
        event = MeterEvent(event_name=event_name, customer_id=customer_id, value=value,
                           identifier=identifier, timestamp=timestamp)
        refused = self.record_meter_events([event])
        if refused:
            raise refused[identifier]

    def record_meter_events(self, events: Sequence[MeterEvent]) -> dict[str, ProviderError]:
        if len(events) > self.meter_batch_size:
            raise ProviderError(f"At most {self.meter_batch_size} meter events at once.",
                                status=400)
        refused: dict[str, ProviderError] = {}
        rows = []
        for event in events:
            try:
                timestamp = check_meter_event_timestamp(event.timestamp, utcnow())
                if not event.identifier:
                    raise ProviderError("A meter event needs an identifier.", status=400)
            except ProviderError as error:
                refused[event.identifier] = error
                continue
            rows.append(dict(provider=STORE, kind="meter_event", local_key=event.identifier,
                             provider_id=event.identifier, created_at=utcnow(), data={
                                 "event_name": event.event_name, "customer": event.customer_id,
                                 "value": int(event.value),
                                 "timestamp": int(timestamp.timestamp())}))
        if rows:
            with self._session() as session:
                dialect = session.get_bind().dialect.name
                insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
                # Like Stripe: a second event with the same identifier is ignored.
                session.execute(insert(ProviderObject).values(rows).on_conflict_do_nothing(
                    index_elements=["provider", "kind", "local_key"]))
                session.commit()
        return refused

    def create_checkout_session(self, *, customer_id: str, price_ids: Sequence[str],
                                trial_days: int, success_url: str, cancel_url: str,
                                metadata: dict[str, str],
                                application_fee_percent: Decimal | None,
                                destination_account: str | None,
                                idempotency_key: str,
                                metered_price_ids: Sequence[str] = (),
                                collect_payment_method: bool = False) -> CheckoutSession:
        self._require("customer", customer_id)
        if not price_ids and not metered_price_ids:
            raise ProviderError("A subscription checkout needs at least one price.", status=400)
        for price_id in [*price_ids, *metered_price_ids]:
            self._require("price", price_id)
        if destination_account:
            self._require("account", destination_account)
        request = {
            "customer": customer_id, "price_ids": list(price_ids),
            "metered_price_ids": list(metered_price_ids), "trial_days": int(trial_days),
            "success_url": success_url, "cancel_url": cancel_url, "metadata": dict(metadata),
            "application_fee_percent": (None if application_fee_percent is None
                                        else str(application_fee_percent)),
            "destination_account": destination_account,
            "collect_payment_method": bool(collect_payment_method),
        }
        stored = self._create("checkout_session", "cs", idempotency_key, request,
                              {"status": "open"})
        return CheckoutSession(id=stored.provider_id,
                               url=CHECKOUT_URL.format(id=stored.provider_id))

    def cancel_subscription(self, *, subscription_id: str, idempotency_key: str) -> None:
        if not idempotency_key:
            raise ProviderError("An idempotency key is required.", status=400)
        # Remembered once per subscription, like Stripe's final "canceled" state.
        self._insert_once("subscription_cancel", subscription_id, subscription_id,
                          {"idempotency_key": idempotency_key})
        self._update_subscription(subscription_id, status="canceled",
                                  canceled_at=int(time.time()))

    def retrieve_subscription(self, *, subscription_id: str) -> dict:
        return dict(self._require("subscription", subscription_id).data["object"])

    def create_portal_session(self, *, customer_id: str, return_url: str,
                              idempotency_key: str) -> str:
        self._require("customer", customer_id)
        stored = self._create("portal_session", "bps", idempotency_key,
                              {"customer": customer_id, "return_url": return_url})
        return PORTAL_URL.format(id=stored.provider_id)

    def create_express_account(self, *, email: str, metadata: dict[str, str],
                               idempotency_key: str) -> str:
        request = {"type": "express", "email": email, "metadata": dict(metadata)}
        return self._create("account", "acct", idempotency_key, request).provider_id

    def create_account_link(self, *, account_id: str, refresh_url: str,
                            return_url: str, idempotency_key: str) -> str:
        self._require("account", account_id)
        stored = self._create("account_link", "acctlink", idempotency_key, {
            "account": account_id, "refresh_url": refresh_url, "return_url": return_url})
        return ONBOARDING_URL.format(id=stored.provider_id)

    def refund_invoice(self, *, invoice_id: str, amount: int, idempotency_key: str) -> str:
        check_refund_amount(amount)
        if not invoice_id:
            raise ProviderError("A refund needs an invoice.", status=400)
        # Test mode: no money moves; the credit note is kept so a retry finds it, and
        # the caller sends its ``credit_note.created`` (``credit_note_event``).
        stored = self._create("credit_note", "cn", idempotency_key,
                              {"invoice": invoice_id, "refund_amount": amount})
        return stored.provider_id

    def parse_webhook(self, payload: bytes, signature_header: str) -> WebhookEvent:
        verify_signature(payload, signature_header, self._webhook_secret)
        check_signature_not_ahead(signature_header)
        return parse_event(payload)

    # --- for the simulated pages and tests ------------------------------------------------

    def sign_webhook(self, payload: bytes | str, timestamp: int | None = None) -> str:
        """The signature header for an event the simulated checkout sends itself."""
        return signature_header(payload, self._webhook_secret, timestamp)

    def credit_note_event(self, credit_note_id: str, currency: str) -> dict:
        """Test mode: the ``credit_note.created`` event Stripe would send for a credit
        note ``refund_invoice`` made, shaped like Stripe's (``invoice``, ``amount``,
        ``refunds[].amount_refunded``); its event id is fixed per credit note, so
        sending it twice is a replay."""
        stored = self._require("credit_note", credit_note_id)
        request = stored.data["request"]
        now = int(time.time())
        credit_note = {
            "id": credit_note_id, "object": "credit_note", "invoice": request["invoice"],
            "currency": currency.lower(), "amount": request["refund_amount"],
            "status": "issued", "type": "post_payment", "created": now,
            "refunds": [{"refund": "re_local_" + credit_note_id.rsplit("_", 1)[-1],
                         "amount_refunded": request["refund_amount"], "type": "refund"}],
        }
        event_id = "evt_local_" + hashlib.sha256(
            f"{credit_note_id}:credit_note.created".encode()).hexdigest()[:24]
        return {"id": event_id, "object": "event", "type": "credit_note.created",
                "created": now, "data": {"object": credit_note}}

    def record_subscription(self, subscription: dict) -> dict:
        """Keep the subscription a simulated checkout made (once per id, as Stripe makes
        it once), so ``retrieve_subscription`` answers with its state; returns it."""
        stored = self._insert_once("subscription", subscription["id"], subscription["id"],
                                   {"object": dict(subscription)})
        return dict(stored.data["object"])

    def record_payout(self, account_id: str, payout: dict) -> dict:
        """Test mode: keep a simulated payout of the connected account ``account_id``
        (once per id: a second request for the same payout finds the first, as Stripe
        makes a payout once per idempotency key); returns the payout as first kept."""
        self._require("account", account_id)
        stored = self._insert_once("payout", payout["id"], payout["id"],
                                   {"account": account_id, "object": dict(payout)})
        return dict(stored.data["object"])

    def set_subscription_status(self, subscription_id: str, status: str) -> None:
        """Test mode: move a stored subscription to ``status`` ("past_due" after a
        failed payment, "active" again...), as Stripe would on its own."""
        self._require("subscription", subscription_id)
        self._update_subscription(subscription_id, status=status)

    def _update_subscription(self, subscription_id: str, **changes) -> None:
        with self._session() as session:
            stored = session.exec(select(ProviderObject).where(
                ProviderObject.provider == STORE, ProviderObject.kind == "subscription",
                ProviderObject.provider_id == subscription_id).with_for_update()).first()
            if stored is not None:
                stored.data = {**stored.data, "object": {**stored.data["object"], **changes}}
                session.add(stored)
                session.commit()
