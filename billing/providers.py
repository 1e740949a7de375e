"""Choosing the payment provider: Stripe when ``STRIPE_SECRET_KEY`` is set, else the
local provider (test mode). Built once at start-up and kept in ``app.extensions``."""

from __future__ import annotations

import hashlib
import hmac
import os

from flask import Flask, current_app

from billing.interfaces import PaymentProvider

EXTENSION_KEY = "bazaar.billing.provider"


def billing_settings() -> dict:
    """The ``STRIPE_*`` settings from the environment (the README lists them)."""
    return {
        # Stripe's secret API key (sk_live_... / sk_test_...); unset: the local provider.
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY") or None,
        # The signing secret of our webhook endpoint at Stripe (whsec_...).
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET") or None,
        # The signing secret of the Connect endpoint (same URL) that receives the events
        # of partners' connected accounts (payout.*); Stripe gives each endpoint its own.
        "STRIPE_CONNECT_WEBHOOK_SECRET": os.environ.get("STRIPE_CONNECT_WEBHOOK_SECRET") or None,
        # Another server speaking Stripe's API, such as stripe-mock in the tests.
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE") or None,
    }


def _local_webhook_secret(app: Flask) -> str:
    """The local provider signs its simulated webhooks with STRIPE_WEBHOOK_SECRET when
    set, else with a secret derived from SECRET_KEY (stable across restarts)."""
    if app.config.get("STRIPE_WEBHOOK_SECRET"):
        return app.config["STRIPE_WEBHOOK_SECRET"]
    digest = hmac.new(app.config["SECRET_KEY"].encode("utf-8"),
                      b"bazaar local billing webhooks", hashlib.sha256).hexdigest()
    return f"whsec_local_{digest}"


def build_provider(app: Flask) -> PaymentProvider:
    """The provider the configuration asks for. Raises ``ConfigError`` when Stripe is
    configured without its webhook secret."""
    from storefront.config import ConfigError

    secret_key = app.config.get("STRIPE_SECRET_KEY")
    if secret_key:
        webhook_secret = app.config.get("STRIPE_WEBHOOK_SECRET")
        if not webhook_secret:
            raise ConfigError("STRIPE_WEBHOOK_SECRET must be set when STRIPE_SECRET_KEY is: "
                              "without it no Stripe webhook can be verified.")
        from billing.stripe_provider import StripeProvider, build_client

        client = build_client(secret_key, app.config.get("STRIPE_API_BASE"))
        return StripeProvider(client, webhook_secret,
                              app.config.get("STRIPE_CONNECT_WEBHOOK_SECRET"))

    from billing.local_provider import LocalProvider

    return LocalProvider(app.extensions["bazaar.engine"], _local_webhook_secret(app))


def get_provider(app: Flask | None = None) -> PaymentProvider:
    """The app's payment provider (built at start-up by ``billing.init_app``)."""
    return (app or current_app).extensions[EXTENSION_KEY]
