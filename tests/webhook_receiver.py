"""A real HTTP server on 127.0.0.1 that stands in for a partner's webhook endpoint.

It records every request it is sent and answers the way a test asks, chosen
by the URL's path (``receiver.url_for("error")``) or, for ``receiver.url``, by
``receiver.mode``:

- ``ok``: 200 with a small JSON body
- ``error``: 500 with an error message
- ``hang``: says nothing until well past any test's timeout
- ``close``: closes the connection without answering
- ``redirect``: 302 to ``/ok`` (which must not be followed)
- ``slow``: 200 after a short pause (makes concurrent senders overlap)
- ``trickle``: a 200 answer sent one byte every ``trickle_interval`` seconds,
  for up to ``TRICKLE_LIMIT`` seconds (each byte resets a per-read timeout)
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("ok", "error", "hang", "close", "redirect", "slow", "trickle")
TRICKLE_LIMIT = 20.0


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event_id(self) -> str | None:
        return self.headers.get("Bazaar-Event-Id")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A sender that went away mid-answer (a killed worker, a timeout) is a
        # partner's everyday life, not an error of the receiver.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class WebhookReceiver:
    def __init__(self) -> None:
        self.mode = "ok"
        self.trickle_interval = 0.2
        self.slow_pause = 0.05  # seconds a "slow" answer waits
        self.requests: list[ReceivedRequest] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def url_for(self, mode: str) -> str:
        assert mode in MODES, mode
        return f"{self.url}{mode}"

    def received(self, path: str | None = None) -> list[ReceivedRequest]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedRequest]:
        """Wait until ``count`` requests have arrived (or the timeout passes)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.received()) < count:
            time.sleep(0.02)
        return self.received()

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()  # lets hanging handlers finish
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(ReceivedRequest(self.path, dict(self.headers), body))
                mode = self.path.strip("/") or receiver.mode
                if mode == "close":
                    self.close_connection = True
                    return
                if mode == "hang":
                    receiver._released.wait(10)
                    self.close_connection = True
                    return
                if mode == "trickle":
                    self._trickle()
                    return
                if mode == "slow":
                    time.sleep(receiver.slow_pause)
                if mode == "error":
                    self._answer(500, b"boom: the database is down")
                elif mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", receiver.url_for("ok"))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._answer(200, b'{"received": true}')

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _trickle(self) -> None:
                body = b"x" * 4096
                answer = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                self.close_connection = True
                stop_at = time.monotonic() + TRICKLE_LIMIT
                for byte in answer:
                    if time.monotonic() > stop_at or receiver._released.wait(
                            receiver.trickle_interval):
                        return
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:  # the sender gave up and closed the connection
                        return

            def log_message(self, *args):  # keep test output quiet
                pass

        return Handler
