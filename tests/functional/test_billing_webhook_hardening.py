"""The Stripe webhook endpoint under stress (issue 11, "Money and events"): events that
race each other, refunds that arrive before their invoice, concurrent refunds,
amounts, links and timestamps nobody should accept, bodies of the wrong shape, and
no provider call while a write transaction is open. Every event goes through the
real endpoint, signed with stripe-python's own helper (``factories.post_stripe_event``).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import UTC, datetime

import pytest
import stripe
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from accounts.models import Workspace
from billing.interfaces import InvalidWebhook, WebhookEvent
from billing.local_provider import LocalProvider
from billing.models import (
    Invoice,
    LedgerEntry,
    LedgerEntryKind,
    ProcessedWebhookEvent,
    Subscription,
)
from billing.providers import get_provider
from billing.stripe_provider import StripeProvider, build_client
from billing.webhooks import process_event
from listings.models import Listing
from tests import factories
from tests.factories import workspace_of

SECRET = "whsec_bazaar_hardening_tests"


@pytest.fixture
def app_overrides():
    return {"STRIPE_WEBHOOK_SECRET": SECRET}


@pytest.fixture
def pending(app, db, admin):
    """A paid app (usd 15.00 a month) whose checkout the admin's workspace started."""
    listing = factories.make_paid_listing(db, monthly_price=1500)
    subscription, _ = factories.make_checkout(db, app, workspace_of(db, admin), listing)
    return subscription


def send(client, event: dict | bytes, timestamp: int | None = None):
    return factories.post_stripe_event(client, event, SECRET, timestamp)


def deliver_until_acknowledged(client, event: dict, attempts: int = 5) -> list[int]:
    """Deliver ``event`` as Stripe does: again after any non-2xx answer."""
    answers = []
    for _ in range(attempts):
        answers.append(send(client, event).status_code)
        if 200 <= answers[-1] < 300:
            break
    return answers


def invoice_object(subscription: Subscription, invoice_id: str, amount: int = 1500,
                   **fields) -> dict:
    return {"id": invoice_id, "object": "invoice", "subscription": "sub_hard_1",
            "customer": subscription.provider_customer_id, "currency": "usd",
            "amount_due": amount, "amount_paid": amount, "status": "paid",
            "hosted_invoice_url": "https://invoice.stripe.test/i/" + invoice_id,
            "lines": {"object": "list", "data": [{"period": {"start": 1_700_000_000,
                                                             "end": 1_702_592_000}}]},
            "parent": {"type": "subscription_details", "subscription_details": {
                "subscription": "sub_hard_1",
                "metadata": {"bazaar_subscription_id": str(subscription.id)}}},
            **fields}


def credit_note(note_id: str, invoice_id: str, refunded: int) -> dict:
    return {"id": note_id, "object": "credit_note", "invoice": invoice_id, "currency": "usd",
            "amount": refunded, "status": "issued", "type": "post_payment",
            "refunds": [{"refund": "re_" + note_id, "amount_refunded": refunded,
                         "type": "refund"}]}


def event(event_id: str, event_type: str, data: dict) -> dict:
    return factories.stripe_event(event_id, event_type, data)


def entries(db, kind: str | None = None) -> list[LedgerEntry]:
    db.expire_all()
    query = select(LedgerEntry).order_by(LedgerEntry.id)
    if kind is not None:
        query = query.where(LedgerEntry.kind == kind)
    return list(db.exec(query).all())


def invoices(db) -> list[Invoice]:
    db.expire_all()
    return list(db.exec(select(Invoice).order_by(Invoice.id)).all())


def processed(db) -> list[str]:
    db.expire_all()
    return list(db.exec(select(ProcessedWebhookEvent.event_id)).all())


def is_postgres(db) -> bool:
    return db.get_bind().dialect.name == "postgresql"


# --- 1. an event that loses a race is redelivered, never acknowledged unapplied ----------


def wait_until_blocked_on_a_lock(app, db, seconds: float = 10.0) -> None:
    """Until some connection waits on a lock (PostgreSQL); SQLite shows nothing of the
    kind, so there the writer just gets a moment to reach the database's lock."""
    if not is_postgres(db):
        time.sleep(0.5)
        return
    deadline = time.monotonic() + seconds
    watcher = create_engine(str(app.config["DATABASE_URL"]))
    try:
        while time.monotonic() < deadline:
            with watcher.connect() as connection:
                waiting = connection.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")).scalar()
            if waiting:
                return
            time.sleep(0.05)
        raise AssertionError("the webhook request never reached the rival's lock")
    finally:
        watcher.dispose()


