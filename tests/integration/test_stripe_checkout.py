"""Paying for an install with the Stripe provider against stripe-mock: confirming a
paid app creates a real (mock) Checkout Session in subscription mode, and only a
webhook verified by stripe-python grants access."""

from __future__ import annotations

import json
import time

import pytest
import stripe
from sqlmodel import select

from accounts.models import Role
from billing.models import BillingCustomer, ProviderObject, Subscription
from installs.models import Install, InstallStatus
from listings.services import current_release
from tests import factories

SECRET = "whsec_bazaar_stripe_checkout"


@pytest.fixture
def app_overrides(stripe_mock_url):
    return {"STRIPE_SECRET_KEY": "sk_test_bazaarcheckout", "STRIPE_WEBHOOK_SECRET": SECRET,
            "STRIPE_API_BASE": stripe_mock_url, "STRIPE_METER_EVENTS": "v1"}


@pytest.fixture
def admin(db):
    """A customer who is the admin of their own workspace."""
    user = factories.make_user(db, Role.CUSTOMER)
    factories.make_workspace(db, user)
    return user


def confirm(client, db, listing):
    return client.post(f"/apps/{listing.slug}/install/confirm",
                       data={"release_id": current_release(db, listing.id).id})


def test_confirming_a_paid_app_opens_a_stripe_checkout(app, client, db, login, admin):
    assert get_provider_name(app) == "stripe"
    listing = factories.make_paid_listing(db, monthly_price=2500)
    login(admin)

    response = confirm(client, db, listing)

    assert response.status_code == 303
    assert response.location.startswith("https://checkout.stripe.com/")
    db.expire_all()
    [subscription] = db.exec(select(Subscription)).all()
    assert subscription.provider == "stripe" and subscription.status == "incomplete"
    assert subscription.provider_checkout_session_id.startswith("cs_")
    assert db.exec(select(BillingCustomer.provider)).all() == ["stripe"]
    kinds = sorted(row.kind for row in db.exec(select(ProviderObject).where(
        ProviderObject.provider == "stripe")))
    assert kinds == ["price", "product"]
    assert db.exec(select(Install)).all() == []
    # The test-mode page exists only with the local provider.
    assert client.get(f"/billing/local-checkout/{subscription.provider_checkout_session_id}"
                      ).status_code == 404


def test_a_stripe_signed_webhook_grants_access(app, client, db, login, admin):
    listing = factories.make_paid_listing(db)
    login(admin)
    confirm(client, db, listing)
    db.expire_all()
    [subscription] = db.exec(select(Subscription)).all()
    payload = json.dumps({
        "id": "evt_stripe_1", "object": "event", "type": "customer.subscription.created",
        "created": int(time.time()), "data": {"object": {
            "id": "sub_stripe_1", "object": "subscription", "status": "active",
            "metadata": {"bazaar_subscription_id": str(subscription.id)},
            "cancel_at_period_end": False}}}).encode()
    unsigned = client.post("/billing/webhooks/stripe", data=payload,
                           headers={"Stripe-Signature": "t=1,v1=bad"})
    assert unsigned.status_code == 400
    header = stripe.WebhookSignature.generate_signature_header(payload.decode(), SECRET,
                                                               timestamp=int(time.time()))

    response = client.post("/billing/webhooks/stripe", data=payload,
                           headers={"Stripe-Signature": header})

    assert response.status_code == 200
    db.expire_all()
    [install] = db.exec(select(Install)).all()
    assert install.status == InstallStatus.ACTIVE
    assert db.get(Subscription, subscription.id).provider_subscription_id == "sub_stripe_1"


def get_provider_name(app) -> str:
    from billing.providers import get_provider

    return get_provider(app).name


def test_a_destination_charge_checkout_is_accepted_by_stripe(app, client, db, login, admin,
                                                             monkeypatch):
    from billing.models import PayoutAccountStatus
    from billing.providers import get_provider

    partner = factories.make_partner(db, tier="premier")
    account, link = factories.make_payout_account(db, app, partner)
    assert account.provider == "stripe" and account.provider_account_id.startswith("acct_")
    assert link.startswith("https://")
    account.status = PayoutAccountStatus.ENABLED
    factories.save(db, account)
    provider = get_provider(app)
    sent = []
    original = provider.create_checkout_session

    def recording(**kwargs):
        sent.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(provider, "create_checkout_session", recording)
    login(admin)

    response = confirm(client, db, factories.make_paid_listing(db, partner=partner))

    assert response.status_code == 303
    assert response.location.startswith("https://checkout.stripe.com/")
    [request] = sent
    assert request["destination_account"] == account.provider_account_id
    assert str(request["application_fee_percent"]) == "10"


def test_setting_up_payouts_makes_an_express_account_and_link_at_stripe(client, db, login):
    from billing.models import PayoutAccount

    partner = factories.make_partner(db)
    login(factories.make_user(db, Role.PARTNER, partner=partner))

    response = client.post("/partner/payouts/setup")

    assert response.status_code == 303 and response.location.startswith("https://")
    db.expire_all()
    [account] = db.exec(select(PayoutAccount)).all()
    assert (account.provider, account.partner_id, account.status) == ("stripe", partner.id,
                                                                       "pending")
    # A second click reuses the account and only asks for a fresh link.
    assert client.post("/partner/payouts/setup").status_code == 303
    db.expire_all()
    assert len(db.exec(select(PayoutAccount)).all()) == 1


def test_a_usage_plan_with_included_units_checks_out_on_a_graduated_price(app, client, db,
                                                                          login, admin):
    listing = factories.make_usage_listing(db, unit_price=3, included_units=500)
    login(admin)

    response = confirm(client, db, listing)

    assert response.status_code == 303
    assert response.location.startswith("https://checkout.stripe.com/")
    db.expire_all()
    objects = {row.kind: row for row in db.exec(select(ProviderObject).where(
        ProviderObject.provider == "stripe"))}
    assert sorted(objects) == ["meter", "price", "product"]
    # The price Stripe accepted is the tiered one for 500 free units, not a per-unit one.
    assert objects["price"].local_key == f"listing:{listing.id}:metered:3usd:included:500"
