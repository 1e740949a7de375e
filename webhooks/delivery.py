"""Posting due webhook deliveries to partners' endpoints, and recording each attempt.

``deliver_due(app)`` is the one entry point: the background sender thread,
``flask webhooks deliver`` and the tests all call it. For every due row it

1. claims the row with a conditional UPDATE (committed at once), so two
   senders, in one process or several, never post the same row together;
2. POSTs the stored body, signed at send time with the listing's secret,
   within one overall deadline (``WEBHOOK_TIMEOUT``, from connecting to the
   last byte read) and without following redirects;
3. records the attempt and moves the row on: 2xx -> succeeded; anything else
   -> pending again after an exponential backoff, or failed once the attempts
   run out, which marks the listing's endpoint as failing.

Rows are never deleted, so every event ends succeeded or failed (and can be
redelivered from the partner portal). A sender that dies mid-send leaves a
claim that expires after ``CLAIM_LEASE``; the row is then sent again, which is
why receivers dedupe on the event id.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import func, or_, update
from sqlmodel import Session, col
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError, ProtocolError

from core.db import app_session, utcnow
from core.observability import count_sends
from core.outbox import Backoff, claim_rows
from listings.models import Listing
from listings.services import ensure_webhook_secret
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from webhooks.notices import mail_if_failing_long
from webhooks.signing import request_headers

log = logging.getLogger(__name__)

# Retry schedule: the wait after the n-th failed attempt is 30 s x 2^(n-1),
# spread by +/-10 % so endpoints that failed together are not retried in one
# burst, and never more than 6 hours. docs/webhooks.md shows the table.
BACKOFF = Backoff(base=timedelta(seconds=30), cap=timedelta(hours=6))
BACKOFF_CAP = BACKOFF.cap
backoff_delay = BACKOFF.delay
# Long enough for any single POST (connect + read timeouts and a 2 KB body);
# a claim older than this belongs to a sender that died, and expires.
CLAIM_LEASE = timedelta(minutes=5)
# Only the start of an answer is kept: enough to read an error message.
RESPONSE_BODY_LIMIT = 2048
DEFAULT_BATCH = 100


@dataclass
class DeliveryReport:
    """What one ``deliver_due`` run did: rows that succeeded, will retry, or failed for good."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed

    def add(self, other: DeliveryReport) -> None:
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed

    def __str__(self) -> str:
        return f"delivered {self.delivered}, retrying {self.retrying}, failed {self.failed}"


@dataclass
class Outcome:
    """What the partner's endpoint did with one POST."""

    duration_ms: int
    status: int | None = None
    body: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def summary(self) -> str:
        """A line for the partner: the error, or the HTTP status that was not 2xx."""
        if self.error:
            return self.error
        if self.status is not None and 300 <= self.status < 400:
            return f"answered HTTP {self.status} (redirects are not followed)"
        return f"answered HTTP {self.status}"


# --- refusing private addresses ---------------------------------------------------------


class PrivateAddressRefused(ValueError):
    """The endpoint's host is on a loopback, private or link-local network."""


def _refuse_private(peer: str, host: str) -> None:
    address = ipaddress.ip_address(peer.split("%", 1)[0])
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    if not address.is_global:
        raise PrivateAddressRefused(
            f"refused: {host} resolves to {address}, a private or local address")


class _PublicOnlyConnectionMixin:
    """Checks the address actually connected to, before a byte is sent.

    Checking the socket's peer (not a separate DNS lookup) means a host that
    resolves to a public address first and a private one later (DNS
    rebinding) is still refused.
    """

    def _new_conn(self):
        sock = super()._new_conn()
        try:
            _refuse_private(sock.getpeername()[0], self.host)
        except PrivateAddressRefused:
            sock.close()
            raise
        return sock


