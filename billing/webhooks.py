"""The payment provider's webhooks: verify, dedupe, dispatch (house rule 7).

``receive_webhook`` is what the endpoint (and the local provider's simulated
checkout, in-process) calls with the raw body and the ``Stripe-Signature`` header.
Each event id is recorded in ``ProcessedWebhookEvent`` in the same transaction as its
effect, so a replay changes nothing. Handlers read the object's own current state
(its ``status``), never assume events arrive in order.
https://docs.stripe.com/webhooks#handle-duplicate-events
https://docs.stripe.com/billing/subscriptions/webhooks
"""

from __future__ import annotations

import logging

from sqlmodel import Session, select

from billing.interfaces import WebhookEvent
from billing.ledger import book_paid_invoice, record_invoice
from billing.payouts import apply_account_state
from billing.models import ProcessedWebhookEvent, Subscription, SubscriptionStatus
from billing.subscriptions import apply_subscription_state, subscription_for
from billing.usage_sender import provider_name
from listings.models import Listing
from storefront.services import notify

log = logging.getLogger(__name__)


def _checkout_completed(session: Session, label: str, event: WebhookEvent) -> None:
    data = event.data_object
    subscription = subscription_for(session, label, data)
    if subscription is None:
        return
    if isinstance(data.get("subscription"), str) and subscription.provider_subscription_id is None:
        subscription.provider_subscription_id = data["subscription"]
    # The session completes once paid (or with nothing to pay now, for a trial); the
    # subscription itself is then active or trialing.
    if data.get("payment_status") in ("paid", "no_payment_required") \
            and subscription.status == SubscriptionStatus.INCOMPLETE:
        apply_subscription_state(session, subscription, {"status": (
            "trialing" if data.get("payment_status") == "no_payment_required" else "active")})
    session.add(subscription)


def _subscription_changed(session: Session, label: str, event: WebhookEvent) -> None:
    subscription = subscription_for(session, label, event.data_object)
    if subscription is not None:
        apply_subscription_state(session, subscription, event.data_object, now=event.created)


def _trial_will_end(session: Session, label: str, event: WebhookEvent) -> None:
    subscription = subscription_for(session, label, event.data_object)
    if subscription is None:
        return
    apply_subscription_state(session, subscription, event.data_object, now=event.created)
    listing = session.get(Listing, subscription.listing_id)
    notify(session, subscription.workspace_id, "billing",
           f"Your trial of {listing.name} ends soon; add a payment method to keep using it.",
           listing_id=listing.id)


def _invoice_subscription(session: Session, label: str, invoice: dict) -> Subscription | None:
    """The subscription an invoice is for (its ``subscription`` field, or, in newer API
    versions, ``parent.subscription_details``)."""
    details = ((invoice.get("parent") or {}).get("subscription_details")
               or invoice.get("subscription_details") or {})
    return subscription_for(session, label, {
        "subscription": invoice.get("subscription") or details.get("subscription"),
        "metadata": details.get("metadata") or {}})


def _invoice_paid(session: Session, label: str, event: WebhookEvent) -> None:
    """Record the paid invoice and book its ledger entry (once per invoice)."""
    invoice = event.data_object
    subscription = _invoice_subscription(session, label, invoice)
    if subscription is None:
        # Not one of ours (or made before this subscription was recorded): acknowledged,
        # so the provider stops retrying, and logged for an operator.
        log.warning("invoice.paid %s for an unknown subscription: not booked", invoice.get("id"))
        return
    if isinstance(invoice.get("id"), str):
        recorded = record_invoice(session, label, subscription, invoice, "paid", now=event.created)
        book_paid_invoice(session, recorded, now=event.created)
    if subscription.status == SubscriptionStatus.PAST_DUE:
        # Paid after a failure: the subscription is active again (its own
        # customer.subscription.updated says so too; either order ends here).
        apply_subscription_state(session, subscription, {"status": "active"}, now=event.created)


def _invoice_payment_failed(session: Session, label: str, event: WebhookEvent) -> None:
    invoice = event.data_object
    subscription = _invoice_subscription(session, label, invoice)
    if subscription is None:
        log.warning("invoice.payment_failed %s for an unknown subscription", invoice.get("id"))
        return
    if isinstance(invoice.get("id"), str):
        # Open: the provider retries the payment; nothing is booked until it is paid.
        record_invoice(session, label, subscription, invoice, "open", now=event.created)
    if subscription.status == SubscriptionStatus.CANCELED:
        return
    subscription.status = SubscriptionStatus.PAST_DUE
    subscription.updated_at = event.created
    session.add(subscription)
    listing = session.get(Listing, subscription.listing_id)
    notify(session, subscription.workspace_id, "billing",
           f"A payment for {listing.name} failed. Please update your payment method; "
           "we will try again.", listing_id=listing.id)


def _account_updated(session: Session, label: str, event: WebhookEvent) -> None:
    """A partner's connected account changed: its payout status follows."""
    if apply_account_state(session, label, event.data_object, now=event.created) is None:
        log.info("account.updated for an account that is not a partner's: ignored")


HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "customer.subscription.trial_will_end": _trial_will_end,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_payment_failed,
    "account.updated": _account_updated,
}


def process_event(session: Session, provider, event: WebhookEvent) -> bool:
    """Apply a verified event once. Returns False for an event already processed
    (nothing changes). Records the event id in the same transaction as the effect;
    the caller commits (a concurrent duplicate then fails on the unique event id and
    is rolled back whole)."""
    label = provider_name(provider)
    seen = session.exec(select(ProcessedWebhookEvent.id).where(
        ProcessedWebhookEvent.provider == label,
        ProcessedWebhookEvent.event_id == event.id)).first()
    if seen is not None:
        return False
    session.add(ProcessedWebhookEvent(provider=label, event_id=event.id, type=event.type))
    session.flush()
    handler = HANDLERS.get(event.type)
    if handler is not None:
        handler(session, label, event)
    session.flush()
    return True


def receive_webhook(session: Session, provider, payload: bytes, signature_header: str | None) -> bool:
    """Verify the raw ``payload`` with the provider's signature check and apply it once.

    Raises ``InvalidWebhook`` for a bad or stale signature (nothing changes).
    Returns whether the event was new. The caller commits.
    """
    event = provider.parse_webhook(payload, signature_header or "")
    return process_event(session, provider, event)
