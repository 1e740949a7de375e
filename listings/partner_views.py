"""Partner portal: a partner's listings, releases, screenshots and review replies.

Every route needs a partner member (``partner_required``), and every object
is looked up through the member's own partner: anything else answers 404.
The rules live in ``listings.services`` and ``listings.screenshots``; these
views convert form input, call them, and commit only when nothing failed.
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
    send_from_directory,
    url_for,
)
from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from core.db import get_session
from core.security import partner_required
from listings.access import own_listing
from listings.icons import icon_folder, save_icon
from listings.listing_preview import previewing
from listings.models import (
    Category,
    Listing,
    ListingCreate,
    ListingStatus,
    ListingUpdate,
    Partner,
    ReleaseCreate,
    Review,
    Screenshot,
)
from listings.partner_figures import dashboard_figures
from listings.partner_forms import (
    ListingForm,
    NewListingForm,
    ReleaseForm,
    ReplyForm,
    ScreenshotForm,
)
from listings.plans import sync_first_plan
from listings.prune_queries import partner_prune_context
from listings.queries import (
    categories_in_order,
    latest_releases,
    listing_releases,
    listing_screenshots,
    partner_listings,
    published_reviews_with_authors,
)
from listings.scopes import SCOPES
from listings.screenshots import (
    MAX_BYTES,
    MAX_SCREENSHOTS,
    delete_screenshot,
    save_screenshot,
)
from listings.services import (
    EDITABLE_STATUSES,
    ListingError,
    add_release,
    create_listing,
    current_release,
    reply_to_review,
    submit_for_review,
    update_listing,
    validation_messages,
)

bp = Blueprint("partner", __name__, url_prefix="/partner")
# What is true while an editor reviews a listing: the details they judge are locked,
# but screenshots and releases may still be added (the editor approves the pending
# releases with the listing) and the webhook URL is the partner's to change.
IN_REVIEW_LOCKED = ("While an editor reviews it, its details are locked; you can still add "
                    "screenshots and new releases.")


def _category_choices(session) -> list[SelectChoice]:
    return [SelectChoice(category.id, category.name) for category in categories_in_order(session)]


def _save_listing(session, form: ListingForm, listing: Listing | None = None) -> Listing | None:
    """Create (``listing`` None) or update a listing from ``form``.

    Returns the listing when it was written, or None with every problem beside
    its field. The session is rolled back on failure so nothing is written.
    """
    values = form.listing_values()
    category = session.get(Category, form.category_id.data) if form.category_id.data else None
    if category is None:
        form.add_error("category_id", "Choose a category.")
    try:
        data = ListingCreate(**values) if listing is None else ListingUpdate(**values)
    except ValidationError as error:
        form.add_errors(validation_messages(error))
        return None
    if form.has_errors:
        return None
    try:
        if listing is None:
            partner = session.get(Partner, current_user.partner_id)
            listing = create_listing(session, partner, category, data)
        else:
            listing = update_listing(session, listing, category, data)
        # The price fields are the first plan's (listings/plans.py).
        sync_first_plan(session, listing)
        if form.icon.data:  # a chosen file (no file chosen: None)
            save_icon(session, listing, form.icon.data.read(),
                      current_app.config["UPLOAD_FOLDER"])
        return listing
    except ListingError as error:
        session.rollback()
        form.add_error(error.field, str(error))
        return None


@bp.route("/")
@partner_required
def dashboard():
    """The partner's listings with their status, newest release and figures."""
    session = get_session()
    listings = partner_listings(session, current_user.partner_id)
    partner = session.get(Partner, current_user.partner_id)
    latest = latest_releases(session, [listing.id for listing in listings])
    figures = dashboard_figures(session, [listing.id for listing in listings])
    return render_template("listings/partner/dashboard.html", partner=partner, listings=listings,
                           latest=latest, figures=figures, editable=EDITABLE_STATUSES,
                           **partner_prune_context(session, current_user.partner_id))


