"""What operators watch: the health and readiness probes, Prometheus metrics, and
log lines (plain text, or one JSON object per line) that carry each request's id.

- ``/healthz``: the process is up (no database access). ``/readyz``: 200 when the
  database answers ``SELECT 1``, else 503; the search backend and the payment
  provider are reported but never make it fail (pages fall back without them).
- ``/metrics``: request latency per endpoint, and per outbox its depth, the age of
  its oldest due row, and the rows sent and failed
  (https://prometheus.github.io/client_python/). Served to loopback when
  ``METRICS_TOKEN`` is unset, else only with that bearer token.
- ``LOG_FORMAT=json``: every log line is a JSON object with the request id.

Infrastructure: this module imports no domain package. Outboxes register here
(``core.outbox.register_outbox``, ``count_sends``), and so do the services ``/readyz``
reports (``report_dependency``).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import Protocol

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    has_app_context,
    has_request_context,
    request,
)
from flask.logging import default_handler
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from core.access_log import redact
from core.db import app_session, as_utc, utcnow
from core.extensions import limiter
from core.outbox import outboxes_of

log = logging.getLogger(__name__)
access_log = logging.getLogger("bazaar.access")

REQUEST_ID_HEADER = "X-Request-ID"
# What we accept from a client or proxy: short, and safe to write into a log line
# or a header (UUIDs, hex, the ids load balancers make).
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,200}")
LOG_HANDLER_KEY = "bazaar.observability.log_handler"
DEPENDENCIES_KEY = "bazaar.observability.dependencies"
POOL_KEY = "bazaar.observability.pool"
# The longest /readyz waits on the reported services: a hung one is reported
# unreachable rather than holding the probe past its own timeout.
DEPENDENCY_WAIT = 1.0
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
NO_STORE = {"Cache-Control": "no-store"}

bp = Blueprint("observability", __name__)


# --- metrics ----------------------------------------------------------------------------

# Labels stay bounded: the endpoint's name (never the raw path), a known method,
# the status class.
REQUEST_LATENCY = Histogram(
    "bazaar_http_request_duration_seconds", "Time to answer a request, by endpoint.",
    ["endpoint", "method", "status"])
OUTBOX_SENT = Counter("bazaar_outbox_sent", "Outbox rows sent (or applied) successfully.",
                      ["outbox"])
OUTBOX_FAILED = Counter("bazaar_outbox_failed",
                        "Outbox sends that failed (to be retried, or given up on).", ["outbox"])


def label_outboxes(app: Flask) -> None:
    """Make each registered outbox's sent and failed counters present (at 0) from the
    start, so a rate() over them works from the first send."""
    for name in outboxes_of(app):
        OUTBOX_SENT.labels(name)
        OUTBOX_FAILED.labels(name)


def count_sends(outbox: str, *, sent: int = 0, failed: int = 0) -> None:
    """Add to the outbox's sent and failed counters (from whichever thread sends)."""
    if sent:
        OUTBOX_SENT.labels(outbox).inc(sent)
    if failed:
        OUTBOX_FAILED.labels(outbox).inc(failed)


class _OutboxCollector:
    """Outbox depth and oldest age, read from the database at each scrape (so any
    web process answers for all of them, in multiprocess mode too)."""

    def describe(self):
        # Without this, registering would call collect() outside any app.
        return self._families()

    @staticmethod
    def _families():
        return (GaugeMetricFamily("bazaar_outbox_depth",
                                  "Outbox rows due to be sent now.", labels=["outbox"]),
                GaugeMetricFamily("bazaar_outbox_oldest_age_seconds",
                                  "Seconds since the oldest due row was queued (0: none due).",
                                  labels=["outbox"]))

    def collect(self):
        depth, age = self._families()
        if has_app_context():
            now = utcnow()
            with app_session(current_app._get_current_object()) as session:
                for name, outbox in sorted(outboxes_of(current_app).items()):
                    try:
                        count, oldest = session.execute(
                            select(func.count(), func.min(outbox.queued_at))
                            .where(*outbox.due(now))).one()
                    except SQLAlchemyError:
                        log.warning("Could not read the %s outbox for /metrics", name,
                                    exc_info=True)
                        session.rollback()
                        continue
                    depth.add_metric([name], count)
                    seconds = (now - as_utc(oldest)).total_seconds() if oldest else 0.0
                    age.add_metric([name], max(seconds, 0.0))
        yield depth
        yield age


_OUTBOX_COLLECTOR = _OutboxCollector()
REGISTRY.register(_OUTBOX_COLLECTOR)


def _scrape_registry():
    """The default registry, or, under gunicorn with ``PROMETHEUS_MULTIPROC_DIR``, one
    that sums the files every worker process writes there
    (https://prometheus.github.io/client_python/multiprocess/)."""
    if not current_app.config.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_OUTBOX_COLLECTOR)
    return registry


