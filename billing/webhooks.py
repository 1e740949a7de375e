"""The payment provider's webhooks: verify, dedupe, dispatch (house rule 7).

``receive_webhook`` is what the endpoint (and the local provider's simulated
checkout, in-process) calls with the raw body and the ``Stripe-Signature`` header.
Each event id is recorded in ``ProcessedWebhookEvent`` in the same transaction as its
effect, so a replay changes nothing. Events may arrive in any order, so the
subscription events (and the invoice events, for the subscription's status) apply the
subscription's current state, read from the provider (``retrieve_subscription``),
not the copy the event carries: a late, older event can't move it back. Only when the
provider doesn't know the subscription is the event's copy used. Payout events come
from partners' connected accounts (``event.account``, through the Connect endpoint);
a payout's status only moves forward (``billing.payouts.PAYOUT_STATUS_RANK``).
Refunds arrive as ``credit_note.created`` (it names our invoice, unlike a refund or a
charge in the current API); only the cash it refunded is booked, once per credit note.
https://docs.stripe.com/webhooks#handle-duplicate-events
https://docs.stripe.com/webhooks#event-ordering
https://docs.stripe.com/billing/subscriptions/webhooks
https://docs.stripe.com/connect/webhooks
https://docs.stripe.com/api/credit_notes/object
"""

from __future__ import annotations

import logging

from sqlmodel import Session, select

from billing.interfaces import ProviderError, WebhookEvent
from billing.ledger import book_paid_invoice, book_refund, record_invoice
from billing.payouts import apply_account_state, apply_payout_state
from billing.models import Invoice, ProcessedWebhookEvent, Subscription, SubscriptionStatus
from billing.subscriptions import apply_subscription_state, subscription_for
from billing.usage_sender import provider_name
from listings.models import Listing
from storefront.services import notify

log = logging.getLogger(__name__)


def current_subscription_state(provider, subscription: Subscription, copy: dict) -> dict:
    """The provider's subscription object as it is now, or ``copy`` (an event's) when
    the provider doesn't know it. ``ProviderUnavailable`` propagates: the endpoint
    answers 503 and the provider delivers the event again later."""
    subscription_id = subscription.provider_subscription_id or copy.get("id")
    if not isinstance(subscription_id, str) or not subscription_id:
        return copy
    try:
        return provider.retrieve_subscription(subscription_id=subscription_id)
    except ProviderError as error:
        if error.code != "resource_missing":
            raise
        return copy


def _checkout_completed(session: Session, provider, event: WebhookEvent) -> None:
    label = provider_name(provider)
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
        paid = {"status": ("trialing" if data.get("payment_status") == "no_payment_required"
                           else "active")}
        apply_subscription_state(session, subscription,
                                 current_subscription_state(provider, subscription, paid),
                                 now=event.created)
    session.add(subscription)


def _subscription_changed(session: Session, provider, event: WebhookEvent) -> None:
    subscription = subscription_for(session, provider_name(provider), event.data_object)
    if subscription is not None:
        apply_subscription_state(
            session, subscription,
            current_subscription_state(provider, subscription, event.data_object),
            now=event.created)


def _trial_will_end(session: Session, provider, event: WebhookEvent) -> None:
    subscription = subscription_for(session, provider_name(provider), event.data_object)
    if subscription is None:
        return
    apply_subscription_state(
        session, subscription,
        current_subscription_state(provider, subscription, event.data_object),
        now=event.created)
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


def _invoice_paid(session: Session, provider, event: WebhookEvent) -> None:
    """Record the paid invoice and book its ledger entry (once per invoice)."""
    label = provider_name(provider)
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
        # Paid after a failure: the subscription is active again, unless it has moved
        # on since (a later failure, a cancellation): its current state decides.
        apply_subscription_state(
            session, subscription,
            current_subscription_state(provider, subscription, {"status": "active"}),
            now=event.created)


