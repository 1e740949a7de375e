"""The app's own Stripe provider, configured the way production is, against stripe-mock.

Needs ``BAZAAR_TEST_STRIPE_URL`` (``scripts/stripe-mock start``; ``scripts/test``
exports it). With ``CI=true`` a missing URL fails the run (tests/conftest.py);
elsewhere these tests are deselected, with a note.
"""

from __future__ import annotations

import pytest

from app import create_app
from billing import get_provider
from billing.stripe_provider import StripeProvider


@pytest.fixture
def stripe_app(stripe_mock_url, database_url, tmp_path):
    app = create_app({
        "TESTING": True, "DATABASE_URL": database_url, "WEBHOOK_SENDER": "off",
        "USAGE_SENDER": "off", "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "STRIPE_SECRET_KEY": "sk_test_bazaarintegration",
        "STRIPE_WEBHOOK_SECRET": "whsec_integration", "STRIPE_API_BASE": stripe_mock_url,
        "STRIPE_METER_EVENTS": "v1",  # stripe-mock has no v2 meter event stream
    })
    yield app
    app.extensions["bazaar.engine"].dispose()


def test_the_configured_provider_talks_to_the_api_base(stripe_app):
    provider = get_provider(stripe_app)
    assert isinstance(provider, StripeProvider)
    customer_id = provider.create_customer(name="Acme", email="billing@acme.test",
                                           metadata={"workspace_id": "1"},
                                           idempotency_key="customer:workspace:1")
    # stripe-mock answers with its fixture customer: the request reached it and passed
    # its check against Stripe's published API.
    assert customer_id.startswith("cus_")
    url = provider.create_portal_session(customer_id=customer_id,
                                         return_url="https://bazaar.test/billing",
                                         idempotency_key="portal:workspace:1:202611030915")
    assert url.startswith("https://")
