"""The customer's storefront: home, categories, collections, listing pages,
posting reviews, and the public screenshot files.

Pages read through the batch helpers in ``listings.services`` so each page
runs a fixed number of queries however many listings it shows. The category
pages and the home page's "Top rated" and "Newest" lists ask the search
service (the same backend as the search page) and read the database directly
only when search cannot answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from functools import cache
from pathlib import Path
from typing import TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup
from pydantic import ValidationError
from sqlmodel import Session

from accounts.services import unverified_reason
from accounts.workspaces import current_workspace
from core.db import as_utc, get_session, utcnow
from core.extensions import limiter
from core.http_caching import public_page
from core.money import request_locale
from core.pagination import page_count, page_number
from installs.models import Install
from installs.queries import reviewing_install
from listings.badges import shown_badges
from listings.browsing import (
    ListingCard,
    category_counts,
    category_listings,
    collections_with_cards,
    listing_cards,
    newest_listings,
    published_cards_in_order,
    top_rated_listings,
)
from listings.catalog_cache import current_token, remember
from listings.icons import generated_icon_svg, icon_folder, visible_icon
from listings.models import (
    Category,
    Listing,
    ListingStatus,
    Review,
    ReviewCreate,
)
from listings.ranking import MIN_REVIEWS_ON_SHELF
from listings.review_models import PROBLEM_LABELS
from listings.review_queries import (
    REVIEW_SORTS,
    review_choice,
    reviews_voted_and_reported,
)
from listings.services import (
    ListingError,
    active_badges,
    collection_listings,
    post_review,
    published_listing,
    rating_summary,
    validation_messages,
    workspace_review,
)
from search.interfaces import SearchQuery, SearchUnavailable
from storefront.forms import ReviewForm
from storefront.queries import (
    approved_releases,
    category_by_slug,
    collection_by_slug,
    delisted_rule_titles,
    listing_screenshots,
    maker_category_and_installs,
    published_reviews_page,
    review_by_author,
    visible_screenshot,
)
from storefront.signals import listing_signals

T = TypeVar("T")

bp = Blueprint("storefront", __name__)

HOME_SHELF_SIZE = 8
REVIEWS_PER_PAGE = 10
# Screenshot file names carry a random token and never change, so caches may keep them.
SCREENSHOT_MAX_AGE = 365 * 24 * 3600
GENERATED_ICON_MAX_AGE = 24 * 3600


# --- home, categories, collections -------------------------------------------


def _browse(session: Session, query: SearchQuery) -> tuple[list[ListingCard], int] | None:
    """One page of cards and the total number of matches, through the search
    service (the same backend as the search page); None when search cannot
    answer at all, so the caller can read the database instead."""
    try:
        answer = current_app.extensions["bazaar.search"].search(query)
    except SearchUnavailable:
        return None
    cards = published_cards_in_order(session, [hit.id for hit in answer.result.hits])
    return cards, answer.result.total


def _top_rated(session: Session) -> list[ListingCard]:
    # The "rating" sort orders by the Bayesian score (listings/ranking.py); the
    # shelf also wants MIN_REVIEWS_ON_SHELF reviews, which search does not filter
    # on, so it asks for a few shelves' worth and keeps the first that qualify
    # (the check on the cards also covers an index that has not caught up yet).
    found = _browse(session, SearchQuery(sort="rating", min_rating=1,
                                         per_page=HOME_SHELF_SIZE * 4))
    if found is None:
        return top_rated_listings(session, limit=HOME_SHELF_SIZE)
    return [card for card in found[0] if card.rating_count >= MIN_REVIEWS_ON_SHELF
            ][:HOME_SHELF_SIZE]


def _newest(session: Session) -> list[ListingCard]:
    found = _browse(session, SearchQuery(sort="newest", per_page=HOME_SHELF_SIZE))
    if found is None:
        return newest_listings(session, limit=HOME_SHELF_SIZE)
    return found[0]


def _catalog_page(session: Session, key: str, page_template: str, content_template: str,
                  content_context: Callable[[], dict],
                  page_context: Callable[[], dict] = dict):
    """A catalog page: its content (the same for every visitor) rendered once per
    catalog version and kept (listings.catalog_cache); the page around it (the
    header says who is signed in) rendered each time; anonymous visitors may
    revalidate it with its ETag (core.http_caching).

    Both contexts are asked for only when the page is rendered: a kept page is sent
    after reading the catalog's version alone (outside a transaction), so ``key`` must
    name what the page shows by what the URL says (a slug, not a row's id)."""
    version = current_token(session)

    def render() -> str:
        # Prices are written in the visitor's locale (core.money): one copy per locale.
        content = remember(version, f"{key}:{request_locale()}",
                           lambda: render_template(content_template, **content_context()))
        return render_template(page_template, content=Markup(content), **page_context())

    return public_page(version, render, keep_as=key)


def _home_content(session: Session) -> dict:
    return dict(
        collections=collections_with_cards(session, per_collection=HOME_SHELF_SIZE),
        categories=[(category, count) for category, count in category_counts(session) if count],
        top_rated=_top_rated(session),
        newest=_newest(session),
    )


@bp.route("/")
def home():
    """The front page: editors' collections, categories, top rated and newest apps."""
    session = get_session()
    return _catalog_page(session, "home", "storefront/home.html", "storefront/home_content.html",
                         lambda: _home_content(session))


@bp.route("/categories")
def categories():
    """Every category with its number of published apps."""
    session = get_session()
    return _catalog_page(session, "categories", "storefront/categories.html",
                         "storefront/categories_content.html",
                         lambda: dict(categories=category_counts(session)))


def _category_content(session: Session, found: Category, page: int, per_page: int) -> dict:
    browsed = _browse(session, SearchQuery(categories=(found.slug,), sort="newest", page=page,
                                           per_page=per_page))
    # Without search, the database still lists the category.
    cards, total = browsed or category_listings(session, found.id, page, per_page)
    return dict(category=found, cards=cards, total=total, page=page,
                pages=page_count(total, per_page))


def _found_or_404(lookup: Callable[[], T | None]) -> Callable[[], T]:
    """``lookup`` once, when first asked (a kept page never asks); 404 when it finds
    nothing, so an unknown slug is never kept."""

    @cache
    def found() -> T:
        row = lookup()
        if row is None:
            abort(404)
        return row

    return found


@bp.route("/categories/<slug>")
def category(slug: str):
    """One page of a category's published apps, newest first."""
    session = get_session()
    found = _found_or_404(lambda: category_by_slug(session, slug))
    page = page_number()
    per_page = current_app.config["PAGE_SIZE"]
    return _catalog_page(session, f"category:{slug}:{page}:{per_page}",
                         "storefront/category.html", "storefront/category_content.html",
                         lambda: _category_content(session, found(), page, per_page),
                         lambda: dict(category=found(), page=page))


@bp.route("/collections/<slug>")
def collection(slug: str):
    """An editors' collection and its apps in the editor's order."""
    session = get_session()
    found = _found_or_404(lambda: collection_by_slug(session, slug))
    return _catalog_page(
        session, f"collection:{slug}", "storefront/collection.html",
        "storefront/collection_content.html",
        lambda: dict(collection=found(),
                     cards=listing_cards(session, collection_listings(session, found().id))),
        lambda: dict(collection=found()))


# --- the listing page and reviews ---------------------------------------------


def _rating_bars(summary: dict) -> list[tuple[int, int, int]]:
    """(stars, count, bar width in percent rounded to tens) for each star, 5 down to 1.

    Widths are steps of ten so the bar can be drawn with a CSS class: the
    content security policy forbids inline styles.
    """
    total = summary["count"]
    return [(star, count, round(count * 10 / total) * 10 if total else 0)
            for star, count in summary["stars"].items()]


def _own_review(session: Session, listing: Listing, workspace) -> Review | None:
    """The signed-in customer's review of the app, or their workspace's."""
    if not current_user.is_authenticated:
        return None
    return (review_by_author(session, listing.id, current_user.id)
            or workspace_review(session, listing, workspace))


def usage_length(install: Install | None) -> str | None:
    """How long the reviewing workspace has used (or had used) the app, in words."""
    if install is None:
        return None
    started = install.created_at if install.created_at.tzinfo else \
        install.created_at.replace(tzinfo=UTC)
    ended = install.uninstalled_at or utcnow()
    ended = as_utc(ended)
    days = max(0, (ended - started).days)
    if days < 1:
        return "less than a day"
    if days < 60:
        return f"{days} day{'s' if days != 1 else ''}"
    if days < 730:
        return f"{days // 30} months"
    return f"{days // 365} years"


def _is_partner_member(listing: Listing) -> bool:
    """Whether the signed-in user belongs to the partner that makes this app."""
    return (current_user.is_authenticated and current_user.partner_id is not None
            and current_user.partner_id == listing.partner_id)


def _render_listing(session: Session, listing: Listing, form: ReviewForm | None = None,
                    review_error: str | None = None, status: int = 200):
    """The listing page; the review form (with its errors) when the visitor may review."""
    partner, listing_category, active_installs = maker_category_and_installs(session, listing)
    screenshots = listing_screenshots(session, listing.id)
    summary = rating_summary(session, listing.id)

    reviews_page = page_number()
    choice = review_choice(request.args.get("sort"), request.args.get("stars"))
    shown = summary["stars"][choice.stars] if choice.stars else summary["count"]
    review_pages = page_count(shown, REVIEWS_PER_PAGE)
    reviews = [(review, author_name, usage_length(install), helpful_votes)
               for review, author_name, install, helpful_votes
               in published_reviews_page(session, listing.id, reviews_page, REVIEWS_PER_PAGE,
                                         choice.sort, choice.stars)]
    # Helpful counts are read afresh here, but the anonymous page is kept per catalog
    # version and votes do not version it: there they may lag (listings/review_models.py).
    review_ids = [review.id for review, *_ in reviews]
    voted, reported = (reviews_voted_and_reported(session, current_user.id, review_ids)
                       if current_user.is_authenticated else (set(), set()))

    workspace = current_workspace(session, current_user)
    own_review = _own_review(session, listing, workspace)
    partner_member = _is_partner_member(listing)
    has_installed = reviewing_install(session, listing, workspace) is not None
    can_review = (current_user.is_authenticated and not partner_member and own_review is None
                  and has_installed and listing.status == ListingStatus.PUBLISHED)
    if can_review and form is None:
        form = ReviewForm()
    releases = approved_releases(session, listing.id)  # newest first: the current one leads

    return render_template(
        "storefront/listing.html",
        listing=listing,
        partner=partner,
        category=listing_category,
        badges=shown_badges(active_badges(session, [listing.id]).get(listing.id, []),
                            summary["average"], summary["count"]),
        screenshots=screenshots,
        release=releases[0] if releases else None,
        signals=listing_signals(listing, releases, active_installs),
        summary=summary,
        rating_bars=_rating_bars(summary),
        reviews=reviews,
        reviews_page=reviews_page,
        review_pages=review_pages,
        review_choice=choice, review_sorts=REVIEW_SORTS, report_reasons=PROBLEM_LABELS,
        voted=voted, reported=reported,
        own_review=own_review,
        partner_member=partner_member,
        has_installed=has_installed,
        can_review=can_review,
        review_blocked=unverified_reason(current_user, "write reviews")
        if current_user.is_authenticated else None,
        form=form,
        review_error=review_error,
        delisted=listing.status == ListingStatus.DELISTED,
        broken_rules=delisted_rule_titles(session, listing),
    ), status


@bp.route("/apps/<slug>")
def listing(slug: str):
    """A published app's page; a delisted app's page says it is no longer listed."""
    session = get_session()

    def render() -> str:
        found = published_listing(session, slug)
        if found is None:
            abort(404)
        return _render_listing(session, found)[0]

    # An anonymous visitor's page is the same for all of them: kept per catalog version
    # (which any change to a listing's slug or status makes new), and per page, sort and
    # star filter of its reviews (unknown values read as defaults). A kept page is sent
    # without reading the listing.
    choice = review_choice(request.args.get("sort"), request.args.get("stars"))
    return public_page(current_token(session), render,
                       keep_as=f"listing:{slug}:{page_number()}:{choice.key()}")


@bp.route("/apps/<slug>/reviews", methods=["GET", "POST"])
@login_required
@limiter.limit("20 per hour", methods=["POST"])
def post_listing_review(slug: str):
    """Post a review; it shows at once unless an automatic check holds it for an editor.

    GET only leads back to the form: a visitor who posted before signing in
    is sent here by the login page's ``next``.
    """
    if request.method == "GET":
        return redirect(url_for("storefront.listing", slug=slug, _anchor="write-review-heading"))
    session = get_session()
    found = published_listing(session, slug)
    if found is None:
        abort(404)
    if _is_partner_member(found):
        abort(403)  # a partner may not rate its own app
    unverified = unverified_reason(current_user, "write reviews")
    if unverified:
        return _render_listing(session, found, review_error=unverified, status=403)
    form = ReviewForm()
    if not form.validate_on_submit():
        return _render_listing(session, found, form=form, status=400)
    try:
        data = ReviewCreate(rating=int(form.rating.data), title=form.title.data,
                            body=form.body.data or "")
        workspace = current_workspace(session, current_user)
        review = post_review(session, found, current_user, data, workspace,
                             reviewing_install(session, found, workspace))
    except ValidationError as error:
        for name, message in validation_messages(error).items():
            field = getattr(form, name, None)
            if field is None:
                form.form_errors.append(message)
            else:
                # "is required" reads better as "Title is required".
                field.errors.append(f"{field.label.text} {message}" if message[:1].islower()
                                    else message)
        return _render_listing(session, found, form=form, status=400)
    except ListingError as error:
        session.rollback()
        return _render_listing(session, found, form=form, review_error=str(error), status=400)
    session.commit()
    if review.hold_reason:
        flash(f"Thank you! Your review is held for a quick check because {review.hold_reason}. "
              "An editor will publish it soon.", "success")
    else:
        flash("Thank you! Your review is live.", "success")
    return redirect(url_for("storefront.listing", slug=found.slug, _anchor="reviews"))


# --- screenshot files -----------------------------------------------------------


@bp.route("/media/screenshots/<filename>")
def screenshot(filename: str):
    """A screenshot of a visible (published or delisted) listing; anything else is 404."""
    session = get_session()
    found = visible_screenshot(session, filename)
    if found is None:
        abort(404)
    return _kept_for_good(Path(current_app.config["UPLOAD_FOLDER"]) / "screenshots",
                          found.filename, found.content_type)


def _kept_for_good(folder: Path, filename: str, content_type: str):
    """An uploaded file whose name carries a random token and never changes (a new
    upload gets a new name): caches may keep it for a year. send_from_directory
    refuses names that would leave the folder."""
    response = send_from_directory(folder, filename, mimetype=content_type,
                                   max_age=SCREENSHOT_MAX_AGE, conditional=True)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response



# --- app icons --------------------------------------------------------------------


@bp.route("/media/icons/<filename>")
def icon(filename: str):
    """A visible listing's uploaded icon, served like its screenshots; else 404."""
    content_type = visible_icon(get_session(), filename)
    if content_type is None:
        abort(404)
    return _kept_for_good(icon_folder(current_app.config["UPLOAD_FOLDER"]), filename,
                          content_type)


@bp.route("/apps/<slug>/icon.svg")
def generated_icon(slug: str):
    """The initials icon of a visible listing that has no uploaded one."""
    found = published_listing(get_session(), slug)
    if found is None:
        abort(404)
    response = current_app.response_class(generated_icon_svg(found.name),
                                          mimetype="image/svg+xml")
    # A renamed app gets new initials: browsers may keep it a day, then ask again.
    response.cache_control.public = True
    response.cache_control.max_age = GENERATED_ICON_MAX_AGE
    response.add_etag()
    return response.make_conditional(request)
