"""The editor console: the submission queue, listing review, releases,
badges and the audit log (collections: ``collection_views``; review moderation:
``review_moderation_views``).

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
from listings.audit_queries import (
    OBJECT_TYPES,
    AuditFilter,
    audit_actors,
    filtered_audit_events,
    listing_name,
)
from listings.audit_wording import (
    action_in_words,
    describe_events,
    human_time,
    time_ago,
)
from listings.editor_forms import (
    AuditFilterForm,
    BadgeForm,
    parse_day,
)
from listings.editor_pages import reason_form, render_listing_review
from listings.models import (
    Badge,
    Listing,
    Release,
)
from listings.queries import (
    RELEASE_REVIEW_STATUSES,
    active_badges,
    audit_actions,
    releases_awaiting_review,
    screenshot_by_filename,
    submissions_in_review,
)
from listings.services import (
    ListingError,
    approve_listing,
    award_badge,
    delist_listing,
    reject_listing,
    review_release,
    revoke_badge,
)

bp = Blueprint("editor", __name__, url_prefix="/editor")

AUDIT_PAGE_SIZE = 50


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


@bp.route("/badges/<int:badge_id>/confirm-revoke")
@editor_required
def confirm_revoke(badge_id: int):
    """Ask before revoking a badge; the page's button posts to ``revoke``."""
    session = get_session()
    badge = _get_or_404(Badge, badge_id)
    back = safe_next(request.args.get("next"), url_for("editor.badges"))
    if badge.revoked_at is not None:
        flash(f"The {badge.label} badge was already revoked.", "info")
        return redirect(back)
    return render_template("listings/editor/confirm_revoke.html", badge=badge,
                           listing=session.get(Listing, badge.listing_id), back=back)


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


# --- the audit log ---------------------------------------------------------------------


def _audit_filter(form: AuditFilterForm, actors: dict[int, str]) -> AuditFilter | None:
    """The filter the valid form asks for; None, with errors beside the fields, when
    a value is wrong (an actor who never acted, an unknown object kind or app)."""
    valid = form.validate()
    actor_id, system = None, False
    if form.actor.data == "system":
        system = True
    elif form.actor.data:
        if form.actor.data.isdigit() and int(form.actor.data) in actors:
            actor_id = int(form.actor.data)
        else:
            form.actor.errors.append("Choose someone from the list: nobody with that id "
                                     "appears in the audit log.")
    if form.object_type.data and form.object_type.data not in OBJECT_TYPES:
        form.object_type.errors.append("Choose a kind of object from the list.")
    listing_id = int(form.listing.data) if valid and form.listing.data else None
    if listing_id is not None and listing_name(get_session(), listing_id) is None:
        form.listing.errors.append(f"No app has the id {listing_id}.")
    if form.errors:
        return None
    return AuditFilter(actor_id=actor_id, system=system, action=form.action.data or "",
                       object_type=form.object_type.data or "", name=form.name.data or "",
                       listing_id=listing_id, since=parse_day(form.since.data or ""),
                       until=parse_day(form.until.data or ""))


@bp.route("/audit")
@editor_required
def audit_log():
    """Who did what to which object, newest first, as sentences; filtered by who,
    action, object (kind, name or app) and days, all in the query string."""
    session = get_session()
    page = page_number()
    actors = dict(audit_actors(session))
    form = AuditFilterForm(formdata=request.args)
    chosen = _audit_filter(form, actors)
    lines, total = [], 0
    if chosen is not None:
        events = filtered_audit_events(session, chosen, page, AUDIT_PAGE_SIZE)
        lines, total = describe_events(session, events.rows), events.total
    # Every filter is kept in the pagination links.
    kept = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "listings/editor/audit.html", lines=lines, total=total, page=page,
        pages=page_count(total, AUDIT_PAGE_SIZE), form=form, kept=kept,
        filtered=bool(kept), actors=actors, actions=audit_actions(session),
        object_types=OBJECT_TYPES, action_in_words=action_in_words, human_time=human_time,
        time_ago=time_ago,
        listing_filter=(listing_name(session, chosen.listing_id)
                        if chosen and chosen.listing_id else None),
    ), 200 if chosen is not None else 400
