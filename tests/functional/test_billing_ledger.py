"""The revenue ledger: ``invoice.paid`` through the real webhook endpoint (signed
with stripe-python's helper) records the invoice and books gross, platform fee and
partner net once; a failed payment leaves an open invoice and books nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from billing.models import Invoice, LedgerEntry, ProcessedWebhookEvent
from listings.services import current_release
from tests import factories
from tests.factories import workspace_of

SECRET = "whsec_bazaar_ledger_tests"


@pytest.fixture
def app_overrides():
    return {"STRIPE_WEBHOOK_SECRET": SECRET, "BILLING_FEE_PERCENT_SELECT": Decimal("12.5")}


@pytest.fixture
def partner(db):
    return factories.make_partner(db, tier="select")


@pytest.fixture
def pending(app, db, admin, partner):
    listing = factories.make_paid_listing(db, partner=partner, monthly_price=1999, currency="eur")
    subscription, _ = factories.make_checkout(db, app, workspace_of(db, admin), listing)
    return subscription


def send(client, event_type: str, data: dict, event_id: str):
    return factories.post_stripe_event(
        client, factories.stripe_event(event_id, event_type, data), SECRET)


def invoice_object(subscription, invoice_id="in_test_1", amount=1999, **fields) -> dict:
    return {"id": invoice_id, "object": "invoice", "subscription": "sub_test_1",
            "customer": subscription.provider_customer_id, "currency": "eur",
            "amount_due": amount, "amount_paid": amount, "status": "paid",
            "hosted_invoice_url": "https://invoice.stripe.test/i/1",
            "lines": {"object": "list", "data": [{"period": {"start": 1_700_000_000,
                                                             "end": 1_702_592_000}}]},
            "subscription_details": {"metadata": {"bazaar_subscription_id":
                                                  str(subscription.id)}},
            **fields}


def rows(db, model):
    db.expire_all()
    return list(db.exec(select(model)).all())


def test_invoice_paid_books_the_ledger_by_the_partners_tier(client, db, pending, partner):
    response = send(client, "invoice.paid", invoice_object(pending), "evt_paid_1")

    assert response.status_code == 200
    [invoice] = rows(db, Invoice)
    assert (invoice.provider_invoice_id, invoice.status, invoice.currency) == ("in_test_1", "paid", "eur")
    assert (invoice.amount_due, invoice.amount_paid) == (1999, 1999)
    assert invoice.workspace_id == pending.workspace_id and invoice.listing_id == pending.listing_id
    assert invoice.hosted_invoice_url == "https://invoice.stripe.test/i/1"
    assert invoice.paid_at is not None and invoice.period_start is not None
    [entry] = rows(db, LedgerEntry)
    # 12.5% of 19.99 is 2.49875: the fee rounds half up to 2.50, the partner keeps the rest.
    assert (entry.gross, entry.platform_fee, entry.partner_net) == (1999, 250, 1749)
    assert (entry.fee_percent, entry.partner_tier, entry.currency) == ("12.5", "select", "eur")
    assert entry.partner_id == partner.id and entry.invoice_id == invoice.id


def test_a_replayed_invoice_paid_changes_nothing(client, db, pending):
    send(client, "invoice.paid", invoice_object(pending), "evt_paid_1")
    assert send(client, "invoice.paid", invoice_object(pending), "evt_paid_1").status_code == 200
    # Even a second event about the same invoice books it only once.
    assert send(client, "invoice.paid", invoice_object(pending), "evt_paid_2").status_code == 200

    assert len(rows(db, Invoice)) == 1
    assert len(rows(db, LedgerEntry)) == 1


def test_an_invoice_for_an_unknown_subscription_is_acknowledged_and_logged(client, db, caplog):
    data = {"id": "in_stranger", "object": "invoice", "subscription": "sub_nobody",
            "currency": "usd", "amount_due": 500, "amount_paid": 500}

    response = send(client, "invoice.paid", data, "evt_stranger")

    assert response.status_code == 200
    assert rows(db, Invoice) == [] and rows(db, LedgerEntry) == []
    assert len(rows(db, ProcessedWebhookEvent)) == 1
    assert "in_stranger" in caplog.text and "unknown subscription" in caplog.text


def test_a_failed_payment_leaves_an_open_invoice_then_paid_books_it(client, db, pending):
    failed = invoice_object(pending, amount_paid=0, status="open")
    assert send(client, "invoice.payment_failed", failed, "evt_failed").status_code == 200

    [invoice] = rows(db, Invoice)
    assert (invoice.status, invoice.amount_due, invoice.amount_paid) == ("open", 1999, 0)
    assert rows(db, LedgerEntry) == []

    send(client, "invoice.paid", invoice_object(pending), "evt_paid_after_retry")
    [invoice] = rows(db, Invoice)
    assert (invoice.status, invoice.amount_paid) == ("paid", 1999)
    assert [entry.gross for entry in rows(db, LedgerEntry)] == [1999]

    # A late failure about the paid invoice does not reopen it.
    send(client, "invoice.payment_failed", failed, "evt_failed_late")
    assert rows(db, Invoice)[0].status == "paid"


def test_paying_the_local_checkout_books_the_first_period(client, db, login, admin, partner):
    listing = factories.make_paid_listing(db, partner=partner, monthly_price=1000, currency="usd")
    login(admin)
    response = client.post(f"/apps/{listing.slug}/install/confirm",
                           data={"release_id": current_release(db, listing.id).id})
    checkout_url = response.location

    client.post(f"{checkout_url}/pay")
    client.post(f"{checkout_url}/pay")  # a second click replays the same events

    [invoice] = rows(db, Invoice)
    assert (invoice.provider, invoice.status, invoice.amount_paid) == ("local", "paid", 1000)
    [entry] = rows(db, LedgerEntry)
    assert (entry.gross, entry.platform_fee, entry.partner_net) == (1000, 125, 875)


def test_a_usage_plan_first_invoice_is_zero(client, db, login, admin, partner):
    # Usage is billed in arrears: the first period's invoice charges nothing yet.
    listing = factories.make_paid_listing(db, partner=partner, pricing_model="usage",
                                          monthly_price=0, unit_price=5, included_units=100)
    login(admin)
    response = client.post(f"/apps/{listing.slug}/install/confirm",
                           data={"release_id": current_release(db, listing.id).id})
    client.post(f"{response.location}/pay")

    [invoice] = rows(db, Invoice)
    assert (invoice.status, invoice.amount_paid) == ("paid", 0)
    [entry] = rows(db, LedgerEntry)
    assert (entry.gross, entry.platform_fee, entry.partner_net) == (0, 0, 0)
