"""Partner portal: a listing's price plans (add, change, put in order, remove). Like every partner
page, only a member of the listing's partner reaches it; anything else is 404. The
rules live in ``listings.plans``; these views convert input and commit on success."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from core.db import get_session
from core.security import partner_required
from listings.access import own_listing
from listings.models import Listing
from listings.plan_forms import PlanForm
from listings.plans import (
    add_plan,
    move_plan,
    own_plan,
    plan_offers,
    retire_plan,
    stored_plans,
    update_plan,
)
from listings.services import EDITABLE_STATUSES, ListingError

bp = Blueprint("plans", __name__, url_prefix="/partner")


class _Locked(Exception):
    """The listing's details (its prices among them) can't change in its status."""


def _editable(session, listing_id: int) -> Listing:
    listing = own_listing(session, listing_id)
    if listing.status not in EDITABLE_STATUSES:
        raise _Locked(listing)
    return listing


@bp.errorhandler(_Locked)
def _locked(error: _Locked):
    listing = error.args[0]
    flash(f"The plans of a listing that is {listing.status.replace('_', ' ')} can't be "
          "changed now.", "error")
    return redirect(url_for("partner.listing_detail", listing_id=listing.id))


def _editable_plan(session, listing_id: int, plan_id: int):
    """The partner's listing and one of its active plans (404 for anything else)."""
    listing = _editable(session, listing_id)
    plan = own_plan(session, listing, plan_id)
    if plan is None:
        abort(404)
    return listing, plan


def _problem(session, listing: Listing, plan, error: ListingError):
    """The plan's page again, saying why the change was refused (status 400)."""
    session.rollback()
    return render_template("listings/partner/plan_form.html", listing=listing,
                           form=PlanForm(data=PlanForm.data_from_plan(plan, listing)),
                           plan=plan, problem=str(error)), 400


def _back(listing: Listing):
    return redirect(url_for("partner.edit_listing", listing_id=listing.id, _anchor="plans"))


def _refused(listing: Listing, form: PlanForm, plan=None):
    """The plan form again, with its problems beside the fields (status 400)."""
    return render_template("listings/partner/plan_form.html", listing=listing, form=form,
                           plan=plan), 400


def _save(session, listing: Listing, form: PlanForm, plan=None):
    values = form.plan_values(listing)
    if form.has_errors:
        return _refused(listing, form, plan)
    try:
        saved = add_plan(session, listing, values) if plan is None else \
            update_plan(session, listing, plan, values)
    except ListingError as error:
        session.rollback()
        form.add_error(error.field, str(error))
        return _refused(listing, form, plan)
    session.commit()
    flash(f"Plan “{saved.name}” saved.", "success")
    return _back(listing)


@bp.route("/listings/<int:listing_id>/plans", methods=["POST"])
@partner_required
def add(listing_id: int):
    """Offer another plan on one of the partner's listings."""
    session = get_session()
    listing = _editable(session, listing_id)
    form = PlanForm()
    form.validate()
    return _save(session, listing, form)


@bp.route("/listings/<int:listing_id>/plans/<int:plan_id>", methods=["GET", "POST"])
@partner_required
def edit(listing_id: int, plan_id: int):
    """Change one of the listing's plans (GET: its form on a page of its own)."""
    session = get_session()
    listing, plan = _editable_plan(session, listing_id, plan_id)
    form = PlanForm(data=PlanForm.data_from_plan(plan, listing))
    if not form.is_submitted():
        return render_template("listings/partner/plan_form.html", listing=listing, form=form,
                               plan=plan)
    form.validate()
    return _save(session, listing, form, plan)


@bp.route("/listings/<int:listing_id>/plans/<int:plan_id>/remove", methods=["POST"])
@partner_required
def remove(listing_id: int, plan_id: int):
    """Stop offering a plan; customers already on it keep it."""
    session = get_session()
    listing, plan = _editable_plan(session, listing_id, plan_id)
    try:
        retire_plan(session, listing, plan)
    except ListingError as error:
        return _problem(session, listing, plan, error)
    session.commit()
    flash(f"Plan “{plan.name}” removed: new customers can no longer choose it; those on it "
          "keep it.", "success")
    return _back(listing)


@bp.route("/listings/<int:listing_id>/plans/<int:plan_id>/move", methods=["POST"])
@partner_required
def move(listing_id: int, plan_id: int):
    """Move a plan up or down the listing's plan table (``direction``)."""
    session = get_session()
    listing, plan = _editable_plan(session, listing_id, plan_id)
    direction = (request.form.get("direction") or "").strip()
    try:
        move_plan(session, listing, plan, direction)
    except ListingError as error:
        return _problem(session, listing, plan, error)
    session.commit()
    flash(f"Plan “{plan.name}” moved {direction}.", "success")
    return _back(listing)


@bp.app_context_processor
def _plan_helpers():
    """For the listing form's plans section (queries only when called)."""

    def listing_plan_offers(listing: Listing | None):
        if listing is None or listing.id is None:
            return []
        return plan_offers(listing, stored_plans(get_session(), listing.id))

    return {"listing_plan_offers": listing_plan_offers, "new_plan_form": PlanForm}
