"""What signed-in customers do with others' reviews: mark one helpful ("Was this
helpful?", a toggle) and report one to the editors (docs/reviews.md).

Plain HTML forms (they work without JavaScript): each POST answers with a
redirect back to the review on the listing page, with the visitor's sort, star
filter and page kept, and a message. A missing, held or rejected review is 404.
Votes and reports never touch the listing, so they do not reindex it nor version
the catalog; see ``listings.review_models``.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from core.db import get_session
from core.extensions import limiter
from listings.review_queries import review_choice, visible_review
from listings.review_services import (
    ALREADY_REPORTED,
    AlreadyReported,
    ReviewActionRefused,
    report_review,
    toggle_helpful,
)
from listings.services import ListingError

bp = Blueprint("reviews", __name__)


def _back_to(listing, review):
    """The listing page at ``review``, as the visitor was looking at it."""
    choice = review_choice(request.form.get("sort"), request.form.get("stars"))
    page = request.form.get("page", "")
    args = {"page": int(page)} if page.isdigit() and 1 < int(page) < 10_000 else {}
    return redirect(url_for("storefront.listing", slug=listing.slug, **args,
                            **choice.url_args(), _anchor=f"review-{review.id}"))


def _refused(status: int, title: str, message: str):
    return render_template("storefront/error.html", status=status, title=title,
                           message=message), status


def _found(review_id: int):
    found = visible_review(get_session(), review_id)
    if found is None:
        abort(404)
    return found


@bp.route("/reviews/<int:review_id>/helpful", methods=["POST"])
@login_required
@limiter.limit("120 per hour", methods=["POST"])
def helpful(review_id: int):
    """Mark the review helpful, or take the vote back."""
    session = get_session()
    review, listing = _found(review_id)
    try:
        marked = toggle_helpful(session, review, listing, current_user)
    except ReviewActionRefused as error:
        return _refused(403, "Not allowed", str(error))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # the same vote, a moment earlier (a double click)
    if marked:
        flash(f"Thanks, you marked “{review.title}” as helpful.", "success")
    else:
        flash(f"You took back your vote on “{review.title}”.", "success")
    return _back_to(listing, review)


@bp.route("/reviews/<int:review_id>/report", methods=["POST"])
@login_required
@limiter.limit("20 per hour", methods=["POST"])
def report(review_id: int):
    """Report the review to the editors, with a reason from the list and a note."""
    session = get_session()
    review, listing = _found(review_id)
    try:
        report_review(session, review, current_user, request.form.get("reason", ""),
                      request.form.get("note", ""))
    except AlreadyReported as error:
        flash(str(error), "info")
        return _back_to(listing, review)
    except ReviewActionRefused as error:
        return _refused(403, "Not allowed", str(error))
    except ListingError as error:
        return _refused(400, "Report not sent", str(error))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # the same report, a moment earlier (a double click)
        flash(ALREADY_REPORTED, "info")
        return _back_to(listing, review)
    flash(f"Thank you. An editor will look at your report of “{review.title}”.", "success")
    return _back_to(listing, review)