def race(app, db, rival: dict, racer: dict) -> list[int]:
    """Apply ``rival`` in a transaction of its own and, before it commits, post
    ``racer`` to the endpoint; then deliver ``racer`` again as Stripe would until it is
    acknowledged. The endpoint's answers to ``racer``, in order."""
    rival_session = Session(app.extensions["bazaar.engine"], expire_on_commit=False)
    with app.app_context():
        process_event(rival_session, get_provider(app), WebhookEvent(
            id=rival["id"], type=rival["type"], created=datetime.now(UTC),
            data_object=rival["data"]["object"]))
    answers: list[int] = []
    thread = threading.Thread(target=lambda: answers.append(
        send(app.test_client(), racer).status_code))
    thread.start()
    wait_until_blocked_on_a_lock(app, db)
    rival_session.commit()
    rival_session.close()
    thread.join(timeout=60)
    # Like Stripe: an answer other than 2xx is delivered again, a 2xx never is.
    if not 200 <= answers[0] < 300:
        assert answers[0] >= 500
        answers += deliver_until_acknowledged(app.test_client(), racer)
    return answers


def test_an_invoice_paid_that_races_its_payment_failed_is_booked_after_redelivery(
        app, db, pending):
    # The payment_failed for the same new invoice is being applied in another
    # transaction, not committed yet, when invoice.paid arrives.
    failed = event("evt_race_failed", "invoice.payment_failed",
                   invoice_object(pending, "in_race", status="open", amount_paid=0))
    answers = race(app, db, failed, event("evt_race_paid", "invoice.paid",
                                          invoice_object(pending, "in_race")))
    assert answers[-1] == 200, answers

    [invoice] = invoices(db)
    assert invoice.status == "paid"
    [charge] = entries(db, LedgerEntryKind.CHARGE)
    assert (charge.invoice_id, charge.gross) == (invoice.id, 1500)
    assert sorted(processed(db)) == ["evt_race_failed", "evt_race_paid"]


def test_two_subscriptions_to_one_app_activated_at_once_are_both_applied(app, db, pending,
                                                                         caplog):
    # A second subscription of the same workspace to the same app (a second checkout).
    other = factories.make_subscription(db, db.get(Workspace, pending.workspace_id),
                                        db.get(Listing, pending.listing_id), status="incomplete")
    completed = event("evt_two_a", "checkout.session.completed", {
        "id": pending.provider_checkout_session_id, "payment_status": "paid",
        "subscription": "sub_two_a", "metadata": {"bazaar_subscription_id": str(pending.id)}})
    created = event("evt_two_b", "customer.subscription.created", {
        "id": other.provider_subscription_id, "status": "active",
        "metadata": {"bazaar_subscription_id": str(other.id)}})
    # The first one's activation (which installs the app) is being applied, not yet
    # committed, when the second one's event arrives.
    answers = race(app, db, completed, created)

    assert answers[-1] == 200, answers
    assert sorted(processed(db)) == ["evt_two_a", "evt_two_b"]
    db.expire_all()
    assert db.get(Subscription, other.id).status == "active"
    # One install, paid by the first; the second is left for an operator.
    assert db.get(Subscription, pending.id).install_id is not None
    assert db.get(Subscription, other.id).install_id is None
    assert f"Subscription {other.id} pays for" in caplog.text


def test_a_concurrent_duplicate_is_acknowledged_once_applied(app, db, pending):
    paid = event("evt_dup_paid", "invoice.paid", invoice_object(pending, "in_dup"))
    answers: list[int] = []
    barrier = threading.Barrier(4)

    def deliver():
        client = app.test_client()
        barrier.wait(timeout=10)
        answers.extend(deliver_until_acknowledged(client, paid))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert answers.count(200) == 4
    assert [entry.gross for entry in entries(db)] == [1500]
    assert processed(db) == ["evt_dup_paid"]


# --- 2. a refund that arrives before its invoice ----------------------------------------


def test_a_credit_note_before_its_invoice_is_booked_when_the_invoice_arrives(
        client, db, pending, login, admin):
    early = event("evt_cn_early", "credit_note.created", credit_note("cn_early", "in_late", 400))
    assert send(client, early).status_code < 500
    assert entries(db) == []

    assert send(client, event("evt_paid_late", "invoice.paid",
                              invoice_object(pending, "in_late"))).status_code == 200
    # Stripe delivers an unacknowledged event again later: the harness does too.
    deliver_until_acknowledged(client, early)

    charge, refund = entries(db)
    assert (charge.kind, charge.gross) == (LedgerEntryKind.CHARGE, 1500)
    assert (refund.kind, refund.gross, refund.provider_refund_id) == \
        (LedgerEntryKind.REFUND, -400, "cn_early")
    assert refund.platform_fee + refund.partner_net == -400
    login(admin)
    page = client.get("/my/billing").get_data(as_text=True)
    assert "Refunded $4.00" in page

    # Replays (the same event, or the same credit note in another event) change nothing.
    assert send(client, early).status_code == 200
    assert send(client, event("evt_cn_early_again", "credit_note.created",
                              credit_note("cn_early", "in_late", 400))).status_code == 200
    assert [entry.gross for entry in entries(db)] == [1500, -400]


