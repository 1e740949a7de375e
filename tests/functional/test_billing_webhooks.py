"""The payment provider's webhook endpoint: signatures checked on the raw body with
stripe-python's own signing helper, each event applied once, events out of order
handled from the object's own state."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
import stripe
from sqlmodel import func, select

from accounts.models import Notification, Role
from billing.models import Payout, ProcessedWebhookEvent, Subscription
from installs.models import Install, InstallStatus
from tests import factories
from webhooks.models import WebhookDelivery

SECRET = "whsec_bazaar_webhook_tests"


@pytest.fixture
def app_overrides():
    # The local provider verifies with STRIPE_WEBHOOK_SECRET when it is set.
    return {"STRIPE_WEBHOOK_SECRET": SECRET}


@pytest.fixture
def pending(app, db, admin):
    """A paid app whose checkout the admin's workspace has started."""
    listing = factories.make_paid_listing(db)
    subscription, _ = factories.make_checkout(db, app, factories.workspace_of(db, admin), listing)
    return subscription


def send(client, event: dict, secret: str = SECRET, timestamp: int | None = None,
         payload: bytes | None = None):
    return factories.post_stripe_event(client, payload if payload is not None else event,
                                       secret, timestamp)


event = factories.stripe_event


def subscription_object(subscription: Subscription, status: str, **fields) -> dict:
    return {"id": "sub_test_1", "object": "subscription", "status": status,
            "customer": subscription.provider_customer_id,
            "metadata": {"bazaar_subscription_id": str(subscription.id)},
            "current_period_end": int(time.time()) + 30 * 86400,
            "cancel_at_period_end": False, "trial_end": None, **fields}


def completed(subscription: Subscription, event_id: str = "evt_completed") -> dict:
    return event(event_id, "checkout.session.completed", {
        "id": subscription.provider_checkout_session_id, "object": "checkout.session",
        "mode": "subscription", "status": "complete", "payment_status": "paid",
        "subscription": "sub_test_1", "customer": subscription.provider_customer_id,
        "metadata": {"bazaar_subscription_id": str(subscription.id)}})


def installs(db) -> list[Install]:
    db.expire_all()
    return list(db.exec(select(Install)).all())


def count(db, model, *where) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


def current(db, subscription: Subscription) -> Subscription:
    db.expire_all()
    return db.get(Subscription, subscription.id)


def test_bad_signature_is_refused_and_changes_nothing(client, db, pending):
    response = send(client, completed(pending), secret="whsec_someone_else")

    assert response.status_code == 400
    assert installs(db) == []
    assert count(db, ProcessedWebhookEvent) == 0
    assert current(db, pending).status == "incomplete"


def test_missing_signature_is_refused(client, db, pending):
    response = client.post("/billing/webhooks/stripe", data=json.dumps(completed(pending)))
    assert response.status_code == 400
    assert installs(db) == []


def test_stale_signature_is_refused(client, db, pending):
    response = send(client, completed(pending), timestamp=int(time.time()) - 600)
    assert response.status_code == 400
    assert installs(db) == []


def test_a_body_changed_after_signing_is_refused(client, db, pending):
    signed = json.dumps(completed(pending)).encode()
    header = stripe.WebhookSignature.generate_signature_header(signed.decode(), SECRET,
                                                               timestamp=int(time.time()))
    tampered = signed.replace(b'"paid"', b'"paid" ')
    response = client.post("/billing/webhooks/stripe", data=tampered,
                           headers={"Stripe-Signature": header})
    assert response.status_code == 400
    assert installs(db) == []


def test_checkout_completed_grants_access_once(client, db, pending):
    response = send(client, completed(pending))

    assert response.status_code == 200
    [install] = installs(db)
    assert install.status == InstallStatus.ACTIVE
    subscription = current(db, pending)
    assert subscription.status == "active"
    assert subscription.provider_subscription_id == "sub_test_1"
    assert subscription.install_id == install.id
    assert count(db, WebhookDelivery, WebhookDelivery.event_type == "install.created") == 1

    replay = send(client, completed(pending))
    assert replay.status_code == 200
    assert len(installs(db)) == 1
    assert count(db, ProcessedWebhookEvent) == 1
    assert count(db, WebhookDelivery, WebhookDelivery.event_type == "install.created") == 1


