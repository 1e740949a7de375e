"""The editor console: the submission queue, listing review, releases,
review moderation, badges, collections and the audit log.

Every route is for editors and admins (``editor_required``). Every action goes
through ``listings.services``, which writes the audit log; the view commits.
A broken rule is shown beside its field with status 400 (nothing written), or
as a flash message when it concerns the object's state rather than the input.
"""

from __future__ import annotations

from pathlib import Path

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
from flask_login import current_user

from core.db import get_session, utcnow
from core.pagination import page_count, page_number
from core.security import editor_required, safe_next
from listings.editor_forms import (
    BadgeForm,
    CollectionForm,
    CollectionItemsForm,
    ReviewRejectForm,
)
from listings.editor_pages import reason_form, render_listing_review
from listings.models import (
    Badge,
    Collection,
    CollectionItem,
    Listing,
    ListingStatus,
    Release,
    Review,
)
from listings.queries import (
    RELEASE_REVIEW_STATUSES,
    active_badges,
    audit_actions,
    audit_events,
    collection_rows,
    collection_sizes,
    collections_in_order,
    listing_by_slug,
    releases_awaiting_review,
    reviews_awaiting_moderation,
    screenshot_by_filename,
    submissions_in_review,
)
from listings.services import (
    ListingError,
    approve_listing,
    award_badge,
    create_collection,
    delist_listing,
    moderate_review,
    reject_listing,
    review_release,
    revoke_badge,
    set_collection_items,
)
from listings.services import move_collection as move_collection_service

bp = Blueprint("editor", __name__, url_prefix="/editor")

AUDIT_PAGE_SIZE = 50
REVIEWS_PAGE_SIZE = 50


# --- helpers -----------------------------------------------------------------------


def _get_or_404(model, object_id: int):
    obj = get_session().get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _field_error(form, error: ListingError, default_field: str) -> None:
    """Show a service's error beside the field it names (or ``default_field``)."""
    name = error.field if error.field and hasattr(form, error.field) else default_field
    getattr(form, name).errors.append(str(error))


# --- the submission queue --------------------------------------------------------


@bp.route("/")
@editor_required
def queue():
    """Listings waiting for a decision (oldest first) and new releases of live listings."""
    session = get_session()
    return render_template("listings/editor/queue.html",
                           submissions=submissions_in_review(session),
                           releases=releases_awaiting_review(session))


# --- reviewing one listing -----------------------------------------------------------


@bp.route("/listings/<int:listing_id>")
@editor_required
def listing(listing_id: int):
    """Everything an editor needs to judge a listing, and the decisions."""
    return render_listing_review(_get_or_404(Listing, listing_id))


@bp.route("/screenshots/<filename>")
@editor_required
def screenshot(filename: str):
    """Any listing's screenshot, for editors only.

    The public ``storefront.screenshot`` serves only published or delisted
    listings, so a submission's screenshots are served from here, never cached.
    """
    found = screenshot_by_filename(get_session(), filename)
    if found is None:
        abort(404)
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / "screenshots"
    response = send_from_directory(folder, found.filename, mimetype=found.content_type, max_age=0)
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


@bp.route("/listings/<int:listing_id>/approve", methods=["POST"])
@editor_required
def approve(listing_id: int):
    session = get_session()
    listing = _get_or_404(Listing, listing_id)
    try:
        approve_listing(session, listing, current_user)
    except ListingError as error:
        flash(str(error), "error")
        return redirect(url_for("editor.listing", listing_id=listing.id))
    session.commit()
    flash(f"“{listing.name}” is published.", "success")
    return redirect(url_for("editor.queue"))


