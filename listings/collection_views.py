"""The editors' collections: the home page order, creating, editing (reorder,
remove, add by search or slug), renaming, deleting (after a confirmation
page) and a preview as customers will see it.

Every route is for editors and admins (``editor_required``); every change
writes the audit log; the view commits. The app picker works without JS: the
collection page takes ``?q=`` and lists matching published apps with "Add"
buttons; ``static/js/collection-picker.js`` asks ``/search`` (JSON) as the
editor types and shows the same buttons.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from core.db import get_session
from core.security import editor_required
from listings.browsing import listing_cards
from listings.collection_services import (
    add_listing,
    delete_collection,
    find_apps_to_add,
    rename_collection,
)
from listings.editor_forms import (
    AddToCollectionForm,
    CollectionForm,
    CollectionItemsForm,
    CollectionRenameForm,
)
from listings.models import Collection, CollectionItem, Listing, ListingStatus
from listings.queries import (
    collection_rows,
    collection_sizes,
    collections_in_order,
    listing_by_slug,
)
from listings.services import (
    ListingError,
    collection_listings,
    create_collection,
    set_collection_items,
)
from listings.services import move_collection as move_collection_service

bp = Blueprint("collections", __name__, url_prefix="/editor/collections")

MAX_QUERY = 80


def _collection_or_404(collection_id: int) -> Collection:
    collection = get_session().get(Collection, collection_id)
    if collection is None:
        abort(404)
    return collection


# --- the list -----------------------------------------------------------------------


def _render_index(form: CollectionForm | None = None, status: int = 200):
    session = get_session()
    return render_template("listings/editor/collections.html",
                           collections=collections_in_order(session),
                           counts=collection_sizes(session),
                           form=form or CollectionForm(formdata=None)), status


@bp.route("", methods=["GET", "POST"])
@editor_required
def index():
    """The collections in home page order, and a form to create one."""
    if request.method == "GET":
        return _render_index()
    session = get_session()
    form = CollectionForm()
    if not form.validate_on_submit():
        return _render_index(form, 400)
    try:
        collection = create_collection(session, current_user, form.name.data,
                                       form.description.data or "")
    except ListingError as error:
        form.name.errors.append(str(error))
        return _render_index(form, 400)
    session.commit()
    flash(f"Collection “{collection.name}” created. Add apps to it below.", "success")
    return redirect(url_for("collections.edit", collection_id=collection.id))


@bp.route("/<int:collection_id>/move", methods=["POST"])
@editor_required
def move(collection_id: int):
    """Move a collection up or down in the home page order."""
    session = get_session()
    collection = _collection_or_404(collection_id)
    try:
        move_collection_service(session, collection, current_user, request.form.get("direction", ""))
    except ListingError as error:
        flash(str(error), "error")
        return redirect(url_for("collections.index"))
    session.commit()
    flash(f"Moved “{collection.name}” {request.form['direction']}.", "success")
    return redirect(url_for("collections.index"))


# --- one collection ----------------------------------------------------------------------


def _query() -> str:
    return (request.args.get("q") or "").strip()[:MAX_QUERY]


def _render_edit(collection: Collection, status: int = 200, *, form=None, order_error=None,
                 rename_form=None, add_error=None):
    session = get_session()
    query = _query()
    return render_template(
        "listings/editor/collection.html", collection=collection,
        rows=collection_rows(session, collection.id),
        form=form or CollectionItemsForm(formdata=None), order_error=order_error,
        posted=request.form if form is not None else None,
        rename_form=rename_form or CollectionRenameForm(obj=collection, formdata=None),
        add_form=AddToCollectionForm(formdata=None), add_error=add_error, query=query,
        results=find_apps_to_add(session, collection.id, query) if query else None,
    ), status


def _new_order(rows: list[tuple[CollectionItem, Listing]], form: CollectionItemsForm
               ) -> tuple[list[int] | None, str | None]:
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


@bp.route("/<int:collection_id>", methods=["GET", "POST"])
@editor_required
def edit(collection_id: int):
    """A collection's apps: reorder by number, remove, add; one form, no JS needed."""
    session = get_session()
    collection = _collection_or_404(collection_id)
    if request.method == "GET":
        return _render_edit(collection)
    form = CollectionItemsForm()
    order_error = None
    if form.validate_on_submit():
        listing_ids, order_error = _new_order(collection_rows(session, collection.id), form)
        if listing_ids is not None:
            try:
                set_collection_items(session, collection, current_user, listing_ids)
            except ListingError as error:
                order_error = str(error)
            else:
                session.commit()
                flash(f"Collection “{collection.name}” saved.", "success")
                return redirect(url_for("collections.edit", collection_id=collection.id))
    return _render_edit(collection, 400, form=form, order_error=order_error)


