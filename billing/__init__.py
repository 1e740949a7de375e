"""Billing: plans, subscriptions, usage metering, revenue share and payouts.

The payment provider (``get_provider(app)``) is Stripe when ``STRIPE_SECRET_KEY`` is
set, else the local provider, a test mode that keeps everything in the database.
"""

from __future__ import annotations

from flask import Flask

from billing.providers import get_provider

__all__ = ["get_provider", "init_app"]


def init_app(app: Flask) -> None:
    """Read the STRIPE_* and BILLING_FEE_PERCENT_* settings (explicit overrides win),
    build the payment provider, and register the usage API and the billing pages."""
    from billing.providers import EXTENSION_KEY, billing_settings, build_provider
    from billing.revenue import fee_settings

    for name, value in {**billing_settings(), **fee_settings()}.items():
        app.config.setdefault(name, value)
    app.extensions[EXTENSION_KEY] = build_provider(app)

    from billing.usage_api import init_usage  # the usage API, its outbox sender and CLI

    init_usage(app)

    from billing.views import init_app as init_views  # checkout, webhooks, test-mode pages

    init_views(app)

    from billing.cli import register_cli

    register_cli(app)

    from billing.revenue_views import register_revenue  # partner revenue pages, CSV, statements

    register_revenue(app)
