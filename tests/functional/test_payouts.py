"""Partners' payouts: setting up a Connect Express account through the account link
(the local provider's simulated onboarding), ``account.updated`` keeping its status,
and the partner's ledger totals."""

from __future__ import annotations

import pytest
from sqlmodel import select

from accounts.models import Role
from billing.models import PayoutAccount
from tests import factories

SECRET = "whsec_bazaar_payout_tests"


@pytest.fixture
def app_overrides():
    return {"STRIPE_WEBHOOK_SECRET": SECRET}


@pytest.fixture
def partner(db):
    return factories.make_partner(db, tier="premier")


@pytest.fixture
def member(db, partner):
    return factories.make_user(db, Role.PARTNER, partner=partner)


def accounts(db) -> list[PayoutAccount]:
    db.expire_all()
    return list(db.exec(select(PayoutAccount)).all())


def send_account(client, account_id: str, event_id: str, **state):
    return factories.post_stripe_event(client, factories.stripe_event(
        event_id, "account.updated", {"id": account_id, "object": "account", **state}), SECRET)


def test_setting_up_payouts_through_the_simulated_onboarding(client, db, login, member, partner):
    login(member)
    page = client.get("/partner/payouts").get_data(as_text=True)
    assert "You have no payout account yet" in page and "Set up payouts" in page
    assert "10%" in page  # the premier tier's default fee

    response = client.post("/partner/payouts/setup")
    assert response.status_code == 303
    assert "/billing/local-onboarding/acctlink_local_" in response.location
    [account] = accounts(db)
    assert (account.partner_id, account.provider, account.status) == (partner.id, "local", "pending")

    onboarding = client.get(response.location).get_data(as_text=True)
    assert "Test mode" in onboarding and "Complete onboarding (simulated)" in onboarding

    done = client.post(f"{response.location}/complete")
    assert done.status_code == 303 and done.location.endswith("/partner/payouts")
    [account] = accounts(db)
    assert account.status == "enabled"
    assert account.charges_enabled and account.payouts_enabled and account.details_submitted
    assert "Enabled:" in client.get("/partner/payouts").get_data(as_text=True)


def test_setting_up_twice_keeps_one_account(client, db, login, member, monkeypatch):
    login(member)
    first = client.post("/partner/payouts/setup").location
    # A double click (or a retry) within the minute: the same link, under the same key.
    assert client.post("/partner/payouts/setup").location == first
    # A minute later the key changes: a fresh link (a used one can't be opened again).
    monkeypatch.setattr("billing.partner_views.short_lived_key", lambda name: f"{name}:a-minute-later")
    second = client.post("/partner/payouts/setup").location
    assert second != first and "/billing/local-onboarding/" in second
    assert client.get(second).status_code == 200
    assert len(accounts(db)) == 1


def test_another_partner_cannot_use_the_onboarding_link(app, client, db, login, partner):
    _, link = factories.make_payout_account(db, app, partner)
    login(factories.make_user(db, Role.PARTNER))
    assert client.get(link).status_code == 404
    assert client.post(f"{link}/complete").status_code == 404
    assert accounts(db)[0].status == "pending"


@pytest.mark.parametrize("state, status", [
    ({"charges_enabled": True, "payouts_enabled": True, "details_submitted": True}, "enabled"),
    ({"charges_enabled": False, "payouts_enabled": False, "details_submitted": True}, "restricted"),
    ({"charges_enabled": False, "payouts_enabled": False, "details_submitted": False,
      "requirements": {"disabled_reason": "requirements.past_due"}}, "restricted"),
    ({"charges_enabled": False, "payouts_enabled": False, "details_submitted": False}, "pending"),
])
def test_account_updated_sets_the_payout_status(app, client, db, partner, state, status):
    account, _ = factories.make_payout_account(db, app, partner)
    assert send_account(client, account.provider_account_id, "evt_acct", **state).status_code == 200
    assert accounts(db)[0].status == status


def test_a_restricted_account_asks_to_continue(app, client, db, login, member, partner):
    account, _ = factories.make_payout_account(db, app, partner)
    send_account(client, account.provider_account_id, "evt_acct", charges_enabled=False,
                 payouts_enabled=False, details_submitted=True)
    login(member)
    page = client.get("/partner/payouts").get_data(as_text=True)
    assert "Restricted:" in page and "Continue setup" in page


def test_the_payouts_page_shows_the_partners_own_totals_per_currency(app, client, db, login,
                                                                     member, partner, admin):
    workspace = factories.workspace_of(db, admin)
    mine = factories.make_paid_listing(db, partner=partner)
    subscription = factories.make_subscription(db, workspace, mine)
    for amount in (1000, 2000):
        factories.make_ledger_entry(db, factories.make_invoice(db, subscription, amount=amount,
                                                               currency="usd"), fee_percent="10")
    factories.make_ledger_entry(db, factories.make_invoice(db, subscription, amount=500,
                                                           currency="eur"), fee_percent="10")
    theirs = factories.make_paid_listing(db)
    factories.make_ledger_entry(db, factories.make_invoice(
        db, factories.make_subscription(db, workspace, theirs), amount=99999, currency="usd"))

    login(member)
    page = client.get("/partner/payouts").get_data(as_text=True)

    assert "$30.00" in page and "$3.00" in page and "$27.00" in page
    assert "€5.00" in page and "€4.50" in page
    assert "999.99" not in page
