"""The usage sender with the provider down, and with a backlog to catch up on.

When the provider keeps failing, the sender stops after a few failures in a row
and rests as a whole (then tries one event, and rests longer while that fails),
instead of paying timeouts and retries for every event of the backlog. Meter
events go out several at a time, so sending keeps up with what the API accepts.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import select

from app import create_app
from billing.interfaces import ProviderUnavailable, record_each
from billing.models import UsageEvent, UsageStatus
from billing.providers import EXTENSION_KEY
from billing.usage_sender import (
    BREAKER_REST,
    BREAKER_THRESHOLD,
    DEFAULT_SEND_CONCURRENCY,
    send_due_usage,
)
from core.db import utcnow
from core.settings import ConfigError
from tests import factories


class OutageProvider:
    """A provider that is up or down (``ProviderUnavailable``), counting its calls."""

    name = "fake"

    def __init__(self):
        self.down = False
        self.calls = 0
        self.meter_calls = 0
        self.accepted: list[str] = []
        self.before_answer = None  # called inside record_meter_event (for the barrier test)
        self._lock = threading.Lock()

    def create_customer(self, *, name, email, metadata, idempotency_key):
        if self.down:
            raise ProviderUnavailable("connection refused")
        return "cus_" + idempotency_key.rsplit(":", 1)[1]

    def create_meter(self, *, display_name, event_name, idempotency_key):
        with self._lock:
            self.meter_calls += 1
        if self.down:
            raise ProviderUnavailable("connection refused")
        return "mtr_" + idempotency_key.rsplit(":", 1)[1]

    # One event per call, as with Stripe's v1 meter events.
    meter_batch_size = 1

    def record_meter_events(self, events):
        return record_each(self, events)

    def record_meter_event(self, *, event_name, customer_id, value, identifier, timestamp):
        with self._lock:
            self.calls += 1
        if self.before_answer is not None:
            self.before_answer()
        if self.down:
            raise ProviderUnavailable("connection refused")
        with self._lock:
            self.accepted.append(identifier)


@pytest.fixture
def provider(app):
    fake = OutageProvider()
    app.extensions[EXTENSION_KEY] = fake
    return fake


@pytest.fixture
def world(db):
    listing = factories.make_usage_listing(db)
    workspace = factories.make_workspace(db, factories.make_user(db), name="Acme")
    install = factories.make_install(db, workspace, listing)
    return SimpleNamespace(listing=listing, install=install)


def rows(db) -> list[UsageEvent]:
    db.expire_all()
    return list(db.exec(select(UsageEvent).order_by(UsageEvent.id)).all())


def test_an_outage_stops_the_round_and_the_sender_rests_as_a_whole(app, db, provider, world):
    # Sent once while the provider is up: the meter and the customer exist.
    factories.make_usage_event(db, world.install, "before")
    assert send_due_usage(app).sent == 1
    provider.down, provider.calls = True, 0
    for n in range(60):
        factories.make_usage_event(db, world.install, f"backlog-{n}")

    start = utcnow()
    report = send_due_usage(app, now=start)
    # A few failures in a row (plus the calls already under way) end the round; the
    # rest of the backlog is not walked through one timeout after another.
    assert provider.calls <= BREAKER_THRESHOLD + DEFAULT_SEND_CONCURRENCY - 1
    assert report.sent == 0 and report.retrying == provider.calls
    assert report.resting_until is not None and report.resting_until > start
    backlog = rows(db)[1:]
    assert len(backlog) == 60 and all(r.status == UsageStatus.PENDING for r in backlog)
    assert all(r.locked_until is None for r in backlog)  # given back, none stuck in a claim
    assert sum(r.attempts for r in backlog) == provider.calls  # untried ones cost no attempt

    # While resting, no call at all, however often the sender is woken.
    for seconds in (1, 5, 10):
        assert send_due_usage(app, now=start + timedelta(seconds=seconds)).attempted == 0
    assert provider.calls == report.retrying

    # After the rest one event is tried; it fails, and the next rest is longer.
    after_rest = start + BREAKER_REST + timedelta(seconds=1)
    before = provider.calls
    probe = send_due_usage(app, now=after_rest)
    assert provider.calls == before + 1 and probe.retrying == 1
    assert probe.resting_until - after_rest > BREAKER_REST
    assert send_due_usage(app, now=after_rest + BREAKER_REST + timedelta(seconds=1)).attempted == 0

    # The provider is back: the probe succeeds and the whole backlog goes out, once each.
    provider.down = False
    later = start + timedelta(hours=2)
    total = 0
    while (report := send_due_usage(app, now=later)).attempted:
        total += report.sent
    assert total == 60
    assert all(r.status == UsageStatus.SENT for r in rows(db))
    expected = [f"{world.listing.id}:backlog-{n}" for n in range(60)]
    assert sorted(provider.accepted) == sorted([f"{world.listing.id}:before", *expected])


def test_an_outage_before_the_meter_exists_costs_one_call_per_round(app, db, provider, world):
    provider.down = True
    for n in range(30):
        factories.make_usage_event(db, world.install, f"new-{n}")
    report = send_due_usage(app)
    # Making the listing's meter failed once; its events wait, none was sent for nothing.
    assert provider.meter_calls == 1 and provider.calls == 0
    assert report.retrying == 30
    assert all(r.status == UsageStatus.PENDING and r.attempts == 1 for r in rows(db))


def test_meter_events_are_sent_several_at_a_time(app, db, provider, world):
    # Four calls must be in flight together to get past the barrier; one at a time,
    # the first waits out the barrier's timeout and every call fails.
    barrier = threading.Barrier(4, timeout=10)
    provider.before_answer = barrier.wait
    for n in range(8):
        factories.make_usage_event(db, world.install, f"together-{n}")
    report = send_due_usage(app)
    assert report.sent == 8, report
    assert all(r.status == UsageStatus.SENT for r in rows(db))


def test_usage_status_counts_claimed_events_as_being_sent(app, db, provider, world, runner):
    now = utcnow()
    factories.make_usage_event(db, world.install, "claimed", locked_until=now + timedelta(minutes=5))
    factories.make_usage_event(db, world.install, "due")
    output = runner.invoke(args=["billing", "usage-status"]).output
    assert "pending: 2 (1 due now), sent: 0, rejected: 0" in output
    assert "being sent: 1" in output


def test_usage_sync_says_when_it_stopped_for_an_outage(app, db, provider, world, runner):
    factories.make_usage_event(db, world.install, "before")
    assert send_due_usage(app).sent == 1
    provider.down = True
    for n in range(40):
        factories.make_usage_event(db, world.install, f"cli-{n}")
    result = runner.invoke(args=["billing", "usage-sync"])
    assert result.exit_code == 0, result.output
    assert "Stopped early: the provider failed" in result.output
    assert provider.calls < 40


@pytest.mark.parametrize("value", ["0", "100", "many"])
def test_a_bad_send_concurrency_stops_start_up(database_url, tmp_path, monkeypatch, value):
    monkeypatch.setenv("USAGE_SEND_CONCURRENCY", value)
    with pytest.raises(ConfigError, match="USAGE_SEND_CONCURRENCY"):
        create_app({"TESTING": True, "DATABASE_URL": database_url, "WEBHOOK_SENDER": "off",
                    "USAGE_SENDER": "off", "UPLOAD_FOLDER": str(tmp_path / "uploads")})
