"""Replayed Stripe event streams: whatever order the events come in, however often,
and whichever of them race each other, the ledger and the invoices end up exactly as
when the same events arrive one by one in order.

Each test builds two "worlds" in the same database (10 workspaces each paying for
one of three apps, each subscription held at the (local) provider in its final
state) and sends each the same 50 events (checkout completed, subscription
created, a failed payment, the payment, then a refund or an update) through the real
endpoint, signed as Stripe signs. The first world gets them in order, the second
shuffled (5 fixed seeds), duplicated by concurrent deliveries, or in racing groups
posted at the same moment by real threads. Like Stripe, the harness delivers an
event again, later, whenever it was answered with anything but a 2xx
(https://docs.stripe.com/webhooks#retries).
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from sqlmodel import select

from accounts.models import Role
from billing.ledger import WAITING_REFUND
from billing.models import (
    Invoice,
    LedgerEntry,
    ProcessedWebhookEvent,
    ProviderObject,
    Subscription,
)
from billing.providers import get_provider
from installs.models import Install
from tests import factories

SECRET = "whsec_bazaar_stream_tests"
SUBSCRIPTIONS = 10
SEEDS = [11, 23, 37, 41, 59]
# Event times: fixed, so what is booked from them is the same in every run.
T0 = 1_767_225_600  # 2026-01-01
MAX_DELIVERIES = 12  # per event; Stripe keeps trying for 3 days


@pytest.fixture
def app_overrides():
    return {"STRIPE_WEBHOOK_SECRET": SECRET, "BILLING_FEE_PERCENT_SELECT": Decimal("12.5")}


@pytest.fixture
def apps(db):
    """Three paid apps by partners of different tiers (so fees differ)."""
    return [factories.make_paid_listing(db, partner=factories.make_partner(db, tier=tier),
                                        monthly_price=price, currency=currency)
            for tier, price, currency in (("registered", 1500, "usd"), ("select", 1999, "eur"),
                                          ("registered", 4900, "usd"))]


@dataclass
class World:
    """Ten subscriptions and the 50 events Stripe sends about them; ``groups`` are
    the events that touch the same rows (the ones worth racing)."""

    name: str
    events: list[dict] = field(default_factory=list)
    groups: list[list[dict]] = field(default_factory=list)


def stripe_event(event_id: str, event_type: str, created: int, data: dict) -> dict:
    return {"id": event_id, "object": "event", "type": event_type, "created": created,
            "data": {"object": data}}


def build_world(app, db, apps, name: str) -> World:
    """Ten workspaces with a checkout started for one of ``apps`` each, the provider
    holding each subscription in its final state, and the events about them."""
    provider = get_provider(app)
    world = World(name)
    for i in range(SUBSCRIPTIONS):
        admin = factories.make_user(db, Role.CUSTOMER)
        workspace = factories.make_workspace(db, admin, name=f"{name} workspace {i}")
        listing = apps[i % len(apps)]
        subscription, _ = factories.make_checkout(db, app, workspace, listing)
        sub_id, invoice_id = f"sub_{name}_{i}", f"in_{name}_{i}"
        ours = {"bazaar_subscription_id": str(subscription.id)}
        updated = i % 2 == 1
        state = {"id": sub_id, "object": "subscription", "customer": subscription.provider_customer_id,
                 "status": "active", "metadata": ours, "trial_end": None,
                 "current_period_end": T0 + 30 * 86400}
        # Where it stands at the provider once every event below was sent.
        provider.record_subscription({**state, "cancel_at_period_end": updated})
        amount, currency = listing.monthly_price + 7 * i, listing.currency
        invoice = {"id": invoice_id, "object": "invoice", "customer": state["customer"],
                   "currency": currency, "amount_due": amount, "amount_paid": 0,
                   "hosted_invoice_url": f"https://invoice.stripe.test/{invoice_id}",
                   "lines": {"object": "list", "data": [{"period": {
                       "start": T0, "end": T0 + 30 * 86400}}]}}
        if i % 2 == 0:  # newer API versions: the subscription and its metadata under parent
            invoice["parent"] = {"type": "subscription_details", "subscription_details": {
                "subscription": sub_id, "metadata": ours}}
        else:  # older ones, or a subscription whose metadata we must ask the provider for
            invoice["subscription"] = sub_id
        paid = {**invoice, "status": "paid", "amount_paid": amount,
                "status_transitions": {"paid_at": T0 + 300 + i}}
        checkout = {"id": subscription.provider_checkout_session_id, "object": "checkout.session",
                    "mode": "subscription", "status": "complete", "payment_status": "paid",
                    "subscription": sub_id, "customer": state["customer"], "metadata": ours}
        if updated:
            last = stripe_event(f"evt_{name}_{i}_updated", "customer.subscription.updated",
                                T0 + 900 + i, {**state, "cancel_at_period_end": True})
        else:
            refund = 300 + 11 * i
            last = stripe_event(f"evt_{name}_{i}_refund", "credit_note.created", T0 + 900 + i, {
                "id": f"cn_{name}_{i}", "object": "credit_note", "invoice": invoice_id,
                "currency": currency, "amount": refund, "type": "post_payment",
                "refunds": [{"refund": f"re_{name}_{i}", "amount_refunded": refund}]})
        completed = stripe_event(f"evt_{name}_{i}_completed", "checkout.session.completed",
                                 T0 + 60 + i, checkout)
        created = stripe_event(f"evt_{name}_{i}_created", "customer.subscription.created",
                               T0 + 61 + i, {**state, "status": "incomplete"})
        failed = stripe_event(f"evt_{name}_{i}_failed", "invoice.payment_failed", T0 + 120 + i,
                              {**invoice, "status": "open"})
        paid_event = stripe_event(f"evt_{name}_{i}_paid", "invoice.paid", T0 + 300 + i, paid)
        world.events += [completed, created, failed, paid_event, last]
        world.groups += [[completed, created], [failed, paid_event, last]]
    # Stripe's own order: by time.
    world.events.sort(key=lambda event: (event["created"], event["id"]))
    return world


def post(app, event: dict) -> int:
    return factories.post_stripe_event(app.test_client(), event, SECRET).status_code


def deliver(app, waves: list[list[dict]]) -> dict[str, list[int]]:
    """Deliver ``waves`` one after the other, the events of a wave at the same moment
    from their own threads; an event answered with anything but a 2xx is delivered
    again in a later wave of its own, as Stripe does. Returns every answer per event."""
    answers: dict[str, list[int]] = {}
    queue = deque(waves)
    lock = threading.Lock()
    while queue:
        wave = queue.popleft()
        barrier = threading.Barrier(len(wave))
        results: list[tuple[dict, int]] = []

        def send(event):
            barrier.wait(timeout=30)
            status = post(app, event)
            with lock:
                results.append((event, status))

        threads = [threading.Thread(target=send, args=(event,)) for event in wave]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert len(results) == len(wave), "a delivery never finished"
        for event, status in results:
            answers.setdefault(event["id"], []).append(status)
            assert status < 500 or status == 503, (event["id"], status)
            if not 200 <= status < 300:
                assert len(answers[event["id"]]) < MAX_DELIVERIES, answers[event["id"]]
                queue.append([event])
    return answers


def one_by_one(events: list[dict]) -> list[list[dict]]:
    return [[event] for event in events]


def outcome(db, world: World) -> dict:
    """What a person would check after the stream: each invoice and what the ledger
    booked for it, each subscription's state and access, with the world's own
    name taken out of the ids."""
    db.expire_all()

    def plain(value):
        return value.replace(f"_{world.name}_", "_W_") if isinstance(value, str) else value

    invoices = db.exec(select(Invoice).where(
        Invoice.provider_invoice_id.like(f"in_{world.name}_%"))).all()
    by_id = {invoice.id: plain(invoice.provider_invoice_id) for invoice in invoices}
    entries = db.exec(select(LedgerEntry).where(
        LedgerEntry.invoice_id.in_(list(by_id)))).all()
    subscriptions = db.exec(select(Subscription).where(
        Subscription.provider_subscription_id.like(f"sub_{world.name}_%"))).all()
    installs = {install.id: install.status for install in db.exec(select(Install)).all()}
    return {
        "invoices": sorted(
            (plain(invoice.provider_invoice_id), invoice.status, invoice.currency,
             invoice.amount_due, invoice.amount_paid, invoice.paid_at, invoice.period_start,
             invoice.period_end, plain(invoice.hosted_invoice_url))
            for invoice in invoices),
        "ledger": sorted(
            (by_id[entry.invoice_id], entry.kind, plain(entry.provider_refund_id), entry.currency,
             entry.gross, entry.platform_fee, entry.partner_net, entry.fee_percent,
             entry.partner_tier, entry.booked_at)
            for entry in entries),
        "subscriptions": sorted(
            (plain(subscription.provider_subscription_id), subscription.status,
             subscription.cancel_at_period_end, subscription.current_period_end,
             installs.get(subscription.install_id))
            for subscription in subscriptions),
        "events applied": sorted(plain(event_id) for event_id in db.exec(
            select(ProcessedWebhookEvent.event_id).where(
                ProcessedWebhookEvent.event_id.like(f"evt_{world.name}_%"))).all()),
        "refunds still waiting": db.exec(select(ProviderObject.local_key).where(
            ProviderObject.kind == WAITING_REFUND,
            ProviderObject.local_key.like(f"cn_{world.name}_%"))).all(),
    }


@pytest.fixture
def in_order(app, db, apps) -> dict:
    """The outcome of the 50 events delivered one by one in Stripe's order."""
    world = build_world(app, db, apps, "base")
    answers = deliver(app, one_by_one(world.events))
    assert all(statuses == [200] for statuses in answers.values())
    result = outcome(db, world)
    # What the stream is worth, so that "equal" cannot mean "equally empty".
    assert len(result["invoices"]) == SUBSCRIPTIONS
    assert all(invoice[1] == "paid" for invoice in result["invoices"])
    assert [entry[1] for entry in result["ledger"]].count("refund") == SUBSCRIPTIONS // 2
    assert len(result["events applied"]) == 5 * SUBSCRIPTIONS
    assert all(subscription[1:3] in (("active", False), ("active", True))
               and subscription[4] == "active" for subscription in result["subscriptions"])
    return result


