"""The background sender: one daemon thread per process that posts due deliveries.

It is woken right after a commit that queued deliveries (enqueue_event or a
redelivery set ``PENDING_INFO_KEY`` on the session), and otherwise looks for
due retries every ``POLL_INTERVAL``. It starts lazily, on the first request or
the first such commit, so each gunicorn worker (forked after import) gets its
own; the claim in ``deliver_due`` keeps several of them from posting one row
twice.
"""

from __future__ import annotations

import logging
import os
import threading

import click

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlmodel import Session

from storefront.db import APP_INFO_KEY
from webhooks.delivery import DEFAULT_BATCH, deliver_due
from webhooks.services import PENDING_INFO_KEY

log = logging.getLogger(__name__)

POLL_INTERVAL = 30.0  # seconds between looks for due retries
EXTENSION_KEY = "bazaar.webhooks.sender"


class BackgroundSender:
    """Runs ``deliver_due(app)`` in a daemon thread, woken by ``wake()``."""

    def __init__(self, app: Flask, interval: float = POLL_INTERVAL):
        self._app = app
        self._interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    @property
    def running(self) -> bool:
        return (self._thread is not None and self._thread.is_alive()
                and self._pid == os.getpid())

    def ensure_started(self) -> None:
        """Start the thread unless this process already has it (a forked child has not)."""
        if self.running:
            return
        with self._lock:
            if self.running:
                return
            self._stop.clear()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="bazaar-webhook-sender",
                                            daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Deliver what is due now instead of at the next poll."""
        self.ensure_started()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to finish its current POST and end (tests, shutdown)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            # Cleared before sending: a wake that arrives meanwhile runs another round.
            self._wake.clear()
            try:
                while not self._stop.is_set():
                    report = deliver_due(self._app, limit=DEFAULT_BATCH)
                    if report.attempted < DEFAULT_BATCH:
                        break
            except Exception:  # keep the thread alive; the rows wait for the next round
                log.exception("Delivering webhooks failed")
            self._wake.wait(self._interval)


def sender_of(app: Flask) -> BackgroundSender | None:
    """The app's background sender, or None when ``WEBHOOK_SENDER`` is "off"."""
    return app.extensions.get(EXTENSION_KEY)


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if not session.info.pop(PENDING_INFO_KEY, False):
        return
    app = session.info.get(APP_INFO_KEY)
    if app is None and has_app_context():
        app = current_app._get_current_object()
    sender = sender_of(app) if app is not None else None
    # A command (demo load, the nightly trials run) exits when it is done and
    # would cut a POST short: its rows wait for a web process or
    # `flask webhooks deliver`. Click's context is per thread, so a request
    # served by `flask run` still wakes the sender.
    if sender is not None and click.get_current_context(silent=True) is None:
        sender.wake()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(PENDING_INFO_KEY, None)


def init_sender(app: Flask) -> None:
    """Set up the background sender when ``WEBHOOK_SENDER`` is "thread"."""
    if app.config["WEBHOOK_SENDER"] != "thread":
        return
    sender = BackgroundSender(app)
    app.extensions[EXTENSION_KEY] = sender
    # Started by the first request too, so retries go out even from a worker
    # that never queues an event itself.
    app.before_request(sender.ensure_started)