@bp.route("/listings/<int:listing_id>/reject", methods=["POST"])
@editor_required
def reject(listing_id: int):
    session = get_session()
    listing = _get_or_404(Listing, listing_id)
    form = reason_form("reject", submitted=True)
    if not form.validate_on_submit():
        return render_listing_review(listing, 400, reject_form=form)
    try:
        reject_listing(session, listing, current_user, form.reason.data)
    except ListingError as error:
        if error.field:
            form.reason.errors.append(str(error))
            return render_listing_review(listing, 400, reject_form=form)
        flash(str(error), "error")
        return redirect(url_for("editor.listing", listing_id=listing.id))
    session.commit()
    flash(f"“{listing.name}” went back to the partner as a draft with your reason.", "success")
    return redirect(url_for("editor.queue"))


@bp.route("/listings/<int:listing_id>/delist", methods=["POST"])
@editor_required
def delist(listing_id: int):
    session = get_session()
    listing = _get_or_404(Listing, listing_id)
    form = reason_form("delist", submitted=True)
    if not form.validate_on_submit():
        return render_listing_review(listing, 400, delist_form=form)
    try:
        delist_listing(session, listing, current_user, form.reason.data)
    except ListingError as error:
        if error.field:
            form.reason.errors.append(str(error))
            return render_listing_review(listing, 400, delist_form=form)
        flash(str(error), "error")
        return redirect(url_for("editor.listing", listing_id=listing.id))
    session.commit()
    flash(f"“{listing.name}” is delisted. Existing installs keep working.", "success")
    return redirect(url_for("editor.listing", listing_id=listing.id))


# --- releases of published listings --------------------------------------------------


def _decide_release(release_id: int, approve: bool):
    session = get_session()
    release = _get_or_404(Release, release_id)
    listing = session.get(Listing, release.listing_id)
    if listing.status not in RELEASE_REVIEW_STATUSES:
        # A draft's or submission's releases are decided with the listing itself.
        flash("This release is reviewed together with its listing.", "error")
        return redirect(url_for("editor.listing", listing_id=listing.id))
    reason = ""
    if not approve:
        form = reason_form(f"release-{release.id}", submitted=True)
        if not form.validate_on_submit():
            return render_listing_review(listing, 400, release_forms={release.id: form})
        reason = form.reason.data
    try:
        review_release(session, release, current_user, approve, reason)
    except ListingError as error:
        if error.field and not approve:
            form.reason.errors.append(str(error))
            return render_listing_review(listing, 400, release_forms={release.id: form})
        flash(str(error), "error")
        return redirect(url_for("editor.listing", listing_id=listing.id))
    session.commit()
    verdict = "approved" if approve else "rejected"
    flash(f"Version {release.version} of “{listing.name}” is {verdict}.", "success")
    return redirect(url_for("editor.listing", listing_id=listing.id))


@bp.route("/releases/<int:release_id>/approve", methods=["POST"])
@editor_required
def approve_release(release_id: int):
    return _decide_release(release_id, approve=True)


@bp.route("/releases/<int:release_id>/reject", methods=["POST"])
@editor_required
def reject_release(release_id: int):
    return _decide_release(release_id, approve=False)


# --- review moderation ---------------------------------------------------------------


def _render_reviews(status: int = 200, forms=None):
    page = page_number()
    pending = reviews_awaiting_moderation(get_session(), page, REVIEWS_PAGE_SIZE)
    forms = dict(forms or {})
    for review, _listing, _author in pending.rows:
        forms.setdefault(review.id, ReviewRejectForm(prefix=f"review-{review.id}", formdata=None))
    return render_template("listings/editor/reviews.html", rows=pending.rows, forms=forms,
                           total=pending.total, page=page,
                           pages=page_count(pending.total, REVIEWS_PAGE_SIZE)), status


@bp.route("/reviews")
@editor_required
def reviews():
    """Customers' reviews waiting to be published or rejected, oldest first."""
    return _render_reviews()