class _DeadlineConnectionMixin:
    """Puts every socket a POST uses under that POST's ``Deadline`` (if one runs)."""

    def _new_conn(self):
        sock = super()._new_conn()
        Deadline.watch_current(sock)  # before the TLS handshake, which can trickle too
        return sock

    def request(self, *args, **kwargs):
        if self.sock is not None:  # a kept-alive connection, reused
            Deadline.watch_current(self.sock)
        return super().request(*args, **kwargs)


class _HTTPConnection(_DeadlineConnectionMixin, HTTPConnection):
    pass


class _HTTPSConnection(_DeadlineConnectionMixin, HTTPSConnection):
    pass


class _PublicOnlyHTTPConnection(_PublicOnlyConnectionMixin, _HTTPConnection):
    pass


class _PublicOnlyHTTPSConnection(_PublicOnlyConnectionMixin, _HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _PublicOnlyHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicOnlyHTTPConnection


class _PublicOnlyHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicOnlyHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """A requests adapter whose connections obey the running POST's ``Deadline``."""

    pool_classes = {"http": _HTTPPool, "https": _HTTPSPool}

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(self.pool_classes)


class PublicOnlyAdapter(DeadlineAdapter):
    """A requests adapter whose connections refuse non-public addresses."""

    pool_classes = {"http": _PublicOnlyHTTPPool, "https": _PublicOnlyHTTPSPool}


def http_session(allow_private_hosts: bool) -> requests.Session:
    """The sender's HTTP session (one per ``deliver_due`` run)."""
    client = requests.Session()
    # No proxies or .netrc from the environment: the address check must see
    # the partner's host, and nothing of ours is sent along.
    client.trust_env = False
    adapter = DeadlineAdapter if allow_private_hosts else PublicOnlyAdapter
    client.mount("http://", adapter())
    client.mount("https://", adapter())
    return client


# --- one POST -----------------------------------------------------------------------------


class Deadline:
    """The overall time limit of one POST: connecting, sending and reading the answer.

    requests' timeouts bound each socket operation, not the request: "the read
    timeout is the number of seconds the client will wait for the server to
    send a byte" (https://requests.readthedocs.io/en/latest/user/advanced/#timeouts),
    so an endpoint that trickles a byte every few seconds never trips it. Here a
    timer thread shuts the POST's sockets down when the time is up; the blocked
    read then fails at once and the attempt is recorded as timed out.

    Used as ``with Deadline(seconds) as deadline: client.post(...)`` in the
    thread that posts; the connections of ``http_session`` register their
    sockets with it (``watch_current``).
    """

    _current = threading.local()

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._over = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    @classmethod
    def watch_current(cls, sock: socket.socket) -> None:
        """Put ``sock`` under the deadline running in this thread, if any."""
        deadline = getattr(cls._current, "deadline", None)
        if deadline is not None:
            deadline._watch(sock)

    def _watch(self, sock: socket.socket) -> None:
        # A duplicate descriptor of the same connection: it stays valid after
        # urllib3 wraps the socket in TLS (which detaches the original object),
        # and shutting it down ends the connection for every descriptor.
        if sock.fileno() < 0:
            return  # already closed: nothing left to wait on
        watched = socket.fromfd(sock.fileno(), sock.family, sock.type)
        with self._lock:
            self._sockets.append(watched)
            if self.expired:
                self._shut(watched)

    def _expire(self) -> None:
        with self._lock:
            if self._over:
                return
            self.expired = True
            for sock in self._sockets:
                self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed by the other side

    def __enter__(self) -> Deadline:
        Deadline._current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._timer.cancel()
        Deadline._current.deadline = None
        with self._lock:
            self._over = True
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()



def _causes(error: BaseException):
    """``error`` and everything it wraps (requests and urllib3 nest them deeply)."""
    seen, stack = set(), [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [*current.args, getattr(current, "reason", None), current.__cause__,
                  current.__context__]
        stack.extend(item for item in nested if isinstance(item, BaseException))


def describe_error(error: BaseException, timeout: float) -> str:
    """A short, secret-free line for the partner saying why a POST got no answer."""
    causes = list(_causes(error))

    def caused_by(*kinds) -> bool:
        return any(isinstance(cause, kinds) for cause in causes)

    if caused_by(PrivateAddressRefused):
        return str(next(c for c in causes if isinstance(c, PrivateAddressRefused)))
    if isinstance(error, requests.ConnectTimeout):
        return f"timed out connecting after {timeout:g} s"
    if isinstance(error, requests.ReadTimeout) or caused_by(socket.timeout, TimeoutError):
        return f"timed out after {timeout:g} s waiting for the response"
    if isinstance(error, requests.exceptions.SSLError):
        return "TLS handshake failed (check the endpoint's certificate)"
    if caused_by(NameResolutionError, socket.gaierror):
        return "could not resolve the host name"
    if caused_by(ConnectionRefusedError):
        return "connection refused"
    if caused_by(http.client.RemoteDisconnected, ConnectionResetError, ConnectionAbortedError,
                 BrokenPipeError, ProtocolError):
        return "connection closed without a response"
    if isinstance(error, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                          requests.exceptions.InvalidSchema)):
        return "the webhook URL is not a valid http(s) URL"
    return f"request failed ({type(error).__name__})"


def _read_start(response: requests.Response) -> str:
    """At most RESPONSE_BODY_LIMIT bytes of the answer, as text."""
    data = b""
    try:
        for chunk in response.iter_content(chunk_size=1024):
            data += chunk
            if len(data) >= RESPONSE_BODY_LIMIT:
                break
    except requests.RequestException:
        pass  # the status is what counts; keep whatever body arrived
    return data[:RESPONSE_BODY_LIMIT].decode(response.encoding or "utf-8", errors="replace")


def post_event(client: requests.Session, url: str, body: str, headers: dict[str, str],
               timeout: float) -> Outcome:
    """POST one signed event and say what happened; never raises for the endpoint's faults.

    ``timeout`` bounds the whole POST (see ``Deadline``); an answer not complete
    by then is a failed attempt, even if it had started with a 2xx status.
    """
    started = time.perf_counter()

    def took() -> int:
        return round((time.perf_counter() - started) * 1000)

    timed_out = f"timed out after {timeout:g} s waiting for the response"
    try:
        with Deadline(timeout) as deadline, \
                client.post(url, data=body.encode("utf-8"), headers=headers,
                            timeout=(timeout, timeout), allow_redirects=False,
                            stream=True) as response:
            status, text = response.status_code, _read_start(response)
    except (requests.RequestException, PrivateAddressRefused, http.client.HTTPException,
            OSError) as error:
        return Outcome(duration_ms=took(),
                       error=timed_out if deadline.expired else describe_error(error, timeout))
    if deadline.expired:
        return Outcome(duration_ms=took(), error=timed_out)
    return Outcome(duration_ms=took(), status=status, body=text)


# --- claiming and recording -----------------------------------------------------------------


def _due(now: datetime):
    return (
        WebhookDelivery.status == DeliveryStatus.PENDING,
        col(WebhookDelivery.next_attempt_at) <= now,
        or_(col(WebhookDelivery.locked_until).is_(None), col(WebhookDelivery.locked_until) < now),
    )


def claim_next(session: Session, now: datetime) -> WebhookDelivery | None:
    """Claim the next due delivery for this sender (committed), or None when none is due."""
    claimed = claim_rows(session, WebhookDelivery, _due(now),
                         (col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id)),
                         now=now, limit=1, lease=CLAIM_LEASE)
    return session.get(WebhookDelivery, claimed[0], populate_existing=True) if claimed else None


