"""Object-level access for partner pages: a partner only ever reaches its own
listings. Used by every package's partner pages (listings, webhooks, API keys)."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from listings.models import Listing
from listings.services import listing_for_partner


def own_listing(session, listing_id: int) -> Listing:
    """The signed-in partner's listing, or 404 (never 403: no hint that it exists)."""
    listing = listing_for_partner(session, current_user.partner_id, listing_id)
    if listing is None:
        abort(404)
    return listing