@bp.route("/<int:collection_id>/search")
@editor_required
def search(collection_id: int):
    """Published apps matching ``?q=`` (at least two characters), as JSON for the picker."""
    collection = _collection_or_404(collection_id)
    results = find_apps_to_add(get_session(), collection.id, _query())
    return jsonify(results=[{"id": listing.id, "name": listing.name, "slug": listing.slug,
                             "tagline": listing.tagline, "partner": partner, "added": added}
                            for listing, partner, added in results])


@bp.route("/<int:collection_id>/add", methods=["POST"])
@editor_required
def add(collection_id: int):
    """Put the chosen app last in the collection."""
    session = get_session()
    collection = _collection_or_404(collection_id)
    form = AddToCollectionForm()
    if not form.validate_on_submit():
        message = "; ".join(error for errors in form.errors.values() for error in errors)
        return _render_edit(collection, 400, add_error=message)
    try:
        listing = add_listing(session, collection, current_user, int(form.listing_id.data))
    except ListingError as error:
        session.rollback()
        return _render_edit(collection, 400, add_error=str(error))
    session.commit()
    flash(f"“{listing.name}” added to “{collection.name}”.", "success")
    return redirect(url_for("collections.edit", collection_id=collection.id, q=_query() or None,
                            _anchor="add-heading"), code=303)


@bp.route("/<int:collection_id>/rename", methods=["POST"])
@editor_required
def rename(collection_id: int):
    """Change the collection's name, public address and description."""
    session = get_session()
    collection = _collection_or_404(collection_id)
    form = CollectionRenameForm()
    if not form.validate_on_submit():
        return _render_edit(collection, 400, rename_form=form)
    try:
        rename_collection(session, collection, current_user, form.name.data, form.slug.data,
                          form.description.data or "")
    except ListingError as error:
        session.rollback()
        getattr(form, error.field or "name", form.name).errors.append(str(error))
        return _render_edit(_collection_or_404(collection_id), 400, rename_form=form)
    session.commit()
    flash(f"Saved. The collection is “{collection.name}” at /collections/{collection.slug}.",
          "success")
    return redirect(url_for("collections.edit", collection_id=collection.id), code=303)


@bp.route("/<int:collection_id>/delete", methods=["GET", "POST"])
@editor_required
def delete(collection_id: int):
    """Ask first (GET), then delete the collection (POST); its apps stay published."""
    session = get_session()
    collection = _collection_or_404(collection_id)
    if request.method == "GET":
        return render_template("listings/editor/collection_delete.html", collection=collection,
                               count=collection_sizes(session).get(collection.id, 0))
    name = collection.name
    delete_collection(session, collection, current_user)
    session.commit()
    flash(f"Collection “{name}” deleted. Its apps are still published.", "success")
    return redirect(url_for("collections.index"), code=303)


@bp.route("/<int:collection_id>/preview")
@editor_required
def preview(collection_id: int):
    """The collection's public page as customers will see it (published apps only)."""
    session = get_session()
    collection = _collection_or_404(collection_id)
    cards = listing_cards(session, collection_listings(session, collection.id))
    return render_template("listings/editor/collection_preview.html", collection=collection,
                           cards=cards)
