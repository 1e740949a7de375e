"""What an operator sees: the health and readiness probes, the Prometheus metrics
(and who may read them), and JSON log lines that carry each request's id."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, event

from billing.models import UsageEvent, UsageStatus
from core.db import make_engine, utcnow
from search.models import SearchOutbox
from tests import factories
from tests.webhook_receiver import WebhookReceiver
from webhooks.delivery import deliver_due
from webhooks.models import DeliveryStatus

ROOT = Path(__file__).resolve().parents[2]
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


def samples(client, **request) -> dict[tuple[str, tuple], float]:
    """/metrics as {(sample name, sorted labels): value}."""
    response = client.get("/metrics", **request)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def requests_counted(found, endpoint: str, method: str = "GET", status: str = "2xx") -> float:
    key = ("bazaar_http_request_duration_seconds_count",
           tuple(sorted({"endpoint": endpoint, "method": method, "status": status}.items())))
    return found.get(key, 0.0)


def outbox(found, name: str, metric: str) -> float:
    return found[(metric, (("outbox", name),))]


def unreachable_database_url(db_backend: str, tmp_path: Path) -> str:
    if db_backend == "sqlite":
        return f"sqlite:///{tmp_path / 'no-such-directory' / 'bazaar.db'}"
    return "postgresql+psycopg://bazaar:wrong@127.0.0.1:1/nowhere"  # nothing listens on port 1


@pytest.fixture
def database_down(app, db_backend, tmp_path):
    """Points the app at a database that cannot be reached, for as long as the test runs."""
    working = app.extensions["bazaar.engine"]
    app.extensions["bazaar.engine"] = make_engine(unreachable_database_url(db_backend, tmp_path))
    yield
    app.extensions["bazaar.engine"].dispose()
    app.extensions["bazaar.engine"] = working


# --- probes -----------------------------------------------------------------------------


def test_healthz_answers_without_the_database(app, client, database_down):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_ready_when_the_database_answers_and_reports_the_rest(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == {"reachable": True}
    assert body["checks"]["search"] == {"backend": "embedded", "reachable": True}
    assert body["checks"]["payments"] == {"backend": "local", "reachable": True}
    assert len(response.data) < 300  # a probe's answer stays tiny


def test_readyz_is_503_when_the_database_is_unreachable(client, database_down):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"reachable": False}


def test_probes_need_no_login_and_set_no_cookie(client):
    for path in ("/healthz", "/readyz"):
        response = client.post(path)  # not even a form post is redirected to sign in
        assert response.status_code == 405
        response = client.get(path)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers


class TestDependenciesDown:
    @pytest.fixture
    def app_overrides(self):
        # Nothing listens on port 1: OpenSearch and Stripe are both unreachable.
        return {"OPENSEARCH_URL": "http://127.0.0.1:1", "STRIPE_SECRET_KEY": "sk_test_probe",
                "STRIPE_WEBHOOK_SECRET": "whsec_probe", "STRIPE_API_BASE": "http://127.0.0.1:1"}

    def test_readyz_stays_ready_and_says_which_are_down(self, client):
        response = client.get("/readyz")
        assert response.status_code == 200
        body = response.get_json()
        assert body["status"] == "ready"
        assert body["checks"]["search"] == {"backend": "opensearch", "reachable": False}
        assert body["checks"]["payments"] == {"backend": "stripe", "reachable": False}


class TestStripeUp:
    @pytest.fixture
    def app_overrides(self, stripe_mock_url):
        return {"STRIPE_SECRET_KEY": "sk_test_probe", "STRIPE_WEBHOOK_SECRET": "whsec_probe",
                "STRIPE_API_BASE": stripe_mock_url, "STRIPE_METER_EVENTS": "v1"}

    def test_readyz_reports_stripe_reachable(self, client):
        body = client.get("/readyz").get_json()
        assert body["checks"]["payments"] == {"backend": "stripe", "reachable": True}


# --- metrics ------------------------------------------------------------------------------


def test_request_latency_is_counted_per_endpoint_never_per_path(client, db):
    listing = factories.make_listing(db)
    before = samples(client)
    client.get("/healthz")
    client.get("/healthz")
    client.get(f"/apps/{listing.slug}")
    client.get("/no/such/page/12345")
    after = samples(client)

    def grew(endpoint, status="2xx"):
        return requests_counted(after, endpoint, status=status) - \
            requests_counted(before, endpoint, status=status)

    assert grew("observability.healthz") == 2
    assert grew("storefront.listing") == 1
    assert grew("unmatched", status="4xx") == 1
    label_values = {value for _, labels in after for _, value in labels}
    assert not any("12345" in value or listing.slug in value for value in label_values)


def test_outbox_depth_and_oldest_age_count_due_rows_only(app, client, db):
    now = utcnow()
    listing = factories.make_listing(db)
    db.execute(delete(SearchOutbox))  # start from an empty search outbox
    db.add_all([
        SearchOutbox(listing_id=listing.id, target="embedded",
                     created_at=now - timedelta(minutes=10), available_at=now - timedelta(minutes=9)),
        SearchOutbox(listing_id=listing.id, target="embedded",
                     created_at=now - timedelta(minutes=2), available_at=now - timedelta(minutes=2)),
        # Backing off after a failure: not due yet, so not counted.
        SearchOutbox(listing_id=listing.id, target="embedded", created_at=now - timedelta(hours=1),
                     available_at=now + timedelta(minutes=5)),
    ])
    db.commit()
    hooked = factories.make_listing(db)
    factories.point_webhooks_at(db, hooked, "http://127.0.0.1:1/hook")
    old = factories.make_webhook_delivery(db, hooked)
    old.created_at = now - timedelta(minutes=30)
    done = factories.make_webhook_delivery(db, hooked)
    done.status = DeliveryStatus.SUCCEEDED
    db.add_all([old, done])
    db.commit()
    usage_listing = factories.make_usage_listing(db)
    install = factories.make_install(db, factories.make_workspace(db, factories.make_user(db)),
                                     usage_listing)
    waiting = factories.make_usage_event(db, install)
    waiting.received_at = now - timedelta(seconds=90)
    db.add(waiting)
    db.commit()
    factories.make_usage_event(db, install, status=UsageStatus.SENT)

    found = samples(client)

    assert outbox(found, "search-sync", "bazaar_outbox_depth") == 2
    assert 600 <= outbox(found, "search-sync", "bazaar_outbox_oldest_age_seconds") < 700
    assert outbox(found, "webhooks", "bazaar_outbox_depth") == 1
    assert 1800 <= outbox(found, "webhooks", "bazaar_outbox_oldest_age_seconds") < 1900
    assert outbox(found, "usage", "bazaar_outbox_depth") == 1
    assert 90 <= outbox(found, "usage", "bazaar_outbox_oldest_age_seconds") < 190


def test_metrics_still_answer_while_the_database_is_down(client, database_down):
    client.get("/healthz")
    found = samples(client)
    assert requests_counted(found, "observability.healthz") >= 1
    assert not [labels for name, labels in found if name == "bazaar_outbox_depth"]


def test_empty_outboxes_show_zero(client):
    found = samples(client)
    for name in ("search-sync", "webhooks", "usage"):
        assert outbox(found, name, "bazaar_outbox_depth") == 0
        assert outbox(found, name, "bazaar_outbox_oldest_age_seconds") == 0


def test_sends_and_failures_are_counted_per_outbox(app, client, db):
    receiver = WebhookReceiver().start()
    try:
        good = factories.make_listing(db)
        factories.point_webhooks_at(db, good, receiver.url_for("ok"))
        bad = factories.make_listing(db)
        factories.point_webhooks_at(db, bad, receiver.url_for("error"))
        before = samples(client)
        factories.make_webhook_delivery(db, good)
        factories.make_webhook_delivery(db, good)
        factories.make_webhook_delivery(db, bad)
        report = deliver_due(app)
    finally:
        receiver.stop()
    assert (report.delivered, report.retrying) == (2, 1)
    # A listing change is applied to the search index by the commit that made it.
    factories.make_listing(db)
    after = samples(client)

    def grew(metric, name):
        key = (metric, (("outbox", name),))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("bazaar_outbox_sent_total", "webhooks") == 2
    assert grew("bazaar_outbox_failed_total", "webhooks") == 1
    assert grew("bazaar_outbox_sent_total", "search-sync") >= 1
    assert grew("bazaar_outbox_failed_total", "search-sync") == 0


class TestUsageSender:
    @pytest.fixture
    def app_overrides(self):
        return {"USAGE_SENDER": "thread"}

    def test_the_background_usage_sender_counts_its_sends(self, app, client, db):
        from billing.usage_sender import usage_sender_of

        usage_listing = factories.make_usage_listing(db)
        install = factories.make_install(
            db, factories.make_workspace(db, factories.make_user(db)), usage_listing)
        before = samples(client)
        event = factories.make_usage_event(db, install)
        sender = usage_sender_of(app)
        sender.wake()
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                db.expire_all()
                if db.get(UsageEvent, event.id).status == UsageStatus.SENT:
                    break
                time.sleep(0.05)
        finally:
            sender.stop()
        assert db.get(UsageEvent, event.id).status == UsageStatus.SENT
        after = samples(client)
        key = ("bazaar_outbox_sent_total", (("outbox", "usage"),))
        assert after[key] - before.get(key, 0) == 1


# --- who may read /metrics -----------------------------------------------------------------


def test_metrics_from_loopback_without_a_token(client):
    assert client.get("/metrics").status_code == 200


def test_metrics_refused_to_other_addresses_without_a_token(client):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 403
    assert b"bazaar_" not in response.data


def test_metrics_refused_to_a_proxied_request_without_a_token(client):
    # A reverse proxy on the same host connects from loopback for every visitor.
    response = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 403


class TestMetricsToken:
    TOKEN = "a-long-random-metrics-token-0123456789"

    @pytest.fixture
    def app_overrides(self):
        return {"METRICS_TOKEN": self.TOKEN}

    def test_the_token_is_required_even_from_loopback(self, client):
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401
        assert wrong.headers["WWW-Authenticate"].startswith("Bearer")
        basic = client.get("/metrics", headers={"Authorization": f"Basic {self.TOKEN}"})
        assert basic.status_code == 401

    def test_the_right_token_is_served_from_anywhere(self, client):
        response = client.get("/metrics", headers={"Authorization": f"Bearer {self.TOKEN}"},
                              environ_base={"REMOTE_ADDR": "203.0.113.9"})
        assert response.status_code == 200
        assert b"bazaar_http_request_duration_seconds" in response.data


def test_a_short_metrics_token_stops_start_up(monkeypatch, tmp_path):
    from core.settings import ConfigError, load_config

    monkeypatch.setenv("METRICS_TOKEN", "short")
    with pytest.raises(ConfigError, match="METRICS_TOKEN"):
        load_config(tmp_path)


def test_a_bad_log_format_stops_start_up(monkeypatch, tmp_path):
    from core.settings import ConfigError, load_config

    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match="LOG_FORMAT must be one of text, json"):
        load_config(tmp_path)


def test_a_missing_multiprocess_directory_stops_start_up(monkeypatch, tmp_path):
    from core.settings import ConfigError, load_config

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="PROMETHEUS_MULTIPROC_DIR"):
        load_config(tmp_path)


MULTIPROCESS_SCRIPT = """
import json, sys
from app import create_app
app = create_app({"TESTING": True, "DATABASE_URL": sys.argv[1], "SERVER_NAME": "bazaar.test",
                  "WEBHOOK_SENDER": "off", "USAGE_SENDER": "off", "SEARCH_SYNC_SENDER": "off"})
