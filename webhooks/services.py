"""Partner webhooks: building events and putting them in the delivery outbox.

An event is written as a ``WebhookDelivery`` row in the caller's transaction,
so it exists exactly when the change it reports was committed. After that
commit the process's sender is woken (``webhooks.sender``); sending itself is
``webhooks.delivery.deliver_due``.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from core.db import utcnow
from installs.models import InstallEvent
from listings.models import Listing
from listings.services import ensure_webhook_secret
from webhooks.models import DeliveryStatus, WebhookDelivery

# The payload format's version, sent in every event; bump it (and document the
# change in docs/webhooks.md) when a field's meaning changes.
API_VERSION = "2026-11-01"

# Sent when the partner presses "Send test event"; signed and delivered like the others.
TEST_EVENT_TYPE = "webhook.test"

EVENT_TYPES = (
    "install.created",
    "install.scopes_updated",
    "install.uninstalled",
    "trial.will_end",
    "trial.ended",
    "workspace.data_redact",
    TEST_EVENT_TYPE,
)

# Session.info flag: this transaction queued deliveries, so wake the sender
# after it commits (see webhooks.sender).
PENDING_INFO_KEY = "webhook_deliveries_queued"


class RedeliveryError(ValueError):
    """A delivery that cannot be queued again right now (the message says why)."""


class NoEndpointError(ValueError):
    """The listing has no webhook URL, so there is nowhere to send an event."""


def deliver_install_event(session: Session, event: InstallEvent) -> None:
    """The consumer of install events (``installs.ports``): one delivery to the app's
    endpoint per event, in the transaction that recorded it."""
    enqueue_event(session, session.get(Listing, event.listing_id), event.event_type, event.data,
                  install_id=event.install_id)


def enqueue_event(session: Session, listing, event_type: str, data: dict, *,
                  install_id: int | None = None) -> WebhookDelivery | None:
    """Record ``event_type`` for ``listing``'s webhook endpoint in the session's transaction.

    The endpoint is the listing's webhook URL (``Listing.webhook_url``, which the
    partner sets in the portal); an app without one gets no delivery (None). The
    body is fixed here, so what is signed and resent later is byte for byte what
    was recorded.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    if not listing.webhook_url:
        return None
    ensure_webhook_secret(listing)
    session.add(listing)
    event_id = "evt_" + uuid.uuid4().hex
    body = json.dumps({
        "id": event_id,
        "type": event_type,
        "api_version": API_VERSION,
        "created_at": utcnow().isoformat().replace("+00:00", "Z"),
        "listing": {"id": listing.id, "slug": listing.slug},
        "data": data,
    }, separators=(",", ":"), sort_keys=True)
    delivery = WebhookDelivery(event_id=event_id, event_type=event_type, listing_id=listing.id,
                               install_id=install_id, url=listing.webhook_url, payload=body)
    session.add(delivery)
    session.flush()
    session.info[PENDING_INFO_KEY] = True
    return delivery


def send_test_event(session: Session, listing) -> WebhookDelivery:
    """Queue a ``webhook.test`` event to ``listing``'s endpoint, in the session's
    transaction; the sender posts it after commit, signed like every event.

    Raises ``NoEndpointError`` when the listing has no webhook URL.
    """
    if not listing.webhook_url:
        raise NoEndpointError("Add a webhook URL first, then send a test event to it.")
    return enqueue_event(session, listing, TEST_EVENT_TYPE, {
        "message": "A test event sent from the partner portal. If its signature checks out, "
                   "your endpoint is ready.",
    })


def roll_webhook_secret(listing) -> str:
    """Replace the listing's signing secret; every request from now on is signed with the new one.

    Install tokens not yet redeemed were signed with the old secret and stop
    verifying (they live ten minutes).
    """
    listing.webhook_secret = None
    return ensure_webhook_secret(listing)


def redeliver(session: Session, delivery: WebhookDelivery, now: datetime | None = None) -> None:
    """Queue ``delivery`` to be sent again at once: same event id, same body.

    Works for succeeded, failed and waiting deliveries, and starts a fresh
    retry schedule. It goes to the listing's webhook URL now (the partner may
    have fixed the URL since), or where it went before when there is none. A delivery that a
    sender is posting right now raises ``RedeliveryError``.
    """
    now = now or utcnow()
    listing = session.get(Listing, delivery.listing_id)
    url = listing.webhook_url or delivery.url
    # Conditional, like a sender's claim: a row being posted is left alone,
    # so it is never posted twice at once.
    queued = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id,
               or_(col(WebhookDelivery.locked_until).is_(None),
                   col(WebhookDelivery.locked_until) < now))
        .values(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now,
                locked_until=None, url=url)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not queued:
        raise RedeliveryError("This event is being sent right now. Wait a moment, then look at "
                              "the attempt's result.")
    session.refresh(delivery)
    session.info[PENDING_INFO_KEY] = True


def delivery_counts(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Deliveries per status, plus ``due``: pending ones whose time has come."""
    now = now or utcnow()
    counts = dict(session.exec(select(WebhookDelivery.status, func.count())
                               .group_by(WebhookDelivery.status)).all())
    due = session.exec(select(func.count()).select_from(WebhookDelivery).where(
        WebhookDelivery.status == DeliveryStatus.PENDING,
        col(WebhookDelivery.next_attempt_at) <= now)).one()
    return {**{status.value: counts.get(status.value, 0) for status in DeliveryStatus}, "due": due}
