"""The partner's webhook pages: deliveries, attempts, redelivery and the signing secret."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlmodel import select

from accounts.models import Role
from core.db import utcnow
from tests import factories
from webhooks.models import WebhookAttempt, WebhookDelivery


@pytest.fixture
def owner(db):
    return factories.make_user(db, Role.PARTNER)


@pytest.fixture
def listing(db, owner):
    return factories.make_listing(db, partner=_partner_of(db, owner))


def _partner_of(db, user):
    return db.get(factories.Partner, user.partner_id)


def failed_delivery(db, listing):
    """A delivery whose three attempts got 500s, with the listing marked as failing."""
    delivery = factories.make_webhook_delivery(db, listing, "install.uninstalled",
                                               {"install": {"id": 77, "status": "uninstalled"}})
    now = utcnow()
    for n in range(3):
        db.add(WebhookAttempt(delivery_id=delivery.id, attempted_at=now - timedelta(minutes=3 - n),
                              duration_ms=120 + n, response_status=500,
                              response_body=f"upstream exploded #{n}"))
    delivery.status, delivery.attempts, delivery.next_attempt_at = "failed", 3, None
    delivery.response_status, delivery.last_error = 500, "answered HTTP 500"
    listing.webhook_failing_since, listing.webhook_last_error = now, "answered HTTP 500"
    factories.save(db, delivery, listing)
    return delivery


def test_deliveries_page_lists_events_newest_first_with_their_outcome(client, login, db, owner,
                                                                      listing):
    older = failed_delivery(db, listing)
    newer = factories.make_webhook_delivery(db, listing, "install.created")
    newer.created_at = older.created_at + timedelta(seconds=5)
    factories.save(db, newer)
    login(owner)

    page = client.get(f"/partner/listings/{listing.id}/webhooks").get_data(as_text=True)

    assert page.index(newer.event_id) < page.index(older.event_id)
    assert "install.uninstalled" in page and "install.created" in page
    assert "Failed" in page and "Pending" in page and "HTTP 500" in page
    assert "not sent yet" in page
    assert "https://app.example.com/webhooks" in page  # the live release's endpoint
    # The failing banner names the endpoint, the time and the last error.
    assert "Deliveries to https://app.example.com/webhooks have been failing since" in page
    assert "answered HTTP 500" in page
    # The signing secret is shown to its partner.
    secret = db.get(type(listing), listing.id).webhook_secret
    assert secret and secret in page


def test_listing_page_links_to_webhooks_and_warns_about_a_failing_endpoint(client, login, db,
                                                                           owner, listing):
    login(owner)
    page = client.get(f"/partner/listings/{listing.id}").get_data(as_text=True)
    assert f"/partner/listings/{listing.id}/webhooks" in page
    assert "have been failing since" not in page

    failed_delivery(db, listing)
    page = client.get(f"/partner/listings/{listing.id}").get_data(as_text=True)
    assert "have been failing since" in page and "answered HTTP 500" in page


def test_delivery_page_shows_payload_and_every_attempt(client, login, db, owner, listing):
    delivery = failed_delivery(db, listing)
    login(owner)

    page = client.get(f"/partner/listings/{listing.id}/webhooks/{delivery.id}").get_data(as_text=True)

    assert delivery.event_id in page
    # Pretty-printed for reading, and the exact bytes that were signed.
    assert "&#34;status&#34;: &#34;uninstalled&#34;" in page
    assert str(escape(delivery.payload)) in page
    assert "Attempts (3)" in page
    for n in range(3):
        assert f"upstream exploded #{n}" in page
        assert f"{120 + n} ms" in page
    assert "Redeliver" in page


def test_deliveries_are_paginated(client, login, db, owner, listing):
    for _ in range(27):
        factories.make_webhook_delivery(db, listing)
    login(owner)
    first = client.get(f"/partner/listings/{listing.id}/webhooks").get_data(as_text=True)
    second = client.get(f"/partner/listings/{listing.id}/webhooks?page=2").get_data(as_text=True)
    assert "Events (27)" in first and "Page 1 of 2" in first
    assert first.count("evt_") == 25 and second.count("evt_") == 2


def test_redeliver_queues_the_same_event_now(client, login, db, owner, listing):
    delivery = failed_delivery(db, listing)
    login(owner)

    response = client.post(f"/partner/listings/{listing.id}/webhooks/{delivery.id}/redeliver")

    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "queued to be sent again" in page
    db.expire_all()
    queued = db.get(WebhookDelivery, delivery.id)
    assert queued.status == "pending" and queued.attempts == 0
    assert queued.event_id == delivery.event_id and queued.payload == delivery.payload
    # Due now (compared naive: SQLite hands datetimes back without a zone; all are UTC).
    due = queued.next_attempt_at.replace(tzinfo=None)
    assert abs((utcnow().replace(tzinfo=None) - due).total_seconds()) < 60
    # The history stays.
    assert len(db.exec(select(WebhookAttempt)
                       .where(WebhookAttempt.delivery_id == delivery.id)).all()) == 3


def test_redeliver_refuses_a_delivery_being_sent(client, login, db, owner, listing):
    delivery = factories.make_webhook_delivery(db, listing)
    delivery.locked_until = utcnow() + timedelta(minutes=5)
    factories.save(db, delivery)
    login(owner)

    response = client.post(f"/partner/listings/{listing.id}/webhooks/{delivery.id}/redeliver",
                           follow_redirects=True)

    assert "being sent right now" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(WebhookDelivery, delivery.id).locked_until is not None


def test_roll_secret_replaces_it(client, login, db, owner, listing):
    factories.make_webhook_delivery(db, listing)
    old = db.get(type(listing), listing.id).webhook_secret
    login(owner)

    response = client.post(f"/partner/listings/{listing.id}/webhooks/secret/roll",
                           follow_redirects=True)

    page = response.get_data(as_text=True)
    db.expire_all()
    new = db.get(type(listing), listing.id).webhook_secret
    assert new and new != old and new.startswith("whsec_")
    assert new in page and old not in page
    assert "new signing secret" in page


def test_a_listing_without_events_can_create_its_secret(client, login, db, owner, listing):
    login(owner)
    page = client.get(f"/partner/listings/{listing.id}/webhooks").get_data(as_text=True)
    assert "No events yet" in page and "Create the signing secret" in page
    client.post(f"/partner/listings/{listing.id}/webhooks/secret/roll")
    db.expire_all()
    assert db.get(type(listing), listing.id).webhook_secret.startswith("whsec_")


def test_another_partners_listing_or_delivery_is_not_found(client, login, db, owner, listing):
    delivery = failed_delivery(db, listing)
    other_listing = factories.make_listing(db, partner=_partner_of(db, owner))
    stranger = factories.make_user(db, Role.PARTNER)

    login(owner)
    # The owner's own delivery, asked for through its other listing: 404.
    assert client.get(f"/partner/listings/{other_listing.id}/webhooks/{delivery.id}").status_code == 404
    assert client.post(f"/partner/listings/{other_listing.id}/webhooks/{delivery.id}/redeliver"
                       ).status_code == 404

    client.post("/account/logout")
    login(stranger)
    base = f"/partner/listings/{listing.id}/webhooks"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/{delivery.id}").status_code == 404
    assert client.post(f"{base}/{delivery.id}/redeliver").status_code == 404
    assert client.post(f"{base}/secret/roll").status_code == 404
    db.expire_all()
    assert db.get(WebhookDelivery, delivery.id).status == "failed"


@pytest.mark.parametrize("app_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_redeliver_and_roll_need_the_csrf_token(client, db, owner, listing):
    delivery = failed_delivery(db, listing)
    secret = db.get(type(listing), listing.id).webhook_secret
    login_page = client.get("/account/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/account/login", data={"email": owner.email, "password": factories.PASSWORD,
                                        "csrf_token": token})
    base = f"/partner/listings/{listing.id}/webhooks"

    assert client.post(f"{base}/{delivery.id}/redeliver").status_code == 400
    assert client.post(f"{base}/secret/roll").status_code == 400

    db.expire_all()
    assert db.get(WebhookDelivery, delivery.id).status == "failed"
    assert db.get(type(listing), listing.id).webhook_secret == secret
    # With the token from the page, the same request works.
    page = client.get(f"{base}/{delivery.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"{base}/{delivery.id}/redeliver",
                       data={"csrf_token": token}).status_code == 302
    db.expire_all()
    assert db.get(WebhookDelivery, delivery.id).status == "pending"