client = app.test_client()
for _ in range(3):
    client.get("/healthz")
if sys.argv[2] == "scrape":
    print(client.get("/metrics").get_data(as_text=True))
"""


def test_multiprocess_mode_sums_every_process(database_url, tmp_path):
    """Gunicorn's workers each count their own requests; with PROMETHEUS_MULTIPROC_DIR
    the /metrics of any one of them shows the sum."""
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}

    def run(mode):
        return subprocess.run([sys.executable, "-c", MULTIPROCESS_SCRIPT, database_url, mode],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                              check=True).stdout

    run("count")
    text = run("scrape")
    found = {(s.name, tuple(sorted(s.labels.items()))): s.value
             for family in text_string_to_metric_families(text) for s in family.samples}
    assert requests_counted(found, "observability.healthz") == 6
    assert ("bazaar_outbox_depth", (("outbox", "search-sync"),)) in found


# --- logs -----------------------------------------------------------------------------------


class TestJsonLogs:
    @pytest.fixture
    def app_overrides(self):
        return {"LOG_FORMAT": "json"}

    @pytest.fixture
    def log_lines(self, request):
        """The JSON handler's output, parsed line by line."""
        from core.observability import LOG_HANDLER_KEY

        level = logging.getLogger().level  # before the app sets it
        handler = request.getfixturevalue("app").extensions[LOG_HANDLER_KEY]
        stream = io.StringIO()
        handler.setStream(stream)
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(level)

    @pytest.fixture
    def noisy_app(self, app):
        @app.route("/test-logs")
        def test_logs():
            logging.getLogger("tests.observability").warning("doing something")
            return "done"

        return app

    def test_every_line_of_a_request_carries_its_id(self, log_lines, noisy_app, client):
        response = client.get("/test-logs?token=s3cret-query-token",
                              headers={"X-Request-ID": "req-0123.abc_DEF",
                                       "Authorization": "Bearer s3cret-header-token"})
        assert response.headers["X-Request-ID"] == "req-0123.abc_DEF"
        logging.getLogger("tests.observability").warning("outside any request")
        lines = log_lines()
        mine = [line for line in lines if line.get("request_id") == "req-0123.abc_DEF"]
        assert {line["logger"] for line in mine} >= {"tests.observability", "bazaar.access"}
        warning = next(line for line in mine if line["logger"] == "tests.observability")
        assert warning["level"] == "WARNING"
        assert warning["message"] == "doing something"
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", warning["time"])
        access = next(line for line in mine if line["logger"] == "bazaar.access")
        assert (access["method"], access["path"], access["status"]) == ("GET", "/test-logs", 200)
        assert access["duration_ms"] >= 0
        outside = next(line for line in lines if line["message"] == "outside any request")
        assert outside["request_id"] is None
        everything = "\n".join(json.dumps(line) for line in lines)
        assert "s3cret" not in everything

    def test_secrets_in_paths_are_redacted(self, log_lines, client):
        client.get("/invitations/the-invitation-token-secret")
        access = [line for line in log_lines() if line["logger"] == "bazaar.access"]
        assert access[-1]["path"] == "/invitations/[redacted]"
        assert "the-invitation-token-secret" not in json.dumps(log_lines())

    def test_an_exception_is_one_line_with_its_traceback(self, log_lines, app, client):
        @app.route("/test-boom")
        def boom():
            raise RuntimeError("kaboom")

        response = client.get("/test-boom")
        assert response.status_code == 500
        request_id = response.headers["X-Request-ID"]
        error = next(line for line in log_lines() if line["level"] == "ERROR")
        assert error["request_id"] == request_id
        assert "RuntimeError: kaboom" in error["exception"]


