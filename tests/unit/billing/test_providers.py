"""Choosing the payment provider at start-up from the STRIPE_* settings."""

from __future__ import annotations

import json
import time

import pytest
import stripe

from app import create_app
from billing import get_provider
from billing.interfaces import InvalidWebhook
from billing.local_provider import LocalProvider
from billing.stripe_provider import StripeProvider
from core.settings import ConfigError


@pytest.fixture
def config(database_url, tmp_path) -> dict:
    return {"TESTING": True, "DATABASE_URL": database_url, "WEBHOOK_SENDER": "off",
            "USAGE_SENDER": "off", "UPLOAD_FOLDER": str(tmp_path / "uploads")}


def test_without_a_stripe_key_the_local_test_mode_provider_is_used(app):
    provider = get_provider(app)
    assert isinstance(provider, LocalProvider)
    assert provider.name == "local" and provider.test_mode
    assert app.extensions["bazaar.billing.provider"] is provider


def test_a_stripe_key_selects_stripe_at_the_configured_api_base(config):
    config.update(STRIPE_SECRET_KEY="sk_test_abc123", STRIPE_WEBHOOK_SECRET="whsec_abc",
                  STRIPE_API_BASE="http://127.0.0.1:12111/")
    app = create_app(config)
    try:
        provider = get_provider(app)
        assert isinstance(provider, StripeProvider)
        assert provider.client._requestor.base_addresses["api"] == "http://127.0.0.1:12111"
        assert "sk_test_abc123" not in repr(provider)
    finally:
        app.extensions["bazaar.engine"].dispose()


def test_a_stripe_key_without_the_webhook_secret_fails_at_start_up(config):
    config.update(STRIPE_SECRET_KEY="sk_test_abc123")
    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET"):
        create_app(config)


def test_settings_come_from_the_environment(config, monkeypatch):
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_fromenv")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_fromenv")
    monkeypatch.delenv("STRIPE_API_BASE", raising=False)
    app = create_app(config)
    try:
        assert isinstance(get_provider(app), StripeProvider)
        assert app.config["STRIPE_API_BASE"] is None
    finally:
        app.extensions["bazaar.engine"].dispose()


@pytest.mark.parametrize("setting, batch", [(None, 100), ("stream", 100), ("v1", 1)])
def test_stripe_meter_events_go_on_the_stream_unless_set_to_v1(config, setting, batch):
    config.update(STRIPE_SECRET_KEY="sk_test_abc123", STRIPE_WEBHOOK_SECRET="whsec_abc")
    if setting:
        config["STRIPE_METER_EVENTS"] = setting
    app = create_app(config)
    try:
        provider = get_provider(app)
        assert provider.meter_events == (setting or "stream")
        assert provider.meter_batch_size == batch
    finally:
        app.extensions["bazaar.engine"].dispose()


def test_a_bad_meter_events_override_stops_the_app_at_start_up(config):
    config.update(STRIPE_SECRET_KEY="sk_test_abc123", STRIPE_WEBHOOK_SECRET="whsec_abc",
                  STRIPE_METER_EVENTS="v2")
    with pytest.raises(ConfigError, match="STRIPE_METER_EVENTS must be one of stream, v1"):
        create_app(config)


def test_an_absurd_fee_setting_stops_the_app_at_start_up(config, monkeypatch):
    monkeypatch.setenv("BILLING_FEE_PERCENT_REGISTERED", "250")
    with pytest.raises(ConfigError, match="BILLING_FEE_PERCENT_REGISTERED"):
        create_app(config)


def test_the_connect_endpoints_secret_verifies_its_events_too(config, monkeypatch):
    monkeypatch.setenv("STRIPE_CONNECT_WEBHOOK_SECRET", "whsec_connect_fromenv")
    config.update(STRIPE_SECRET_KEY="sk_test_abc123", STRIPE_WEBHOOK_SECRET="whsec_platform",
                  STRIPE_API_BASE="http://127.0.0.1:12111/")
    app = create_app(config)
    try:
        provider = get_provider(app)
        body = json.dumps({"id": "evt_1", "object": "event", "type": "payout.paid",
                           "created": int(time.time()), "account": "acct_1",
                           "data": {"object": {"id": "po_1"}}})

        def signed(secret):
            return stripe.WebhookSignature.generate_signature_header(
                body, secret, timestamp=int(time.time()))

        for secret in ("whsec_platform", "whsec_connect_fromenv"):
            assert provider.parse_webhook(body.encode(), signed(secret)).account == "acct_1"
        with pytest.raises(InvalidWebhook):
            provider.parse_webhook(body.encode(), signed("whsec_someone_else"))
        assert "whsec_connect_fromenv" not in repr(provider)
    finally:
        app.extensions["bazaar.engine"].dispose()
