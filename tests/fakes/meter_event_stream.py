"""A fake of Stripe's v2 meter event stream, as a real local HTTP server.

stripe-mock does not serve the v2 endpoints (v0.203.0 answers "Unrecognized request
URL"), so the tests and ``bench/usage`` run this instead, on 127.0.0.1 and a free
port, and point the app's ``STRIPE_API_BASE`` (both the "api" and "meter_events"
base addresses of ``billing.stripe_provider.build_client``) at it. It behaves as
Stripe documents (https://docs.stripe.com/api/v2/billing-meter-stream):

- ``POST /v2/billing/meter_event_session`` takes the secret key as bearer and
  answers a session whose ``authentication_token`` is good until ``expires_at``
  (15 minutes unless told otherwise);
- ``POST /v2/billing/meter_event_stream`` takes that token as bearer and 1 to 100
  events (JSON), answers ``{}``, and keeps each event once per ``identifier``
  (Stripe dedupes on it), counting the duplicates; an expired token gets 401 with
  Stripe's v2 error ``temporary_session_expired``; more than 100 events get 400.

It can be told to answer 5xx/429 (``fail_with``) or to hang (``hang``). With
``upstream`` (stripe-mock's URL) every other request is passed on to it, so the
app's v1 calls (customers, meters) work as against stripe-mock alone.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

SESSION_PATH = "/v2/billing/meter_event_session"
STREAM_PATH = "/v2/billing/meter_event_stream"
MAX_EVENTS = 100
SESSION_LIFETIME = timedelta(minutes=15)
# Headers passed on to the upstream and back.
FORWARDED = ("Authorization", "Content-Type", "Idempotency-Key", "Stripe-Version",
             "Stripe-Account")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # thousands of requests in the bench
        pass


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _error(status: int, type_: str, message: str, code: str | None = None) -> Response:
    error = {"type": type_, "message": message}
    if code:
        error["code"] = code
    return Response(json.dumps({"error": error}), status=status,
                    content_type="application/json")


class MeterEventStreamFake:
    """The fake server. ``start()`` returns its URL; ``stop()`` ends it.

    What it saw: ``events`` (identifier -> the event as first received),
    ``batches`` (the number of events of each accepted stream request),
    ``duplicates`` (events dropped for a known identifier), ``sessions_created``,
    ``expired_answers`` (401s for an expired session) and ``stream_requests``
    (every stream request, answered or not).
    """

    def __init__(self, secret_key: str, *, upstream: str | None = None,
                 session_lifetime: timedelta = SESSION_LIFETIME):
        self.secret_key = secret_key
        self.upstream = upstream.rstrip("/") if upstream else None
        self.session_lifetime = session_lifetime
        self.events: dict[str, dict] = {}
        self.batches: list[int] = []
        self.duplicates = 0
        self.sessions_created = 0
        self.expired_answers = 0
        self.stream_requests = 0
        self.answers: Counter[int] = Counter()
        self._sessions: dict[str, datetime] = {}  # token -> expires at
        self._fail_status: int | None = None
        self._hang = False
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._server = None
        self._thread: threading.Thread | None = None
        self._upstream = requests.Session()

    # --- running ---------------------------------------------------------------------

    def start(self) -> str:
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True,
                                   request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="meter-event-stream-fake", daemon=True)
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        self._release.set()  # hung requests end, so the server can shut down
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(10)
        self._upstream.close()

    # --- faults ------------------------------------------------------------------------

    def expire_sessions(self) -> None:
        """Every session handed out so far has expired (as 15 minutes later)."""
        with self._lock:
            past = datetime.now(UTC) - timedelta(seconds=1)
            self._sessions = {token: past for token in self._sessions}

    def fail_with(self, status: int | None) -> None:
        """Answer every stream request with ``status`` (500, 503, 429...); None: stop."""
        self._fail_status = status

    def hang(self, hanging: bool = True) -> None:
        """Hold every stream request without answering until ``hang(False)``."""
        self._hang = hanging
        if hanging:
            self._release.clear()
        else:
            self._release.set()

    # --- the endpoints -----------------------------------------------------------------

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        if request.method == "POST" and request.path == SESSION_PATH:
            response = self._create_session(request)
        elif request.method == "POST" and request.path == STREAM_PATH:
            response = self._stream(request)
        elif self.upstream:
            response = self._pass_on(request)
        else:
            response = _error(404, "invalid_request_error",
                              f"Unrecognized request URL ({request.method}: {request.path}).")
        with self._lock:
            self.answers[response.status_code] += 1
        return response(environ, start_response)

    def _bearer(self, request: Request) -> str:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        return token if scheme == "Bearer" else ""

    def _create_session(self, request: Request) -> Response:
        if self._bearer(request) != self.secret_key:
            return _error(401, "invalid_request_error", "Invalid API Key provided.",
                          "invalid_api_key")
        now = datetime.now(UTC)
        token = f"mes_token_{secrets.token_hex(16)}"
        with self._lock:
            self._sessions[token] = now + self.session_lifetime
            self.sessions_created += 1
        return Response(json.dumps({
            "id": f"mes_{secrets.token_hex(8)}", "object": "v2.billing.meter_event_session",
            "authentication_token": token, "created": _iso(now),
            "expires_at": _iso(now + self.session_lifetime), "livemode": False,
        }), content_type="application/json")

    def _stream(self, request: Request) -> Response:
        with self._lock:
            self.stream_requests += 1
        if self._hang:
            self._release.wait(120)
        if self._fail_status is not None:
            return _error(self._fail_status,
                          "rate_limit" if self._fail_status == 429 else "api_error",
                          "Try again later.")
        with self._lock:
            expires_at = self._sessions.get(self._bearer(request))
        if expires_at is None:
            return _error(401, "invalid_request_error", "Invalid API Key provided.",
                          "invalid_api_key")
        if expires_at <= datetime.now(UTC):
            with self._lock:
                self.expired_answers += 1
            return _error(401, "temporary_session_expired",
                          "The meter event session has expired: create a new one.",
                          "billing_meter_event_session_expired")
        try:
            events = json.loads(request.get_data(as_text=True))["events"]
        except (ValueError, KeyError, TypeError):
            return _error(400, "invalid_request_error", "events is required.")
        if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
            return _error(400, "invalid_request_error",
                          f"events must hold 1 to {MAX_EVENTS} meter events.")
        for event in events:
            if not (isinstance(event, dict) and isinstance(event.get("event_name"), str)
                    and isinstance(event.get("payload"), dict)):
                return _error(400, "invalid_request_error",
                              "Each event needs an event_name and a payload.")
        with self._lock:
            self.batches.append(len(events))
            for event in events:
                identifier = event.get("identifier") or f"gen_{secrets.token_hex(8)}"
                if identifier in self.events:
                    self.duplicates += 1
                else:
                    self.events[identifier] = event
        return Response("{}", content_type="application/json")

    def _pass_on(self, request: Request) -> Response:
        headers = {name: request.headers[name] for name in FORWARDED if name in request.headers}
        try:
            answer = self._upstream.request(
                request.method, self.upstream + request.full_path.rstrip("?"),
                headers=headers, data=request.get_data(), timeout=30)
        except requests.RequestException as error:
            return _error(502, "api_error", f"upstream unreachable: {error}")
        return Response(answer.content, status=answer.status_code,
                        content_type=answer.headers.get("Content-Type", "application/json"))
