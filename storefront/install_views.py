"""Installing apps: the consent screen, confirming an install, opening the app,
and "My apps".

An install grants the scopes of the app's current approved release to the
signed-in customer's workspace; only a workspace admin may install or
uninstall. Apps with a trial start it on install; paid apps without one go
through checkout (``billing.checkout.start_install_checkout``) and are installed once
the payment provider confirms. Opening an app hands its redirect URL
a fresh single-use install token.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from accounts.models import Notification, Workspace
from accounts.services import is_workspace_admin, unverified_reason, workspace_notifications
from accounts.workspaces import current_workspace
from billing.checkout import needs_checkout, start_install_checkout
from billing.providers import get_provider
from billing.queries import install_charges
from core.db import get_session, utcnow
from installs.models import Install, InstallStatus, Trial
from installs.services import (
    ConsentOutdated,
    InstallError,
    active_install,
    apply_scope_reductions,
    approve_scope_change,
    install_listing,
    installable_release,
    scope_changes,
    uninstall,
    workspace_installs,
)
from installs.tokens import issue_install_token
from installs.trials import settle_trials, trial_days_left
from listings.models import Listing, ListingStatus, Partner
from listings.plans import (
    ListingPlan,
    PlanNotOffered,
    chosen_plan,
    listing_plans,
    plan_offers,
    plan_price,
    plans_by_id,
)
from listings.services import current_release, published_listing
from storefront.charging import stop_charging
from storefront.queries import (
    expired_installs,
    listings_by_id,
    suggested_apps,
    trials_by_id,
)

log = logging.getLogger(__name__)

bp = Blueprint("installs", __name__)

NEEDS_WORKSPACE = "Sign in with a customer account to install apps."


@bp.app_context_processor
def _install_helpers():
    """Lazy helpers for the nav and the listing page (they query only when called)."""

    def has_workspace() -> bool:
        return current_workspace(get_session(), current_user) is not None

    def workspace_install(listing: Listing) -> Install | None:
        workspace = current_workspace(get_session(), current_user)
        return active_install(get_session(), workspace, listing.id) if workspace else None

    def plan_offers_for(listing: Listing):
        """The listing's plans with their prices and button texts, for its install form."""
        return plan_offers(listing, listing_plans(get_session(), listing))

    return {"has_workspace": has_workspace, "workspace_install": workspace_install,
            "plan_offers_for": plan_offers_for}


def _listing_or_404(slug: str) -> Listing:
    found = published_listing(get_session(), slug)
    if found is None:
        abort(404)
    return found


def _back_to_listing(listing: Listing, message: str):
    flash(message, "error")
    return redirect(url_for("storefront.listing", slug=listing.slug))


def _chosen_plan(session, listing: Listing, raw_id):
    """``(plan, None)`` for the plan the customer picked (None for a free app), or
    ``(None, a 400 page)`` naming the problem for a plan this app does not offer."""
    try:
        return chosen_plan(session, listing, raw_id), None
    except PlanNotOffered as error:
        return None, (render_template("storefront/error.html", status=400,
                                      title="That plan isn't offered", message=str(error)), 400)


def _paid_checkout(session, workspace: Workspace, listing: Listing, consented_release_id: int,
                   plan: ListingPlan | None = None):
    """To the payment provider's checkout for a paid app, or back with the reason."""
    start = start_install_checkout(
        session, get_provider(), workspace, current_user, listing, consented_release_id,
        success_url=lambda subscription_id: url_for(
            "billing.checkout_pending", subscription_id=subscription_id, _external=True),
        cancel_url=url_for("storefront.listing", slug=listing.slug, _external=True),
        plan=plan)
    if start.url is not None:
        return redirect(start.url, code=303)
    if start.to_listing:
        return _back_to_listing(listing, start.message)
    flash(start.message, start.category)
    return redirect(url_for("installs.consent", slug=listing.slug))


@bp.route("/apps/<slug>/install", methods=["POST"])
@login_required
def start(slug: str):
    """The listing page's Install button: on to the consent screen, with the plan chosen."""
    listing = _listing_or_404(slug)
    plan, refused = _chosen_plan(get_session(), listing, request.form.get("plan"))
    if refused:
        return refused
    return redirect(url_for("installs.consent", slug=listing.slug,
                            plan=plan.id if plan is not None and plan.id else None))


