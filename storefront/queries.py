"""Read queries behind the storefront's pages: categories, collections, the listing
page's screenshots and reviews, screenshot files, "My apps" and the admin's users
list.

Each takes a Session and plain arguments and returns rows, so it can be tested
without a request; the views only turn the answers into HTTP. Writes stay in
``storefront.services``. The pages' reads of the prune's verdicts (why an app was
delisted, what to use instead) and of a listing's screenshots come from
``listings.prune_queries`` and ``listings.queries`` through here, so the
storefront's reads of listings sit in one module until installs get a package of
their own (issue 12).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlmodel import Session, col, func, select

from accounts.models import User
from installs.models import Install, InstallStatus, Trial
from listings.models import (
    Category,
    Collection,
    Listing,
    Partner,
    Review,
    ReviewStatus,
    Screenshot,
)
from listings.prune_queries import delisted_rule_titles, suggested_apps
from listings.queries import approved_releases, listing_screenshots
from listings.review_queries import (
    DEFAULT_SORT,
    REVIEW_SORTS,
    helpful_count_column,
    review_ordering,
)
from listings.services import VISIBLE_STATUSES

__all__ = [
    "UsersPage", "approved_releases", "category_by_slug", "collection_by_slug",
    "delisted_rule_titles", "expired_installs", "listing_screenshots", "listings_by_id",
    "maker_category_and_installs", "partner_name", "partner_names", "published_reviews_page",
    "review_by_author", "suggested_apps", "trials_by_id", "users_page", "visible_screenshot",
]

# --- catalog pages --------------------------------------------------------------------


def category_by_slug(session: Session, slug: str) -> Category | None:
    """The category with this slug, or None."""
    return session.exec(select(Category).where(Category.slug == slug)).first()


def collection_by_slug(session: Session, slug: str) -> Collection | None:
    """The editors' collection with this slug, or None."""
    return session.exec(select(Collection).where(Collection.slug == slug)).first()


# Built once (the app page reads it on every render); the listing is bound at each call.
_ACTIVE_INSTALLS = (select(func.count(col(Install.id))).where(
    Install.listing_id == Listing.id, Install.status == InstallStatus.ACTIVE)
    .correlate(Listing).scalar_subquery())
_MAKER_CATEGORY_AND_INSTALLS = (
    select(Partner, Category, _ACTIVE_INSTALLS).select_from(Listing)
    .join(Partner, col(Partner.id) == Listing.partner_id)
    .join(Category, col(Category.id) == Listing.category_id)
    .where(Listing.id == bindparam("listing_id")))


def maker_category_and_installs(session: Session,
                                listing: Listing) -> tuple[Partner, Category, int]:
    """The partner that makes ``listing``, its category and how many workspaces have
    it installed now, in one statement (the app page reads each on every render)."""
    return tuple(session.exec(_MAKER_CATEGORY_AND_INSTALLS,
                              params={"listing_id": listing.id}).one())


def _reviews_page_statement(sort: str, by_stars: bool):
    """The statement of one page of a listing's published reviews, sorted by ``sort``,
    of the stars bound at each call when ``by_stars``; the listing, limit and offset
    are bound at each call too."""
    helpful = helpful_count_column()
    reviews = (select(Review, User.display_name, Install, helpful)
               .join(User, col(User.id) == Review.author_id)
               .join(Install, col(Install.id) == Review.install_id, isouter=True)
               .where(Review.listing_id == bindparam("listing_id"),
                      Review.status == ReviewStatus.PUBLISHED))
    if by_stars:
        reviews = reviews.where(Review.rating == bindparam("stars"))
    return (reviews.order_by(*review_ordering(sort, helpful))
            .offset(bindparam("offset")).limit(bindparam("limit")))


# Built once per sort and star filter (the app page reads one on every render, and
# building it cost about as much as running it).
_REVIEWS_PAGES = {(sort, by_stars): _reviews_page_statement(sort, by_stars)
                  for sort in REVIEW_SORTS for by_stars in (False, True)}