def _signing_secret(session: Session, listing_id: int) -> str:
    listing = session.get(Listing, listing_id, populate_existing=True)
    if listing.webhook_secret:
        return listing.webhook_secret
    # Rows are written with the secret already made; this only covers rows
    # written by hand. A Core UPDATE, so the search index is not touched.
    secret = ensure_webhook_secret(listing)
    session.execute(update(Listing).where(Listing.id == listing_id)
                    .values(webhook_secret=secret).execution_options(synchronize_session=False))
    session.commit()
    return secret


def record_outcome(session: Session, delivery: WebhookDelivery, outcome: Outcome, now: datetime,
                   max_attempts: int) -> str:
    """Store the attempt and move the delivery on; returns its new status. Commits."""
    session.add(WebhookAttempt(delivery_id=delivery.id, attempted_at=now,
                               duration_ms=outcome.duration_ms, response_status=outcome.status,
                               response_body=outcome.body, error=outcome.error))
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_status = outcome.status
    delivery.response_body = outcome.body
    delivery.locked_until = None
    # The listing's failing flag is written with Core UPDATEs: it is not part
    # of the search document, so it must not queue a reindex.
    listing_flag = update(Listing).where(Listing.id == delivery.listing_id) \
        .execution_options(synchronize_session=False)
    if outcome.ok:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        delivery.last_error = None
        session.execute(listing_flag.where(col(Listing.webhook_failing_since).is_not(None))
                        .values(webhook_failing_since=None, webhook_last_error=None))
    elif delivery.attempts >= max_attempts:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        delivery.last_error = outcome.summary
        session.execute(listing_flag.values(
            webhook_failing_since=func.coalesce(Listing.webhook_failing_since, now),
            webhook_last_error=outcome.summary))
    else:
        delivery.next_attempt_at = now + backoff_delay(delivery.attempts)
        delivery.last_error = outcome.summary
    if not outcome.ok:
        mail_if_failing_long(session, delivery.listing_id, now)
    session.add(delivery)
    session.commit()
    return delivery.status