def test_subscription_active_before_checkout_completed_grants_access_once(client, db, pending):
    # Stripe does not promise order: the subscription's own status decides.
    assert send(client, event("evt_sub_created", "customer.subscription.created",
                              subscription_object(pending, "active"))).status_code == 200
    assert len(installs(db)) == 1
    assert send(client, completed(pending)).status_code == 200
    assert len(installs(db)) == 1
    assert current(db, pending).current_period_end is not None


def test_incomplete_subscription_grants_nothing(client, db, pending):
    send(client, event("evt_incomplete", "customer.subscription.created",
                       subscription_object(pending, "incomplete")))
    assert installs(db) == []
    assert current(db, pending).provider_subscription_id == "sub_test_1"


def test_unpaid_checkout_completion_grants_nothing(client, db, pending):
    unpaid = completed(pending)
    unpaid["data"]["object"]["payment_status"] = "unpaid"
    send(client, unpaid)
    assert installs(db) == []


def test_deleted_subscription_revokes_the_install_and_tells_everyone(client, db, pending):
    send(client, completed(pending))
    [install] = installs(db)

    response = send(client, event("evt_deleted", "customer.subscription.deleted",
                                  subscription_object(pending, "canceled")))

    assert response.status_code == 200
    [install] = installs(db)
    assert install.status == InstallStatus.UNINSTALLED
    assert install.granted_scopes == []
    assert current(db, pending).status == "canceled"
    assert count(db, WebhookDelivery, WebhookDelivery.event_type == "install.uninstalled") == 1
    notes = db.exec(select(Notification.message).where(
        Notification.workspace_id == pending.workspace_id)).all()
    assert any("subscription" in note and "ended" in note for note in notes)


def test_a_late_update_after_deletion_does_not_reinstall(client, db, pending):
    send(client, completed(pending))
    send(client, event("evt_deleted", "customer.subscription.deleted",
                       subscription_object(pending, "canceled")))
    # An "active" update from before the cancellation arrives late: canceled is final.
    send(client, event("evt_late", "customer.subscription.updated",
                       subscription_object(pending, "active")))
    assert [install.status for install in installs(db)] == [InstallStatus.UNINSTALLED]
    assert current(db, pending).status == "canceled"


def test_failed_payment_marks_past_due_and_tells_the_workspace(client, db, pending):
    send(client, completed(pending))
    invoice = {"id": "in_test_1", "object": "invoice", "subscription": "sub_test_1",
               "amount_due": 1500, "currency": "usd"}

    assert send(client, event("evt_failed", "invoice.payment_failed", invoice)).status_code == 200

    assert current(db, pending).status == "past_due"
    notes = db.exec(select(Notification.message).where(
        Notification.workspace_id == pending.workspace_id)).all()
    assert any("payment" in note and "failed" in note for note in notes)
    assert installs(db)[0].status == InstallStatus.ACTIVE  # Stripe retries; access stays

    assert send(client, event("evt_paid", "invoice.paid", invoice)).status_code == 200
    assert current(db, pending).status == "active"


def test_trial_will_end_tells_the_workspace(client, db, pending):
    send(client, event("evt_trial", "customer.subscription.trial_will_end",
                       subscription_object(pending, "trialing",
                                           trial_end=int(time.time()) + 3 * 86400)))
    assert current(db, pending).trial_end is not None
    notes = db.exec(select(Notification.message).where(
        Notification.workspace_id == pending.workspace_id)).all()
    assert any("trial" in note and "ends soon" in note for note in notes)


def test_account_updated_and_unknown_events_are_acknowledged(client, db):
    assert send(client, event("evt_account", "account.updated",
                              {"id": "acct_1", "object": "account"})).status_code == 200
    assert send(client, event("evt_other", "customer.created",
                              {"id": "cus_1", "object": "customer"})).status_code == 200
    assert count(db, ProcessedWebhookEvent) == 2


def test_a_body_that_is_not_an_event_is_refused(client, db):
    response = send(client, {}, payload=b'{"not": "an event"}')
    assert response.status_code == 400
    assert count(db, ProcessedWebhookEvent) == 0


# --- out of order: the subscription's current state at the provider decides ----------


@pytest.fixture
def at_provider(app, pending):
    """The (local) provider holds the pending checkout's subscription, active, as Stripe
    does once the customer has paid."""
    from billing.providers import get_provider

    provider = get_provider(app)
    provider.record_subscription(subscription_object(pending, "active"))
    return provider


def notes_of(db, subscription: Subscription) -> list[str]:
    return list(db.exec(select(Notification.message).where(
        Notification.workspace_id == subscription.workspace_id)).all())