def published_reviews_page(session: Session, listing_id: int, page: int, per_page: int,
                           sort: str = DEFAULT_SORT, stars: int | None = None,
                           ) -> list[tuple[Review, str, Install | None, int]]:
    """One page (1-based) of a listing's published reviews, newest first or as
    ``sort`` says (``listings.review_queries.REVIEW_SORTS``), only those of ``stars``
    when given, each with its author's display name, the install that verifies
    it (None without one) and its number of helpful votes.

    One query for all four, however many reviews the page shows."""
    statement = _REVIEWS_PAGES[(sort if sort in REVIEW_SORTS else DEFAULT_SORT,
                                stars is not None)]
    params = {"listing_id": listing_id, "offset": (page - 1) * per_page, "limit": per_page}
    if stars is not None:
        params["stars"] = stars
    return list(session.exec(statement, params=params).all())


def review_by_author(session: Session, listing_id: int, author_id: int) -> Review | None:
    """The review this user wrote of the listing (in any status), or None."""
    return session.exec(select(Review).where(Review.listing_id == listing_id,
                                             Review.author_id == author_id)).first()


def visible_screenshot(session: Session, filename: str) -> Screenshot | None:
    """The screenshot stored under ``filename`` when its listing is visible (published
    or delisted); None for any other listing's, so drafts' files stay private."""
    return session.exec(
        select(Screenshot).join(Listing, col(Listing.id) == Screenshot.listing_id)
        .where(Screenshot.filename == filename, col(Listing.status).in_(VISIBLE_STATUSES))
    ).first()


# --- "My apps" --------------------------------------------------------------------------


def expired_installs(session: Session, workspace_id: int) -> list[Install]:
    """The workspace's installs disabled when their trial ended, most recent first."""
    return list(session.exec(select(Install).where(
        Install.workspace_id == workspace_id, Install.status == InstallStatus.EXPIRED)
        .order_by(col(Install.uninstalled_at).desc())).all())


def listings_by_id(session: Session, listing_ids) -> dict[int, Listing]:
    """The listings with these ids, by id, in one query (none asked: no query)."""
    wanted = set(listing_ids)
    if not wanted:
        return {}
    return {listing.id: listing for listing in session.exec(
        select(Listing).where(col(Listing.id).in_(wanted))).all()}


def trials_by_id(session: Session, trial_ids) -> dict[int, Trial]:
    """The trials with these ids, by id, in one query (none asked: no query)."""
    wanted = set(trial_ids)
    if not wanted:
        return {}
    return {trial.id: trial for trial in session.exec(
        select(Trial).where(col(Trial.id).in_(wanted))).all()}


# --- the admin's users list ---------------------------------------------------------------


@dataclass
class UsersPage:
    """One page of the users list and the number of users matching in all."""

    users: list[User]
    total: int


def users_page(session: Session, email_contains: str, page: int, per_page: int) -> UsersPage:
    """Users ordered by email, one page (1-based); with ``email_contains``, only those
    whose email contains it, ignoring case (``%`` and ``_`` match themselves)."""
    users = select(User)
    if email_contains:
        users = users.where(func.lower(User.email).contains(email_contains.lower(),
                                                            autoescape=True))
    total = session.exec(select(func.count()).select_from(users.subquery())).one()
    rows = session.exec(users.order_by(User.email).offset((page - 1) * per_page)
                        .limit(per_page)).all()
    return UsersPage(list(rows), total)


def partner_names(session: Session) -> dict[int, str]:
    """Every partner organisation's name by id, in name order (the role form's choices)."""
    return {partner.id: partner.name
            for partner in session.exec(select(Partner).order_by(Partner.name)).all()}


def partner_name(session: Session, partner_id: int | None) -> str | None:
    """The partner organisation's name, or None when there is no such partner."""
    partner = session.get(Partner, partner_id) if partner_id is not None else None
    return partner.name if partner else None