def deliver_due(app, now: datetime | None = None, limit: int = DEFAULT_BATCH) -> DeliveryReport:
    """Post up to ``limit`` deliveries that are due at ``now`` (default: the clock).

    Safe to run in several threads and processes at once. Configuration comes
    from ``app.config``: ``WEBHOOK_TIMEOUT`` (seconds for a whole POST),
    ``WEBHOOK_MAX_ATTEMPTS`` and ``WEBHOOK_ALLOW_PRIVATE_HOSTS``. Passing
    ``now`` (tests) fixes the clock for claims, backoff and timestamps.
    """
    timeout = float(app.config.get("WEBHOOK_TIMEOUT", 5.0))
    max_attempts = int(app.config.get("WEBHOOK_MAX_ATTEMPTS", 12))
    allow_private = bool(app.config.get("WEBHOOK_ALLOW_PRIVATE_HOSTS", False))
    report = DeliveryReport()
    # app_context: mail about a failing endpoint is rendered with the app's templates.
    with app.app_context(), app_session(app, expire_on_commit=False) as session, \
            http_session(allow_private) as client:
        while report.attempted < limit:
            current = now or utcnow()
            delivery = claim_next(session, current)
            if delivery is None:
                break
            headers = request_headers(event_id=delivery.event_id, event_type=delivery.event_type,
                                      secrets=[_signing_secret(session, delivery.listing_id)],
                                      body=delivery.payload, timestamp=int(time.time()))
            outcome = post_event(client, delivery.url, delivery.payload, headers, timeout)
            status = record_outcome(session, delivery, outcome, now or utcnow(), max_attempts)
            count_sends("webhooks", sent=int(outcome.ok), failed=int(not outcome.ok))
            # The host only: a URL's path or query may hold the partner's own token.
            log.info("Webhook %s (%s) to %s: %s", delivery.event_id, delivery.event_type,
                     urlsplit(delivery.url).hostname, "delivered" if outcome.ok else outcome.summary)
            if status == DeliveryStatus.SUCCEEDED:
                report.delivered += 1
            elif status == DeliveryStatus.FAILED:
                report.failed += 1
            else:
                report.retrying += 1
    return report
