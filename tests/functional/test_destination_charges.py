"""Destination charges with the local provider: once the partner's payout account is
enabled, checkout sends the charge to it and keeps the tier's fee for the platform."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.models import PayoutAccountStatus
from billing.providers import get_provider
from listings.services import current_release
from tests import factories


@pytest.fixture
def app_overrides():
    return {"BILLING_FEE_PERCENT_SELECT": Decimal("12.5")}


def checkout_request(app, client, db, listing) -> dict:
    response = client.post(f"/apps/{listing.slug}/install/confirm",
                           data={"release_id": current_release(db, listing.id).id})
    assert response.status_code == 303
    session_id = response.location.rsplit("/", 1)[-1]
    return get_provider(app).get("checkout_session", session_id).data["request"]


def test_checkout_goes_to_the_partners_enabled_account(app, client, db, login, admin):
    partner = factories.make_partner(db, tier="select")
    account, _ = factories.make_payout_account(db, app, partner)
    account.status = PayoutAccountStatus.ENABLED
    factories.save(db, account)
    login(admin)

    request = checkout_request(app, client, db, factories.make_paid_listing(db, partner=partner))

    assert request["destination_account"] == account.provider_account_id
    assert request["application_fee_percent"] == "12.5"


@pytest.mark.parametrize("status", [None, PayoutAccountStatus.PENDING,
                                    PayoutAccountStatus.RESTRICTED])
def test_without_an_enabled_account_the_platform_collects(app, client, db, login, admin, status):
    partner = factories.make_partner(db, tier="select")
    if status is not None:
        account, _ = factories.make_payout_account(db, app, partner)
        account.status = status
        factories.save(db, account)
    login(admin)

    request = checkout_request(app, client, db, factories.make_paid_listing(db, partner=partner))

    assert request["destination_account"] is None
    assert request["application_fee_percent"] is None
