"""``flask billing usage-sync`` and ``flask billing usage-status``: the usage outbox by hand
(for cron, or a deployment with ``USAGE_SENDER=off``)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlmodel import Session, col, select

from billing.models import UsageEvent, UsageStatus
from billing.usage import usage_counts
from billing.usage_sender import (
    BREAKER_THRESHOLD,
    DEFAULT_BATCH,
    UsageSendReport,
    send_due_usage,
)

# The newest refused events shown by usage-status.
SHOWN_REJECTED = 20


def billing_group(app: Flask) -> AppGroup:
    """The ``flask billing`` group, shared with the other billing commands.

    Whoever registers first creates it; later callers add to it, so no
    command replaces another's group.
    """
    group = app.cli.commands.get("billing")
    if group is None:
        group = AppGroup("billing", help="Billing: plans, usage metering, statements.")
        app.cli.add_command(group)
    return group


def register_usage_cli(app: Flask) -> None:
    group = billing_group(app)

    @group.command("usage-sync", help="Send every usage event that is due to the payment provider.")
    def usage_sync_command():
        total = UsageSendReport()
        while True:
            report = send_due_usage(current_app, limit=DEFAULT_BATCH)
            total.add(report)
            if report.attempted < DEFAULT_BATCH or report.resting_until:
                break
            click.echo(f"… {total.attempted} events so far ({total})", err=True)
        click.echo(f"Usage events: {total}.")
        if total.resting_until:
            click.echo(f"Stopped early: the provider failed {BREAKER_THRESHOLD} times in a "
                       "row. The events left wait for the next run (or the background "
                       "sender); `flask billing usage-status` shows why.")

    @group.command("usage-status", help="Usage events waiting, sent and refused by the provider.")
    def usage_status_command():
        with Session(current_app.extensions["bazaar.engine"]) as session:
            counts = usage_counts(session)
            refused = session.exec(
                select(UsageEvent).where(UsageEvent.status == UsageStatus.REJECTED)
                .order_by(col(UsageEvent.id).desc()).limit(SHOWN_REJECTED)).all()
            waiting = session.exec(
                select(UsageEvent.last_error).where(UsageEvent.status == UsageStatus.PENDING,
                                                    col(UsageEvent.last_error).is_not(None))
                .order_by(col(UsageEvent.next_attempt_at).desc())).first()
        click.echo(f"pending: {counts['pending']} ({counts['due']} due now), "
                   f"sent: {counts['sent']}, rejected: {counts['rejected']}")
        # Claimed by a running sender (or by one that died: sent again when its
        # claim runs out); not waiting for anyone.
        click.echo(f"being sent: {counts['being_sent']}")
        if waiting:
            click.echo(f"last retry reason: {waiting}")
        for usage in refused:
            click.echo(f"rejected: listing {usage.listing_id} event {usage.event_id}: "
                       f"{usage.last_error}")