@bp.route("/apps/<slug>/install", methods=["GET"])
@login_required
def consent(slug: str):
    """What the app asks for, in plain words, before the admin confirms."""
    session = get_session()
    listing = _listing_or_404(slug)
    workspace = current_workspace(session, current_user)
    if workspace is None:
        return _back_to_listing(listing, NEEDS_WORKSPACE)
    if active_install(session, workspace, listing.id) is not None:
        flash(f"{listing.name} is already installed.", "info")
        return redirect(url_for("installs.my_apps"))
    price_plan, refused = _chosen_plan(session, listing, request.args.get("plan"))
    if refused:
        return refused
    try:
        plan = installable_release(session, workspace, current_user, listing)
    except InstallError as error:
        return _back_to_listing(listing, str(error))
    offer = (plan_offers(listing, [price_plan], trial_days=plan.trial_days)[0]
             if price_plan is not None else None)
    return render_template("installs/consent.html", listing=listing, release=plan.release,
                           trial_days=plan.trial_days, needs_payment=plan.needs_payment,
                           workspace=workspace, offer=offer,
                           trial_ends=utcnow() + timedelta(days=plan.trial_days),
                           payment_blocked=unverified_reason(current_user, "pay for apps"))


@bp.route("/apps/<slug>/install/confirm", methods=["POST"])
@login_required
def confirm(slug: str):
    """Install the app into the workspace with the scopes shown on the consent screen."""
    session = get_session()
    listing = _listing_or_404(slug)
    workspace = current_workspace(session, current_user)
    if workspace is None:
        return _back_to_listing(listing, NEEDS_WORKSPACE)
    consented = request.form.get("release_id", type=int)
    if consented is None:
        # Installing grants access: never without the consent screen's release.
        return redirect(url_for("installs.consent", slug=listing.slug))
    price_plan, refused = _chosen_plan(session, listing, request.form.get("plan"))
    if refused:
        return refused
    # A paid app goes through checkout; billing installs it once payment is confirmed.
    if needs_checkout(session, workspace, current_user, listing):
        unverified = unverified_reason(current_user, "pay for apps")
        if unverified:  # free apps install unverified; paying waits for a proven address
            flash(unverified, "error")
            return redirect(url_for("installs.consent", slug=listing.slug))
        return _paid_checkout(session, workspace, listing, consented, price_plan)
    try:
        install, created = install_listing(session, workspace, current_user, listing,
                                           consented_release_id=consented,
                                           plan_id=price_plan.id if price_plan else None)
        session.commit()
    except ConsentOutdated as error:
        session.rollback()
        flash(str(error), "warning")
        return redirect(url_for("installs.consent", slug=listing.slug))
    except InstallError as error:
        session.rollback()
        return _back_to_listing(listing, str(error))
    except IntegrityError:
        # A simultaneous confirm won the race (the partial unique index or the
        # one-trial rule): the app is installed once, which is what was asked.
        session.rollback()
        created = False
    if not created:
        flash(f"{listing.name} is already installed.", "info")
        return redirect(url_for("installs.my_apps"))
    return redirect(url_for("installs.installed", install_id=install.id), code=303)


@bp.route("/my/apps/<int:install_id>/installed")
@login_required
def installed(install_id: int):
    """The post-install page: what was granted, and the way on to the app's own setup."""
    session = get_session()
    install = _own_install(session, install_id)
    listing = session.get(Listing, install.listing_id)
    trial = session.get(Trial, install.trial_id) if install.trial_id else None
    return render_template("installs/installed.html", install=install, listing=listing,
                           trial=trial, days_left=trial_days_left(trial) if trial else None)


def _with_query(url: str, **params) -> str:
    """``url`` with ``params`` added to its query string (keeping what it had)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


@bp.route("/my/apps/<int:install_id>/open", methods=["POST"])
@login_required
def open_app(install_id: int):
    """Send the customer to the app's redirect URL with a fresh single-use install token.

    The token is made at the moment of leaving, so its ten minutes start when
    the app receives it; the app verifies it and redeems it once through the
    Partner API to learn which install (workspace, scopes) this is.
    """
    session = get_session()
    install = _own_install(session, install_id)
    listing = session.get(Listing, install.listing_id)
    if install.status != InstallStatus.ACTIVE:
        flash(f"{listing.name} is not active in your workspace, so it can't be opened.", "error")
        return redirect(url_for("installs.my_apps"))
    release = current_release(session, listing.id)
    if release is None or not release.redirect_url:
        flash(f"{listing.name} has no page to open.", "error")
        return redirect(url_for("installs.my_apps"))
    token = issue_install_token(session, install, listing)
    session.commit()
    return redirect(_with_query(release.redirect_url, install_token=token), code=303)


@bp.route("/my/apps")
@login_required
def my_apps():
    """The workspace's installed apps: access, trials, new access waiting, notices."""
    session = get_session()
    workspace = current_workspace(session, current_user)
    if workspace is None:
        return render_template("installs/my_apps.html", workspace=None,
                               needs_workspace=NEEDS_WORKSPACE)
    # Bring the workspace up to date before showing it: releases asking for
    # fewer scopes apply at once, and trials that ended are settled even if
    # the nightly run hasn't come by yet.
    listing_ids = {install.listing_id for install in workspace_installs(session, workspace)}
    changed = [apply_scope_reductions(session, listing_id) for listing_id in sorted(listing_ids)]
    sweep = settle_trials(session, workspace_id=workspace.id)
    if any(changed) or sweep.reminded or sweep.expired or sweep.converted:
        session.commit()
    installs = workspace_installs(session, workspace)
    disabled = expired_installs(session, workspace.id)
    listings = listings_by_id(session, {install.listing_id for install in installs + disabled})
    trials = trials_by_id(session, [install.trial_id for install in installs if install.trial_id])
    notifications = workspace_notifications(session, workspace)
    return render_template(
        "installs/my_apps.html", workspace=workspace,
        rows=[(install, listings[install.listing_id]) for install in installs],
        disabled=[(install, listings[install.listing_id]) for install in disabled
                  if active_install(session, workspace, install.listing_id) is None],
        trials=trials, days_left=trial_days_left,
        plans=plans_by_id(session, [install.plan_id for install in installs]),
        plan_price=plan_price,
        changes={install.id: change for install in installs
                 if (change := scope_changes(session, install)) is not None},
        notifications=notifications,
        # A delisted app's notice names alternatives: all of them in one query.
        suggestions=suggested_apps(session, notifications),
        is_admin=is_workspace_admin(session, workspace, current_user),
        visible=(ListingStatus.PUBLISHED, ListingStatus.DELISTED))


