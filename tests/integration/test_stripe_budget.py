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
from billing.interfaces import DEFAULT_CALL_BUDGET, WORKER_TIMEOUT, ProviderUnavailable
from core.settings import ConfigError
from tests import factories

SECRET = "whsec_budget_tests"


def stripe_config(database_url, tmp_path, api_base: str, **settings) -> dict:
    return {"TESTING": True, "DATABASE_URL": database_url, "WEBHOOK_SENDER": "off",
            "USAGE_SENDER": "off", "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "STRIPE_SECRET_KEY": "sk_test_budget", "STRIPE_WEBHOOK_SECRET": SECRET,
            # stripe-mock (or a hung server) serves no v2 meter event stream.
            "STRIPE_API_BASE": api_base, "STRIPE_METER_EVENTS": "v1", **settings}


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


class SlowClock:
    """A clock on which every Stripe call takes ``seconds``: read once per call."""

    def __init__(self, seconds: float):
        self.now, self.seconds = 0.0, seconds

    def __call__(self) -> float:
        self.now += self.seconds
        return self.now


def test_a_first_checkout_whose_stripe_calls_add_up_stops_before_the_worker_timeout(
        make_app, stripe_mock_url):
    """Each call fits its budget, but a first checkout makes five (customer, product,
    price, checkout session...): the ones that could end past the request's budget are
    not started, and the customer is asked to try again instead of meeting a killed
    worker. Stripe's side is real (stripe-mock); only the time each call takes is not."""
    app = make_app(stripe_mock_url, STRIPE_CALL_BUDGET=12, WTF_CSRF_ENABLED=False,
                   RATELIMIT_ENABLED=False, SERVER_NAME="bazaar.test")
    provider = get_provider(app)
    provider.request_budget.clock = SlowClock(8.0)  # every call "takes" 8 s
    made = []
    original = provider.request_budget.before_call

    def counting():
        original()
        made.append(1)

    provider.request_budget.before_call = counting
    with app.app_context():
        from sqlmodel import Session

        from listings.services import current_release

        with Session(app.extensions["bazaar.engine"], expire_on_commit=False) as db:
            listing = factories.make_paid_listing(db, monthly_price=2500)
            admin = factories.make_user(db)
            factories.make_workspace(db, admin)
            release_id = current_release(db, listing.id).id
    client = app.test_client()
    signed_in = client.post("/account/login",
                            data={"email": admin.email, "password": factories.PASSWORD})
    assert signed_in.status_code == 302

    response = client.post(f"/apps/{listing.slug}/install/confirm",
                           data={"release_id": release_id})

    # Calls at 0 s and 8 s were started (8 + 12 <= 25); one at 16 s could end at 28 s.
    assert "checkout.stripe.com" not in (response.location or "")
    assert len(made) == 2
    page = client.get(response.location).get_data(as_text=True)
    assert "please try again in a few minutes" in page


def test_outside_a_request_provider_calls_are_not_limited_by_a_request_budget():
    from billing.providers import RequestBudget

    budget = RequestBudget(12.0, clock=SlowClock(100.0))
    for _ in range(3):
        budget.before_call()  # the CLI and the senders: no worker timeout waits on them
