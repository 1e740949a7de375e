"""The partner's page of an app's installs: which workspaces, on which version, with
which access. It sits with installs; the rest of the partner portal is in listings."""

from __future__ import annotations

from flask import Blueprint, render_template

from core.db import get_session
from core.pagination import page_count, page_number
from core.security import partner_required
from installs.queries import install_counts, listing_installs
from listings.access import own_listing

bp = Blueprint("partner_installs", __name__)


INSTALLS_PER_PAGE = 50


@bp.route("/partner/listings/<int:listing_id>/installs")
@partner_required
def installs(listing_id: int):
    """Which workspaces installed the app, on which version, with which access."""
    session = get_session()
    listing = own_listing(session, listing_id)
    counts = install_counts(session, listing.id)
    page = page_number()
    return render_template("installs/partner_installs.html", listing=listing, counts=counts,
                           rows=listing_installs(session, listing.id, page, INSTALLS_PER_PAGE),
                           page=page, pages=page_count(counts["total"], INSTALLS_PER_PAGE))
