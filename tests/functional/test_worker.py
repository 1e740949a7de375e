"""The worker tier: with ``BACKGROUND_WORK=worker`` a web request only writes
outbox rows, and ``flask --app app worker`` sends them (issue 12, item 4)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from app import create_app
from billing.usage_sender import usage_sender_of
from core.db import utcnow
from core.outbox import outboxes_of
from mail.sender import sender_of as mail_sender_of
from search.interfaces import SearchQuery
from search.sync import sync_sender_of
from tests import factories
from tests.functional.test_search_outbox_budget import (  # noqa: F401  (fixtures)
    found_locally,
    own_listing,
    partner_user,
    pending,
    save_listing,
)
from tests.webhook_receiver import WebhookReceiver
from webhooks.models import DeliveryStatus
from webhooks.sender import sender_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver():
    server = WebhookReceiver().start()
    yield server
    server.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bare_app(database_url: str, tmp_path, **config):
    """The app as a deployment builds it: no test overrides of the senders."""
    return create_app({"TESTING": True, "DATABASE_URL": database_url,
                       "UPLOAD_FOLDER": str(tmp_path / "uploads"), **config})


@pytest.mark.parametrize("mode, senders_in_web", [("worker", False), ("in-process", True)])
def test_the_mode_decides_whether_web_processes_send(database_url, tmp_path, mode,
                                                      senders_in_web):
    # MAIL_SERVER: without one mail is held when queued and no mail sender runs.
    app = bare_app(database_url, tmp_path, BACKGROUND_WORK=mode, MAIL_SERVER="127.0.0.1")
    try:
        assert list(outboxes_of(app)) == ["mail", "search-sync", "webhooks", "usage"]
        has_senders = [sync_sender_of(app) is not None, sender_of(app) is not None,
                       usage_sender_of(app) is not None, mail_sender_of(app) is not None]
        assert has_senders == [senders_in_web] * 4
    finally:
        app.extensions["bazaar.engine"].dispose()


class TestInWorkerMode:
    @pytest.fixture
    def app_overrides(self, opensearch_url):
        return {"BACKGROUND_WORK": "worker", "OPENSEARCH_URL": opensearch_url,
                "OPENSEARCH_INDEX": f"test-worker-{uuid.uuid4().hex[:10]}"}

    @pytest.fixture(autouse=True)
    def drop_index(self, app, opensearch_url):
        yield
        requests.delete(f"{opensearch_url}/{app.config['OPENSEARCH_INDEX']}*", timeout=10)

    def test_a_save_makes_no_search_call_and_the_worker_applies_it(
            self, app, db, client, login, partner_user, own_listing, runner):
        opensearch = app.extensions["bazaar.search"].primary
        login(partner_user)

        save_listing(client, own_listing, "Inkwell")

        # Neither index has the change: the request only wrote outbox rows.
        assert pending(db, "embedded") == 1 and pending(db, "opensearch") == 1
        assert found_locally(app, "inkwell") == []
        opensearch.refresh()
        assert opensearch.search(SearchQuery(text="inkwell")).hits == []

        result = runner.invoke(args=["worker", "--once"])

        assert result.exit_code == 0, result.output
        assert "search-sync 1 tried" in result.output
        assert pending(db, "embedded") == 0 and pending(db, "opensearch") == 0
        assert found_locally(app, "inkwell") == [own_listing.id]
        opensearch.refresh()
        assert [hit.id for hit in opensearch.search(SearchQuery(text="inkwell")).hits] == [
            own_listing.id]


def test_worker_once_delivers_queued_webhooks(app, db, runner, receiver):
    listing = factories.make_listing(db)
    factories.point_webhooks_at(db, listing, receiver.url_for("ok"))
    delivery = factories.make_webhook_delivery(db, listing)
    assert receiver.received() == []

    result = runner.invoke(args=["worker", "--once", "--outbox", "webhooks"])

    assert result.exit_code == 0, result.output
    assert "webhooks 1 tried" in result.output
    [request] = receiver.received()
    assert request.event_id == delivery.event_id


def test_an_unknown_outbox_is_a_usage_error(runner):
    result = runner.invoke(args=["worker", "--outbox", "mail-merge"])
    assert result.exit_code == 2
    assert "no outbox named mail-merge; choose from mail, search-sync, webhooks, usage" in result.output


def test_an_unmigrated_database_is_named_not_a_traceback(tmp_path):
    app = bare_app(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 1
    assert "has not been migrated yet" in result.output
    assert "Traceback" not in result.output


def test_the_worker_process_sends_and_stops_cleanly_on_sigterm(
        app, db, database_url, receiver, tmp_path):
    listing = factories.make_listing(db)
    factories.point_webhooks_at(db, listing, receiver.url_for("ok"))
    env = {**os.environ, "BAZAAR_ENV": "test", "DATABASE_URL": database_url,
           "SECRET_KEY": "worker-test-secret", "UPLOAD_FOLDER": str(tmp_path / "uploads")}
    metrics_port = free_port()
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker", "--poll-interval", "0.2",
         "--metrics-port", str(metrics_port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        delivery = factories.make_webhook_delivery(db, listing)  # queued by "the web"
        [request] = receiver.wait_for(1, timeout=30)
        assert request.event_id == delivery.event_id
        # What only the worker knows, its sends, is on its own metrics port.
        deadline = time.monotonic() + 10
        while True:
            try:
                metrics = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2).text
            except requests.ConnectionError:
                metrics = ""
            if 'bazaar_outbox_sent_total{outbox="webhooks"} 1.0' in metrics:
                break
            assert time.monotonic() < deadline, metrics[-2000:]
            time.sleep(0.1)

        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, output
    assert "Worker draining mail, search-sync, webhooks, usage" in output
    assert "Worker stopped." in output
    time.sleep(0.1)
    assert len(receiver.received()) == 1  # sent once, not again on the way out


def test_outbox_status_shows_every_outbox_due_rows_age_and_given_up(app, db, runner):
    listing = factories.make_listing(db)
    factories.point_webhooks_at(db, listing, "https://partner.example.com/hooks")
    due = [factories.make_webhook_delivery(db, listing) for _ in range(2)]
    failed = factories.make_webhook_delivery(db, listing)
    failed.status = DeliveryStatus.FAILED
    due[0].created_at = utcnow() - timedelta(minutes=7)
    db.add_all([failed, due[0]])
    db.commit()

    result = runner.invoke(args=["outbox-status"])

    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split()[1:] for line in result.output.splitlines()}
    assert lines["outbox"] == ["due", "now", "oldest", "due", "given", "up"]
    assert lines["webhooks"] == ["2", "7", "min", "1"]
    assert lines["usage"] == ["0", "-", "0"]
    assert lines["search-sync"] == ["0", "-", "-"]  # retried until applied: never given up
    assert lines["mail"] == ["0", "-", "0"]


def test_outbox_status_on_an_unmigrated_database_says_so(tmp_path):
    app = bare_app(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)
    result = app.test_cli_runner().invoke(args=["outbox-status"])
    assert result.exit_code == 1
    assert "has not been migrated yet" in result.output and "Traceback" not in result.output


def test_a_metrics_port_in_use_is_a_usage_error(runner):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(args=["worker", "--metrics-port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_worker_options_out_of_range_are_refused(runner):
    for args in (["--poll-interval", "0"], ["--grace", "-1"], ["--metrics-port", "70000"]):
        result = runner.invoke(args=["worker", *args])
        assert result.exit_code == 2, args
        assert "Invalid value" in result.output
