"""The usage outbox: stored events reach the provider's meter events once, through
outages (backoff, nothing lost) and refusals (kept as rejected)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import select

from billing.interfaces import ProviderError, ProviderUnavailable, record_each
from billing.models import BillingCustomer, ProviderObject, UsageEvent, UsageStatus
from billing.providers import EXTENSION_KEY
from billing.usage_sender import send_due_usage
from core.db import utcnow
from tests import factories


class FakeProvider:
    """Records the calls the usage sender makes; ``fail_with`` makes meter events raise."""

    name = "fake"

    def __init__(self, delay: float = 0.0):
        self.meter_events: list[dict] = []
        self.customers: list[dict] = []
        self.meters: list[dict] = []
        self.fail_with: Exception | None = None
        self.delay = delay
        self._lock = threading.Lock()

    def create_customer(self, *, name, email, metadata, idempotency_key):
        with self._lock:
            self.customers.append(dict(name=name, email=email, metadata=metadata,
                                       idempotency_key=idempotency_key))
        return "cus_" + idempotency_key.rsplit(":", 1)[1]

    def create_meter(self, *, display_name, event_name, idempotency_key):
        with self._lock:
            self.meters.append(dict(display_name=display_name, event_name=event_name,
                                    idempotency_key=idempotency_key))
        return "mtr_" + idempotency_key.rsplit(":", 1)[1]

    # One event per call, as with Stripe's v1 meter events.
    meter_batch_size = 1

    def record_meter_events(self, events):
        return record_each(self, events)

    def record_meter_event(self, *, event_name, customer_id, value, identifier, timestamp):
        time.sleep(self.delay)  # lets two senders overlap
        if self.fail_with is not None:
            raise self.fail_with
        with self._lock:
            self.meter_events.append(dict(event_name=event_name, customer_id=customer_id,
                                          value=value, identifier=identifier,
                                          timestamp=timestamp))


@pytest.fixture
def provider(app):
    fake = FakeProvider()
    app.extensions[EXTENSION_KEY] = fake
    return fake


@pytest.fixture
def world(db):
    listing = factories.make_usage_listing(db)
    admin = factories.make_user(db)
    workspace = factories.make_workspace(db, admin, name="Acme")
    install = factories.make_install(db, workspace, listing)
    return SimpleNamespace(listing=listing, admin=admin, workspace=workspace, install=install)


def rows(db) -> list[UsageEvent]:
    db.expire_all()
    return list(db.exec(select(UsageEvent).order_by(UsageEvent.id)).all())


def test_pending_events_are_sent_once_with_deterministic_identifiers(app, db, provider, world):
    first = factories.make_usage_event(db, world.install, "e-1", quantity=4)
    factories.make_usage_event(db, world.install, "e-2", quantity=6)
    report = send_due_usage(app)
    assert (report.sent, report.retrying, report.rejected) == (2, 0, 0)
    # Sent concurrently (USAGE_SEND_CONCURRENCY), so in no particular order.
    assert sorted((e["identifier"], e["value"]) for e in provider.meter_events) == [
        (f"{world.listing.id}:e-1", 4), (f"{world.listing.id}:e-2", 6)]
    event = next(e for e in provider.meter_events
                 if e["identifier"] == f"{world.listing.id}:e-1")
    assert event["event_name"] == f"bazaar_listing_{world.listing.id}"
    assert event["customer_id"] == f"cus_{world.workspace.id}"
    assert event["timestamp"].tzinfo is not None
    assert event["timestamp"] == first.occurred_at.replace(tzinfo=event["timestamp"].tzinfo)
    assert [r.status for r in rows(db)] == [UsageStatus.SENT, UsageStatus.SENT]
    # The meter and the customer were made once, with their idempotency keys, and remembered.
    assert [m["idempotency_key"] for m in provider.meters] == [f"meter:listing:{world.listing.id}"]
    assert provider.customers == [{"name": "Acme", "email": world.admin.email,
                                   "metadata": {"workspace_id": str(world.workspace.id)},
                                   "idempotency_key": f"customer:workspace:{world.workspace.id}"}]
    meter = db.exec(select(ProviderObject).where(ProviderObject.kind == "meter")).one()
    assert (meter.provider, meter.local_key, meter.provider_id) == (
        "fake", f"listing:{world.listing.id}", f"mtr_{world.listing.id}")
    customer = db.exec(select(BillingCustomer)).one()
    assert (customer.workspace_id, customer.provider_customer_id) == (
        world.workspace.id, f"cus_{world.workspace.id}")

    # A second run finds nothing to send, and later events reuse the meter and customer.
    assert send_due_usage(app).attempted == 0
    factories.make_usage_event(db, world.install, "e-3")
    assert send_due_usage(app).sent == 1
    assert len(provider.meter_events) == 3
    assert len(provider.meters) == 1 and len(provider.customers) == 1


def test_unavailable_provider_backs_off_and_loses_nothing(app, db, provider, world):
    factories.make_usage_event(db, world.install, "e-1")
    provider.fail_with = ProviderUnavailable("connection refused")
    now = utcnow()
    report = send_due_usage(app, now=now)
    assert (report.sent, report.retrying) == (0, 1)
    [row] = rows(db)
    assert row.status == UsageStatus.PENDING and row.attempts == 1
    assert "connection refused" in row.last_error
    first_wait = row.next_attempt_at.replace(tzinfo=now.tzinfo) - now
    assert timedelta(seconds=9) <= first_wait <= timedelta(seconds=11)

    # Not due again before the backoff ends.
    assert send_due_usage(app, now=now + timedelta(seconds=5)).attempted == 0
    # The second failure waits about twice as long.
    later = now + first_wait + timedelta(seconds=1)
    assert send_due_usage(app, now=later).retrying == 1
    [row] = rows(db)
    second_wait = row.next_attempt_at.replace(tzinfo=now.tzinfo) - later
    assert timedelta(seconds=18) <= second_wait <= timedelta(seconds=22)

    # The provider comes back: the event is sent, once.
    provider.fail_with = None
    assert send_due_usage(app, now=later + timedelta(minutes=1)).sent == 1
    [row] = rows(db)
    assert row.status == UsageStatus.SENT and row.attempts == 3 and row.last_error is None
    assert [e["identifier"] for e in provider.meter_events] == [f"{world.listing.id}:e-1"]


def test_backoff_is_capped_at_an_hour():
    from billing.usage_sender import backoff_delay

    assert backoff_delay(30) <= timedelta(hours=1)
    assert backoff_delay(30) >= timedelta(minutes=54)


def test_a_refused_event_is_kept_as_rejected_with_the_reason(app, db, provider, world, runner):
    factories.make_usage_event(db, world.install, "bad-1")
    provider.fail_with = ProviderError("No such customer: 'cus_x'", status=400)
    report = send_due_usage(app)
    assert (report.sent, report.rejected) == (0, 1)
    [row] = rows(db)
    assert row.status == UsageStatus.REJECTED
    assert "No such customer" in row.last_error
    # Never tried again, and an operator sees it.
    provider.fail_with = None
    assert send_due_usage(app, now=utcnow() + timedelta(days=1)).attempted == 0
    output = runner.invoke(args=["billing", "usage-status"]).output
    assert "rejected: 1" in output
    assert "bad-1" in output and "No such customer" in output


def test_two_senders_racing_send_each_event_once(app, db, world):
    provider = FakeProvider(delay=0.01)
    app.extensions[EXTENSION_KEY] = provider
    for n in range(20):
        factories.make_usage_event(db, world.install, f"race-{n}")
    reports = []
    start = threading.Barrier(2)

    def sender():
        start.wait()
        reports.append(send_due_usage(app))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r.sent for r in reports) == 20
    identifiers = [e["identifier"] for e in provider.meter_events]
    assert sorted(identifiers) == sorted(f"{world.listing.id}:race-{n}" for n in range(20))
    assert all(r.status == UsageStatus.SENT for r in rows(db))
    assert len(db.exec(select(BillingCustomer)).all()) == 1


def test_a_claim_left_by_a_dead_sender_expires_and_the_event_is_resent(app, db, provider, world):
    now = utcnow()
    factories.make_usage_event(db, world.install, "orphan", locked_until=now + timedelta(minutes=5))
    assert send_due_usage(app, now=now).attempted == 0
    assert send_due_usage(app, now=now + timedelta(minutes=6)).sent == 1
    assert [e["identifier"] for e in provider.meter_events] == [f"{world.listing.id}:orphan"]


def test_usage_sync_sends_everything_due_and_prints_a_summary(app, db, provider, world, runner):
    for n in range(3):
        factories.make_usage_event(db, world.install, f"cli-{n}")
    result = runner.invoke(args=["billing", "usage-sync"])
    assert result.exit_code == 0, result.output
    assert "Usage events: sent 3, retrying 0, rejected 0." in result.output
    assert len(provider.meter_events) == 3
    assert "pending: 0 (0 due now), sent: 3, rejected: 0" in runner.invoke(
        args=["billing", "usage-status"]).output


def test_usage_status_shows_why_events_wait(app, db, provider, world, runner):
    factories.make_usage_event(db, world.install, "w-1")
    provider.fail_with = ProviderUnavailable("HTTP 503 from the provider")
    runner.invoke(args=["billing", "usage-sync"])
    output = runner.invoke(args=["billing", "usage-status"]).output
    assert "pending: 1 (0 due now)" in output
    assert "HTTP 503" in output


def test_through_the_local_provider_meter_events_are_recorded_once(app, db, world):
    """The real embedded provider: the event lands in its records, deduped by identifier."""
    from billing.local_provider import STORE

    factories.make_usage_event(db, world.install, "local-1", quantity=7)
    assert send_due_usage(app).sent == 1
    # Resent as a dead sender would (the row put back to pending): still one meter event.
    db.expire_all()
    row = rows(db)[0]
    row.status, row.next_attempt_at = UsageStatus.PENDING, utcnow()
    factories.save(db, row)
    assert send_due_usage(app).sent == 1
    db.expire_all()
    events = db.exec(select(ProviderObject).where(ProviderObject.provider == STORE,
                                                  ProviderObject.kind == "meter_event")).all()
    assert [(e.local_key, e.data["value"]) for e in events] == [
        (f"{world.listing.id}:local-1", 7)]
    customer = db.exec(select(BillingCustomer)).one()
    assert customer.provider == "local"
    assert events[0].data["customer"] == customer.provider_customer_id


class TestSenderWokenAfterCommit:
    @pytest.fixture
    def app_overrides(self):
        return {"USAGE_SENDER": "thread"}

    def test_a_reported_event_is_sent_in_the_background(self, app, db, provider, world):
        _, plaintext = factories.make_api_key(db, world.listing)
        response = app.test_client().post(
            "/api/v1/usage", headers={"Authorization": f"Bearer {plaintext}"},
            json={"events": [{"event_id": "bg-1", "install_id": world.install.id, "quantity": 2,
                              "timestamp": utcnow().isoformat()}]})
        assert response.get_json()["accepted"] == 1
        try:
            deadline = time.monotonic() + 10
            while not provider.meter_events and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [e["identifier"] for e in provider.meter_events] == [
                f"{world.listing.id}:bg-1"]
        finally:
            from billing.usage_sender import usage_sender_of

            usage_sender_of(app).stop()


def test_meter_event_identifiers_stay_within_stripes_100_characters():
    from types import SimpleNamespace

    from billing.usage_sender import meter_event_identifier

    short = SimpleNamespace(listing_id=12, event_id="evt-1")
    longest = SimpleNamespace(listing_id=2**31 - 1, event_id="e" * 100)
    assert meter_event_identifier(short) == "12:evt-1"
    assert len(meter_event_identifier(longest)) <= 100
    # Deterministic, so a resend is deduplicated; distinct for distinct events.
    assert meter_event_identifier(longest) == meter_event_identifier(
        SimpleNamespace(listing_id=2**31 - 1, event_id="e" * 100))
    assert meter_event_identifier(longest) != meter_event_identifier(
        SimpleNamespace(listing_id=2**31 - 1, event_id="e" * 99 + "f"))
