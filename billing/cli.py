"""Billing commands besides usage: catching up on subscriptions to cancel."""

from __future__ import annotations

import click
from flask import Flask

from billing.usage_cli import billing_group


def register_cli(app: Flask) -> None:
    group = billing_group(app)

    @group.command("cancel-ended", help="Cancel, at the payment provider, subscriptions of apps "
                   "that were uninstalled (retries what an outage left). Run it from cron.")
    def cancel_ended_command():
        from billing.interfaces import ProviderError, ProviderUnavailable
        from billing.providers import get_provider
        from billing.subscriptions import cancel_ended_subscriptions
        from storefront.db import get_session

        try:
            cancelled = cancel_ended_subscriptions(get_session(), get_provider(app))
        except ProviderUnavailable as error:
            raise click.ClickException(f"The payment provider is unavailable ({error.detail or error}); "
                                       "run this again later. Nothing was lost.") from None
        except ProviderError as error:
            raise click.ClickException(f"The payment provider refused a cancellation: {error}") \
                from None
        click.echo(f"Subscriptions cancelled: {cancelled}.")

    @group.command("refund", help="Refund a paid invoice (all that remains, or --amount) "
                   "through the payment provider; the ledger books it when the provider "
                   "confirms (at once in test mode).")
    @click.option("--invoice", "invoice_id", required=True, type=click.IntRange(min=1),
                  help="Bazaar's invoice id (the number, not the provider's in_...).")
    @click.option("--amount", default=None,
                  help="How much to refund in the invoice's currency, e.g. 12.50 "
                       "(default: all that remains refundable).")
    def refund_command(invoice_id: int, amount: str | None):
        from billing.interfaces import ProviderError, ProviderUnavailable
        from billing.providers import get_provider
        from billing.refunds import RefundError, refund_invoice
        from storefront.db import get_session

        session = get_session()
        try:
            invoice, minor, credit_note_id = refund_invoice(session, get_provider(app),
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
        from billing.revenue_views import major_units

        click.echo(f"Refund of {major_units(minor, invoice.currency)} "
                   f"{invoice.currency.upper()} on invoice {invoice.id} requested "
                   f"(credit note {credit_note_id}).")