def _invoice_payment_failed(session: Session, provider, event: WebhookEvent) -> None:
    label = provider_name(provider)
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
    # Past due, unless a later payment already went through: the current state decides.
    apply_subscription_state(
        session, subscription,
        current_subscription_state(provider, subscription, {"status": "past_due"}),
        now=event.created)
    if subscription.status != SubscriptionStatus.PAST_DUE:
        return
    listing = session.get(Listing, subscription.listing_id)
    notify(session, subscription.workspace_id, "billing",
           f"A payment for {listing.name} failed. Please update your payment method; "
           "we will try again.", listing_id=listing.id)


def cash_refunded(credit_note: dict) -> int:
    """The money a credit note gave back to the customer's card, in minor units: the sum
    of its ``refunds[].amount_refunded``. Credit to the customer's balance (used on a
    later invoice) and out-of-band amounts are not cash and count 0 here.
    https://docs.stripe.com/api/credit_notes/object#credit_note_object-refunds"""
    total = 0
    for refund in credit_note.get("refunds") or []:
        amount = refund.get("amount_refunded") if isinstance(refund, dict) else None
        if isinstance(amount, int) and not isinstance(amount, bool) and amount > 0:
            total += amount
    return total


def _credit_note_created(session: Session, provider, event: WebhookEvent) -> None:
    """A credit note on one of our invoices: the cash it refunded is booked as a
    negative ledger entry, once per credit note id (``billing.ledger.book_refund``)."""
    credit_note = event.data_object
    invoice_id, note_id = credit_note.get("invoice"), credit_note.get("id")
    if not isinstance(invoice_id, str) or not isinstance(note_id, str):
        log.warning("credit_note.created without an invoice or an id: ignored")
        return
    invoice = session.exec(select(Invoice).where(
        Invoice.provider == provider_name(provider),
        Invoice.provider_invoice_id == invoice_id)).first()
    if invoice is None:
        log.warning("credit_note.created %s for an unknown invoice %s: not booked",
                    note_id, invoice_id)
        return
    amount = cash_refunded(credit_note)
    if amount == 0:
        log.info("credit_note.created %s refunds no cash (credit or out of band): "
                 "nothing to book", note_id)
        return
    book_refund(session, invoice, note_id, amount, now=event.created)


def _account_updated(session: Session, provider, event: WebhookEvent) -> None:
    """A partner's connected account changed: its payout status follows."""
    if apply_account_state(session, provider_name(provider), event.data_object,
                           now=event.created) is None:
        log.info("account.updated for an account that is not a partner's: ignored")


def _payout_changed(session: Session, provider, event: WebhookEvent) -> None:
    """A payout from a partner's connected account to its bank was made or moved on."""
    if apply_payout_state(session, provider_name(provider), event.account, event.data_object,
                          now=event.created) is None:
        # Acknowledged (the provider stops retrying) and left for an operator to look at.
        log.info("%s for an account that is not a partner's (or an unusable payout): "
                 "ignored", event.type)


HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "customer.subscription.trial_will_end": _trial_will_end,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_payment_failed,
    "credit_note.created": _credit_note_created,
    "account.updated": _account_updated,
    "payout.created": _payout_changed,
    "payout.updated": _payout_changed,
    "payout.paid": _payout_changed,
    "payout.failed": _payout_changed,
    "payout.canceled": _payout_changed,
}


def process_event(session: Session, provider, event: WebhookEvent) -> bool:
    """Apply a verified event once. Returns False for an event already processed
    (nothing changes). Records the event id in the same transaction as the effect;
    the caller commits (a concurrent duplicate then fails on the unique event id and
    is rolled back whole). ``ProviderUnavailable`` (reading a subscription's current
    state) propagates: roll back, and the provider delivers the event again."""
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
        handler(session, provider, event)
    session.flush()
    return True


def receive_webhook(session: Session, provider, payload: bytes, signature_header: str | None) -> bool:
    """Verify the raw ``payload`` with the provider's signature check and apply it once.

    Raises ``InvalidWebhook`` for a bad or stale signature (nothing changes).
    Returns whether the event was new. The caller commits.
    """
    event = provider.parse_webhook(payload, signature_header or "")
    return process_event(session, provider, event)
