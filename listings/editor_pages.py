"""The editor's review page of one listing, rendered by the editor console's views
and by the pruning views (an exemption form with errors); and the reason forms it
holds."""

from __future__ import annotations

from flask import render_template

from core.db import get_session, utcnow
from listings.editor_forms import BadgeForm, ReasonForm
from listings.models import Category, Listing, Partner, ReleaseStatus
from listings.prune_queries import editor_prune_context
from listings.queries import (
    RELEASE_REVIEW_STATUSES,
    listing_badges,
    listing_releases,
    listing_screenshots,
)
from listings.services import VISIBLE_STATUSES


def reason_form(prefix: str, submitted: bool = False) -> ReasonForm:
    """A reason form; ``submitted=False`` gives an empty one even while handling a POST."""
    return ReasonForm(prefix=prefix) if submitted else ReasonForm(prefix=prefix, formdata=None)


def render_listing_review(listing: Listing, status: int = 200, *, reject_form=None, delist_form=None,
                    badge_form=None, release_forms=None, exemption_form=None):
    """The review page; forms passed in (after a failed POST) keep their input and errors."""
    session = get_session()
    partner = session.get(Partner, listing.partner_id)
    category = session.get(Category, listing.category_id)
    screenshots = listing_screenshots(session, listing.id)
    releases = listing_releases(session, listing.id)
    badges = listing_badges(session, listing.id)
    now = utcnow()
    release_forms = dict(release_forms or {})
    if listing.status in RELEASE_REVIEW_STATUSES:
        for release in releases:
            if release.review_status == ReleaseStatus.PENDING and release.id not in release_forms:
                release_forms[release.id] = reason_form(f"release-{release.id}")
    return render_template(
        "listings/editor/listing.html",
        listing=listing, partner=partner, category=category, screenshots=screenshots,
        # Public screenshot URLs only work (and are cached) for visible listings.
        screenshot_endpoint=("storefront.screenshot" if listing.status in VISIBLE_STATUSES
                             else "editor.screenshot"),
        releases=releases, release_forms=release_forms,
        active_badges=[badge for badge in badges if badge.is_active(now)],
        past_badges=[badge for badge in badges if not badge.is_active(now)],
        reject_form=reject_form or reason_form("reject"),
        delist_form=delist_form or reason_form("delist"),
        badge_form=badge_form or BadgeForm(formdata=None),
        **editor_prune_context(session, listing, exemption_form),
    ), status
