"""Writes about reviews after they are posted: customers' "Was this helpful?" votes
and reports, and the editors' bulk decisions on held and reported reviews
(docs/reviews.md).

Like ``listings.services``: each function takes a Session and leaves committing to
its caller; a broken rule raises ``ListingError`` with a message for the person
who asked. Votes and reports write only their own rows (never the review's or
the listing's), so they neither reindex the listing nor version the catalog.
"""

from __future__ import annotations

from collections import Counter

from sqlmodel import Session, col, select

from accounts.models import User
from core.db import utcnow
from listings.models import Listing, Review, ReviewStatus
from listings.review_models import (
    ReportResolution,
    ReviewProblem,
    ReviewReport,
    ReviewVote,
)
from listings.services import ListingError, audit, moderate_review

NOTE_MAX = 1000
NO_BOX_TICKED = "Tick at least one review first."
ALREADY_REPORTED = "You have already reported this review; an editor will look at it."


class ReviewActionRefused(ListingError):
    """This user may not do that to this review (the page answers 403)."""


class AlreadyReported(ListingError):
    """The user already has an open report on this review."""


def _is_partner_member(user: User, listing: Listing) -> bool:
    return user.partner_id is not None and user.partner_id == listing.partner_id


def toggle_helpful(session: Session, review: Review, listing: Listing, user: User) -> bool:
    """Mark ``review`` helpful for ``user``, or take the vote back if they had given
    it; True when the review is now marked. Nobody votes on their own review, nor a
    partner's members on reviews of their own app."""
    if review.author_id == user.id:
        raise ReviewActionRefused("You cannot vote on your own review.")
    if _is_partner_member(user, listing):
        raise ReviewActionRefused("You cannot vote on reviews of your own company’s app.")
    vote = session.exec(select(ReviewVote).where(ReviewVote.review_id == review.id,
                                                 ReviewVote.user_id == user.id)).first()
    if vote is not None:
        session.delete(vote)
        session.flush()
        return False
    # A double click racing this one meets the unique constraint at commit: the
    # caller treats that IntegrityError as "already marked".
    session.add(ReviewVote(review_id=review.id, user_id=user.id))
    return True


def report_review(session: Session, review: Review, user: User, reason: str,
                  note: str = "") -> ReviewReport:
    """Report ``review`` to the editors, for one of ``ReviewProblem``'s reasons with an
    optional note. One open report per user and review; the review stays up until
    an editor decides."""
    try:
        problem = ReviewProblem(reason or "")
    except ValueError:
        raise ListingError("Choose why you are reporting this review from the list.",
                           field="reason") from None
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ListingError("Keep the note to 1,000 characters.", field="note")
    if review.author_id == user.id:
        raise ReviewActionRefused("You cannot report your own review.")
    if session.exec(select(ReviewReport.id).where(
            ReviewReport.review_id == review.id, ReviewReport.reporter_id == user.id,
            col(ReviewReport.resolved_at).is_(None))).first() is not None:
        raise AlreadyReported(ALREADY_REPORTED)
    # Two reports racing each other meet the open-report unique index at commit: the
    # caller answers that IntegrityError with ALREADY_REPORTED.
    report = ReviewReport(review_id=review.id, reporter_id=user.id, reason=problem.value,
                          note=note)
    session.add(report)
    return report


def _ticked(review_ids) -> list[int]:
    ids = sorted({int(value) for value in review_ids if str(value).isdigit()})
    if not ids:
        raise ListingError(NO_BOX_TICKED, field="review_ids")
    return ids


def moderate_held(session: Session, editor: User, review_ids, publish: bool,
                  reason: str = "", note: str = "") -> tuple[int, int]:
    """Publish or reject the ticked held reviews; a rejection takes one reason (a
    ``ReviewProblem``) and an optional note for the whole batch. Each decision is
    audited as one review's. Returns (decided, skipped): a ticked review that is
    no longer held (another editor was quicker) is skipped, not an error."""
    ids = _ticked(review_ids)
    moderation_note = ""
    if not publish:
        if reason not in set(ReviewProblem):
            raise ListingError("Choose why the ticked reviews are rejected.", field="reason")
        note = (note or "").strip()
        if len(note) > NOTE_MAX:
            raise ListingError("Keep the note to 1,000 characters.", field="note")
        moderation_note = ReviewProblem(reason).label + (f": {note}" if note else "")
    held = session.exec(select(Review).where(col(Review.id).in_(ids),
                                             Review.status == ReviewStatus.PENDING)).all()
    for review in held:
        moderate_review(session, review, editor, publish, moderation_note)
    return len(held), len(ids) - len(held)


def resolve_reports(session: Session, editor: User, review_ids, remove: bool) -> tuple[int, int]:
    """Close the open reports on the ticked reviews: ``remove`` rejects each review
    (it leaves the listing page and its rating), otherwise the review stays and
    the reports are dismissed. Audited per review. Returns (resolved, skipped)."""
    ids = _ticked(review_ids)
    reports = session.exec(select(ReviewReport).where(
        col(ReviewReport.review_id).in_(ids), col(ReviewReport.resolved_at).is_(None))).all()
    by_review: dict[int, list[ReviewReport]] = {}
    for report in reports:
        by_review.setdefault(report.review_id, []).append(report)
    now = utcnow()
    resolution = ReportResolution.REMOVED if remove else ReportResolution.KEPT
    for review_id, open_reports in by_review.items():
        review = session.get(Review, review_id)
        reasons = Counter(report.reason for report in open_reports)
        for report in open_reports:
            report.resolved_at, report.resolved_by_id = now, editor.id
            report.resolution = resolution.value
            session.add(report)
        detail = {"listing_id": review.listing_id, "reports": len(open_reports),
                  "reasons": dict(reasons)}
        if remove and review.status == ReviewStatus.PUBLISHED:
            top = ReviewProblem(reasons.most_common(1)[0][0]).label
            review.status = ReviewStatus.REJECTED
            review.moderation_note = f"Removed after reports: {top}"
            review.moderated_by_id, review.moderated_at = editor.id, now
            session.add(review)
            audit(session, editor, "review.removed", review, **detail)
        elif remove:  # already taken down meanwhile: the reports are closed with it
            audit(session, editor, "review.reports_closed", review, **detail)
        else:
            audit(session, editor, "review.reports_dismissed", review, **detail)
    session.flush()
    return len(by_review), len(ids) - len(by_review)