def _moderate(review_id: int, publish: bool):
    session = get_session()
    review = _get_or_404(Review, review_id)
    reason = ""
    if not publish:
        form = ReviewRejectForm(prefix=f"review-{review.id}")
        if not form.validate_on_submit():
            return _render_reviews(400, {review.id: form})
        reason = form.reason.data
    try:
        moderate_review(session, review, current_user, publish, reason)
    except ListingError as error:
        if error.field and not publish:
            form.reason.errors.append(str(error))
            return _render_reviews(400, {review.id: form})
        flash(str(error), "error")
        return redirect(url_for("editor.reviews"))
    session.commit()
    flash(f"The review “{review.title}” is {'published' if publish else 'rejected'}.", "success")
    return redirect(url_for("editor.reviews"))


@bp.route("/reviews/<int:review_id>/publish", methods=["POST"])
@editor_required
def publish_review(review_id: int):
    return _moderate(review_id, publish=True)


@bp.route("/reviews/<int:review_id>/reject", methods=["POST"])
@editor_required
def reject_review(review_id: int):
    return _moderate(review_id, publish=False)


# --- badges ----------------------------------------------------------------------------


@bp.route("/listings/<int:listing_id>/badges", methods=["POST"])
@editor_required
def award(listing_id: int):
    """Award a badge, optionally until the end of a day (UTC)."""
    session = get_session()
    listing = _get_or_404(Listing, listing_id)
    form = BadgeForm()
    if not form.validate_on_submit():
        return render_listing_review(listing, 400, badge_form=form)
    try:
        badge = award_badge(session, listing, current_user, form.kind.data, form.expiry,
                            form.note.data or "")
    except ListingError as error:
        _field_error(form, error, "kind")
        return render_listing_review(listing, 400, badge_form=form)
    session.commit()
    flash(f"“{listing.name}” now holds the {badge.label} badge.", "success")
    return redirect(url_for("editor.listing", listing_id=listing.id))


@bp.route("/badges/<int:badge_id>/revoke", methods=["POST"])
@editor_required
def revoke(badge_id: int):
    session = get_session()
    badge = _get_or_404(Badge, badge_id)
    back = safe_next(request.form.get("next"), url_for("editor.badges"))
    try:
        revoke_badge(session, badge, current_user, request.form.get("reason", ""))
    except ListingError as error:
        flash(str(error), "error")
        return redirect(back)
    session.commit()
    flash(f"The {badge.label} badge is revoked.", "success")
    return redirect(back)


@bp.route("/badges")
@editor_required
def badges():
    """Every active badge with its listing and expiry."""
    rows = active_badges(get_session(), utcnow())
    return render_template("listings/editor/badges.html", rows=rows)


# --- collections ---------------------------------------------------------------------


def _render_collections(form: CollectionForm | None = None, status: int = 200):
    session = get_session()
    return render_template("listings/editor/collections.html",
                           collections=collections_in_order(session),
                           counts=collection_sizes(session),
                           form=form or CollectionForm(formdata=None)), status


@bp.route("/collections", methods=["GET", "POST"])
@editor_required
def collections():
    """The collections in home page order, and a form to create one."""
    if request.method == "GET":
        return _render_collections()
    session = get_session()
    form = CollectionForm()
    if not form.validate_on_submit():
        return _render_collections(form, 400)
    try:
        collection = create_collection(session, current_user, form.name.data,
                                       form.description.data or "")
    except ListingError as error:
        _field_error(form, error, "name")
        return _render_collections(form, 400)
    session.commit()
    flash(f"Collection “{collection.name}” created. Add listings to it below.", "success")
    return redirect(url_for("editor.collection", collection_id=collection.id))