def test_a_stale_update_arriving_late_cannot_move_the_subscription_back(client, db, pending,
                                                                        at_provider):
    send(client, completed(pending))
    # A "past_due" from before the payment went through is delivered last.
    response = send(client, event("evt_stale", "customer.subscription.updated",
                                  subscription_object(pending, "past_due")))
    assert response.status_code == 200
    assert current(db, pending).status == "active"
    assert installs(db)[0].status == InstallStatus.ACTIVE


def test_a_cancellation_applies_even_when_only_an_older_event_arrives(client, db, pending,
                                                                     at_provider):
    send(client, completed(pending))
    at_provider.cancel_subscription(subscription_id="sub_test_1",
                                    idempotency_key="cancel:subscription:test")
    # The "deleted" event is still on its way; an older "active" update comes first.
    send(client, event("evt_older", "customer.subscription.updated",
                       subscription_object(pending, "active")))
    assert current(db, pending).status == "canceled"
    assert [install.status for install in installs(db)] == [InstallStatus.UNINSTALLED]


def test_a_failure_reported_after_the_retry_paid_does_not_mark_past_due(client, db, pending,
                                                                       at_provider):
    send(client, completed(pending))
    invoice = {"id": "in_test_1", "object": "invoice", "subscription": "sub_test_1",
               "amount_due": 1500, "amount_paid": 1500, "currency": "usd"}
    send(client, event("evt_paid", "invoice.paid", invoice))

    send(client, event("evt_failed_late", "invoice.payment_failed", invoice))

    assert current(db, pending).status == "active"
    assert not any("failed" in note for note in notes_of(db, pending))
    from billing.models import Invoice

    assert db.exec(select(Invoice.status)).all() == ["paid"]


def test_a_failure_the_provider_confirms_marks_past_due(client, db, pending, at_provider):
    send(client, completed(pending))
    at_provider.set_subscription_status("sub_test_1", "past_due")
    invoice = {"id": "in_test_2", "object": "invoice", "subscription": "sub_test_1",
               "amount_due": 1500, "currency": "usd"}

    send(client, event("evt_failed", "invoice.payment_failed", invoice))

    assert current(db, pending).status == "past_due"
    assert any("failed" in note for note in notes_of(db, pending))


def test_provider_unavailable_answers_503_and_the_redelivery_applies(client, db, pending,
                                                                    at_provider, monkeypatch):
    from billing.interfaces import ProviderUnavailable

    def unreachable(**kwargs):
        raise ProviderUnavailable("timed out")

    monkeypatch.setattr(at_provider, "retrieve_subscription", unreachable)
    response = send(client, completed(pending))

    assert response.status_code == 503
    assert installs(db) == [] and count(db, ProcessedWebhookEvent) == 0
    assert current(db, pending).status == "incomplete"

    monkeypatch.undo()
    assert send(client, completed(pending)).status_code == 200
    assert [install.status for install in installs(db)] == [InstallStatus.ACTIVE]


# --- payouts from partners' connected accounts (Connect events, ``event.account``) ---


def payout_event(event_id: str, event_type: str, account_id: str | None,
                 created: int | None = None, **fields) -> dict:
    payout = {"id": "po_test_1", "object": "payout", "amount": 2610, "currency": "usd",
              "status": "pending", "created": int(time.time()) - 60,
              "arrival_date": int(time.time()) + 2 * 86400, "failure_code": None,
              "failure_message": None, **fields}
    body = event(event_id, event_type, payout)
    body["created"] = created or int(time.time())
    if account_id is not None:
        body["account"] = account_id
    return body


@pytest.fixture
def connected(db):
    """A partner's enabled connected account, and a member of that partner."""
    partner = factories.make_partner(db)
    account = factories.make_connected_account(db, partner)
    return account, factories.make_user(db, Role.PARTNER, partner=partner)


def payouts(db) -> list[Payout]:
    db.expire_all()
    return list(db.exec(select(Payout).order_by(Payout.id)).all())