@bp.route("/my/notifications/<int:notification_id>/dismiss", methods=["POST"])
@login_required
def dismiss_notification(notification_id: int):
    """Hide a notice from the workspace's "My apps" (any member may)."""
    session = get_session()
    workspace = current_workspace(session, current_user)
    note = session.get(Notification, notification_id)
    if workspace is None or note is None or note.workspace_id != workspace.id:
        abort(404)
    if note.dismissed_at is None:
        note.dismissed_at = utcnow()
        session.add(note)
        session.commit()
    return redirect(url_for("installs.my_apps"))


def _own_install(session, install_id: int) -> Install:
    """An install of the user's workspace; another workspace's is not even admitted to exist."""
    workspace: Workspace | None = current_workspace(session, current_user)
    install = session.get(Install, install_id)
    if workspace is None or install is None or install.workspace_id != workspace.id:
        abort(404)
    return install


# Its own path: a GET rule on the POST's path would turn the 404 of an id too large
# for the database (core.routing) into a 405.
@bp.route("/my/apps/<int:install_id>/confirm-uninstall")
@login_required
def confirm_uninstall(install_id: int):
    """Ask before uninstalling: what stops working and whether (and when) billing ends.

    The page's button posts to ``uninstall_app``; "My apps" links here.
    """
    session = get_session()
    install = _own_install(session, install_id)
    listing = session.get(Listing, install.listing_id)
    if install.status != InstallStatus.ACTIVE:
        flash(f"{listing.name} is not installed.", "info")
        return redirect(url_for("installs.my_apps"))
    workspace = session.get(Workspace, install.workspace_id)
    if not is_workspace_admin(session, workspace, current_user):
        return render_template("storefront/error.html", status=403, title="You cannot uninstall apps",
                               message="Only an admin of the workspace can uninstall apps."), 403
    subscription, last_invoice = install_charges(session, install.id)
    return render_template(
        "installs/confirm_uninstall.html", install=install, listing=listing, workspace=workspace,
        partner=session.get(Partner, listing.partner_id),
        trial=session.get(Trial, install.trial_id) if install.trial_id else None,
        subscription=subscription, last_invoice=last_invoice)


@bp.route("/my/apps/<int:install_id>/uninstall", methods=["POST"])
@login_required
def uninstall_app(install_id: int):
    """Remove an app from the workspace and revoke its access (workspace admins only)."""
    session = get_session()
    install = _own_install(session, install_id)
    listing = session.get(Listing, install.listing_id)
    try:
        uninstall(session, install, current_user)
    except InstallError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("installs.my_apps"))
    session.commit()
    flash(f"Uninstalled {listing.name}; its access to your workspace is revoked.", "success")
    stop_charging(session, install.workspace_id)
    return redirect(url_for("installs.my_apps"))


@bp.route("/my/apps/<int:install_id>/approve-scopes", methods=["POST"])
@login_required
def approve_scopes(install_id: int):
    """Grant an installed app the new access its latest release asks for (workspace admins only)."""
    session = get_session()
    install = _own_install(session, install_id)
    seen = request.form.get("release_id", type=int)
    if seen is None:
        # Granting access: never without the diff the admin was shown.
        flash("Please review the new access before approving it.", "warning")
        return redirect(url_for("installs.my_apps"))
    listing = session.get(Listing, install.listing_id)
    try:
        change = approve_scope_change(session, install, current_user, seen_release_id=seen)
    except ConsentOutdated as error:
        session.rollback()
        flash(str(error), "warning")
        return redirect(url_for("installs.my_apps"))
    except InstallError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("installs.my_apps"))
    session.commit()
    flash(f"{listing.name} {change.release.version} now has the access you approved.", "success")
    return redirect(url_for("installs.my_apps"))
