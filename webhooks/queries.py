"""Read queries behind the partner portal's webhook pages: a listing's deliveries a
page at a time, their attempt counts, and one delivery's attempts.

Each takes a Session and plain arguments, so it can be tested without a request.
Every function is scoped by a listing id (or a delivery already found through it):
the views find the listing through the signed-in member's own partner first.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from webhooks.models import WebhookAttempt, WebhookDelivery


@dataclass
class DeliveriesPage:
    """One page of a listing's deliveries, how many it has in all, and how many
    attempts each delivery on the page has had (by delivery id; none yet: absent)."""

    deliveries: list[WebhookDelivery]
    total: int
    attempts: dict[int, int]


def listing_delivery(session: Session, listing_id: int, delivery_id: int) -> WebhookDelivery | None:
    """The delivery with this id when it belongs to the listing; None otherwise, so
    another listing's delivery is not admitted to exist."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.listing_id != listing_id:
        return None
    return delivery


def deliveries_page(session: Session, listing_id: int, page: int, per_page: int) -> DeliveriesPage:
    """The listing's deliveries, newest first, one page (1-based), with the number of
    attempts each has had: every attempt ever made, since a redelivery restarts the
    retry count but not the history."""
    query = select(WebhookDelivery).where(WebhookDelivery.listing_id == listing_id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = list(session.exec(query.order_by(col(WebhookDelivery.created_at).desc(),
                                            col(WebhookDelivery.id).desc())
                             .offset((page - 1) * per_page).limit(per_page)).all())
    attempts = dict(session.exec(
        select(WebhookAttempt.delivery_id, func.count())
        .where(col(WebhookAttempt.delivery_id).in_([row.id for row in rows]))
        .group_by(WebhookAttempt.delivery_id)).all()) if rows else {}
    return DeliveriesPage(rows, total, attempts)


def delivery_attempts(session: Session, delivery_id: int) -> list[WebhookAttempt]:
    """Every attempt to send the delivery, the latest first."""
    return list(session.exec(select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)
                             .order_by(col(WebhookAttempt.attempted_at).desc(),
                                       col(WebhookAttempt.id).desc())).all())


def latest_delivery_of_type(session: Session, listing_id: int,
                            event_type: str) -> WebhookDelivery | None:
    """The listing's newest delivery of ``event_type`` (the last test event), or None."""
    return session.exec(select(WebhookDelivery)
                        .where(WebhookDelivery.listing_id == listing_id,
                               WebhookDelivery.event_type == event_type)
                        .order_by(col(WebhookDelivery.created_at).desc(),
                                  col(WebhookDelivery.id).desc())).first()
