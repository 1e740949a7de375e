"""Partner portal pages for a listing's webhooks: deliveries, their attempts,
redelivery, and the signing secret.

Like the rest of the portal, every object is found through the signed-in
member's own partner: another partner's listing (or a delivery of another
listing) answers 404.
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from core.db import get_session
from core.pagination import page_count, page_number
from core.security import partner_required
from listings.access import own_listing
from listings.models import Listing
from listings.services import current_release, ensure_webhook_secret
from webhooks.models import WebhookDelivery
from webhooks.queries import deliveries_page, delivery_attempts, listing_delivery
from webhooks.services import (
    RedeliveryError,
    roll_webhook_secret,
)
from webhooks.services import (
    redeliver as redeliver_service,
)

bp = Blueprint("webhooks", __name__, url_prefix="/partner/listings/<int:listing_id>/webhooks")

PAGE_SIZE = 25


def _own_delivery(session, listing: Listing, delivery_id: int) -> WebhookDelivery:
    delivery = listing_delivery(session, listing.id, delivery_id)
    if delivery is None:
        abort(404)
    return delivery


@bp.route("")
@partner_required
def deliveries(listing_id: int):
    """The listing's webhook events, newest first, with the endpoint and signing secret."""
    session = get_session()
    listing = own_listing(session, listing_id)
    page = page_number()
    found = deliveries_page(session, listing.id, page, PAGE_SIZE)
    release = current_release(session, listing.id)
    return render_template("webhooks/deliveries.html", listing=listing, rows=found.deliveries,
                           attempts=found.attempts, total=found.total, page=page,
                           pages=page_count(found.total, PAGE_SIZE),
                           endpoint=release.webhook_url if release else None)


@bp.route("/<int:delivery_id>")
@partner_required
def delivery(listing_id: int, delivery_id: int):
    """One event: the exact payload sent and every attempt with its answer."""
    session = get_session()
    listing = own_listing(session, listing_id)
    item = _own_delivery(session, listing, delivery_id)
    attempts = delivery_attempts(session, item.id)
    try:
        pretty = json.dumps(json.loads(item.payload), indent=2, sort_keys=True)
    except ValueError:
        pretty = item.payload
    return render_template("webhooks/delivery.html", listing=listing, delivery=item,
                           attempts=attempts, pretty_payload=pretty)


@bp.route("/<int:delivery_id>/redeliver", methods=["POST"])
@partner_required
def redeliver(listing_id: int, delivery_id: int):
    """Send the event again now, with the same event id and body."""
    session = get_session()
    listing = own_listing(session, listing_id)
    item = _own_delivery(session, listing, delivery_id)
    try:
        redeliver_service(session, item)
    except RedeliveryError as error:
        session.rollback()
        flash(str(error), "error")
    else:
        session.commit()
        flash(f"Event {item.event_id} is queued to be sent again, with the same event id.",
              "success")
    return redirect(url_for("webhooks.delivery", listing_id=listing.id, delivery_id=item.id))


@bp.route("/secret/roll", methods=["POST"])
@partner_required
def roll_secret(listing_id: int):
    """Make a new signing secret (or the first one)."""
    session = get_session()
    listing = own_listing(session, listing_id)
    had_secret = bool(listing.webhook_secret)
    if had_secret:
        roll_webhook_secret(listing)
    else:
        ensure_webhook_secret(listing)
    session.add(listing)
    session.commit()
    flash("A new signing secret is ready. Requests are signed with it from now on: put it in "
          "your app's configuration." if had_secret else "Your signing secret is ready.", "success")
    return redirect(url_for("webhooks.deliveries", listing_id=listing.id, _anchor="signing-secret"))
