"""Partner portal pages for a listing's webhooks: the endpoint (changed at once), a
test event, deliveries, their attempts, redelivery, and the signing secret.

Like the rest of the portal, every object is found through the signed-in
member's own partner: another partner's listing (or a delivery of another
listing) answers 404.
"""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user

from core.db import get_session
from core.pagination import page_count, page_number
from core.security import partner_required
from listings.access import own_listing
from listings.models import Listing
from listings.services import ensure_webhook_secret
from listings.webhook_settings import (
    WebhookUrlError,
    plain_http_allowed,
    set_webhook_url,
)
from webhooks.forms import WebhookEndpointForm
from webhooks.models import WebhookDelivery
from webhooks.queries import (
    deliveries_page,
    delivery_attempts,
    latest_delivery_of_type,
    listing_delivery,
)
from webhooks.services import (
    TEST_EVENT_TYPE,
    NoEndpointError,
    RedeliveryError,
    roll_webhook_secret,
    send_test_event,
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


def _render_deliveries(session, listing: Listing, form: WebhookEndpointForm | None = None,
                       status: int = 200):
    page = page_number()
    found = deliveries_page(session, listing.id, page, PAGE_SIZE)
    test_delivery = latest_delivery_of_type(session, listing.id, TEST_EVENT_TYPE)
    test_attempts = delivery_attempts(session, test_delivery.id) if test_delivery else []
    form = form or WebhookEndpointForm(formdata=None, data={"webhook_url": listing.webhook_url})
    return render_template("webhooks/deliveries.html", listing=listing, rows=found.deliveries,
                           attempts=found.attempts, total=found.total, page=page,
                           pages=page_count(found.total, PAGE_SIZE),
                           endpoint=listing.webhook_url, form=form,
                           https_only=not plain_http_allowed(current_app.config),
                           test_delivery=test_delivery,
                           test_attempt=test_attempts[0] if test_attempts else None,
                           test_event_type=TEST_EVENT_TYPE), status


@bp.route("")
@partner_required
def deliveries(listing_id: int):
    """The listing's endpoint, its last test event, and its webhook events, newest first."""
    session = get_session()
    return _render_deliveries(session, own_listing(session, listing_id))


@bp.route("/endpoint", methods=["POST"])
@partner_required
def change_endpoint(listing_id: int):
    """Set (or clear) the webhook URL; events queued from now on go there."""
    session = get_session()
    listing = own_listing(session, listing_id)
    form = WebhookEndpointForm()
    form.validate()
    try:
        changed = set_webhook_url(session, listing, form.webhook_url.data, current_user,
                                  allow_http=plain_http_allowed(current_app.config))
    except WebhookUrlError as error:
        session.rollback()
        form.add_error("webhook_url", str(error))
        return _render_deliveries(session, listing, form, status=400)
    session.commit()
    if not changed:
        flash("The webhook URL is unchanged.", "success")
    elif listing.webhook_url:
        flash("Saved. Events from now on go to the new URL; send a test event to check it.",
              "success")
    else:
        flash("The webhook URL is removed: no events are sent until you add one.", "success")
    return redirect(url_for("webhooks.deliveries", listing_id=listing.id, _anchor="endpoint"))


@bp.route("/test", methods=["POST"])
@partner_required
def send_test(listing_id: int):
    """Queue a signed test event to the endpoint; the page shows its result once sent."""
    session = get_session()
    listing = own_listing(session, listing_id)
    try:
        delivery = send_test_event(session, listing)
    except NoEndpointError as error:
        session.rollback()
        flash(str(error), "error")
    else:
        session.commit()
        flash(f"Test event {delivery.event_id} is queued; its result shows below once it is "
              "sent.", "success")
    return redirect(url_for("webhooks.deliveries", listing_id=listing.id, _anchor="test-result"))


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