@bp.route("/listings/new", methods=["GET", "POST"])
@partner_required
def new_listing():
    """Create a draft listing."""
    session = get_session()
    form = NewListingForm()
    form.category_id.choices = _category_choices(session)
    # "Preview" shows the form again with its preview filled in, saving nothing.
    if form.is_submitted() and not previewing():
        form.validate()
        listing = _save_listing(session, form)
        if listing is not None:
            try:
                session.commit()
            except IntegrityError:
                # Another request took the same slug between the check and the commit.
                session.rollback()
                form.add_error("slug", "That slug was just taken; choose another.")
                return render_template("listings/partner/listing_form.html", form=form,
                                       listing=None), 400
            flash(f"Draft “{listing.name}” created. Add a release, then submit it for review.",
                  "success")
            return redirect(url_for("partner.listing_detail", listing_id=listing.id))
    status = 400 if form.has_errors else 200
    return render_template("listings/partner/listing_form.html", form=form, listing=None), status


@bp.route("/listings/<int:listing_id>/edit", methods=["GET", "POST"])
@partner_required
def edit_listing(listing_id: int):
    """Change a draft or published listing's details (the slug stays)."""
    session = get_session()
    listing = own_listing(session, listing_id)
    if listing.status not in EDITABLE_STATUSES:
        flash(IN_REVIEW_LOCKED if listing.status == ListingStatus.IN_REVIEW else
              f"A listing that is {listing.status.replace('_', ' ')} cannot be edited.", "error")
        return redirect(url_for("partner.listing_detail", listing_id=listing.id))
    form = ListingForm(data=ListingForm.data_from_listing(listing))
    form.category_id.choices = _category_choices(session)
    # "Preview" shows the form again with its preview filled in, saving nothing.
    if form.is_submitted() and not previewing():
        form.validate()
        if _save_listing(session, form, listing) is not None:
            session.commit()
            flash("Your changes are saved.", "success")
            return redirect(url_for("partner.listing_detail", listing_id=listing.id))
    status = 400 if form.has_errors else 200
    return render_template("listings/partner/listing_form.html", form=form,
                           listing=listing), status


def _render_detail(session, listing: Listing, screenshot_form: ScreenshotForm | None = None,
                   status: int = 200):
    return render_template(
        "listings/partner/listing_detail.html",
        listing=listing,
        category=session.get(Category, listing.category_id),
        releases=listing_releases(session, listing.id),
        live_release=current_release(session, listing.id),
        screenshots=listing_screenshots(session, listing.id),
        max_screenshots=MAX_SCREENSHOTS,
        reviews=published_reviews_with_authors(session, listing.id),
        screenshot_form=screenshot_form or ScreenshotForm(formdata=None),
        can_edit=listing.status in EDITABLE_STATUSES,
        **partner_prune_context(session, listing.partner_id, listing_id=listing.id),
    ), status


@bp.route("/listings/<int:listing_id>")
@partner_required
def listing_detail(listing_id: int):
    """A listing's status, editor decision, releases, screenshots and reviews."""
    session = get_session()
    return _render_detail(session, own_listing(session, listing_id))


@bp.route("/listings/<int:listing_id>/submit", methods=["POST"])
@partner_required
def submit_listing(listing_id: int):
    """Send a draft to the editors."""
    session = get_session()
    listing = own_listing(session, listing_id)
    try:
        submit_for_review(session, listing)
    except ListingError as error:
        session.rollback()
        flash(str(error), "error")
    else:
        session.commit()
        flash("Submitted. An editor will review your listing; you will see their decision here.",
              "success")
    return redirect(url_for("partner.listing_detail", listing_id=listing_id))


@bp.route("/listings/<int:listing_id>/screenshots", methods=["POST"])
@partner_required
def upload_screenshot(listing_id: int):
    """Add a screenshot; the image is checked before anything is stored."""
    session = get_session()
    listing = own_listing(session, listing_id)
    form = ScreenshotForm()
    upload = form.image.data
    # Read one byte past the limit: enough to tell "too large" without
    # holding more than that in memory.
    data = upload.stream.read(MAX_BYTES + 1) if upload else b""
    try:
        screenshot = save_screenshot(session, listing, data, form.caption.data or "",
                                     current_app.config["UPLOAD_FOLDER"])
    except ListingError as error:
        session.rollback()
        form.add_error(error.field or "image", str(error))
        return _render_detail(session, listing, screenshot_form=form, status=400)
    session.commit()
    flash(f"Screenshot added ({screenshot.width}×{screenshot.height}).", "success")
    return redirect(url_for("partner.listing_detail", listing_id=listing.id, _anchor="screenshots"))


