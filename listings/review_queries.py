"""Reads about reviews beyond the listing page's list: how they are sorted and
filtered, helpful counts, what the signed-in visitor has voted or reported, and
the editors' report queue. No HTTP here: each takes a Session and plain values.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, func, select

from accounts.models import User
from listings.models import Listing, Review, ReviewStatus
from listings.review_models import ReviewProblem, ReviewReport, ReviewVote
from listings.services import VISIBLE_STATUSES

# ?sort= on the listing page: value -> label; anything else means the default.
REVIEW_SORTS = {"newest": "Newest first", "helpful": "Most helpful",
                "highest": "Highest rating", "lowest": "Lowest rating"}
DEFAULT_SORT = "newest"
# Notes shown per reported review in the editors' queue (the newest).
NOTES_SHOWN = 3


@dataclass(frozen=True)
class ReviewChoice:
    """How the listing page's reviews are sorted and which stars are shown (None: all)."""

    sort: str = DEFAULT_SORT
    stars: int | None = None

    def url_args(self) -> dict:
        """The query arguments that say this choice; none for the defaults."""
        args = {}
        if self.sort != DEFAULT_SORT:
            args["sort"] = self.sort
        if self.stars is not None:
            args["stars"] = self.stars
        return args

    def key(self) -> str:
        """This choice in a cache key (``listing:7:2:helpful:5``)."""
        return f"{self.sort}:{self.stars or 'all'}"


def review_choice(sort: str | None, stars: str | None) -> ReviewChoice:
    """The choice the query string asks for; unknown values fall back to the defaults."""
    chosen_sort = sort if sort in REVIEW_SORTS else DEFAULT_SORT
    chosen_stars = int(stars) if stars in {"1", "2", "3", "4", "5"} else None
    return ReviewChoice(chosen_sort, chosen_stars)


def helpful_count_column():
    """The number of helpful votes of each review, as a correlated subquery (one index
    lookup per review of the page, in the page's own query)."""
    return (select(func.count(col(ReviewVote.id))).where(ReviewVote.review_id == Review.id)
            .correlate(Review).scalar_subquery())


def review_ordering(sort: str, helpful) -> list:
    """ORDER BY clauses for ``sort``; ``helpful`` is the page query's count column.
    Ties go to the newer review."""
    newest = [col(Review.created_at).desc(), col(Review.id).desc()]
    if sort == "helpful":
        return [helpful.desc(), *newest]
    if sort == "highest":
        return [col(Review.rating).desc(), *newest]
    if sort == "lowest":
        return [col(Review.rating).asc(), *newest]
    return newest


def visible_review(session: Session, review_id: int) -> tuple[Review, Listing] | None:
    """A published review of a visible listing, with the listing; None for any other
    (missing, held, rejected, or of a draft) so the storefront answers 404."""
    return session.exec(
        select(Review, Listing).join(Listing, col(Listing.id) == Review.listing_id)
        .where(Review.id == review_id, Review.status == ReviewStatus.PUBLISHED,
               col(Listing.status).in_(VISIBLE_STATUSES))
    ).first()


def reviews_voted_and_reported(session: Session, user_id: int,
                               review_ids: list[int]) -> tuple[set[int], set[int]]:
    """Of ``review_ids``: those the user found helpful, and those they have an open
    report on. Two queries, however many reviews; none without reviews."""
    if not review_ids:
        return set(), set()
    voted = session.exec(select(ReviewVote.review_id).where(
        ReviewVote.user_id == user_id, col(ReviewVote.review_id).in_(review_ids))).all()
    reported = session.exec(select(ReviewReport.review_id).where(
        ReviewReport.reporter_id == user_id, col(ReviewReport.review_id).in_(review_ids),
        col(ReviewReport.resolved_at).is_(None))).all()
    return set(voted), set(reported)


# --- the editors' report queue -------------------------------------------------------


@dataclass
class ReportedReview:
    """A review with open reports: how many, for which reasons, the newest notes."""

    review: Review
    listing: Listing
    author_name: str
    reports: int = 0
    reasons: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    latest: datetime | None = None

    def reason_labels(self) -> list[str]:
        """"Spam or advertising ×2", most given first."""
        return [f"{ReviewProblem(reason).label} ×{count}"
                for reason, count in self.reasons.most_common()]


def reported_review_rows(session: Session, limit: int) -> tuple[list[ReportedReview], int]:
    """Reviews with open reports, most reported first (then most recently reported),
    at most ``limit`` of them, and how many there are in all. Three queries."""
    open_reports = col(ReviewReport.resolved_at).is_(None)
    total = session.exec(select(func.count(func.distinct(ReviewReport.review_id)))
                         .where(open_reports)).one()
    counted = session.exec(
        select(ReviewReport.review_id, func.count(), func.max(ReviewReport.created_at))
        .where(open_reports).group_by(ReviewReport.review_id)
        .order_by(func.count().desc(), func.max(ReviewReport.created_at).desc(),
                  col(ReviewReport.review_id).desc())
        .limit(limit)).all()
    ids = [review_id for review_id, _, _ in counted]
    if not ids:
        return [], total
    rows = {review.id: ReportedReview(review, listing, author_name)
            for review, listing, author_name in session.exec(
                select(Review, Listing, User.display_name)
                .join(Listing, col(Listing.id) == Review.listing_id)
                .join(User, col(User.id) == Review.author_id)
                .where(col(Review.id).in_(ids))).all()}
    for report in session.exec(select(ReviewReport).where(
            open_reports, col(ReviewReport.review_id).in_(ids))
            .order_by(col(ReviewReport.created_at).desc())).all():
        row = rows[report.review_id]
        row.reports += 1
        row.reasons[report.reason] += 1
        row.latest = row.latest or report.created_at
        if report.note and len(row.notes) < NOTES_SHOWN:
            row.notes.append(report.note)
    return [rows[review_id] for review_id in ids], total


def helpful_counts(session: Session, review_ids: list[int]) -> dict[int, int]:
    """{review id: helpful votes} for the reviews that have any; one query."""
    if not review_ids:
        return {}
    return dict(session.exec(
        select(ReviewVote.review_id, func.count()).where(col(ReviewVote.review_id).in_(review_ids))
        .group_by(ReviewVote.review_id)).all())
