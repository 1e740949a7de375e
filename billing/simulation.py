"""Test mode: the events Stripe would send after a checkout, an Express onboarding or a
payout, made by the local provider, signed, and handed to our own webhook handler
(in-process), so access, payout accounts and payouts change exactly as with Stripe.
The simulated pages are in ``billing.test_mode_views``.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import timedelta

from sqlmodel import Session

from billing.webhooks import receive_webhook
from listings.models import Listing, PricingModel
from listings.plans import ListingPlan, PlanInterval, implicit_plan


def local_event_id(object_id: str, event_type: str) -> str:
    """The id of the simulated event of ``event_type`` about ``object_id``: the same for
    every click on "Pay", so a second click is a replayed event."""
    return "evt_local_" + hashlib.sha256(f"{object_id}:{event_type}".encode()).hexdigest()[:24]


def first_invoice_amount(listing: Listing, trial_days: int,
                         plan: ListingPlan | None = None) -> int:
    """What the subscription's first invoice charges: the flat price of the plan (by
    default the listing's first), paid up front for its interval. Like Stripe, a
    subscription that starts with a trial, or on a usage-based plan (whose units are
    billed in arrears), starts with a paid invoice of 0."""
    if trial_days or listing.pricing_model != PricingModel.FLAT_MONTHLY:
        return 0
    return int((plan or implicit_plan(listing)).price)


def checkout_events(session_id: str, request_data: dict, listing: Listing,
                    plan: ListingPlan | None = None) -> tuple[dict, list[dict]]:
    """The subscription a completed checkout makes, and what Stripe then sends, in its
    order, ending with the subscription's first invoice, paid (of 0 during a trial, as
    Stripe's is: https://docs.stripe.com/billing/subscriptions/trials)."""
    now = int(time.time())
    trial_days = int(request_data.get("trial_days") or 0)
    subscription_id = "sub_local_" + session_id.rsplit("_", 1)[-1]
    metadata = dict(request_data.get("metadata") or {})
    customer = request_data.get("customer")
    subscription = {
        "id": subscription_id, "object": "subscription", "customer": customer,
        "status": "trialing" if trial_days else "active", "metadata": metadata,
        "trial_end": now + trial_days * 86400 if trial_days else None,
        "current_period_end": now + int(timedelta(days=trial_days or (
            365 if plan is not None and plan.interval == PlanInterval.YEAR else 30))
            .total_seconds()),
        "cancel_at_period_end": False,
    }
    checkout = {
        "id": session_id, "object": "checkout.session", "mode": "subscription",
        "status": "complete", "customer": customer, "subscription": subscription_id,
        "payment_status": "no_payment_required" if trial_days else "paid", "metadata": metadata,
    }
    amount = first_invoice_amount(listing, trial_days, plan)
    invoice = {
        "id": "in_local_" + session_id.rsplit("_", 1)[-1], "object": "invoice",
        "customer": customer, "subscription": subscription_id, "status": "paid",
        "billing_reason": "subscription_create",
        "currency": listing.currency.lower(), "amount_due": amount, "amount_paid": amount,
        "lines": {"object": "list", "data": [{"period": {
            "start": now, "end": subscription["current_period_end"]}}]},
        "status_transitions": {"paid_at": now}, "hosted_invoice_url": None,
        "subscription_details": {"metadata": metadata},
    }
    events = [("checkout.session.completed", checkout),
              ("customer.subscription.created", subscription),
              ("invoice.paid", invoice)]
    return subscription, [{"id": local_event_id(session_id, kind), "object": "event",
                           "type": kind, "created": now, "data": {"object": data}}
                          for kind, data in events]


def payout_events(account_id: str, payout: dict) -> list[dict]:
    """What Stripe sends about a payout of a connected account: created, then paid."""
    return [{"id": local_event_id(payout["id"], event_type), "object": "event",
             "type": event_type, "account": account_id, "created": int(time.time()),
             "data": {"object": {**payout, "status": status}}}
            for event_type, status in (("payout.created", "pending"), ("payout.paid", "paid"))]


def onboarding_completed_event(link_id: str, account_id: str) -> dict:
    """The ``account.updated`` Stripe sends once an Express account finished onboarding."""
    return {"id": local_event_id(link_id, "account.updated"), "object": "event",
            "type": "account.updated", "created": int(time.time()),
            "data": {"object": {"id": account_id, "object": "account",
                                "type": "express", "charges_enabled": True,
                                "payouts_enabled": True, "details_submitted": True}}}


def deliver_to_own_webhook(session: Session, provider, event: dict) -> None:
    """Sign ``event`` as the local provider and apply it through our webhook handler,
    the way a delivery from Stripe is applied. The caller commits."""
    payload = json.dumps(event).encode()
    receive_webhook(session, provider, payload, provider.sign_webhook(payload))
