"""The customer's billing page: subscriptions, usage this period, invoices, and the
portal link (the local provider's simulated portal)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from accounts.models import Role
from billing.account import month_before
from core.db import utcnow
from tests import factories
from tests.factories import workspace_of


def test_the_page_lists_subscriptions_usage_and_invoices(client, db, login, admin):
    workspace = workspace_of(db, admin)
    flat = factories.make_paid_listing(db, name="Flat Tool", monthly_price=1500)
    renews = utcnow() + timedelta(days=10)
    flat_sub = factories.make_subscription(db, workspace, flat, current_period_end=renews)
    paid = factories.make_invoice(db, flat_sub, amount=1500, currency="usd")
    paid.hosted_invoice_url = "https://invoice.stripe.test/i/abc"
    factories.save(db, paid)
    factories.make_invoice(db, flat_sub, amount=1500, currency="usd", status="open")

    metered = factories.make_usage_listing(db, name="Meter Tool", included_units=100)
    install = factories.make_install(db, workspace, metered)
    factories.make_subscription(db, workspace, metered, install=install, status="trialing",
                                trial_end=utcnow() + timedelta(days=3),
                                current_period_end=renews)
    factories.make_usage_event(db, install, quantity=1200)
    factories.make_usage_event(db, install, quantity=34)
    # Before this period began: not counted.
    factories.make_usage_event(db, install, quantity=999,
                               occurred_at=month_before(renews) - timedelta(hours=1))
    login(admin)

    page = client.get("/my/billing").get_data(as_text=True)

    assert "Flat Tool" in page and "Meter Tool" in page
    assert "Trial" in page and renews.strftime("%-d %b %Y") in page
    assert "1,234 API call" in page and "2,233" not in page
    # The included units are free, as on the provider's graduated price: 1,134 at $0.02.
    usage = " ".join(page.split("Usage this period")[1].split("<h2>")[0].split())
    assert "The first 100 are included free; 1,134 billable at $0.02 each" in usage
    assert "$22.68 so far" in usage and "$24.68" not in usage
    assert "$15.00" in page and "Paid" in page and "Payment failed, retrying" in page
    assert 'href="https://invoice.stripe.test/i/abc"' in page
    assert "Manage cards and invoices" in page


def test_another_workspaces_billing_is_not_shown(client, db, login, admin):
    other = factories.make_user(db, Role.CUSTOMER)
    factories.make_workspace(db, other)
    theirs = factories.make_subscription(db, workspace_of(db, other),
                                         factories.make_paid_listing(db, name="Their App"))
    factories.make_invoice(db, theirs, amount=4321)
    login(admin)
    page = client.get("/my/billing").get_data(as_text=True)
    assert "Their App" not in page and "43.21" not in page
    assert "Your workspace pays for no apps" in page and "No invoices yet" in page


def test_members_see_the_page_but_not_the_portal_button(client, db, login, admin):
    member = factories.make_member(db, workspace_of(db, admin))
    from accounts.models import User

    login(db.get(User, member.user_id))
    page = client.get("/my/billing").get_data(as_text=True)
    assert "Billing" in page and "Manage cards and invoices" not in page
    response = client.post("/my/billing/portal", follow_redirects=True)
    assert "Only an admin of your workspace" in response.get_data(as_text=True)


def test_the_portal_button_opens_the_simulated_portal(app, client, db, login, admin):
    workspace = workspace_of(db, admin)
    listing = factories.make_paid_listing(db, name="Portal App")
    subscription, _ = factories.make_checkout(db, app, workspace, listing)
    factories.make_invoice(db, subscription, amount=2500)
    login(admin)

    response = client.post("/my/billing/portal")

    assert response.status_code == 303
    assert "/billing/local-portal/bps_local_" in response.location
    portal = client.get(response.location).get_data(as_text=True)
    assert "Test mode" in portal and "Portal App" in portal and "$25.00" in portal

    # Someone from another workspace cannot open it.
    stranger = factories.make_user(db, Role.CUSTOMER)
    factories.make_workspace(db, stranger)
    client.post("/account/logout")
    login(stranger)
    assert client.get(response.location).status_code == 404


def test_a_workspace_that_never_paid_has_no_portal(client, db, login, admin):
    login(admin)
    response = client.post("/my/billing/portal", follow_redirects=True)
    assert "no cards or invoices to manage" in response.get_data(as_text=True)


def test_without_a_workspace_the_page_says_so(client, db, login):
    login(factories.make_user(db, Role.EDITOR))
    assert "not in a workspace" in client.get("/my/billing").get_data(as_text=True)


def test_the_header_links_to_billing_for_customers(client, db, login, admin):
    login(admin)
    assert 'href="/my/billing"' in client.get("/").get_data(as_text=True)


def test_a_period_starts_a_calendar_month_before_its_end():
    assert month_before(datetime(2026, 3, 31, 12, tzinfo=UTC)) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert month_before(datetime(2026, 1, 15, tzinfo=UTC)) == datetime(2025, 12, 15, tzinfo=UTC)


def test_usage_within_the_included_units_costs_nothing(client, db, login, admin):
    workspace = workspace_of(db, admin)
    metered = factories.make_usage_listing(db, name="Meter Tool", unit_price=5,
                                           included_units=1000)
    install = factories.make_install(db, workspace, metered)
    factories.make_subscription(db, workspace, metered, install=install,
                                current_period_end=utcnow() + timedelta(days=10))
    factories.make_usage_event(db, install, quantity=400)
    login(admin)

    page = client.get("/my/billing").get_data(as_text=True)
    usage = " ".join(page.split("Usage this period")[1].split("<h2>")[0].split())

    assert "400 API call" in usage
    assert "The first 1,000 are included free; 0 billable at $0.05 each" in usage
    assert "$0.00 so far" in usage


def test_usage_without_included_units_is_charged_per_unit(client, db, login, admin):
    workspace = workspace_of(db, admin)
    metered = factories.make_usage_listing(db, name="Meter Tool", unit_price=5)
    install = factories.make_install(db, workspace, metered)
    factories.make_subscription(db, workspace, metered, install=install,
                                current_period_end=utcnow() + timedelta(days=10))
    factories.make_usage_event(db, install, quantity=7)
    login(admin)

    page = client.get("/my/billing").get_data(as_text=True)
    usage = " ".join(page.split("Usage this period")[1].split("<h2>")[0].split())

    assert "included free" not in usage
    assert "7 billable at $0.05 each" in usage and "$0.35 so far" in usage


def test_a_retried_portal_click_gets_the_same_session(app, client, db, login, admin,
                                                      monkeypatch):
    workspace = workspace_of(db, admin)
    factories.make_checkout(db, app, workspace, factories.make_paid_listing(db))
    login(admin)

    first = client.post("/my/billing/portal").location
    # Within the minute the idempotency key is the same: one portal session, not two.
    assert client.post("/my/billing/portal").location == first
    monkeypatch.setattr("billing.customer_views.short_lived_key", lambda name: f"{name}:a-minute-later")
    later = client.post("/my/billing/portal").location
    assert later != first and client.get(later).status_code == 200


def test_usage_is_estimated_at_the_subscriptions_own_plan(client, db, login, admin):
    """Found after plans came (issue 16): the estimate read the listing's first plan,
    so a workspace on a bigger usage tier saw the wrong included units and unit price."""
    from listings.plans import add_plan

    workspace = workspace_of(db, admin)
    metered = factories.make_usage_listing(db, name="Meter Tool", unit_price=5,
                                           included_units=100)
    scale = add_plan(db, metered, {"name": "Scale", "interval": "month", "unit_price": 2,
                                   "included_units": 1000})
    install = factories.make_install(db, workspace, metered)
    factories.make_subscription(db, workspace, metered, install=install, plan_id=scale.id,
                                current_period_end=utcnow() + timedelta(days=10))
    factories.make_usage_event(db, install, quantity=1500)
    login(admin)

    page = client.get("/my/billing").get_data(as_text=True)
    usage = " ".join(page.split("Usage this period")[1].split("<h2>")[0].split())

    assert "Scale" in usage
    assert "The first 1,000 are included free; 500 billable at $0.02 each" in usage
    assert "$10.00 so far" in usage
