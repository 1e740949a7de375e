"""Paying for an install: the consent screen leads to checkout, the local provider's
simulated checkout "pays" through the same webhook handler Stripe would call, and
only that verified event installs the app."""

from __future__ import annotations

import re

import pytest
from sqlmodel import func, select

from billing.interfaces import ProviderUnavailable
from billing.models import BillingCustomer, Subscription
from billing.providers import get_provider
from installs.models import Install, InstallStatus
from installs.services import BILLING_NOT_READY, InstallError, install_listing
from listings.services import current_release
from tests import factories
from tests.factories import workspace_of
from webhooks.models import WebhookDelivery


def confirm(client, db, listing, **kwargs):
    """Press the consent screen's confirm button (naming the release shown)."""
    return client.post(f"/apps/{listing.slug}/install/confirm",
                       data={"release_id": current_release(db, listing.id).id}, **kwargs)


def installs(db) -> list[Install]:
    db.expire_all()
    return list(db.exec(select(Install)).all())


def subscriptions(db) -> list[Subscription]:
    db.expire_all()
    return list(db.exec(select(Subscription)).all())


def deliveries(db, event_type: str) -> int:
    return db.exec(select(func.count()).select_from(WebhookDelivery)
                   .where(WebhookDelivery.event_type == event_type)).one()


@pytest.fixture
def listing(db):
    return factories.make_paid_listing(db, monthly_price=1500, currency="usd")


def test_consent_screen_of_a_paid_app_leads_to_payment(client, db, login, admin, listing):
    login(admin)
    page = client.get(f"/apps/{listing.slug}/install").get_data(as_text=True)
    assert "is a paid app" in page
    assert "Confirm and continue to payment" in page


def test_confirm_starts_checkout_and_installs_nothing_yet(client, db, login, admin, listing):
    login(admin)
    response = confirm(client, db, listing)

    assert response.status_code == 303
    assert "/billing/local-checkout/cs_local_" in response.location
    [subscription] = subscriptions(db)
    assert subscription.status == "incomplete"
    assert subscription.workspace_id == workspace_of(db, admin).id
    assert subscription.provider_checkout_session_id in response.location
    assert installs(db) == []
    # The same confirm again leads to the same checkout, not a second subscription.
    again = confirm(client, db, listing)
    assert again.location == response.location
    assert len(subscriptions(db)) == 1


def test_the_success_redirect_alone_grants_nothing(client, db, login, admin, listing):
    login(admin)
    confirm(client, db, listing)
    [subscription] = subscriptions(db)

    page = client.get(f"/my/apps/checkout/{subscription.id}").get_data(as_text=True)

    assert "Waiting for payment confirmation" in page
    assert installs(db) == []
    assert subscriptions(db)[0].status == "incomplete"


def test_simulated_checkout_page_is_labelled_and_shows_price(client, db, login, admin, listing):
    login(admin)
    checkout_url = confirm(client, db, listing).location

    page = client.get(checkout_url).get_data(as_text=True)

    assert "Test mode — simulated checkout, no real payment" in page
    assert listing.name in page
    assert "$15.00" in page
    assert "Pay (simulated)" in page and "Cancel" in page
    assert "No trial" in page


def test_paying_installs_through_the_webhook_and_tells_the_partner(client, db, login, admin,
                                                                   listing):
    login(admin)
    checkout_url = confirm(client, db, listing).location

    response = client.post(f"{checkout_url}/pay")

    assert response.status_code == 303
    [subscription] = subscriptions(db)
    assert response.location.endswith(f"/my/apps/checkout/{subscription.id}")
    [install] = installs(db)
    assert install.status == InstallStatus.ACTIVE
    assert install.granted_scopes == current_release(db, listing.id).scope_names
    assert subscription.status == "active" and subscription.install_id == install.id
    assert subscription.provider_subscription_id.startswith("sub_local_")
    assert deliveries(db, "install.created") == 1
    # Back from checkout, the customer is sent on to the installed app.
    pending = client.get(response.location)
    assert pending.status_code == 302
    assert pending.location.endswith(f"/my/apps/{install.id}/installed")
    assert listing.name in client.get("/my/apps").get_data(as_text=True)


def test_paying_twice_installs_once(client, db, login, admin, listing):
    login(admin)
    checkout_url = confirm(client, db, listing).location
    client.post(f"{checkout_url}/pay")
    client.post(f"{checkout_url}/pay")

    assert len(installs(db)) == 1
    assert deliveries(db, "install.created") == 1
    page = client.get(checkout_url).get_data(as_text=True)
    assert "already complete" in page


