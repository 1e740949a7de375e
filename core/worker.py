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

import click
from flask import current_app
from flask.cli import with_appcontext

from core.db import schema_problem
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
@with_appcontext
def worker_command(names: tuple[str, ...], poll_interval: float, grace: float,
                   once: bool) -> None:
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