def _own_screenshot(session, listing: Listing, screenshot_id: int) -> Screenshot:
    screenshot = session.get(Screenshot, screenshot_id)
    if screenshot is None or screenshot.listing_id != listing.id:
        abort(404)
    return screenshot


@bp.route("/listings/<int:listing_id>/icon")
@partner_required
def icon_file(listing_id: int):
    """The listing's uploaded icon, for the partner's own form (a draft's is private)."""
    listing = own_listing(get_session(), listing_id)
    if not listing.icon_filename:
        abort(404)
    return send_from_directory(icon_folder(current_app.config["UPLOAD_FOLDER"]),
                               listing.icon_filename, max_age=0)


@bp.route("/listings/<int:listing_id>/screenshots/<int:screenshot_id>")
@partner_required
def screenshot_file(listing_id: int, screenshot_id: int):
    """The image itself, for the partner's own thumbnails.

    The storefront's screenshot URL only serves visible listings; a draft's
    screenshots are private to its partner, so they are served here.
    """
    session = get_session()
    screenshot = _own_screenshot(session, own_listing(session, listing_id), screenshot_id)
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / "screenshots"
    response = send_from_directory(folder, screenshot.filename, mimetype=screenshot.content_type,
                                   conditional=True)
    response.cache_control.private = True
    return response


@bp.route("/listings/<int:listing_id>/screenshots/<int:screenshot_id>/delete", methods=["POST"])
@partner_required
def remove_screenshot(listing_id: int, screenshot_id: int):
    """Delete one of the listing's screenshots."""
    session = get_session()
    listing = own_listing(session, listing_id)
    screenshot = _own_screenshot(session, listing, screenshot_id)
    delete_screenshot(session, screenshot, current_app.config["UPLOAD_FOLDER"])
    session.commit()
    flash("Screenshot deleted.", "success")
    return redirect(url_for("partner.listing_detail", listing_id=listing.id, _anchor="screenshots"))


@bp.route("/listings/<int:listing_id>/releases/new", methods=["GET", "POST"])
@partner_required
def new_release(listing_id: int):
    """Add a release with its manifest of requested scopes."""
    session = get_session()
    listing = own_listing(session, listing_id)
    form = ReleaseForm()
    live_release = current_release(session, listing.id)
    if not form.is_submitted() and live_release is not None:
        # A new version usually keeps most of the manifest: start from the live one.
        form.prefill_from(live_release)
    if form.is_submitted():
        form.validate()
        values = form.release_values()
        try:
            data = ReleaseCreate(**values)
        except ValidationError as error:
            form.add_release_errors(validation_messages(error))
        else:
            if not form.has_errors:
                try:
                    release = add_release(session, listing, data)
                except ListingError as error:
                    session.rollback()
                    form.add_error(error.field, str(error))
                else:
                    session.commit()
                    if listing.status == ListingStatus.PUBLISHED:
                        message = (f"Release {release.version} is waiting for an editor's review; "
                                   "customers keep the current version until it is approved.")
                    else:
                        message = f"Release {release.version} added."
                    flash(message, "success")
                    return redirect(url_for("partner.listing_detail", listing_id=listing.id))
    status = 400 if form.has_errors else 200
    return render_template("listings/partner/release_form.html", form=form, listing=listing,
                           scopes=SCOPES, live_release=live_release), status


@bp.route("/reviews/<int:review_id>/reply", methods=["POST"])
@partner_required
def reply(review_id: int):
    """Publish (or replace) the partner's public reply to a review of its listing."""
    session = get_session()
    review = session.get(Review, review_id)
    if review is None:
        abort(404)
    listing = own_listing(session, review.listing_id)
    form = ReplyForm()
    try:
        reply_to_review(session, review, form.body.data or "")
    except ListingError as error:
        session.rollback()
        flash(f"Your reply was not saved: {error}", "error")
    else:
        session.commit()
        flash("Your reply is published.", "success")
    return redirect(url_for("partner.listing_detail", listing_id=listing.id,
                            _anchor=f"review-{review.id}"))
