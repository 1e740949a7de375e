"""Billing: plans, subscriptions, usage metering, revenue share and payouts.

The payment provider (``get_provider(app)``) is Stripe when ``STRIPE_SECRET_KEY`` is
set, else the local provider, a test mode that keeps everything in the database.
"""

from __future__ import annotations

from flask import Flask

# Billing's pages are one module per audience on the one ``billing`` blueprint:
# importing each module adds its routes to it.
from billing import (  # noqa: F401
    customer_views,
    partner_views,
    stripe_webhook_views,
    test_mode_views,
)
from billing.blueprint import bp
from billing.cli import billing_cli
from billing.listing_revenue import ListingRevenue
from billing.providers import EXTENSION_KEY, build_provider, get_provider
from billing.queries import Payments
from billing.revenue_views import bp as revenue_bp
from billing.usage_api import init_usage  # the usage API and its outbox sender
from core.observability import report_dependency
from installs.ports import plug_payments
from listings.ports import plug_revenue

__all__ = ["get_provider", "init_app"]


def init_app(app: Flask) -> None:
    """Build the payment provider (the STRIPE_* and BILLING_FEE_PERCENT_* settings are
    read and checked by core/settings.py), and register the usage API and the billing pages."""
    app.extensions[EXTENSION_KEY] = build_provider(app)
    report_dependency(app, "payments", app.extensions[EXTENSION_KEY])  # on /readyz

    init_usage(app)

    # Trials convert when billing says the workspace can pay (installs.ports).
    plug_payments(app, Payments())
    # The partner dashboard's "net revenue this month" per listing (listings.ports).
    plug_revenue(app, ListingRevenue())
    app.register_blueprint(bp)  # customer, partner, Stripe webhook and test-mode pages
    app.register_blueprint(revenue_bp)  # the partner's revenue page and CSV exports
    app.cli.add_command(billing_cli)