@pytest.mark.parametrize("seed", SEEDS)
def test_a_shuffled_stream_ends_as_the_ordered_one(app, db, apps, in_order, seed):
    world = build_world(app, db, apps, f"shuffled{seed}")
    events = list(world.events)
    random.Random(seed).shuffle(events)

    deliver(app, one_by_one(events))

    assert outcome(db, world) == in_order


def test_concurrent_duplicates_end_as_the_ordered_stream(app, db, apps, in_order):
    world = build_world(app, db, apps, "duplicated")
    events = list(world.events)
    random.Random(7).shuffle(events)
    # Every event delivered three times at the same moment, by three threads.
    answers = deliver(app, [[event] * 3 for event in events])

    assert outcome(db, world) == in_order
    assert all(200 in statuses for statuses in answers.values())


def test_racing_events_end_as_the_ordered_stream(app, db, apps, in_order):
    world = build_world(app, db, apps, "racing")
    groups = [list(group) for group in world.groups]
    shuffler = random.Random(5)
    for group in groups:
        shuffler.shuffle(group)
    shuffler.shuffle(groups)
    # The events about the same rows (the same invoice: its failure, its payment and
    # its refund; the same subscription: checkout and creation) posted at once.
    answers = deliver(app, groups)

    assert outcome(db, world) == in_order
    assert all(statuses[-1] == 200 for statuses in answers.values())
