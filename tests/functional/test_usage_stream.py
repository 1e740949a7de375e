"""Usage sent on Stripe's v2 meter event stream (``STRIPE_METER_EVENTS=stream``, the
default), against a fake of the stream served over real HTTP
(``tests/fakes/meter_event_stream.py``; stripe-mock has no v2 endpoints).

Events go out in batches of at most 100 under a meter event session that is renewed
when it expires; an outage or a rate limit is retried with backoff and rests the
circuit breaker; events Stripe would refuse for their timestamp are refused before
any call; and the identifiers stay the same, so a resend after a crash is dropped
by the stream's deduplication instead of billed twice.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import select

import billing.usage_sender as usage_sender
from app import create_app
from billing.models import BillingCustomer, ProviderObject, UsageEvent, UsageStatus
from billing.usage_sender import (
    BREAKER_THRESHOLD,
    CLAIM_LEASE,
    DEFAULT_SEND_CONCURRENCY,
    send_due_usage,
)
from core.db import utcnow
from core.settings import ConfigError
from tests import factories
from tests.fakes.meter_event_stream import MeterEventStreamFake

SECRET_KEY = "sk_test_meter_stream"


@pytest.fixture
def stream():
    fake = MeterEventStreamFake(SECRET_KEY)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def app_overrides(stream):
    # STRIPE_METER_EVENTS is left at its default: the stream.
    return {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_WEBHOOK_SECRET": "whsec_stream",
            "STRIPE_API_BASE": stream.url, "STRIPE_CALL_BUDGET": 3}


@pytest.fixture
def world(db):
    """A usage-priced listing installed by a workspace whose Stripe meter and customer
    exist already (made by an earlier send: this fake serves the stream only)."""
    listing = factories.make_usage_listing(db)
    workspace = factories.make_workspace(db, factories.make_user(db), name="Acme")
    install = factories.make_install(db, workspace, listing)
    event_name = f"bazaar_listing_{listing.id}"
    db.add(ProviderObject(provider="stripe", kind="meter", local_key=f"listing:{listing.id}",
                          provider_id="mtr_stream", data={"event_name": event_name}))
    db.add(BillingCustomer(workspace_id=workspace.id, provider="stripe",
                           provider_customer_id="cus_stream"))
    db.commit()
    return SimpleNamespace(listing=listing, install=install, event_name=event_name)


def store(db, world, event_ids, **fields) -> list[str]:
    """Pending usage events, stored at once; their meter event identifiers."""
    now = utcnow()
    for event_id in event_ids:
        values = dict(occurred_at=now, received_at=now, next_attempt_at=now) | fields
        db.add(UsageEvent(listing_id=world.listing.id, install_id=world.install.id,
                          event_id=event_id, quantity=2, **values))
    db.commit()
    return [f"{world.listing.id}:{event_id}" for event_id in event_ids]


def rows(db) -> list[UsageEvent]:
    db.expire_all()
    return list(db.exec(select(UsageEvent).order_by(UsageEvent.id)).all())


def drain(app, now=None) -> int:
    sent = 0
    while (report := send_due_usage(app, now=now)).attempted and not report.resting_until:
        sent += report.sent
    return sent + report.sent


def test_events_go_out_in_batches_of_at_most_100_and_are_marked_sent_once(
        app, db, world, stream):
    identifiers = store(db, world, [f"e-{n}" for n in range(250)])
    report = send_due_usage(app)
    assert (report.sent, report.retrying, report.rejected) == (250, 0, 0)
    # Three stream requests under one session, none over Stripe's 100 events.
    assert sorted(stream.batches) == [50, 100, 100]
    assert stream.sessions_created == 1
    assert sorted(stream.events) == sorted(identifiers) and stream.duplicates == 0
    event = stream.events[identifiers[0]]
    assert event["event_name"] == world.event_name
    assert event["payload"] == {"stripe_customer_id": "cus_stream", "value": "2"}
    assert event["timestamp"].endswith("Z")
    assert all(r.status == UsageStatus.SENT and r.attempts == 1 for r in rows(db))
    # Nothing is sent twice.
    assert send_due_usage(app).attempted == 0
    assert sum(stream.batches) == 250


def test_an_expired_session_is_renewed_and_the_batch_still_lands_once(app, db, world, stream):
    first = store(db, world, ["before-1", "before-2"])
    assert send_due_usage(app).sent == 2
    stream.expire_sessions()  # 15 minutes later, as far as Stripe is concerned
    later = store(db, world, [f"after-{n}" for n in range(250)])
    report = send_due_usage(app)
    assert (report.sent, report.retrying, report.rejected) == (250, 0, 0)
    # The three batches in flight may each meet the expired session; one new one is made.
    assert 1 <= stream.expired_answers <= 3 and stream.sessions_created == 2
    assert sorted(stream.events) == sorted(first + later) and stream.duplicates == 0
    assert all(r.status == UsageStatus.SENT for r in rows(db))


def test_a_session_about_to_expire_is_replaced_before_it_is_used(app, db, world, stream):
    # Sessions that Stripe would let lapse within the minute are not used: a new one
    # is made first, so no batch is sent with a token about to expire.
    stream.session_lifetime = timedelta(seconds=45)
    store(db, world, ["first"])
    assert send_due_usage(app).sent == 1
    store(db, world, ["second"])
    assert send_due_usage(app).sent == 1
    assert stream.sessions_created == 2 and stream.expired_answers == 0


@pytest.mark.parametrize("status", [500, 503, 429])
def test_an_unavailable_stream_is_retried_with_backoff_and_rests_the_breaker(
        app, db, world, stream, status):
    identifiers = store(db, world, [f"e-{n}" for n in range(1000)])
    stream.fail_with(status)
    start = utcnow()
    report = send_due_usage(app, now=start)
    assert report.sent == 0 and report.rejected == 0
    # A few failed batches in a row (and those already under way) rest the sender: the
    # events not tried wait, unclaimed and with no attempt counted.
    assert report.resting_until is not None and report.resting_until > start
    tried = [r for r in rows(db) if r.attempts]
    assert 0 < len(tried) == report.retrying
    assert len(tried) <= (BREAKER_THRESHOLD + DEFAULT_SEND_CONCURRENCY - 1) * 100
    assert all(r.status == UsageStatus.PENDING and r.locked_until is None for r in rows(db))
    assert all(r.next_attempt_at.replace(tzinfo=start.tzinfo) - start >= timedelta(seconds=9)
               for r in tried)
    assert "provider unavailable" in tried[0].last_error
    assert send_due_usage(app, now=start + timedelta(seconds=5)).attempted == 0

    # Stripe is back: everything lands, once.
    stream.fail_with(None)
    assert drain(app, now=start + timedelta(hours=2)) == 1000
    assert sorted(stream.events) == sorted(identifiers)
    assert all(r.status == UsageStatus.SENT for r in rows(db))


def test_a_hung_stream_is_given_up_on_in_time_and_retried(app, db, world, stream):
    identifiers = store(db, world, [f"e-{n}" for n in range(10)])
    stream.hang()
    start = utcnow()
    report = send_due_usage(app, now=start)
    assert (report.sent, report.retrying) == (0, 10)
    stream.hang(False)
    assert send_due_usage(app, now=start + timedelta(minutes=5)).sent == 10
    assert sorted(stream.events) == sorted(identifiers)
    assert all(r.status == UsageStatus.SENT for r in rows(db))


def test_events_outside_stripes_timestamp_window_are_rejected_without_a_call(
        app, db, world, stream):
    now = utcnow()
    store(db, world, ["too-old"], occurred_at=now - timedelta(days=36))
    store(db, world, ["too-new"], occurred_at=now + timedelta(minutes=10))
    report = send_due_usage(app)
    assert (report.sent, report.rejected) == (0, 2)
    assert stream.stream_requests == 0  # no call for events Stripe would drop later
    assert all(r.status == UsageStatus.REJECTED for r in rows(db))
    assert "35 days" in rows(db)[0].last_error

    # Mixed with good ones, only the good ones go out.
    good = store(db, world, ["fine-1", "fine-2"])
    store(db, world, ["stale"], occurred_at=now - timedelta(days=40))
    report = send_due_usage(app)
    assert (report.sent, report.rejected) == (2, 1)
    assert sorted(stream.events) == sorted(good) and stream.batches == [2]


def test_a_resend_after_a_crash_does_not_bill_twice(app, db, world, stream, monkeypatch):
    identifiers = store(db, world, [f"e-{n}" for n in range(150)])

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("the sender died after Stripe accepted the events")

    monkeypatch.setattr(usage_sender, "_record", crash)
    start = utcnow()
    with pytest.raises(KeyboardInterrupt):
        send_due_usage(app, now=start)
    monkeypatch.undo()
    assert len(stream.events) == 150
    assert all(r.status == UsageStatus.PENDING for r in rows(db))  # never recorded

    # Once the dead sender's claim runs out, the events go out again, same identifiers:
    # the stream drops them as duplicates, and they are marked sent.
    assert send_due_usage(app, now=start + CLAIM_LEASE + timedelta(seconds=1)).sent == 150
    assert stream.duplicates == 150 and sorted(stream.events) == sorted(identifiers)
    assert sum(stream.batches) == 300  # each event reached Stripe twice, billed once
    assert all(r.status == UsageStatus.SENT for r in rows(db))


@pytest.mark.parametrize("value", ["v3", "batch", "STREAMING"])
def test_a_bad_meter_events_setting_stops_start_up(database_url, tmp_path, monkeypatch, value):
    monkeypatch.setenv("STRIPE_METER_EVENTS", value)
    with pytest.raises(ConfigError, match="STRIPE_METER_EVENTS must be one of stream, v1"):
        create_app({"TESTING": True, "DATABASE_URL": database_url, "WEBHOOK_SENDER": "off",
                    "USAGE_SENDER": "off", "SEARCH_SYNC_SENDER": "off",
                    "UPLOAD_FOLDER": str(tmp_path / "uploads")})
