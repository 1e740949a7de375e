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
charge in the current API); only the cash it refunded is booked, once per credit note,
and one that arrives before its invoice is paid waits for it
(``billing.ledger.keep_refund_for_later``).

Every event is validated first (``billing.events``); one we cannot use changes nothing
(``UnusableEvent``, answered 400). Whatever the provider must tell us (the
subscription's current state) is read BEFORE the event's first write: on SQLite the
first flush takes the database's only write lock, and a provider call can take
seconds. The endpoint's answers are in docs/billing.md ("The webhook endpoint").
https://docs.stripe.com/webhooks#handle-duplicate-events
https://docs.stripe.com/webhooks#event-ordering
https://docs.stripe.com/billing/subscriptions/webhooks
https://docs.stripe.com/connect/webhooks
https://docs.stripe.com/api/credit_notes/object
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session, select

from accounts.services import notify
from billing.events import (
    AccountObject,
    CheckoutSessionObject,
    CreditNoteObject,
    InvoiceObject,
    PayoutObject,
    Shape,
    SubscriptionObject,
    event_object,
    subscription_shape,
)
from billing.interfaces import ProviderError, WebhookEvent
from billing.ledger import (
    book_paid_invoice,
    book_refund,
    charge_of,
    hold_invoice,
    keep_refund_for_later,
    record_invoice,
)
from billing.models import (
    Invoice,
    PayoutAccount,
    PayoutAccountStatus,
    PayoutStatus,
    ProcessedWebhookEvent,
    Subscription,
    SubscriptionStatus,
)
from billing.notices import (
    mail_invoice,
    mail_payout_account_needs_action,
    mail_payout_failed,
)
from billing.payouts import apply_account_state, apply_payout_state
from billing.subscriptions import apply_subscription_state, subscription_for
from billing.usage_sender import provider_name
from listings.models import Listing

log = logging.getLogger(__name__)

# A completed checkout that leaves the subscription paying (or trialing, with nothing
# to pay now): https://docs.stripe.com/api/checkout/sessions/object#checkout_session_object-payment_status
PAID_CHECKOUT = {"paid": "active", "no_payment_required": "trialing"}


@dataclass
class Delivery:
    """One verified event being applied: its validated object, our subscription it is
    about (if any), and the subscription's state at the provider, read before the
    first write (None when the provider doesn't know it or wasn't asked)."""

    label: str
    event: WebhookEvent
    object: Shape | None
    subscription: Subscription | None = None
    current: SubscriptionObject | None = None


def current_subscription_state(provider, subscription_id: str | None) -> SubscriptionObject | None:
    """The provider's subscription ``subscription_id`` as it is now, or None when the
    provider doesn't know it (or answers with a shape we cannot use). Call it before
    the first write of the transaction. ``ProviderUnavailable`` and other
    ``ProviderError`` propagate: the endpoint answers 503 and the provider delivers the
    event again later."""
    if not subscription_id:
        return None
    try:
        data = provider.retrieve_subscription(subscription_id=subscription_id)
    except ProviderError as error:
        if error.code != "resource_missing":
            raise
        return None
    state = subscription_shape(data)
    if state is None:
        log.warning("The provider's subscription %s has a shape we cannot use: "
                    "the event's own copy applies", subscription_id)
    return state


def _read_ahead(session: Session, provider, delivery: Delivery) -> None:
    """Find our subscription the event is about and, where the handler needs it, ask
    the provider for its current state: no write has happened yet."""
    obj = delivery.object
    if isinstance(obj, CheckoutSessionObject):
        delivery.subscription = subscription_for(session, delivery.label,
                                                 obj.our_subscription_id,
                                                 [obj.subscription, obj.id])
        if delivery.subscription is not None and obj.payment_status in PAID_CHECKOUT:
            delivery.current = current_subscription_state(
                provider, delivery.subscription.provider_subscription_id or obj.subscription)
    elif isinstance(obj, SubscriptionObject):
        delivery.subscription = subscription_for(session, delivery.label,
                                                 obj.our_subscription_id, [obj.id])
        if delivery.subscription is not None:
            delivery.current = current_subscription_state(
                provider, delivery.subscription.provider_subscription_id or obj.id)
    elif isinstance(obj, InvoiceObject):
        named = obj.provider_subscription_id
        subscription = subscription_for(session, delivery.label, obj.our_subscription_id,
                                        [named])
        if subscription is None and named:
            # An invoice that names the provider's subscription only (older API
            # versions, or before our checkout's events arrived): its metadata says
            # which subscription of ours it is.
            delivery.current = current_subscription_state(provider, named)
            if delivery.current is not None:
                subscription = subscription_for(session, delivery.label,
                                                delivery.current.our_subscription_id,
                                                [delivery.current.id])
        elif subscription is not None and subscription.status != SubscriptionStatus.CANCELED:
            delivery.current = current_subscription_state(
                provider, subscription.provider_subscription_id or named)
        delivery.subscription = subscription


def _named_provider_subscription(obj: Shape | None) -> str | None:
    """The provider's subscription id an event's object names, if any."""
    if isinstance(obj, CheckoutSessionObject):
        return obj.subscription
    if isinstance(obj, SubscriptionObject):
        return obj.id
    if isinstance(obj, InvoiceObject):
        return obj.provider_subscription_id
    return None


def _drop_if_claimed_by_another(session: Session, delivery: Delivery) -> None:
    """An event that would give our subscription a provider subscription id another
    of ours already has (its metadata and its ids disagree) is applied to neither:
    it is acknowledged and logged for an operator. Answering 503 would only have the
    provider deliver it again, to the same conflict, for days."""
    subscription = delivery.subscription
    named = _named_provider_subscription(delivery.object)
    if subscription is None or not named or subscription.provider_subscription_id:
        return
    holder = session.exec(select(Subscription.id).where(
        Subscription.provider == delivery.label,
        Subscription.provider_subscription_id == named,
        Subscription.id != subscription.id)).first()
    if holder is not None:
        log.error("Event %s (%s) names the provider's subscription %s for our subscription "
                  "%s, but it is subscription %s's: not applied, look into it",
                  delivery.event.id, delivery.event.type, named, subscription.id, holder)
        delivery.subscription = None
        delivery.current = None


def _locked(session: Session, subscription: Subscription | None) -> Subscription | None:
    """The subscription re-read and locked (on PostgreSQL) until commit: events about
    the same subscription are applied one after the other, each on fresh state."""
    if subscription is None:
        return None
    return session.exec(select(Subscription).where(Subscription.id == subscription.id)
                        .with_for_update()
                        .execution_options(populate_existing=True)).one()


def _checkout_completed(session: Session, delivery: Delivery) -> None:
    subscription, checkout = delivery.subscription, delivery.object
    if subscription is None:
        return
    if checkout.subscription and subscription.provider_subscription_id is None:
        subscription.provider_subscription_id = checkout.subscription
    # The session completes once paid (or with nothing to pay now, for a trial); the
    # subscription itself is then active or trialing.
    if checkout.payment_status in PAID_CHECKOUT \
            and subscription.status == SubscriptionStatus.INCOMPLETE:
        paid = SubscriptionObject(status=PAID_CHECKOUT[checkout.payment_status])
        apply_subscription_state(session, subscription, delivery.current or paid,
                                 now=delivery.event.created)
    session.add(subscription)


def _subscription_changed(session: Session, delivery: Delivery) -> None:
    if delivery.subscription is not None:
        apply_subscription_state(session, delivery.subscription,
                                 delivery.current or delivery.object, now=delivery.event.created)


def _trial_will_end(session: Session, delivery: Delivery) -> None:
    subscription = delivery.subscription
    if subscription is None:
        return
    apply_subscription_state(session, subscription, delivery.current or delivery.object,
                             now=delivery.event.created)
    listing = session.get(Listing, subscription.listing_id)
    notify(session, subscription.workspace_id, "billing",
           f"Your trial of {listing.name} ends soon; add a payment method to keep using it.",
           listing_id=listing.id)


def _invoice_paid(session: Session, delivery: Delivery) -> None:
    """Record the paid invoice and book its ledger entry (once per invoice), and the
    refunds of it that arrived first."""
    subscription, invoice, now = delivery.subscription, delivery.object, delivery.event.created
    if subscription is None:
        # Not one of ours, by its metadata or at the provider: acknowledged, so the
        # provider stops retrying, and logged for an operator.
        log.warning("invoice.paid %s (event %s) for an unknown subscription: not booked",
                    invoice.id, delivery.event.id)
        return
    recorded = record_invoice(session, delivery.label, subscription, invoice, "paid", now=now)
    book_paid_invoice(session, recorded, now=now)
    session.flush()
    mail_invoice(session, subscription, recorded, paid=True, event_id=delivery.event.id)
    if subscription.status == SubscriptionStatus.PAST_DUE:
        # Paid after a failure: the subscription is active again, unless it has moved
        # on since (a later failure, a cancellation): its current state decides.
        apply_subscription_state(session, subscription,
                                 delivery.current or SubscriptionObject(status="active"), now=now)


def _invoice_payment_failed(session: Session, delivery: Delivery) -> None:
    subscription, invoice, now = delivery.subscription, delivery.object, delivery.event.created
    if subscription is None:
        log.warning("invoice.payment_failed %s (event %s) for an unknown subscription",
                    invoice.id, delivery.event.id)
        return
    # Open: the provider retries the payment; nothing is booked until it is paid.
    recorded = record_invoice(session, delivery.label, subscription, invoice, "open", now=now)
    if subscription.status == SubscriptionStatus.CANCELED:
        return
    # Past due, unless a later payment already went through: the current state decides.
    apply_subscription_state(session, subscription,
                             delivery.current or SubscriptionObject(status="past_due"), now=now)
    if subscription.status != SubscriptionStatus.PAST_DUE:
        return
    listing = session.get(Listing, subscription.listing_id)
    notify(session, subscription.workspace_id, "billing",
           f"A payment for {listing.name} failed. Please update your payment method; "
           "we will try again.", listing_id=listing.id)
    session.flush()
    mail_invoice(session, subscription, recorded, paid=False, event_id=delivery.event.id)


def _credit_note_created(session: Session, delivery: Delivery) -> None:
    """A credit note on one of our invoices: the cash it refunded is booked as a
    negative ledger entry, once per credit note id (``billing.ledger.book_refund``).
    When its invoice is unknown or not paid yet (events arrive in any order), it is
    kept and booked when the invoice is paid: acknowledged, and nothing is lost."""
    note: CreditNoteObject = delivery.object
    amount = note.cash_refunded
    if amount == 0:
        log.info("credit_note.created %s refunds no cash (credit or out of band): "
                 "nothing to book", note.id)
        return
    hold_invoice(session, delivery.label, note.invoice)
    invoice = session.exec(select(Invoice).where(
        Invoice.provider == delivery.label,
        Invoice.provider_invoice_id == note.invoice)).first()
    if invoice is None or charge_of(session, invoice.id) is None:
        keep_refund_for_later(session, delivery.label, note.invoice, note.id, amount,
                              booked_at=delivery.event.created)
        log.warning("credit_note.created %s for an %s invoice %s: kept, and booked when "
                    "the invoice is paid", note.id,
                    "unknown" if invoice is None else "unpaid", note.invoice)
        return
    book_refund(session, invoice, note.id, amount, now=delivery.event.created)


def _account_updated(session: Session, delivery: Delivery) -> None:
    """A partner's connected account changed: its payout status follows."""
    account: AccountObject = delivery.object
    before = session.exec(select(PayoutAccount.status).where(
        PayoutAccount.provider == delivery.label,
        PayoutAccount.provider_account_id == account.id)).first()
    found = apply_account_state(session, delivery.label, account.model_dump(),
                                now=delivery.event.created)
    if found is None:
        log.info("account.updated for an account that is not a partner's: ignored")
    elif found.status == PayoutAccountStatus.RESTRICTED and before != found.status:
        # Newly restricted: the provider wants details before it pays out again.
        mail_payout_account_needs_action(session, found, delivery.event.id)


def _payout_changed(session: Session, delivery: Delivery) -> None:
    """A payout from a partner's connected account to its bank was made or moved on."""
    payout: PayoutObject = delivery.object
    found = apply_payout_state(session, delivery.label, delivery.event.account,
                               payout.model_dump(), now=delivery.event.created)
    if found is not None and found.status == PayoutStatus.FAILED:
        mail_payout_failed(session, found)
    if found is None:
        # Acknowledged (the provider stops retrying) and left for an operator to look at.
        log.info("%s for an account that is not a partner's (or an unusable payout): "
                 "ignored", delivery.event.type)


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


def already_processed(session: Session, provider, event_id: str) -> bool:
    """Whether the event ``event_id`` was applied (its id recorded and committed)."""
    return session.exec(select(ProcessedWebhookEvent.id).where(
        ProcessedWebhookEvent.provider == provider_name(provider),
        ProcessedWebhookEvent.event_id == event_id)).first() is not None


def process_event(session: Session, provider, event: WebhookEvent) -> bool:
    """Apply a verified event once. Returns False for an event already processed
    (nothing changes).

    The event's object is validated first (``billing.events.UnusableEvent``: nothing
    changes), then the provider is asked what the handler needs (no write yet), then
    the event id is recorded in the same transaction as the effect; the caller
    commits. A concurrent duplicate then fails on the unique event id and is rolled
    back whole (``already_processed`` tells it apart from a lost race).
    ``ProviderUnavailable`` (reading a subscription's current state) propagates: roll
    back, and the provider delivers the event again."""
    if already_processed(session, provider, event.id):
        return False
    delivery = Delivery(label=provider_name(provider), event=event, object=event_object(event))
    _read_ahead(session, provider, delivery)
    _drop_if_claimed_by_another(session, delivery)
    session.add(ProcessedWebhookEvent(provider=delivery.label, event_id=event.id,
                                      type=event.type))
    session.flush()
    handler = HANDLERS.get(event.type)
    if handler is not None:
        delivery.subscription = _locked(session, delivery.subscription)
        handler(session, delivery)
    session.flush()
    return True


def receive_webhook(session: Session, provider, payload: bytes, signature_header: str | None) -> bool:
    """Verify the raw ``payload`` with the provider's signature check and apply it once.

    Raises ``InvalidWebhook`` for a bad or stale signature or a body that is not an
    event, ``billing.events.UnusableEvent`` (a subclass) for an event of a shape we
    cannot use; nothing changes. Returns whether the event was new. The caller commits.
    """
    event = provider.parse_webhook(payload, signature_header or "")
    return process_event(session, provider, event)