def _metrics_allowed() -> Response | None:
    """None when this request may read /metrics, else the refusal."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        # compare_digest: the time taken says nothing about how much of a guess was right.
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode()):
            return None
        return _json({"error": "a bearer token is required"}, 401,
                     {"WWW-Authenticate": 'Bearer realm="metrics"'})
    # No token: this machine only. A request a proxy forwarded arrives from loopback
    # too, whoever sent it, so it is refused.
    forwarded = any(name in request.headers for name in ("Forwarded", "X-Forwarded-For",
                                                         "X-Real-IP"))
    if _is_loopback(request.remote_addr) and not forwarded:
        return None
    return _json({"error": "set METRICS_TOKEN to read metrics from another host"}, 403)


def _is_loopback(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback


# --- probes ------------------------------------------------------------------------------


class Pingable(Protocol):
    """A service /readyz reports: search backends and payment providers have both."""

    name: str

    def ping(self) -> bool:
        """True when the service answers now; never raises."""


class _Dependency:
    """One reported service, pinged in the background with at most one ping in
    flight, so probes every few seconds never pile up threads on a hung service."""

    def __init__(self, service: Pingable):
        self.service = service
        self._future: Future | None = None
        self._lock = threading.Lock()

    def start(self, pool: ThreadPoolExecutor) -> Future:
        """The ping in flight, or a new one when the last has ended."""
        with self._lock:
            if self._future is None or self._future.done():
                self._future = pool.submit(self.service.ping)
            return self._future


def report_dependency(app: Flask, name: str, service: Pingable) -> None:
    """Report ``service`` (its ``name`` and whether ``ping()`` answers) on /readyz
    under ``name``; it never makes the app unready."""
    app.extensions.setdefault(DEPENDENCIES_KEY, {})[name] = _Dependency(service)


def _dependency_pool(app: Flask) -> ThreadPoolExecutor:
    # Made on first use, in the process that serves (a forked worker, not the master).
    pool = app.extensions.get(POOL_KEY)
    if pool is None:
        pool = app.extensions[POOL_KEY] = ThreadPoolExecutor(
            max_workers=4, thread_name_prefix="bazaar-readyz")
    return pool


def _database_reachable() -> bool:
    try:
        with current_app.extensions["bazaar.engine"].connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError as error:
        log.warning("Readiness: the database did not answer: %s", type(error).__name__)
        return False


def _json(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status=status,
                    mimetype="application/json", headers={**NO_STORE, **(headers or {})})


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """The process is up and serving. Touches nothing else: a liveness probe."""
    return _json({"status": "ok"})


@bp.get("/readyz")
@limiter.exempt
def readyz():
    """200 when the database answers, else 503; search and payments reported only."""
    dependencies = current_app.extensions.get(DEPENDENCIES_KEY, {})
    pool = _dependency_pool(current_app)
    pings = {name: dependency.start(pool) for name, dependency in dependencies.items()}
    database = _database_reachable()
    wait(pings.values(), timeout=DEPENDENCY_WAIT)
    checks: dict[str, dict] = {"database": {"reachable": database}}
    for name, ping in pings.items():
        reachable = ping.done() and not ping.exception() and bool(ping.result())
        checks[name] = {"backend": dependencies[name].service.name, "reachable": reachable}
    return _json({"status": "ready" if database else "unavailable", "checks": checks},
                 200 if database else 503)


@bp.get("/metrics")
@limiter.exempt
def metrics():
    """The Prometheus text exposition of this app's metrics."""
    refusal = _metrics_allowed()
    if refusal is not None:
        return refusal
    label_outboxes(current_app._get_current_object())
    return Response(generate_latest(_scrape_registry()), mimetype=CONTENT_TYPE_LATEST,
                    headers=NO_STORE)


# --- request id, timing, access log ---------------------------------------------------------


def _start_request() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if REQUEST_ID_PATTERN.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    if "request_id" not in g:  # a response made before our before_request ran
        _start_request()
    response.headers[REQUEST_ID_HEADER] = g.request_id
    seconds = time.perf_counter() - g.request_started
    endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
    method = request.method if request.method in METHODS else "other"
    REQUEST_LATENCY.labels(endpoint, method, f"{response.status_code // 100}xx").observe(seconds)
    if current_app.config.get("LOG_FORMAT") == "json":
        # The path without its query string (tokens travel there), secrets in it masked.
        path = redact(request.path)
        access_log.info("%s %s %s", request.method, path, response.status_code,
                        extra={"method": request.method, "path": path,
                               "status": response.status_code,
                               "duration_ms": round(seconds * 1000, 1)})
    return response


# --- JSON logs ------------------------------------------------------------------------------

ACCESS_FIELDS = ("method", "path", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (and the
    access log's fields). Our own few lines rather than python-json-logger: the shape
    is fixed and small, ``json.dumps`` does the escaping, and a dependency would add
    nothing these lines do not do."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        entry.update({key: getattr(record, key) for key in ACCESS_FIELDS if hasattr(record, key)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request being served (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id") if has_request_context() else None
        return True


class _JsonHandler(logging.StreamHandler):
    """The root handler this module installs (a class of its own, so it is found again)."""


def configure_logging(app: Flask) -> None:
    """With ``LOG_FORMAT=json``, send every log record, at INFO and above, to stderr
    as JSON; with "text" (the default), leave logging as it was."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _JsonHandler)]:
        root.removeHandler(handler)  # a previous app in this process (tests, reloads)
    app.extensions.pop(LOG_HANDLER_KEY, None)
    if app.config["LOG_FORMAT"] != "json":
        return
    handler = _JsonHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
    app.logger.removeHandler(default_handler)  # or Flask's own lines came out twice
    app.extensions[LOG_HANDLER_KEY] = handler


def init_app(app: Flask) -> None:
    """Probes, /metrics, request ids and the log format. Called first in ``create_app``,
    so its timer starts before any other package's ``before_request``."""
    configure_logging(app)
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.register_blueprint(bp)
