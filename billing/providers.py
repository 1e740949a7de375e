"""Choosing the payment provider: Stripe when ``STRIPE_SECRET_KEY`` is set, else the
local provider (test mode). Built once at start-up and kept in ``app.extensions``."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

from flask import Flask, current_app, has_request_context, request

from billing.interfaces import (
    MAX_CALL_BUDGET,
    PaymentProvider,
    ProviderUnavailable,
)
from billing.local_provider import LocalProvider
from billing.stripe_provider import StripeProvider, build_client
from core.settings import ConfigError

EXTENSION_KEY = "bazaar.billing.provider"



class RequestBudget:
    """Keeps all the provider calls of one web request, together, inside the worker
    timeout: each call ends within ``call_budget``, but a request that makes several
    (a first checkout: customer, product, prices, session) could add them up past it.
    A call that might end more than ``request_budget`` seconds after the request's first
    one is not started: the request answers "try again" instead of being killed.

    Outside a request (the CLI, the background senders) nothing is limited: no worker
    timeout waits on them.
    """

    STARTED = "bazaar.provider_calls_started"

    def __init__(self, call_budget: float, request_budget: float = MAX_CALL_BUDGET,
                 clock: Callable[[], float] = time.monotonic):
        self.call_budget = call_budget
        self.request_budget = request_budget
        self.clock = clock

    def before_call(self) -> None:
        """Raise ``ProviderUnavailable`` when the next call could outlast the request's
        budget; otherwise note the request's first call."""
        if not has_request_context():
            return
        now = self.clock()
        # In the WSGI environ, not flask.g: g outlives a request when an app context
        # was already pushed (the CLI, tests).
        started = request.environ.setdefault(self.STARTED, now)
        if now - started + self.call_budget > self.request_budget:
            raise ProviderUnavailable("the payment provider is answering slowly; "
                                      "this request stopped before it would time out")


def _local_webhook_secret(app: Flask) -> str:
    """The local provider signs its simulated webhooks with STRIPE_WEBHOOK_SECRET when
    set, else with a secret derived from SECRET_KEY (stable across restarts)."""
    if app.config.get("STRIPE_WEBHOOK_SECRET"):
        return app.config["STRIPE_WEBHOOK_SECRET"]
    digest = hmac.new(app.config["SECRET_KEY"].encode("utf-8"),
                      b"bazaar local billing webhooks", hashlib.sha256).hexdigest()
    return f"whsec_local_{digest}"


def build_provider(app: Flask) -> PaymentProvider:
    """The provider the configuration asks for (the ``STRIPE_*`` settings, checked by
    core/settings.py). Raises ``ConfigError`` when Stripe is configured without its
    webhook secret."""
    budget = app.config["STRIPE_CALL_BUDGET"]
    meter_events = app.config["STRIPE_METER_EVENTS"]
    secret_key = app.config.get("STRIPE_SECRET_KEY")
    if secret_key:
        webhook_secret = app.config.get("STRIPE_WEBHOOK_SECRET")
        if not webhook_secret:
            raise ConfigError("STRIPE_WEBHOOK_SECRET must be set when STRIPE_SECRET_KEY is: "
                              "without it no Stripe webhook can be verified.")
        client = build_client(secret_key, app.config.get("STRIPE_API_BASE"), budget=budget)
        return StripeProvider(client, webhook_secret,
                              app.config.get("STRIPE_CONNECT_WEBHOOK_SECRET"),
                              request_budget=RequestBudget(budget), meter_events=meter_events)

    return LocalProvider(app.extensions["bazaar.engine"], _local_webhook_secret(app))


def get_provider(app: Flask | None = None) -> PaymentProvider:
    """The app's payment provider (built at start-up by ``billing.init_app``)."""
    return (app or current_app).extensions[EXTENSION_KEY]
