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