def test_cancelling_checkout_installs_nothing(client, db, login, admin, listing):
    login(admin)
    checkout_url = confirm(client, db, listing).location

    response = client.post(f"{checkout_url}/cancel", follow_redirects=True)

    assert "Checkout cancelled" in response.get_data(as_text=True)
    assert installs(db) == []
    assert subscriptions(db)[0].status == "incomplete"


def test_another_workspace_cannot_see_or_pay_the_checkout(client, db, login, admin, listing):
    login(admin)
    checkout_url = confirm(client, db, listing).location
    client.post("/account/logout")
    stranger = factories.make_user(db)
    factories.make_workspace(db, stranger)
    login(stranger)

    assert client.get(checkout_url).status_code == 404
    assert client.post(f"{checkout_url}/pay").status_code == 404
    assert installs(db) == []


def test_provider_unavailable_shows_a_retryable_message_and_leaves_nothing(
        app, client, db, login, admin, listing, monkeypatch):
    provider = get_provider(app)

    def unreachable(**kwargs):
        raise ProviderUnavailable("connection refused")

    monkeypatch.setattr(provider, "create_checkout_session", unreachable)
    login(admin)

    response = confirm(client, db, listing, follow_redirects=True)

    page = response.get_data(as_text=True)
    assert "Payments are unavailable right now; please try again in a few minutes." in page
    assert "connection refused" not in page
    assert f"Install {listing.name}" in page  # back on the consent screen
    assert subscriptions(db) == [] and installs(db) == []

    monkeypatch.undo()
    retried = confirm(client, db, listing)
    assert "/billing/local-checkout/" in retried.location
    assert len(subscriptions(db)) == 1
    # One customer for the workspace, however many attempts.
    assert db.exec(select(func.count()).select_from(BillingCustomer)).one() == 1


def test_the_install_service_refuses_a_paid_app_without_payment(db, admin, listing):
    with pytest.raises(InstallError, match="payment is confirmed"):
        install_listing(db, workspace_of(db, admin), admin, listing)
    assert BILLING_NOT_READY.startswith("This app is paid")
    assert installs(db) == []


def test_simulated_checkout_is_missing_when_the_provider_is_not_local(
        app, client, db, login, admin, listing, monkeypatch):
    login(admin)
    checkout_url = confirm(client, db, listing).location
    monkeypatch.setattr(get_provider(app), "name", "stripe")
    assert client.get(checkout_url).status_code == 404


def test_a_trial_with_a_card_converts_instead_of_expiring(client, db, login, admin):
    from datetime import timedelta

    from core.db import utcnow
    from installs.models import Trial
    from installs.trials import settle_trials

    listing = factories.make_paid_listing(db, trial_days=14)
    login(admin)
    confirm(client, db, listing)
    [install] = installs(db)
    assert install.trial_id is not None
    assert "Add a payment method" in client.get("/my/apps").get_data(as_text=True)

    response = client.post(f"/my/apps/{install.id}/payment-method")

    assert response.status_code == 303 and "/billing/local-checkout/" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert "14 days free" in page
    client.post(f"{response.location}/pay")
    [subscription] = subscriptions(db)
    assert subscription.status == "trialing" and subscription.install_id == install.id
    assert len(installs(db)) == 1  # the trial install goes on; no second one
    assert "Payment method added" in client.get("/my/apps").get_data(as_text=True)

    sweep = settle_trials(db, now=utcnow() + timedelta(days=15))
    db.commit()

    assert sweep.converted == 1 and sweep.expired == 0
    [install] = installs(db)
    assert install.status == InstallStatus.ACTIVE and install.trial_id is None
    assert db.exec(select(Trial.status)).one() == "converted"


def test_a_trial_without_a_card_still_expires(client, db, login, admin):
    from datetime import timedelta

    from core.db import utcnow
    from installs.trials import settle_trials

    listing = factories.make_paid_listing(db, trial_days=14)
    login(admin)
    confirm(client, db, listing)
    # A checkout started but never paid is no payment method.
    [install] = installs(db)
    client.post(f"/my/apps/{install.id}/payment-method")

    sweep = settle_trials(db, now=utcnow() + timedelta(days=15))
    db.commit()

    assert sweep.expired == 1
    assert installs(db)[0].status == InstallStatus.EXPIRED


def test_only_a_trial_install_can_add_a_payment_method(client, db, login, admin):
    free = factories.make_listing(db)
    login(admin)
    client.post(f"/apps/{free.slug}/install/confirm",
                data={"release_id": current_release(db, free.id).id})
    [install] = installs(db)

    response = client.post(f"/my/apps/{install.id}/payment-method", follow_redirects=True)

    assert "is not on a free trial" in response.get_data(as_text=True)
    assert subscriptions(db) == []