def test_a_payout_created_then_paid_shows_on_the_partners_page(client, db, login, connected):
    account, member = connected
    arrival = int(datetime(2026, 3, 4, 12, tzinfo=UTC).timestamp())
    created = send(client, payout_event("evt_po_created", "payout.created",
                                        account.provider_account_id, arrival_date=arrival))
    assert created.status_code == 200
    [payout] = payouts(db)
    assert (payout.status, payout.amount, payout.currency) == ("pending", 2610, "usd")
    assert (payout.partner_id, payout.payout_account_id) == (account.partner_id, account.id)

    send(client, payout_event("evt_po_paid", "payout.paid", account.provider_account_id,
                              status="paid", arrival_date=arrival))

    [payout] = payouts(db)
    assert payout.status == "paid"
    arrived = payout.arrival_date.replace(tzinfo=payout.arrival_date.tzinfo or UTC)
    assert arrived == datetime(2026, 3, 4, 12, tzinfo=UTC)
    login(member)
    page = client.get("/partner/payouts").get_data(as_text=True)
    history = page[page.index('id="payout-history"'):]
    assert "$26.10" in history and "Paid" in history and "4 Mar 2026" in history


def test_a_failed_payout_leaves_the_partner_its_reason(client, db, login, connected):
    account, member = connected
    send(client, payout_event("evt_po_created", "payout.created", account.provider_account_id))
    send(client, payout_event("evt_po_failed", "payout.failed", account.provider_account_id,
                              status="failed", failure_code="account_closed",
                              failure_message="The bank account has been closed."))

    [payout] = payouts(db)
    assert payout.status == "failed"
    assert payout.failure_message == "The bank account has been closed."
    login(member)
    page = client.get("/partner/payouts").get_data(as_text=True)
    notice = page[page.index("notice-payout-failed"):]
    assert "A payout of $26.10 to your bank failed" in notice
    assert "The bank account has been closed." in notice
    assert "went back to your account's balance" in notice


def test_a_failure_with_only_a_code_still_says_why(client, db, connected):
    account, _ = connected
    send(client, payout_event("evt_po_failed", "payout.failed", account.provider_account_id,
                              status="failed", failure_code="no_account"))
    assert (payouts(db)[0].failure_message
            == "The bank did not accept the payout (reason: no_account).")


def test_an_older_in_transit_event_after_paid_does_not_move_the_payout_back(client, db,
                                                                            connected):
    account, _ = connected
    now = int(time.time())
    send(client, payout_event("evt_po_paid", "payout.paid", account.provider_account_id,
                              created=now, status="paid"))
    late = send(client, payout_event("evt_po_updated", "payout.updated",
                                     account.provider_account_id, created=now - 120,
                                     status="in_transit", amount=1))

    assert late.status_code == 200
    [payout] = payouts(db)
    assert (payout.status, payout.amount) == ("paid", 2610)
    # A paid payout can still fail (the bank returns it): that moves it on.
    send(client, payout_event("evt_po_failed", "payout.failed", account.provider_account_id,
                              created=now + 60, status="failed",
                              failure_message="The bank returned the payout."))
    assert payouts(db)[0].status == "failed"
    # ... and a late "paid" cannot undo the failure.
    send(client, payout_event("evt_po_paid_again", "payout.paid", account.provider_account_id,
                              created=now - 30, status="paid"))
    assert payouts(db)[0].status == "failed"


def test_a_replayed_payout_event_changes_nothing(client, db, connected):
    account, _ = connected
    paid = payout_event("evt_po_paid", "payout.paid", account.provider_account_id, status="paid")
    assert send(client, paid).status_code == 200
    # The same event id again, even with a different body: already processed.
    replay = dict(paid, data={"object": {**paid["data"]["object"], "status": "failed",
                                          "amount": 1}})
    assert send(client, replay).status_code == 200

    [payout] = payouts(db)
    assert (payout.status, payout.amount) == ("paid", 2610)
    assert count(db, ProcessedWebhookEvent, ProcessedWebhookEvent.event_id == "evt_po_paid") == 1


def test_a_payout_of_an_unknown_account_is_acknowledged_and_not_stored(client, db, connected):
    unknown = send(client, payout_event("evt_po_unknown", "payout.paid", "acct_not_ours",
                                        status="paid"))
    # The platform's own payouts (no ``account``) are not a partner's either.
    platform = send(client, payout_event("evt_po_platform", "payout.paid", None, status="paid"))

    assert unknown.status_code == 200 and platform.status_code == 200
    assert payouts(db) == []
    assert count(db, ProcessedWebhookEvent) == 2


def test_a_payout_id_reported_for_another_account_does_not_change_hands(client, db, connected):
    account, _ = connected
    other = factories.make_connected_account(db, factories.make_partner(db))
    send(client, payout_event("evt_po_1", "payout.created", account.provider_account_id))
    send(client, payout_event("evt_po_2", "payout.paid", other.provider_account_id,
                              status="paid"))

    [payout] = payouts(db)
    assert (payout.partner_id, payout.status) == (account.partner_id, "pending")