def test_a_credit_note_for_an_invoice_whose_payment_failed_waits_for_the_payment(
        client, db, pending):
    send(client, event("evt_failed", "invoice.payment_failed",
                       invoice_object(pending, "in_retry", status="open", amount_paid=0)))
    note = event("evt_cn_retry", "credit_note.created", credit_note("cn_retry", "in_retry", 1500))
    send(client, note)
    assert entries(db) == []

    send(client, event("evt_paid", "invoice.paid", invoice_object(pending, "in_retry")))
    deliver_until_acknowledged(client, note)

    assert [(entry.kind, entry.gross) for entry in entries(db)] == \
        [(LedgerEntryKind.CHARGE, 1500), (LedgerEntryKind.REFUND, -1500)]


# --- 3. concurrent credit notes never refund more than was paid --------------------------


def test_concurrent_credit_notes_never_refund_more_than_the_charge(app, db, pending,
                                                                  monkeypatch):
    import billing.ledger as ledger

    factories.make_paid_invoice(db, app, db.get(Subscription, pending.id), 1999, "in_conc")
    # Both deliveries read "refunded so far" before either books: each waits (up to
    # 2 s) for the other to have read too, which only a missing lock allows.
    barrier = threading.Barrier(2, timeout=2)
    read_so_far = ledger.refunded_so_far

    def racing_read(session, invoice_id):
        result = read_so_far(session, invoice_id)
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        return result

    monkeypatch.setattr(ledger, "refunded_so_far", racing_read)
    answers: list[int] = []

    def deliver(note_id: str):
        answers.extend(deliver_until_acknowledged(app.test_client(), event(
            "evt_" + note_id, "credit_note.created", credit_note(note_id, "in_conc", 1500))))

    threads = [threading.Thread(target=deliver, args=(note,)) for note in ("cn_a", "cn_b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    refunds = entries(db, LedgerEntryKind.REFUND)
    assert sorted(entry.gross for entry in refunds) == [-1500, -499]
    assert sum(entry.gross for entry in entries(db)) == 0


# --- 4. amounts that cannot be money -----------------------------------------------------


@pytest.mark.parametrize("amount_paid", [-500, 10**13])
def test_an_invoice_with_an_impossible_amount_is_refused_and_logged(client, db, pending,
                                                                   caplog, amount_paid):
    response = send(client, event("evt_bad_amount", "invoice.paid",
                                  invoice_object(pending, "in_bad", amount_paid=amount_paid)))

    assert response.status_code == 400
    assert entries(db) == [] and invoices(db) == []
    assert processed(db) == []
    assert "evt_bad_amount" in caplog.text and "amount_paid" in caplog.text


# --- 5. signed events of a shape we cannot use answer 400, never 5xx --------------------


def raw_event(event_id: str, event_type: str, data_object: str, created: str | None = None,
              ) -> bytes:
    created = created or str(int(time.time()))
    return (f'{{"id": "{event_id}", "object": "event", "type": "{event_type}", '
            f'"created": {created}, "data": {{"object": {data_object}}}}}').encode()


def hostile_bodies(subscription: Subscription) -> dict[str, tuple[str | None, bytes]]:
    """``{case: (event id or None, signed body)}``."""
    invoice = invoice_object(subscription, "in_hostile")
    ours = {"bazaar_subscription_id": str(subscription.id)}
    subscription_object = {"id": "sub_hard_1", "object": "subscription", "status": "active",
                           "metadata": ours}

    def with_object(event_id, event_type, data):
        return event_id, json.dumps(event(event_id, event_type, data)).encode()

    return {
        "created 1e20": ("evt_h_created_big",
                         raw_event("evt_h_created_big", "invoice.paid", json.dumps(invoice),
                                   created="1e20")),
        "created Infinity": ("evt_h_created_inf",
                             raw_event("evt_h_created_inf", "invoice.paid",
                                       json.dumps(invoice), created="Infinity")),
        # Deeper than any JSON parser here follows: refused before its id can be read.
        "5,000-deep nesting": (None,
                               raw_event("evt_h_deep", "invoice.paid",
                                         '{"id": "in_deep", "metadata": '
                                         + "[" * 5000 + "]" * 5000 + "}")),
        "metadata a string": with_object("evt_h_meta_str", "customer.subscription.updated",
                                         {**subscription_object, "metadata": "oops"}),
        "metadata a list": with_object("evt_h_meta_list", "checkout.session.completed",
                                       {"id": "cs_1", "payment_status": "paid",
                                        "metadata": ["bazaar_subscription_id", "1"]}),
        "30-digit subscription id": with_object(
            "evt_h_sub_id", "customer.subscription.updated",
            {**subscription_object, "metadata": {"bazaar_subscription_id": "9" * 30}}),
        "parent a string": with_object("evt_h_parent", "invoice.paid",
                                       {**invoice, "parent": "sub_hard_1"}),
        "lines a list": with_object("evt_h_lines", "invoice.paid",
                                    {**invoice, "lines": ["in_line_1"]}),
        "line period a number": with_object(
            "evt_h_period", "invoice.payment_failed",
            {**invoice, "lines": {"data": [{"period": 7}]}}),
        "amount_paid 10^30": with_object("evt_h_amount", "invoice.paid",
                                         {**invoice, "amount_paid": 10**30}),
        "credit note refunds a dict": with_object(
            "evt_h_refunds", "credit_note.created",
            {**credit_note("cn_h", "in_hostile", 100), "refunds": {"amount_refunded": 5}}),
        "payout created 1e20": ("evt_h_payout",
                                raw_event("evt_h_payout", "payout.paid",
                                          '{"id": "po_1", "status": "paid", "created": 1e20}')),
        "body a JSON array": (None, b'[{"id": "evt_h_array", "type": "invoice.paid"}]'),
    }


HOSTILE_CASES = ["created 1e20", "created Infinity", "5,000-deep nesting", "metadata a string",
                 "metadata a list", "30-digit subscription id", "parent a string",
                 "lines a list", "line period a number", "amount_paid 10^30",
                 "credit note refunds a dict", "payout created 1e20", "body a JSON array"]


@pytest.mark.parametrize("case", HOSTILE_CASES)
def test_a_signed_event_of_an_unusable_shape_is_refused_with_400(client, db, pending, caplog,
                                                                 case):
    event_id, body = hostile_bodies(pending)[case]

    response = send(client, body)

    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert processed(db) == [] and entries(db) == [] and invoices(db) == []
    assert "refused" in caplog.text
    if event_id is not None:
        assert event_id in caplog.text


# --- 6. invoice links: https only -----------------------------------------------------------


@pytest.mark.parametrize("link", ["javascript:alert(document.cookie)",
                                  "data:text/html,<script>alert(1)</script>",
                                  "vbscript:msgbox(1)", "JavaScript:alert(1)",
                                  "//evil.test/i/1", "https:///no-host"])
def test_an_invoice_link_that_is_not_https_is_not_stored_or_shown(client, db, pending, login,
                                                                  admin, link):
    response = send(client, event("evt_link", "invoice.paid",
                                  invoice_object(pending, "in_link", hosted_invoice_url=link)))

    assert response.status_code == 200
    [invoice] = invoices(db)
    assert invoice.hosted_invoice_url is None
    assert [entry.gross for entry in entries(db)] == [1500]  # the money is still booked
    login(admin)
    page = client.get("/my/billing").get_data(as_text=True)
    assert "$15.00" in page and "View invoice" not in page


def test_an_https_invoice_link_is_kept_and_http_only_in_local_mode(app, client, db, pending):
    send(client, event("evt_https", "invoice.paid", invoice_object(
        pending, "in_https", hosted_invoice_url="https://invoice.stripe.test/i/1")))
    send(client, event("evt_http_local", "invoice.paid", invoice_object(
        pending, "in_http_local", hosted_invoice_url="http://127.0.0.1:5000/i/2")))
    app.config["BAZAAR_ENV"] = "production"
    send(client, event("evt_http_prod", "invoice.paid", invoice_object(
        pending, "in_http_prod", hosted_invoice_url="http://invoice.stripe.test/i/3")))

    links = {invoice.provider_invoice_id: invoice.hosted_invoice_url for invoice in invoices(db)}
    assert links == {"in_https": "https://invoice.stripe.test/i/1",
                     "in_http_local": "http://127.0.0.1:5000/i/2", "in_http_prod": None}


def test_a_bad_link_already_stored_is_not_rendered(client, db, login, admin):
    workspace = workspace_of(db, admin)
    subscription = factories.make_subscription(db, workspace, factories.make_paid_listing(db))
    invoice = factories.make_invoice(db, subscription, amount=1500, currency="usd")
    invoice.hosted_invoice_url = "javascript:alert(1)"
    factories.save(db, invoice)
    login(admin)

    page = client.get("/my/billing").get_data(as_text=True)

    assert "$15.00" in page and "javascript:" not in page and "View invoice" not in page


# --- 7. signatures dated in the future ----------------------------------------------------


def providers() -> list:
    return [LocalProvider(create_engine("sqlite://"), SECRET),
            StripeProvider(build_client("sk_test_never_called"), SECRET)]


@pytest.mark.parametrize("provider", providers(), ids=["local", "stripe"])
def test_a_signature_dated_more_than_five_minutes_ahead_is_refused(provider):
    payload = json.dumps(event("evt_future", "invoice.paid", {"id": "in_1"})).encode()

    def signed(timestamp):
        return stripe.WebhookSignature.generate_signature_header(payload.decode(), SECRET,
                                                                timestamp=timestamp)

    now = int(time.time())
    for ahead in (10 * 365 * 86400, 3600, 301 + 5):
        with pytest.raises(InvalidWebhook):
            provider.parse_webhook(payload, signed(now + ahead))
    # A sender's clock a little ahead of ours is not an attack.
    assert provider.parse_webhook(payload, signed(now + 240)).id == "evt_future"


def test_the_endpoint_refuses_a_signature_from_ten_years_ahead(client, db, pending):
    response = send(client, event("evt_future", "invoice.paid", invoice_object(pending, "in_f")),
                    timestamp=int(time.time()) + 10 * 365 * 86400)
    assert response.status_code == 400
    assert processed(db) == [] and invoices(db) == []


# --- 10. no provider call while a write transaction is open -------------------------------


def others_can_write(app, db) -> bool:
    """Whether another connection could write now: on SQLite, whether it gets the
    database's write lock at once; on PostgreSQL, whether no other session has an open
    transaction that wrote something (which holds row and index locks)."""
    url = str(app.config["DATABASE_URL"])
    if not is_postgres(db):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0.2)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.rollback()
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            connection.close()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            writers = connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid() "
                # The app's connections; autovacuum's ANALYZE holds an id while it writes
                # its statistics, and the tables' churn between tests starts it any time.
                "AND backend_type = 'client backend'")).scalar()
        return writers == 0
    finally:
        engine.dispose()


