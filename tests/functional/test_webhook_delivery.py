"""Webhook delivery against a real HTTP receiver on 127.0.0.1.

The sender is called directly with a chosen ``now``, so backoff is checked
without sleeping; only the timeout test waits (the two-second timeout).
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlmodel import col, select

from core.db import utcnow
from listings.models import Listing
from tests import factories
from tests.unit.webhooks.test_signing import doc_snippet_verify
from tests.webhook_receiver import WebhookReceiver
from webhooks.delivery import deliver_due
from webhooks.models import WebhookAttempt, WebhookDelivery
from webhooks.sender import sender_of
from webhooks.services import redeliver
from webhooks.signing import verify_signature

MAX_ATTEMPTS = 3


# Short, so the timeout test is quick, but not so short that a receiver on a
# busy two-core CI machine misses it (0.5 s did, once, while the relevance
# test ran alongside).
TIMEOUT = 2.0


@pytest.fixture
def app_overrides():
    return {"WEBHOOK_TIMEOUT": TIMEOUT, "WEBHOOK_MAX_ATTEMPTS": MAX_ATTEMPTS}


@pytest.fixture
def receiver():
    server = WebhookReceiver().start()
    yield server
    server.stop()


def aware(value):
    """SQLite hands datetimes back naive; they are UTC."""
    from datetime import UTC

    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def listing_sending_to(db, url: str) -> Listing:
    listing = factories.make_listing(db)
    factories.point_webhooks_at(db, listing, url)
    return listing


def reload(db, obj):
    db.expire_all()
    return db.get(type(obj), obj.id)


def attempts_of(db, delivery) -> list[WebhookAttempt]:
    return db.exec(select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id)
                   .order_by(col(WebhookAttempt.id))).all()


def test_a_2xx_answer_delivers_a_signed_event_once(app, db, receiver):
    listing = listing_sending_to(db, receiver.url_for("ok"))
    delivery = factories.make_webhook_delivery(db, listing, "install.created",
                                               {"install": {"id": 42}})

    report = deliver_due(app)

    assert (report.delivered, report.retrying, report.failed) == (1, 0, 0)
    [request] = receiver.received()
    assert request.body == delivery.payload.encode()
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "Bazaar-Webhooks/1"
    assert request.headers["Bazaar-Event-Id"] == delivery.event_id
    assert request.headers["Bazaar-Event-Type"] == "install.created"
    signature = request.headers["Bazaar-Signature"]
    assert signature.startswith(f"t={request.headers['Bazaar-Timestamp']},v1=")
    secret = reload(db, listing).webhook_secret
    assert secret.startswith("whsec_")
    # The partner's check, both ours and the snippet from the docs, accepts it...
    assert verify_signature(secret, request.body, signature)
    assert doc_snippet_verify()(secret, request.body, signature)
    # ...but not with another secret, nor once the timestamp is stale.
    assert not verify_signature("whsec_someone-else", request.body, signature)
    stale = int(request.headers["Bazaar-Timestamp"]) + 301
    assert not verify_signature(secret, request.body, signature, now=stale)
    assert not doc_snippet_verify()(secret, request.body, signature, now=stale)

    envelope = json.loads(request.body)
    assert envelope["id"] == delivery.event_id and envelope["type"] == "install.created"
    assert envelope["listing"] == {"id": listing.id, "slug": listing.slug}
    assert envelope["data"] == {"install": {"id": 42}} and envelope["api_version"]

    delivery = reload(db, delivery)
    assert delivery.status == "succeeded" and delivery.attempts == 1
    assert delivery.delivered_at is not None and delivery.response_status == 200
    [attempt] = attempts_of(db, delivery)
    assert attempt.response_status == 200 and attempt.response_body == '{"received": true}'
    assert attempt.error is None and attempt.duration_ms >= 0
    # Nothing more is due: a second run sends nothing.
    assert deliver_due(app).attempted == 0 and len(receiver.received()) == 1


def test_500_is_retried_with_growing_backoff_then_failed_and_flagged(app, db, receiver):
    listing = listing_sending_to(db, receiver.url_for("error"))
    delivery = factories.make_webhook_delivery(db, listing)
    now = utcnow()

    waits = []
    for attempt in range(1, MAX_ATTEMPTS):
        report = deliver_due(app, now=now)
        assert (report.retrying, report.failed) == (1, 0)
        delivery = reload(db, delivery)
        assert delivery.status == "pending" and delivery.attempts == attempt
        assert delivery.last_error == "answered HTTP 500" and delivery.response_status == 500
        waits.append(aware(delivery.next_attempt_at) - now)
        # Not due before its time.
        assert deliver_due(app, now=now + waits[-1] - timedelta(seconds=1)).attempted == 0
        now = aware(delivery.next_attempt_at)
    assert timedelta(seconds=27) <= waits[0] <= timedelta(seconds=33)
    assert timedelta(seconds=54) <= waits[1] <= timedelta(seconds=66)

    report = deliver_due(app, now=now)
    assert (report.retrying, report.failed) == (0, 1)
    delivery = reload(db, delivery)
    assert delivery.status == "failed" and delivery.attempts == MAX_ATTEMPTS
    assert delivery.next_attempt_at is None
    attempts = attempts_of(db, delivery)
    assert [a.response_status for a in attempts] == [500] * MAX_ATTEMPTS
    assert attempts[0].response_body == "boom: the database is down"
    assert len(receiver.received()) == MAX_ATTEMPTS
    assert {r.event_id for r in receiver.received()} == {delivery.event_id}

    listing = reload(db, listing)
    assert aware(listing.webhook_failing_since) == now
    assert listing.webhook_last_error == "answered HTTP 500"
    # Failed is final: nothing is sent any more, however late it gets.
    assert deliver_due(app, now=now + timedelta(days=30)).attempted == 0

    # The partner fixes the endpoint and redelivers: the success clears the flag.
    factories.point_webhooks_at(db, listing, receiver.url_for("ok"))
    redeliver(db, reload(db, delivery))
    db.commit()
    assert deliver_due(app).delivered == 1
    listing = reload(db, listing)
    assert listing.webhook_failing_since is None and listing.webhook_last_error is None
    assert reload(db, delivery).status == "succeeded"


def test_a_later_failure_keeps_the_first_failing_since(app, db, receiver):
    listing = listing_sending_to(db, receiver.url_for("error"))
    first = factories.make_webhook_delivery(db, listing)
    now = utcnow()
    for step in range(MAX_ATTEMPTS):
        deliver_due(app, now=now + timedelta(days=step))
    assert reload(db, first).status == "failed"
    since = aware(reload(db, listing).webhook_failing_since)

    factories.point_webhooks_at(db, listing, receiver.url_for("close"))
    second = factories.make_webhook_delivery(db, listing)
    for step in range(MAX_ATTEMPTS):
        deliver_due(app, now=now + timedelta(days=10 + step))
    assert reload(db, second).status == "failed"
    listing = reload(db, listing)
    assert aware(listing.webhook_failing_since) == since
    assert listing.webhook_last_error == "connection closed without a response"


@pytest.mark.parametrize("mode, error", [
    ("hang", f"timed out after {TIMEOUT:g} s waiting for the response"),
    ("close", "connection closed without a response"),
])
def test_timeouts_and_closed_connections_are_recorded_and_retried(app, db, receiver, mode, error):
    receiver.mode = mode
    listing = listing_sending_to(db, receiver.url)
    delivery = factories.make_webhook_delivery(db, listing)
    now = utcnow()

    report = deliver_due(app, now=now)

    assert report.retrying == 1
    delivery = reload(db, delivery)
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.last_error == error and delivery.response_status is None
    [attempt] = attempts_of(db, delivery)
    assert attempt.error == error and attempt.response_status is None
    if mode == "hang":
        assert TIMEOUT * 1000 - 100 <= attempt.duration_ms < TIMEOUT * 1000 + 3000

    # The endpoint recovers; the retry delivers the same event.
    receiver.mode = "ok"
    assert deliver_due(app, now=aware(delivery.next_attempt_at)).delivered == 1
    assert [r.event_id for r in receiver.received()] == [delivery.event_id] * 2
    assert len(attempts_of(db, delivery)) == 2


def test_redirects_are_not_followed(app, db, receiver):
    listing = listing_sending_to(db, receiver.url_for("redirect"))
    delivery = factories.make_webhook_delivery(db, listing)

    assert deliver_due(app).retrying == 1

    assert [r.path for r in receiver.received()] == ["/redirect"]
    delivery = reload(db, delivery)
    assert delivery.response_status == 302
    assert delivery.last_error == "answered HTTP 302 (redirects are not followed)"


def test_redelivery_resends_the_same_event_and_body(app, db, receiver):
    listing = listing_sending_to(db, receiver.url_for("ok"))
    delivery = factories.make_webhook_delivery(db, listing)
    deliver_due(app)
    assert reload(db, delivery).status == "succeeded"

    redeliver(db, reload(db, delivery))
    db.commit()
    assert reload(db, delivery).status == "pending"
    assert deliver_due(app).delivered == 1

    first, second = receiver.received()
    assert first.event_id == second.event_id == delivery.event_id
    assert first.body == second.body == delivery.payload.encode()
    secret = reload(db, listing).webhook_secret
    assert verify_signature(secret, second.body, second.headers["Bazaar-Signature"])
    assert len(attempts_of(db, delivery)) == 2


def test_two_concurrent_senders_never_post_a_row_twice(app, db, receiver):
    listing = listing_sending_to(db, receiver.url_for("slow"))
    deliveries = [factories.make_webhook_delivery(db, listing) for _ in range(12)]
    start = threading.Barrier(2)
    reports = []

    def sender():
        start.wait()
        reports.append(deliver_due(app))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    received = [r.event_id for r in receiver.received()]
    assert sorted(received) == sorted(d.event_id for d in deliveries)  # each exactly once
    assert sum(report.delivered for report in reports) == len(deliveries)
    assert all(report.delivered for report in reports), "both senders should have had work"
    db.expire_all()
    assert {d.status for d in db.exec(select(WebhookDelivery)).all()} == {"succeeded"}
    assert len(db.exec(select(WebhookAttempt)).all()) == len(deliveries)


def test_every_event_ends_succeeded_or_failed_and_none_vanishes(app, db, receiver):
    modes = ["ok", "error", "close", "redirect"]  # timeouts: see above
    queued = {}
    for mode in modes:
        listing = listing_sending_to(db, receiver.url_for(mode))
        queued[mode] = [factories.make_webhook_delivery(db, listing).event_id for _ in range(2)]
    now = utcnow()
    for step in range(MAX_ATTEMPTS + 1):  # plenty of rounds, each a day apart
        deliver_due(app, now=now + timedelta(days=step))

    db.expire_all()
    rows = {row.event_id: row for row in db.exec(select(WebhookDelivery)).all()}
    assert set(rows) == {event_id for ids in queued.values() for event_id in ids}
    for mode, event_ids in queued.items():
        for event_id in event_ids:
            row = rows[event_id]
            assert row.status == ("succeeded" if mode == "ok" else "failed"), (mode, row.status)
            assert len(attempts_of(db, row)) == (1 if mode == "ok" else MAX_ATTEMPTS)


@pytest.mark.parametrize("app_overrides", [{"WEBHOOK_ALLOW_PRIVATE_HOSTS": False}])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_private_hosts_are_refused_unless_allowed(app, db, receiver, host):
    port = receiver.url.rsplit(":", 1)[1].strip("/")
    listing = listing_sending_to(db, f"http://{host}:{port}/ok")
    delivery = factories.make_webhook_delivery(db, listing)

    report = deliver_due(app)

    assert report.retrying == 1
    assert receiver.received() == []  # not a byte reached it
    delivery = reload(db, delivery)
    assert delivery.last_error.startswith(f"refused: {host} resolves to ")
    assert "private or local address" in delivery.last_error
    [attempt] = attempts_of(db, delivery)
    assert attempt.error == delivery.last_error


@pytest.mark.parametrize("app_overrides", [{"WEBHOOK_SENDER": "thread"}])
def test_background_sender_delivers_right_after_commit(app, db, receiver):
    listing = listing_sending_to(db, receiver.url_for("ok"))
    sender = sender_of(app)
    assert sender is not None and not sender.running
    try:
        delivery = factories.make_webhook_delivery(db, listing)  # commits
        [request] = receiver.wait_for(1, timeout=10)
        assert request.event_id == delivery.event_id
        assert sender.running
        for _ in range(200):  # the attempt is recorded just after the answer
            if reload(db, delivery).status == "succeeded":
                break
            time.sleep(0.02)
        assert reload(db, delivery).status == "succeeded"
    finally:
        sender.stop()
    assert not sender.running


def test_rolled_back_events_are_never_sent(app, db, receiver):
    listing = listing_sending_to(db, receiver.url_for("ok"))
    from webhooks.services import enqueue_event

    enqueue_event(db, listing, "install.created", {"install": {"id": 1}})
    db.rollback()

    assert deliver_due(app).attempted == 0
    assert receiver.received() == []


def test_cli_delivers_due_events_and_reports_status(app, db, runner, receiver):
    ok = listing_sending_to(db, receiver.url_for("ok"))
    failing = listing_sending_to(db, receiver.url_for("error"))
    factories.make_webhook_delivery(db, ok)
    factories.make_webhook_delivery(db, ok)
    factories.make_webhook_delivery(db, failing)

    before = runner.invoke(args=["webhooks", "status"])
    assert before.exit_code == 0
    assert "pending: 3 (3 due now), failed: 0, succeeded: 0" in before.output

    result = runner.invoke(args=["webhooks", "deliver"])
    assert result.exit_code == 0, result.output
    assert "delivered 2, retrying 1, failed 0" in result.output
    assert len(receiver.received()) == 3

    after = runner.invoke(args=["webhooks", "status"])
    assert "pending: 1 (0 due now), failed: 0, succeeded: 2" in after.output

    failing.webhook_failing_since = utcnow()
    failing.webhook_last_error = "answered HTTP 500"
    db.add(failing)
    db.commit()
    flagged = runner.invoke(args=["webhooks", "status"])
    assert f"failing endpoint: {failing.slug} since" in flagged.output
    assert "answered HTTP 500" in flagged.output