def _pay(client, db, listing) -> Install:
    checkout_url = confirm(client, db, listing).location
    client.post(f"{checkout_url}/pay")
    [install] = installs(db)
    return install


def cancellations(app) -> list[str]:
    """Subscription ids the local provider was asked to cancel."""
    from billing.local_provider import STORE
    from billing.models import ProviderObject

    with get_provider(app)._session() as session:
        return [row.provider_id for row in session.exec(select(ProviderObject).where(
            ProviderObject.provider == STORE, ProviderObject.kind == "subscription_cancel"))]


def test_uninstalling_a_paid_app_cancels_its_subscription(app, client, db, login, admin,
                                                          listing):
    login(admin)
    install = _pay(client, db, listing)

    response = client.post(f"/my/apps/{install.id}/uninstall", follow_redirects=True)

    assert f"Uninstalled {listing.name}" in response.get_data(as_text=True)
    [subscription] = subscriptions(db)
    assert subscription.status == "canceled"
    assert cancellations(app) == [subscription.provider_subscription_id]


def test_an_outage_does_not_undo_the_uninstall_and_the_command_catches_up(
        app, client, db, login, admin, listing, runner, monkeypatch):
    login(admin)
    install = _pay(client, db, listing)
    provider = get_provider(app)
    real_cancel = provider.cancel_subscription

    def unreachable(**kwargs):
        raise ProviderUnavailable("connection refused")

    monkeypatch.setattr(provider, "cancel_subscription", unreachable)
    response = client.post(f"/my/apps/{install.id}/uninstall", follow_redirects=True)

    page = response.get_data(as_text=True)
    assert f"Uninstalled {listing.name}" in page
    assert "we keep trying until it is cancelled" in page
    db.refresh(install)
    assert install.status == "uninstalled"
    [subscription] = subscriptions(db)
    assert subscription.status == "active"  # still owed a cancellation

    result = runner.invoke(args=["billing", "cancel-ended"])
    assert result.exit_code == 1 and "unavailable" in result.output

    monkeypatch.setattr(provider, "cancel_subscription", real_cancel)
    result = runner.invoke(args=["billing", "cancel-ended"])
    assert result.exit_code == 0 and "Subscriptions cancelled: 1." in result.output
    assert subscriptions(db)[0].status == "canceled"
    assert runner.invoke(args=["billing", "cancel-ended"]).output.strip() == \
        "Subscriptions cancelled: 0."


def test_deleting_the_account_cancels_the_workspaces_subscriptions(app, client, db, login, admin,
                                                                   listing):
    login(admin)
    _pay(client, db, listing)

    client.post("/account/delete", data={"password": factories.PASSWORD})

    [subscription] = subscriptions(db)
    assert subscription.status == "canceled"
    assert cancellations(app) == [subscription.provider_subscription_id]


def test_a_trial_checkout_records_stripes_paid_invoice_of_zero_and_sells_nothing(
        client, db, login, admin):
    from accounts.models import Role
    from billing.models import Invoice, LedgerEntry
    from listings.models import Partner

    listing = factories.make_paid_listing(db, trial_days=14, monthly_price=2500)
    login(admin)
    confirm(client, db, listing)
    [install] = installs(db)
    checkout_url = client.post(f"/my/apps/{install.id}/payment-method").location

    client.post(f"{checkout_url}/pay")
    client.post(f"{checkout_url}/pay")  # a replay books nothing twice

    # Stripe opens a subscription with a trial with a paid invoice of 0; so does test mode.
    db.expire_all()
    [invoice] = db.exec(select(Invoice)).all()
    assert (invoice.status, invoice.amount_paid, invoice.currency) == ("paid", 0, "usd")
    [entry] = db.exec(select(LedgerEntry)).all()
    assert (entry.gross, entry.platform_fee, entry.partner_net) == (0, 0, 0)
    billing_page = client.get("/my/billing").get_data(as_text=True)
    invoices = billing_page.split("<h2>Invoices</h2>")[1]
    assert listing.name in invoices and "$0.00" in invoices and "Paid" in invoices

    # The partner's revenue page books it, but counts no sale.
    client.post("/account/logout")
    login(factories.make_user(db, Role.PARTNER, partner=db.get(Partner, listing.partner_id)))
    page = client.get("/partner/revenue").get_data(as_text=True)
    money = page[page.index('id="money-usd-table"'):].split("</tbody>")[0]
    last_row = money.split('<tr><th scope="row">')[-1]
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>",
                                                                         last_row, re.S)]
    # A $0 invoice is no sale: its month is folded in with the empty ones.
    assert cells == ["Nothing in these 12 months"]
