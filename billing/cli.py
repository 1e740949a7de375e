"""``flask billing ...``: catching up on subscriptions to cancel, refunds, the usage outbox
by hand (for cron, or a deployment with ``USAGE_SENDER=off``) and the partners' monthly
statements. The work is in the billing services; here we read options, report and exit."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from billing.exports import major_units, statement_text
from billing.interfaces import ProviderError, ProviderUnavailable
from billing.payouts import payout_account
from billing.providers import get_provider
from billing.queries import (
    last_usage_retry_reason,
    ledger_rows_with_invoices,
    partner_by_slug,
    partners_by_id,
    refused_usage_events,
)
from billing.refunds import RefundError, refund_invoice
from billing.reports import BadMonth, MonthSpan, parse_month, partners_with_payouts, revenue_report
from billing.subscriptions import cancel_ended_subscriptions
from billing.usage import usage_counts
from billing.usage_sender import (
    BREAKER_THRESHOLD,
    DEFAULT_BATCH,
    UsageSendReport,
    send_due_usage,
)
from core.db import app_session, get_session

# The newest refused events shown by usage-status.
SHOWN_REJECTED = 20

billing_cli = AppGroup("billing", help="Billing: plans, usage metering, statements.")


@billing_cli.command("cancel-ended", help="Cancel, at the payment provider, subscriptions of "
                     "apps that were uninstalled (retries what an outage left). Run it from "
                     "cron.")
def cancel_ended_command():
    try:
        cancelled = cancel_ended_subscriptions(get_session(), get_provider(current_app))
    except ProviderUnavailable as error:
        raise click.ClickException(f"The payment provider is unavailable "
                                   f"({error.detail or error}); run this again later. "
                                   "Nothing was lost.") from None
    except ProviderError as error:
        raise click.ClickException(f"The payment provider refused a cancellation: {error}") \
            from None
    click.echo(f"Subscriptions cancelled: {cancelled}.")


@billing_cli.command("refund", help="Refund a paid invoice (all that remains, or --amount) "
                     "through the payment provider; the ledger books it when the provider "
                     "confirms (at once in test mode).")
@click.option("--invoice", "invoice_id", required=True, type=click.IntRange(min=1),
              help="Bazaar's invoice id (the number, not the provider's in_...).")
@click.option("--amount", default=None,
              help="How much to refund in the invoice's currency, e.g. 12.50 "
                   "(default: all that remains refundable).")
def refund_command(invoice_id: int, amount: str | None):
    session = get_session()
    try:
        invoice, minor, credit_note_id = refund_invoice(session, get_provider(current_app),
                                                        invoice_id, amount)
    except RefundError as error:
        session.rollback()
        if error.bad_input:
            raise click.BadParameter(str(error), param_hint="--invoice/--amount") from None
        raise click.ClickException(f"{error} Nothing was refunded.") from None
    except ProviderUnavailable as error:
        raise click.ClickException(f"The payment provider is unavailable "
                                   f"({error.detail or error}); nothing was refunded. "
                                   "Run this again later.") from None
    except ProviderError as error:
        raise click.ClickException(f"The payment provider refused the refund: {error}") \
            from None
    click.echo(f"Refund of {major_units(minor, invoice.currency)} "
               f"{invoice.currency.upper()} on invoice {invoice.id} requested "
               f"(credit note {credit_note_id}).")


@billing_cli.command("usage-sync", help="Send every usage event that is due to the payment "
                     "provider.")
def usage_sync_command():
    total = UsageSendReport()
    while True:
        report = send_due_usage(current_app)  # a round: 800 on Stripe's stream, else 100
        total.add(report)
        if report.attempted < DEFAULT_BATCH or report.resting_until:
            break
        click.echo(f"… {total.attempted} events so far ({total})", err=True)
    click.echo(f"Usage events: {total}.")
    if total.resting_until:
        click.echo(f"Stopped early: the provider failed {BREAKER_THRESHOLD} times in a "
                   "row. The events left wait for the next run (or the background "
                   "sender); `flask billing usage-status` shows why.")


@billing_cli.command("usage-status", help="Usage events waiting, sent and refused by the "
                     "provider.")
def usage_status_command():
    with app_session(current_app._get_current_object()) as session:
        counts = usage_counts(session)
        refused = refused_usage_events(session, SHOWN_REJECTED)
        waiting = last_usage_retry_reason(session)
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


def _month_option(ctx, param, value):
    try:
        return parse_month(value)
    except BadMonth as error:
        raise click.BadParameter(str(error)) from None


@billing_cli.command("statements", help="Write each partner's statement for a month.")
@click.option("--month", required=True, callback=_month_option, help="The month, YYYY-MM.")
@click.option("--partner", "partner_slug", default=None, help="Only this partner (its slug).")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write one file per partner into this folder instead of printing.")
def statements_command(month: date, partner_slug: str | None, output: Path | None):
    span = MonthSpan(month, month)
    key = span.keys[0]
    with app_session(current_app._get_current_object()) as session:
        partner_id = None
        if partner_slug:
            partner = partner_by_slug(session, partner_slug)
            if partner is None:
                raise click.BadParameter(f"No partner has the slug {partner_slug!r}.",
                                         param_hint="--partner")
            partner_id = partner.id
        rows = ledger_rows_with_invoices(session, span, partner_id)
        by_partner = defaultdict(list)
        for row in rows:
            by_partner[row[0].partner_id].append(row)
        # A partner paid out this month gets a statement too, even with no sales in it.
        wanted = set(by_partner) | {paid for paid in partners_with_payouts(session, span)
                                    if partner_id is None or paid == partner_id}
        partners = partners_by_id(session, wanted)
        provider = get_provider(current_app)
        extras = {partner_id: (revenue_report(session, partner_id, span=span),
                               payout_account(session, provider, partner_id))
                  for partner_id in partners}
    if not partners:
        click.echo(f"No ledger entries and no payouts in {key}: no statements.")
        return
    if output is not None:
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise click.BadParameter(f"Cannot make the folder {output}: "
                                     f"{error.strerror or error}.",
                                     param_hint="--output") from None
    for number, partner in enumerate(sorted(partners.values(), key=lambda p: p.slug), 1):
        text = statement_text(partner, key, by_partner[partner.id], *extras[partner.id])
        if output is None:
            click.echo(text)
        else:
            path = output / f"statement-{partner.slug}-{key}.txt"
            try:
                path.write_text(text, encoding="utf-8")
            except OSError as error:
                raise click.ClickException(f"Cannot write {path}: "
                                           f"{error.strerror or error}.") from None
        where = f" -> {output / f'statement-{partner.slug}-{key}.txt'}" if output else ""
        click.echo(f"[{number}/{len(partners)}] {partner.slug}: "
                   f"{len(by_partner[partner.id])} entries{where}", err=True)