def test_the_provider_is_never_called_inside_an_open_write_transaction(app, client, db,
                                                                       pending, monkeypatch):
    provider = get_provider(app)
    provider.record_subscription({"id": "sub_hard_1", "object": "subscription",
                                  "status": "active",
                                  "metadata": {"bazaar_subscription_id": str(pending.id)}})
    seen: list[bool] = []
    retrieve = provider.retrieve_subscription

    def watched(**kwargs):
        seen.append(others_can_write(app, db))
        return retrieve(**kwargs)

    monkeypatch.setattr(provider, "retrieve_subscription", watched)
    subscription = {"id": "sub_hard_1", "object": "subscription", "status": "active",
                    "metadata": {"bazaar_subscription_id": str(pending.id)}}
    send(client, event("evt_w_created", "customer.subscription.created", subscription))
    send(client, event("evt_w_updated", "customer.subscription.updated", subscription))
    send(client, event("evt_w_failed", "invoice.payment_failed",
                       invoice_object(pending, "in_w", status="open", amount_paid=0)))
    send(client, event("evt_w_trial", "customer.subscription.trial_will_end", subscription))

    assert seen and all(seen), seen
    assert len(processed(db)) == 4


def test_an_event_naming_another_subscriptions_provider_id_is_acknowledged_unapplied(
        client, db, pending, caplog):
    """Its metadata says one subscription of ours, its ids say another's: applying it
    to either would be a guess, and a 503 would only bring it back for days."""
    holder = factories.make_subscription(db, db.get(Workspace, pending.workspace_id),
                                         db.get(Listing, pending.listing_id))
    conflicting = event("evt_conflict", "customer.subscription.updated", {
        "id": holder.provider_subscription_id, "object": "subscription", "status": "active",
        "metadata": {"bazaar_subscription_id": str(pending.id)}})

    assert send(client, conflicting).status_code == 200

    db.expire_all()
    unchanged = db.get(Subscription, pending.id)
    assert (unchanged.status, unchanged.provider_subscription_id) == ("incomplete", None)
    assert "evt_conflict" in processed(db)
    assert f"but it is subscription {holder.id}'s" in caplog.text
