"""The worker tier: ``flask --app app worker`` sends what the outboxes hold.

Web processes only write outbox rows (``BACKGROUND_WORK=worker``, the default
outside local and test runs); one or more worker processes, on as many
machines as needed, drain every registered outbox (core/outbox.py).
The outboxes' claims keep two workers from sending one row at once.

SIGTERM or Ctrl-C stops taking new rows: each outbox finishes the round it is
in (its claimed rows are recorded as sent or to retry) within ``--grace``
seconds. A round still running then is cut off with the process; its claimed
rows are sent again once their claim expires.
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from prometheus_client import REGISTRY, start_http_server
from sqlalchemy import func
from sqlmodel import select

from core.db import app_session, as_utc, schema_problem, utcnow
from core.observability import label_outboxes
from core.outbox import OutboxSender, outboxes_of

DEFAULT_POLL_INTERVAL = 1.0  # seconds: how soon a row queued by a web request goes out
DEFAULT_GRACE = 25.0  # seconds: under Kubernetes' default 30 s termination grace period


def _chosen(names: tuple[str, ...]) -> list:
    outboxes = outboxes_of(current_app)
    unknown = [name for name in names if name not in outboxes]
    if unknown:
        raise click.BadParameter(
            f"no outbox named {', '.join(unknown)}; choose from {', '.join(outboxes)}",
            param_hint="--outbox")
    return [outboxes[name] for name in (names or outboxes)]


@dataclass(frozen=True)
class OutboxStatus:
    name: str
    due: int
    oldest_due: datetime | None
    given_up: int | None  # None: the outbox retries until a row is sent


def outbox_status(app, now: datetime | None = None) -> list[OutboxStatus]:
    """For each registered outbox: rows due now, when the oldest of them was queued,
    and rows given up on. Two small aggregate queries per outbox."""
    now = now or utcnow()
    found = []
    with app_session(app) as session:
        for outbox in outboxes_of(app).values():
            due, oldest = session.execute(select(func.count(), func.min(outbox.queued_at))
                                          .where(*outbox.due(now))).one()
            given_up = None
            if outbox.given_up is not None:
                given_up = session.execute(select(func.count()).select_from(
                    outbox.queued_at.class_).where(*outbox.given_up())).scalar_one()
            found.append(OutboxStatus(outbox.name, due, oldest, given_up))
    return found


def _age(now: datetime, then: datetime | None) -> str:
    if then is None:
        return "-"
    seconds = int((now - as_utc(then)).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{max(seconds, 0)} s"


@click.command("outbox-status")
@with_appcontext
def outbox_status_command() -> None:
    """Every outbox at a glance: rows due now, the oldest one's age, rows given up on."""
    problem = schema_problem()
    if problem:
        click.echo(problem, err=True)
        raise SystemExit(1)
    now = utcnow()
    rows = [("outbox", "due now", "oldest due", "given up")]
    rows += [(status.name, str(status.due), _age(now, status.oldest_due),
              "-" if status.given_up is None else str(status.given_up))
             for status in outbox_status(current_app._get_current_object(), now)]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        click.echo("  ".join([row[0].ljust(widths[0])]
                             + [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]))


def drain_once(app, outboxes) -> dict[str, int]:
    """Run each outbox's rounds until one sends less than a full batch; rows tried."""
    tried = {}
    for outbox in outboxes:
        tried[outbox.name] = 0
        while True:
            count = outbox.send_round(app)
            tried[outbox.name] += count
            if count < outbox.batch:
                break
    return tried


@click.command("worker")
@click.option("--outbox", "names", multiple=True, metavar="NAME",
              help="Drain only this outbox (repeatable); default: all of them.")
@click.option("--poll-interval", type=click.FloatRange(0.1, 300.0), default=DEFAULT_POLL_INTERVAL,
              show_default=True, help="Seconds between looks for due rows.")
@click.option("--grace", type=click.FloatRange(0.0, 600.0), default=DEFAULT_GRACE,
              show_default=True, help="Seconds to finish the current rounds on SIGTERM.")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option("--metrics-port", type=click.IntRange(1, 65535), default=None,
              help="Serve this worker's Prometheus metrics (sends, failures) on this port; "
                   "for a worker on another host than the web processes.")
@click.option("--metrics-host", default="127.0.0.1", show_default=True,
              help="Address the metrics port listens on (0.0.0.0 in a container).")
@with_appcontext
def worker_command(names: tuple[str, ...], poll_interval: float, grace: float,
                   once: bool, metrics_port: int | None, metrics_host: str) -> None:
    """Send partner webhooks, usage and search changes queued by the web processes."""
    app = current_app._get_current_object()
    outboxes = _chosen(names)
    problem = schema_problem()
    if problem:
        click.echo(problem, err=True)
        raise SystemExit(1)
    if once:
        tried = drain_once(app, outboxes)
        click.echo("Sent what was due: " + ", ".join(
            f"{name} {count} tried" for name, count in tried.items()))
        return

    senders = [OutboxSender(app, outbox.send_round, name=f"bazaar-worker-{outbox.name}",
                            batch=outbox.batch, interval=poll_interval)
               for outbox in outboxes]
    stopping = threading.Event()

    def stop(signum, _frame) -> None:
        stopping.set()

    if metrics_port:
        # The web's /metrics reads outbox depth from the database; what only this
        # process knows is how many rows it sent and how many sends failed.
        try:
            label_outboxes(current_app._get_current_object())
            start_http_server(metrics_port, addr=metrics_host, registry=REGISTRY)
        except OSError as error:
            raise click.BadParameter(f"cannot listen on {metrics_host}:{metrics_port}: "
                                     f"{error.strerror or error}", param_hint="--metrics-port")
        click.echo(f"Metrics at http://{metrics_host}:{metrics_port}/metrics")
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for sender in senders:
            sender.ensure_started()
        click.echo(f"Worker draining {', '.join(o.name for o in outboxes)} "
                   f"(a look every {poll_interval:g} s); stop with Ctrl-C or SIGTERM.")
        while not stopping.wait(1.0):
            for sender in senders:
                sender.ensure_started()  # a round that crashed the thread is restarted
        click.echo(f"Stopping: finishing the current rounds (at most {grace:g} s)...")
        deadline = time.monotonic() + grace
        for sender in senders:
            sender.stop(timeout=max(0.0, deadline - time.monotonic()))
        busy = [outbox.name for outbox, sender in zip(outboxes, senders) if sender.running]
        if busy:
            click.echo(f"Still sending after {grace:g} s: {', '.join(busy)}; their claimed "
                       "rows are sent again once the claim expires.", err=True)
            raise SystemExit(1)
        click.echo("Worker stopped.")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
