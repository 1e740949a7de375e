"""The webhook portal's read queries (webhooks/queries.py), called directly: a
listing's deliveries never include another listing's (another partner's), newest
first, a page at a time, with every attempt counted."""

from __future__ import annotations

from datetime import timedelta

from core.db import utcnow
from tests import factories
from webhooks.models import WebhookAttempt
from webhooks.queries import deliveries_page, delivery_attempts, listing_delivery


def attempt(db, delivery, minutes_ago: int, status: int = 500) -> WebhookAttempt:
    return factories.save(db, WebhookAttempt(delivery_id=delivery.id, response_status=status,
                                             attempted_at=utcnow() - timedelta(minutes=minutes_ago)))


def test_a_delivery_is_found_only_through_its_own_listing(db):
    ours, theirs = factories.make_listing(db), factories.make_listing(db)  # two partners
    delivery = factories.make_webhook_delivery(db, ours)
    assert listing_delivery(db, ours.id, delivery.id).id == delivery.id
    assert listing_delivery(db, theirs.id, delivery.id) is None
    assert listing_delivery(db, ours.id, delivery.id + 1000) is None


def test_deliveries_are_the_listings_own_newest_first_a_page_at_a_time(db):
    ours, theirs = factories.make_listing(db), factories.make_listing(db)
    now = utcnow()
    made = [factories.make_webhook_delivery(db, ours) for _ in range(3)]
    for hours_ago, delivery in zip((2, 0, 1), made, strict=True):
        delivery.created_at = now - timedelta(hours=hours_ago)
    factories.save(db, *made)
    factories.make_webhook_delivery(db, theirs)

    first = deliveries_page(db, ours.id, page=1, per_page=2)
    second = deliveries_page(db, ours.id, page=2, per_page=2)

    assert [d.id for d in first.deliveries + second.deliveries] == [made[1].id, made[2].id,
                                                                    made[0].id]
    assert (first.total, second.total) == (3, 3)
    assert deliveries_page(db, theirs.id, page=1, per_page=10).total == 1
    assert deliveries_page(db, ours.id, page=3, per_page=2).deliveries == []


def test_each_delivery_on_the_page_has_its_attempts_counted(db):
    listing = factories.make_listing(db)
    tried = factories.make_webhook_delivery(db, listing)
    factories.make_webhook_delivery(db, listing)  # not tried yet: no count at all
    for minutes_ago in (3, 2, 1):
        attempt(db, tried, minutes_ago)
    assert deliveries_page(db, listing.id, page=1, per_page=10).attempts == {tried.id: 3}
    assert deliveries_page(db, factories.make_listing(db).id, 1, 10).attempts == {}


def test_a_deliverys_attempts_latest_first_and_no_other_deliverys(db):
    listing = factories.make_listing(db)
    delivery, other = (factories.make_webhook_delivery(db, listing) for _ in range(2))
    oldest, latest, middle = (attempt(db, delivery, minutes) for minutes in (30, 1, 10))
    attempt(db, other, 0)
    assert [a.id for a in delivery_attempts(db, delivery.id)] == [latest.id, middle.id, oldest.id]
