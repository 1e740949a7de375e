"""Refunding with the Stripe provider against stripe-mock: ``flask billing refund``
creates a credit note with a refund at Stripe (checked against Stripe's published API
by stripe-mock); the ledger books it only when Stripe's signed
``credit_note.created`` arrives."""

from __future__ import annotations

import json
import time

import pytest
import stripe
from sqlmodel import select

from accounts.models import Role
from billing.models import LedgerEntry, LedgerEntryKind, Subscription
from listings.services import current_release
from tests import factories

SECRET = "whsec_bazaar_stripe_refunds"


@pytest.fixture
def app_overrides(stripe_mock_url):
    return {"STRIPE_SECRET_KEY": "sk_test_bazaarrefunds", "STRIPE_WEBHOOK_SECRET": SECRET,
            "STRIPE_API_BASE": stripe_mock_url, "STRIPE_METER_EVENTS": "v1"}


@pytest.fixture
def invoice(app, db):
    user = factories.make_user(db, Role.CUSTOMER)
    workspace = factories.make_workspace(db, user)
    listing = factories.make_paid_listing(db, monthly_price=2500)
    subscription = Subscription(workspace_id=workspace.id, listing_id=listing.id,
                                release_id=current_release(db, listing.id).id,
                                started_by_id=user.id, provider="stripe",
                                provider_subscription_id="sub_refund_1", status="active")
    factories.save(db, subscription)
    return factories.make_paid_invoice(db, app, subscription, 2500, "in_stripe_refund_1")


def refunds(db) -> list[LedgerEntry]:
    db.expire_all()
    return list(db.exec(select(LedgerEntry).where(
        LedgerEntry.kind == LedgerEntryKind.REFUND)).all())


def test_the_cli_creates_a_credit_note_and_the_webhook_books_it(client, runner, db, invoice):
    result = runner.invoke(args=["billing", "refund", "--invoice", str(invoice.id),
                                 "--amount", "10.00"])

    assert result.exit_code == 0, result.output
    assert "Refund of 10.00 USD on invoice" in result.output
    note_id = result.output.split("(credit note ")[1].split(")")[0]
    assert note_id.startswith("cn_")
    # Nothing is booked until Stripe says the money went back.
    assert refunds(db) == []

    payload = json.dumps({"id": "evt_cn_stripe", "object": "event",
                          "type": "credit_note.created", "created": int(time.time()),
                          "data": {"object": {
                              "id": note_id, "object": "credit_note",
                              "invoice": "in_stripe_refund_1", "currency": "usd",
                              "amount": 1000, "refunds": [
                                  {"refund": "re_1", "amount_refunded": 1000,
                                   "type": "refund"}]}}})
    header = stripe.WebhookSignature.generate_signature_header(
        payload, SECRET, timestamp=int(time.time()))
    response = client.post("/billing/webhooks/stripe", data=payload,
                           headers={"Stripe-Signature": header,
                                    "Content-Type": "application/json"})

    assert response.status_code == 200
    [refund] = refunds(db)
    assert (refund.gross, refund.provider_refund_id) == (-1000, note_id)
    assert refund.platform_fee + refund.partner_net == -1000
