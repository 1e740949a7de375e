"""The background sender shared by the outboxes that talk to other services
(partner webhooks, usage to the payment provider, the search sync's catch-up).

Each outbox registers its round with ``register_outbox``; ``flask --app app
worker`` (core/worker.py) runs every registered round in its own process.
With ``BACKGROUND_WORK=in-process`` the web processes run them as well:

One daemon thread per process drains an outbox: it is woken right after a
commit that queued rows (the queuing code sets a flag in ``session.info``) and
otherwise looks for due retries every ``interval`` seconds. It starts lazily,
so each gunicorn worker (forked after import) gets its own; the outboxes'
claims keep several senders from sending one row twice.
"""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import click
from flask import Flask, current_app, has_app_context
from sqlalchemy import event, update
from sqlmodel import Session, col, select

from core.db import APP_INFO_KEY

log = logging.getLogger(__name__)

POLL_INTERVAL = 30.0  # seconds between looks for due retries


@dataclass(frozen=True)
class Backoff:
    """The one retry policy of every outbox: after the n-th failed attempt wait
    ``base`` x 2^(n-1), spread by +/- ``jitter`` (so rows that failed together are
    not retried in one burst), never more than ``cap``."""

    base: timedelta
    cap: timedelta
    jitter: float = 0.10

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        """How long to wait after the ``attempts``-th failed attempt."""
        wait = self.base.total_seconds() * 2 ** min(max(attempts, 1) - 1, 30)
        if self.jitter:
            wait *= (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        return timedelta(seconds=min(wait, self.cap.total_seconds()))


def claim_rows(session: Session, model, due: Iterable, order_by: Iterable, *, now: datetime,
               limit: int, lease: timedelta) -> list[int]:
    """Claim up to ``limit`` rows of ``model`` matching ``due`` (which must test that
    ``model.locked_until`` is unset or past) by setting ``locked_until`` to
    ``now + lease``; commits and returns the claimed ids.

    On PostgreSQL the candidates are read ``FOR UPDATE SKIP LOCKED``: concurrent
    workers take different rows without waiting on each other. On SQLite, which
    runs one writer at a time, the UPDATE repeats the due test, so a row another
    worker took meanwhile is not taken twice. A worker that dies holding rows
    leaves them to be claimed again once ``lease`` has run out.
    """
    due, order_by = list(due), list(order_by)
    candidates = select(model.id).where(*due).order_by(*order_by).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    while True:
        ids = session.exec(candidates).all()
        if not ids:
            return []
        claimed = session.execute(
            update(model).where(col(model.id).in_(ids), *due)
            .values(locked_until=now + lease).returning(model.id)
            .execution_options(synchronize_session=False)
        ).scalars().all()
        session.commit()
        if claimed:
            return sorted(claimed)
        # Another worker took every candidate between our read and our write
        # (SQLite): read again, past them.
OUTBOXES_KEY = "bazaar.outboxes"


@dataclass(frozen=True)
class Outbox:
    """One outbox the worker drains: ``send_round(app)`` sends up to ``batch`` due
    rows and returns how many it tried; ``due(now)`` gives the WHERE clauses of the
    rows due now and ``queued_at`` the column saying when a row was queued (for
    ``flask outbox-status`` and /metrics); ``given_up(now)``, the rows that will
    never be sent without a person (none when the outbox retries for ever)."""
    name: str
    send_round: Callable[[Flask], int]
    batch: int
    queued_at: object
    due: Callable[[datetime], Iterable]
    given_up: Callable[[], Iterable] | None = None


def register_outbox(app: Flask, name: str, send_round: Callable[[Flask], int], *,
                    batch: int, queued_at, due: Callable[[datetime], Iterable],
                    given_up: Callable[[], Iterable] | None = None) -> None:
    """Make the outbox known to the worker (``flask --app app worker``), to
    ``flask --app app outbox-status`` and to /metrics."""
    outbox = Outbox(name, send_round, batch, queued_at, due, given_up)
    app.extensions.setdefault(OUTBOXES_KEY, {})[name] = outbox


def outboxes_of(app: Flask) -> dict[str, Outbox]:
    """The registered outboxes by name, in registration order."""
    return dict(app.extensions.get(OUTBOXES_KEY, {}))


class OutboxSender:
    """Runs ``send_round(app)`` in a daemon thread until a round sends less than a
    full ``batch``, then waits for ``wake()`` or the next poll."""

    def __init__(self, app: Flask, send_round: Callable[[Flask], int], *, name: str,
                 batch: int, interval: float = POLL_INTERVAL):
        self._app = app
        self._send_round = send_round
        self._name = name
        self._batch = batch
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
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Send what is due now instead of at the next poll."""
        self.ensure_started()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to finish its current round and end (tests, shutdown)."""
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
                    if self._send_round(self._app) < self._batch:
                        break
            except Exception:  # keep the thread alive; the rows wait for the next round
                log.exception("%s: sending failed", self._name)
            self._wake.wait(self._interval)


def wake_after_commit(pending_key: str, extension_key: str) -> None:
    """Wake the sender kept in ``app.extensions[extension_key]`` after every commit
    whose session set ``session.info[pending_key]``; forget the flag on rollback.

    Never from a CLI command: it exits when done and would cut a send short, so
    its rows wait for a web process or the outbox's own command. Click's context
    is per thread, so a request served by ``flask run`` still wakes the sender.
    """

    @event.listens_for(Session, "after_commit")
    def _wake(session: Session) -> None:
        if not session.info.pop(pending_key, False):
            return
        app = session.info.get(APP_INFO_KEY)
        if app is None and has_app_context():
            app = current_app._get_current_object()
        sender = app.extensions.get(extension_key) if app is not None else None
        if sender is not None and click.get_current_context(silent=True) is None:
            sender.wake()

    @event.listens_for(Session, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop(pending_key, None)
