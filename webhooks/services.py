"""Partner webhooks: building events and putting them in the delivery outbox.

An event is written as a ``WebhookDelivery`` row in the caller's transaction,
so it exists exactly when the change it reports was committed.
"""

from __future__ import annotations

import json
import secrets
import uuid

from sqlmodel import Session

from storefront.db import utcnow
from webhooks.models import WebhookDelivery

# The payload format's version, sent in every event; bump it (and document the
# change in docs/webhooks.md) when a field's meaning changes.
API_VERSION = "2026-11-01"

EVENT_TYPES = (
    "install.created",
    "install.scopes_updated",
    "install.uninstalled",
    "trial.will_end",
    "trial.ended",
    "workspace.data_redact",
)


def ensure_webhook_secret(listing) -> str:
    """The listing's signing secret, made on first use (shown to its partner)."""
    if not listing.webhook_secret:
        listing.webhook_secret = "whsec_" + secrets.token_urlsafe(32)
    return listing.webhook_secret


def enqueue_event(session: Session, listing, event_type: str, data: dict, *,
                  install_id: int | None = None) -> WebhookDelivery | None:
    """Record ``event_type`` for ``listing``'s webhook endpoint in the session's transaction.

    The endpoint is the one in the app's current approved release; an app
    without one gets no delivery (None). The body is fixed here, so what is
    signed and resent later is byte for byte what was recorded.
    """
    from listings.services import current_release

    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    release = current_release(session, listing.id)
    if release is None or not release.webhook_url:
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
                               install_id=install_id, url=release.webhook_url, payload=body)
    session.add(delivery)
    session.flush()
    return delivery
