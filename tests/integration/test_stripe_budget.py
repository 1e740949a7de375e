"""A Stripe call, retries included, ends well inside gunicorn's worker timeout.

A local socket that accepts connections and never answers plays a hung Stripe:
the provider must give up within ``STRIPE_CALL_BUDGET`` and raise
``ProviderUnavailable``, and the webhook endpoint must answer 503 (Stripe
delivers the event again) rather than be killed by gunicorn (a 500).
"""

from __future__ import annotations

import time

import pytest

from app import create_app
from billing import get_provider
from billing.interfaces import ProviderUnavailable
from billing.providers import DEFAULT_CALL_BUDGET, WORKER_TIMEOUT
from storefront.config import ConfigError
from tests import factories

SECRET = "whsec_budget_tests"


def stripe_config(database_url, tmp_path, api_base: str, **settings) -> dict:
    return {"TESTING": True, "DATABASE_URL": database_url, "WEBHOOK_SENDER": "off",
            "USAGE_SENDER": "off", "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "STRIPE_SECRET_KEY": "sk_test_budget", "STRIPE_WEBHOOK_SECRET": SECRET,
            "STRIPE_API_BASE": api_base, **settings}


@pytest.fixture
def make_app(database_url, tmp_path):
    apps = []

    def _make(api_base: str, **settings):
        app = create_app(stripe_config(database_url, tmp_path, api_base, **settings))
        apps.append(app)
        return app

    yield _make
    for app in apps:
        app.extensions["bazaar.engine"].dispose()


def test_a_hung_stripe_call_gives_up_within_its_budget(make_app, hung_server_url):
    """With the settings a deployment gets by default: no change of budget."""
    provider = get_provider(make_app(hung_server_url))
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        provider.create_customer(name="Acme", email="billing@acme.test",
                                 metadata={"workspace_id": "1"},
                                 idempotency_key="customer:workspace:1")
    elapsed = time.monotonic() - started
    # Both attempts and the pause between them fit in the budget, which leaves the
    # request's own work room before gunicorn kills the worker.
    assert elapsed < DEFAULT_CALL_BUDGET + 2 < WORKER_TIMEOUT, elapsed


def test_the_webhook_endpoint_answers_503_when_stripe_hangs(make_app, hung_server_url):
    app = make_app(hung_server_url, STRIPE_CALL_BUDGET=3)
    with app.app_context():
        from sqlmodel import Session

        with Session(app.extensions["bazaar.engine"], expire_on_commit=False) as db:
            listing = factories.make_paid_listing(db)
            admin = factories.make_user(db)
            workspace = factories.make_workspace(db, admin)
            subscription = factories.make_subscription(db, workspace, listing)
            subscription.provider = "stripe"
            factories.save(db, subscription)
    event = factories.stripe_event("evt_hung_1", "customer.subscription.updated", {
        "id": subscription.provider_subscription_id, "object": "subscription",
        "status": "past_due", "metadata": {"bazaar_subscription_id": str(subscription.id)}})
    started = time.monotonic()
    response = factories.post_stripe_event(app.test_client(), event, SECRET)
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.get_data(as_text=True)
    assert elapsed < WORKER_TIMEOUT, elapsed
    # Nothing was applied: Stripe's next delivery of the event is processed in full.
    with Session(app.extensions["bazaar.engine"]) as db:
        assert db.get(type(subscription), subscription.id).status == "active"


@pytest.mark.parametrize("value", ["0.5", "60", "ten"])
def test_a_call_budget_out_of_range_stops_start_up(database_url, tmp_path, monkeypatch, value):
    monkeypatch.setenv("STRIPE_CALL_BUDGET", value)
    with pytest.raises(ConfigError, match="STRIPE_CALL_BUDGET"):
        create_app(stripe_config(database_url, tmp_path, "http://127.0.0.1:9"))


def test_the_budget_covers_every_attempt_and_the_pauses_between_them():
    from billing.stripe_provider import MAX_NETWORK_RETRIES, attempt_timeouts, retry_pauses

    for budget in (2.0, 5.0, DEFAULT_CALL_BUDGET, 25.0):
        connect, read = attempt_timeouts(budget)
        assert connect > 0 and read > 0
        worst = (MAX_NETWORK_RETRIES + 1) * (connect + read) + retry_pauses(MAX_NETWORK_RETRIES)
        assert worst <= budget + 1e-9