def test_text_logs_stay_the_default(app):
    from core.observability import LOG_HANDLER_KEY

    assert app.config["LOG_FORMAT"] == "text"
    assert LOG_HANDLER_KEY not in app.extensions


@pytest.mark.parametrize("incoming", [
    "has spaces in it",
    "x" * 201,
    "semi;colon",
    "",
])
def test_a_malformed_request_id_is_replaced(client, incoming):
    response = client.get("/healthz", headers={"X-Request-ID": incoming})
    assert GENERATED_ID.match(response.headers["X-Request-ID"])


def test_a_request_without_an_id_gets_a_fresh_one(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert GENERATED_ID.match(first) and GENERATED_ID.match(second) and first != second


def test_a_well_formed_request_id_is_echoed(client):
    incoming = "0f8fad5b-d9cb-469f-a165-70867728950e"
    response = client.get("/healthz", headers={"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] == incoming


def test_a_scrape_costs_one_query_per_outbox(app, client):
    statements = []

    def note(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = app.extensions["bazaar.engine"]
    event.listen(engine, "before_cursor_execute", note)
    try:
        found = samples(client)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    outboxes = [labels for name, labels in found if name == "bazaar_outbox_depth"]
    assert len(outboxes) >= 3
    assert len(statements) == len(outboxes), statements
    assert all("count(" in statement.lower() for statement in statements)
