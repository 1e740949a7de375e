"""The usage outbox through a Stripe outage: stripe-mock killed mid-send and
started again. No usage event may be lost, and none counted twice.

The test runs its own stripe-mock (the binary ``scripts/stripe-mock`` installs)
on a free port, so it can kill it like a crash and start it again. Without the
binary the test is skipped, except with ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlmodel import select

from billing.interfaces import record_each
from billing.models import UsageEvent, UsageStatus
from billing.providers import EXTENSION_KEY
from billing.usage_sender import BREAKER_THRESHOLD, DEFAULT_SEND_CONCURRENCY, send_due_usage
from core.db import utcnow
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


def stripe_mock_binary() -> str | None:
    """The stripe-mock that ``scripts/stripe-mock`` pins and installs, else one on PATH."""
    script = ROOT / "scripts" / "stripe-mock"
    pinned = re.search(r"^STRIPE_MOCK_VERSION=(\S+)$",
                       script.read_text() if script.exists() else "", re.MULTILINE)
    candidates = [ROOT / ".cache" / "go" / "bin" / "stripe-mock"]
    if pinned:
        candidates.insert(0, ROOT / ".cache" / "go" / "bin" / f"stripe-mock-{pinned.group(1)}")
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("stripe-mock")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StripeMock:
    """Our own stripe-mock process on one port, to kill and start again."""

    def __init__(self, binary: str, log_path: Path):
        self.binary = binary
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "-http-addr", f"127.0.0.1:{self.port}"],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"stripe-mock exited ({self.process.returncode}): "
                            + self.log_path.read_text(errors="replace")[-2000:])
            try:
                requests.get(f"{self.url}/v1/customers", timeout=1,
                             auth=("sk_test_outage", ""))
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.kill()
        pytest.fail("stripe-mock did not answer within 30 s")

    def kill(self) -> None:
        """SIGKILL, like a crash: no request in flight gets a proper answer."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def stripe_mock(tmp_path, stripe_mock_url):
    # Asking for stripe_mock_url leaves the test out where scripts/stripe-mock never
    # ran (and fails CI there); where it ran, its binary is installed.
    binary = stripe_mock_binary()
    if binary is None:
        pytest.fail("the stripe-mock binary is missing: run scripts/stripe-mock start once")
    mock = StripeMock(binary, tmp_path / "stripe-mock.log")
    mock.start()
    yield mock
    mock.kill()


@pytest.fixture
def app_overrides(stripe_mock):
    # stripe-mock serves v1 meter events only (no v2 meter event stream).
    return {"STRIPE_SECRET_KEY": "sk_test_outage", "STRIPE_WEBHOOK_SECRET": "whsec_outage",
            "STRIPE_API_BASE": stripe_mock.url, "STRIPE_METER_EVENTS": "v1"}


class Recorder:
    """The app's own Stripe provider, noting each meter event identifier Stripe
    accepted; ``after_accepted(count)`` runs after each acceptance."""

    def __init__(self, real):
        self.real = real
        self.accepted: list[str] = []
        self.failed_calls = 0
        self.after_accepted = None
        self._lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self.real, name)

    def record_meter_events(self, events):
        return record_each(self, events)  # v1: through record_meter_event, one by one

    def record_meter_event(self, **event):
        try:
            self.real.record_meter_event(**event)
        except Exception:
            with self._lock:
                self.failed_calls += 1
            raise
        with self._lock:
            self.accepted.append(event["identifier"])
            count = len(self.accepted)
        if self.after_accepted is not None:
            self.after_accepted(count)


def post_usage(client, key: str, install_id: int, event_ids: list[str]) -> dict:
    stamp = utcnow().isoformat()
    response = client.post("/api/v1/usage", headers={"Authorization": f"Bearer {key}"},
                           json={"events": [{"event_id": event_id, "install_id": install_id,
                                             "quantity": 1, "timestamp": stamp}
                                            for event_id in event_ids]})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def drain(app, now=None) -> int:
    """Send until a round sends nothing (or the breaker rests); events sent."""
    sent = 0
    while True:
        report = send_due_usage(app, now=now)
        sent += report.sent
        if not report.attempted or report.resting_until:
            return sent


def test_stripe_killed_mid_send_and_restarted_loses_and_doubles_nothing(
        app, db, client, stripe_mock):
    provider = Recorder(app.extensions[EXTENSION_KEY])
    app.extensions[EXTENSION_KEY] = provider
    listing = factories.make_usage_listing(db)
    install = factories.make_install(db, factories.make_workspace(db, factories.make_user(db)),
                                     listing)
    _, key = factories.make_api_key(db, listing)
    everything: list[str] = []

    def report(event_ids: list[str]) -> dict:
        everything.extend(event_ids)
        return post_usage(client, key, install.id, event_ids)

    # Stripe up: the first events go out.
    assert report([f"up-{n}" for n in range(150)])["accepted"] == 150
    assert drain(app) == 150

    # Stripe crashes in the middle of sending the next ones.
    report([f"mid-{n}" for n in range(300)])
    kill_at = len(provider.accepted) + 120
    provider.after_accepted = lambda count: count == kill_at and stripe_mock.kill()
    drain(app)
    provider.after_accepted = None
    assert stripe_mock.process.poll() is not None, "stripe-mock was not killed mid-send"
    calls_while_down = provider.failed_calls
    # The breaker stopped the round after a few failures instead of walking the backlog.
    assert 0 < calls_while_down <= BREAKER_THRESHOLD + DEFAULT_SEND_CONCURRENCY

    # Still down: the API keeps accepting usage, and the sender keeps resting.
    assert report([f"down-{n}" for n in range(100)])["accepted"] == 100
    assert drain(app) == 0
    assert provider.failed_calls == calls_while_down
    # A partner's app that retries its batch does not double it either.
    retried = post_usage(client, key, install.id, [f"down-{n}" for n in range(100)])
    assert (retried["accepted"], retried["duplicates"]) == (0, 100)

    # Stripe is back; once the rest and the backoffs are over, everything goes out.
    stripe_mock.start()
    later = utcnow() + timedelta(hours=2)
    drain(app, now=later)

    db.expire_all()
    rows = db.exec(select(UsageEvent).order_by(UsageEvent.id)).all()
    assert len(rows) == len(everything) == 550  # nothing lost on our side
    assert collections.Counter(r.status for r in rows) == {UsageStatus.SENT: 550}
    assert all(r.locked_until is None for r in rows)
    # Each event accepted by Stripe exactly once, under its own identifier.
    accepted = collections.Counter(provider.accepted)
    assert set(accepted) == {f"{listing.id}:{event_id}" for event_id in everything}
    assert max(accepted.values()) == 1
    # The events caught by the crash were tried during the outage and sent after it.
    assert any(r.attempts > 1 for r in rows if r.event_id.startswith("mid-"))
