"""`flask webhooks ...`: send due deliveries (for cron, or a deployment without the
background sender) and report the outbox's state."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import col, select

from core.db import app_session
from listings.models import Listing
from webhooks.delivery import DEFAULT_BATCH, DeliveryReport, deliver_due
from webhooks.services import delivery_counts

webhooks_cli = AppGroup("webhooks", help="Partner webhook deliveries.")


@webhooks_cli.command("deliver", help="Send every delivery that is due now.")
def deliver_command():
    total = DeliveryReport()
    while True:
        report = deliver_due(current_app, limit=DEFAULT_BATCH)
        total.add(report)
        if report.attempted < DEFAULT_BATCH:
            break
        click.echo(f"… {total.attempted} sent so far ({total})", err=True)
    click.echo(f"Webhooks: {total}.")


@webhooks_cli.command("status", help="Deliveries waiting, failed and sent; failing endpoints.")
def status_command():
    with app_session(current_app._get_current_object()) as session:
        counts = delivery_counts(session)
        failing = session.exec(
            select(Listing.slug, Listing.webhook_failing_since, Listing.webhook_last_error)
            .where(col(Listing.webhook_failing_since).is_not(None)).order_by(Listing.slug)
        ).all()
    click.echo(f"pending: {counts['pending']} ({counts['due']} due now), "
               f"failed: {counts['failed']}, succeeded: {counts['succeeded']}")
    for slug, since, error in failing:
        click.echo(f"failing endpoint: {slug} since {since:%Y-%m-%d %H:%M} UTC: {error}")
