"""The public badge pages: what each badge means, who decides it (editors or the
rule in ``listings.ranking``) and the apps wearing it (docs/ranking.md).

Their own blueprint, registered by ``storefront.init_app``: no view module
imports another (tests/unit/test_layout.py), so these routes cannot join the
``storefront`` blueprint of ``storefront.views``.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from core.db import get_session
from core.http_caching import public_page
from core.pagination import page_count, page_number
from listings.badge_queries import badge_listing_cards
from listings.badges import BADGES, badge_by_slug
from listings.catalog_cache import current_token

bp = Blueprint("badges", __name__)


@bp.route("/badges")
def index():
    """Every badge, what it means and who decides it."""
    session = get_session()
    return public_page(current_token(session),
                       lambda: render_template("storefront/badges.html",
                                               badges=list(BADGES.values())),
                       keep_as="badges")


@bp.route("/badges/<slug>")
def badge(slug: str):
    """A badge's criteria and one page of the published apps wearing it."""
    rule = badge_by_slug(slug)
    if rule is None:
        abort(404)
    session = get_session()
    page = page_number()
    per_page = current_app.config["PAGE_SIZE"]

    def render() -> str:
        cards, total = badge_listing_cards(session, rule, page, per_page)
        return render_template("storefront/badge.html", badge=rule, cards=cards, total=total,
                               page=page, pages=page_count(total, per_page))

    # Kept per catalog version: badges, reviews and listings are all tracked
    # models, so a change to who wears it makes a new version.
    return public_page(current_token(session), render,
                       keep_as=f"badge:{rule.kind}:{page}:{per_page}")
