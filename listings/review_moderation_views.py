"""The editors' review moderation (docs/reviews.md): the held queue (reviews an
automatic check kept back, one compact row each with its reason) and the report
queue (published reviews customers reported, with counts and reasons), each with
checkboxes and bulk decisions.

Editors and admins only (``editor_required``). Decisions go through
``listings.review_services``, which audits each review's; the view commits.
Ticking nothing, or rejecting without a reason, re-shows the queue with the
message and status 400.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from core.db import get_session
from core.pagination import page_count, page_number
from core.security import editor_required
from listings.queries import reviews_awaiting_moderation
from listings.review_models import PROBLEM_LABELS
from listings.review_queries import reported_review_rows
from listings.review_services import moderate_held, resolve_reports
from listings.services import ListingError

bp = Blueprint("review_moderation", __name__, url_prefix="/editor/reviews")

HELD_PAGE_SIZE = 50
# The report queue shows the most reported first; what is beyond waits its turn.
REPORTS_SHOWN = 100


def _plural(count: int) -> str:
    return f"{count} review{'' if count == 1 else 's'}"


def _skipped_note(skipped: int, what: str) -> str:
    if not skipped:
        return ""
    return f" {skipped} {'was' if skipped == 1 else 'were'} no longer {what}."


def _ticked_again(error: str | None) -> set[str]:
    """The boxes ticked in a refused post, so they stay ticked."""
    return set(request.form.getlist("review_ids")) if error else set()


def _render_held(status: int = 200, error: str | None = None):
    page = page_number()
    held = reviews_awaiting_moderation(get_session(), page, HELD_PAGE_SIZE)
    return render_template("listings/editor/reviews.html", rows=held.rows, total=held.total,
                           page=page, pages=page_count(held.total, HELD_PAGE_SIZE),
                           reasons=PROBLEM_LABELS, error=error, ticked=_ticked_again(error),
                           reason=request.form.get("reason", ""),
                           note=request.form.get("note", "")), status


@bp.route("")
@editor_required
def held():
    """Reviews held by an automatic check, oldest first, with why each was held."""
    return _render_held()


@bp.route("/held", methods=["POST"])
@editor_required
def decide_held():
    """Publish or reject the ticked held reviews (a rejection's reason given once)."""
    session = get_session()
    action = request.form.get("action")
    if action not in ("publish", "reject"):
        return _render_held(400, "Choose Publish or Reject.")
    publish = action == "publish"
    try:
        done, skipped = moderate_held(session, current_user, request.form.getlist("review_ids"),
                                      publish, request.form.get("reason", ""),
                                      request.form.get("note", ""))
    except ListingError as error:
        session.rollback()
        return _render_held(400, str(error))
    session.commit()
    flash(f"{_plural(done)} {'published' if publish else 'rejected'}."
          + _skipped_note(skipped, "waiting"), "success")
    return redirect(url_for("review_moderation.held"))


def _render_reports(status: int = 200, error: str | None = None):
    rows, total = reported_review_rows(get_session(), REPORTS_SHOWN)
    return render_template("listings/editor/review_reports.html", rows=rows, total=total,
                           shown=REPORTS_SHOWN, error=error, ticked=_ticked_again(error)), status


@bp.route("/reports")
@editor_required
def reports():
    """Published reviews that customers reported, most reported first."""
    return _render_reports()


@bp.route("/reports", methods=["POST"])
@editor_required
def resolve():
    """Keep the ticked reviews (dismiss their reports) or remove them."""
    session = get_session()
    action = request.form.get("action")
    if action not in ("keep", "remove"):
        return _render_reports(400, "Choose whether to keep or remove the ticked reviews.")
    remove = action == "remove"
    try:
        done, skipped = resolve_reports(session, current_user,
                                        request.form.getlist("review_ids"), remove)
    except ListingError as error:
        session.rollback()
        return _render_reports(400, str(error))
    session.commit()
    if remove:
        message = f"{_plural(done)} removed."
    else:
        message = (f"Reports on {_plural(done)} dismissed; "
                   f"{'it stays' if done == 1 else 'they stay'} published.")
    flash(message + _skipped_note(skipped, "reported"), "success")
    return redirect(url_for("review_moderation.reports"))