def _new_order(rows: list[tuple[CollectionItem, Listing]], form: CollectionItemsForm) -> tuple[list[int] | None, str | None]:
    """The ordered listing ids the editor asked for, or (None, message) when the input is wrong.

    Listings are sorted by their position number (ties keep the current
    order); removed and no longer published ones are left out; a listing
    added by slug goes last.
    """
    keep: list[tuple[int, int, int]] = []
    for index, (_item, listing) in enumerate(rows):
        if request.form.get(f"remove-{listing.id}") or listing.status != ListingStatus.PUBLISHED:
            continue
        raw = request.form.get(f"position-{listing.id}", "").strip()
        if not raw:
            position = index + 1
        else:
            try:
                position = int(raw)
            except ValueError:
                return None, f"The position of “{listing.name}” must be a whole number."
        keep.append((position, index, listing.id))
    listing_ids = [listing_id for _position, _index, listing_id in sorted(keep)]
    slug = (form.add_slug.data or "").lower()
    if slug:
        added = listing_by_slug(get_session(), slug)
        if added is None:
            form.add_slug.errors.append(f"No listing has the slug “{slug}”.")
            return None, None
        if added.status != ListingStatus.PUBLISHED:
            form.add_slug.errors.append(f"“{added.name}” is not published; only published "
                                        "listings can be in a collection.")
            return None, None
        if added.id in listing_ids:
            form.add_slug.errors.append(f"“{added.name}” is already in this collection.")
            return None, None
        listing_ids.append(added.id)
    return listing_ids, None


@bp.route("/collections/<int:collection_id>", methods=["GET", "POST"])
@editor_required
def collection(collection_id: int):
    """A collection's listings: reorder by number, remove, add by slug; one form, no JS needed."""
    session = get_session()
    collection = _get_or_404(Collection, collection_id)
    rows = collection_rows(session, collection.id)
    form = CollectionItemsForm() if request.method == "POST" else CollectionItemsForm(formdata=None)
    order_error = None
    if request.method == "POST":
        if form.validate_on_submit():
            listing_ids, order_error = _new_order(rows, form)
            if listing_ids is not None:
                try:
                    set_collection_items(session, collection, current_user, listing_ids)
                except ListingError as error:
                    order_error = str(error)
                else:
                    session.commit()
                    flash(f"Collection “{collection.name}” saved.", "success")
                    return redirect(url_for("editor.collection", collection_id=collection.id))
    status = 400 if request.method == "POST" else 200
    return render_template("listings/editor/collection.html", collection=collection, rows=rows,
                           form=form, order_error=order_error,
                           posted=request.form if request.method == "POST" else None), status


@bp.route("/collections/<int:collection_id>/move", methods=["POST"])
@editor_required
def move_collection(collection_id: int):
    """Move a collection up or down in the home page order."""
    session = get_session()
    collection = _get_or_404(Collection, collection_id)
    try:
        move_collection_service(session, collection, current_user, request.form.get("direction", ""))
    except ListingError as error:
        flash(str(error), "error")
        return redirect(url_for("editor.collections"))
    session.commit()
    flash(f"Moved “{collection.name}” {request.form['direction']}.", "success")
    return redirect(url_for("editor.collections"))


# --- the audit log ---------------------------------------------------------------------


def action_in_words(action: str) -> str:
    """"listing.approved" -> "Listing approved"."""
    return action.replace(".", " ").replace("_", " ").capitalize()


def detail_in_words(detail: dict) -> list[str]:
    """An audit event's detail fields as short phrases, e.g. "Reason: missing privacy URL"."""
    words = []
    for key, value in sorted(detail.items()):
        if isinstance(value, list | tuple):
            value = ", ".join(str(item) for item in value) or "none"
        words.append(f"{key.replace('_', ' ').capitalize()}: {value}")
    return words


@bp.route("/audit")
@editor_required
def audit_log():
    """Who did what and why, newest first; ``?action=`` filters to one action."""
    session = get_session()
    page = page_number()
    action = request.args.get("action", "").strip()
    events = audit_events(session, page, AUDIT_PAGE_SIZE, action)
    rows = [(event, actor or "System", action_in_words(event.action), detail_in_words(event.detail))
            for event, actor in events.rows]
    return render_template("listings/editor/audit.html", rows=rows, total=events.total, page=page,
                           pages=page_count(events.total, AUDIT_PAGE_SIZE), action=action,
                           actions=audit_actions(session), action_in_words=action_in_words)
