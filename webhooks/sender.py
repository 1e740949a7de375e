"""The background sender: one daemon thread per process that posts due deliveries.

It is woken right after a commit that queued deliveries (enqueue_event or a
redelivery set ``PENDING_INFO_KEY`` on the session), and otherwise looks for
due retries every ``POLL_INTERVAL``. It starts lazily, on the first request or
the first such commit, so each gunicorn worker (forked after import) gets its
own; the claim in ``deliver_due`` keeps several of them from posting one row
twice.
"""

from __future__ import annotations

from flask import Flask
from sqlmodel import col

from core.outbox import OutboxSender, register_outbox, wake_after_commit
from webhooks.delivery import DEFAULT_BATCH, deliver_due
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.services import PENDING_INFO_KEY

EXTENSION_KEY = "bazaar.webhooks.sender"


def sender_of(app: Flask) -> OutboxSender | None:
    """The app's background sender, or None when ``WEBHOOK_SENDER`` is "off"."""
    return app.extensions.get(EXTENSION_KEY)


wake_after_commit(PENDING_INFO_KEY, EXTENSION_KEY)


def _deliver_round(app: Flask) -> int:
    return deliver_due(app, limit=DEFAULT_BATCH).attempted


def init_sender(app: Flask) -> None:
    """Register the outbox with the worker, and run a sender in each web process
    too when ``WEBHOOK_SENDER`` is "thread"."""
    register_outbox(app, "webhooks", _deliver_round, batch=DEFAULT_BATCH,
                    queued_at=WebhookDelivery.created_at,
                    due=lambda now: [WebhookDelivery.status == DeliveryStatus.PENDING,
                                     col(WebhookDelivery.next_attempt_at) <= now],
                    given_up=lambda: [WebhookDelivery.status == DeliveryStatus.FAILED])
    if app.config["WEBHOOK_SENDER"] != "thread":
        return
    sender = OutboxSender(app, _deliver_round, name="bazaar-webhook-sender",
                          batch=DEFAULT_BATCH)
    app.extensions[EXTENSION_KEY] = sender
    # Started by the first request too, so retries go out even from a worker
    # that never queues an event itself.
    app.before_request(sender.ensure_started)
