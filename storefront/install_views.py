"""Installing apps: the consent screen, confirming an install, and "My apps".

An install grants the scopes of the app's current approved release to the
signed-in customer's workspace; only a workspace admin may install or
uninstall. Paid apps and trials wait for billing (``InstallError`` says so).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from listings.models import Listing, ListingStatus
from listings.services import published_listing
from storefront.db import get_session
from storefront.models import Install, Workspace
from storefront.services import (
    ConsentOutdated,
    InstallError,
    active_install,
    apply_scope_reductions,
    approve_scope_change,
    current_workspace,
    install_listing,
    installable_release,
    is_workspace_admin,
    scope_changes,
    uninstall,
    workspace_installs,
)

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

    return {"has_workspace": has_workspace, "workspace_install": workspace_install}


def _listing_or_404(slug: str) -> Listing:
    found = published_listing(get_session(), slug)
    if found is None:
        abort(404)
    return found


def _back_to_listing(listing: Listing, message: str):
    flash(message, "error")
    return redirect(url_for("storefront.listing", slug=listing.slug))


@bp.route("/apps/<slug>/install", methods=["POST"])
@login_required
def start(slug: str):
    """The listing page's Install button: on to the consent screen."""
    listing = _listing_or_404(slug)
    return redirect(url_for("installs.consent", slug=listing.slug))


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
    try:
        release = installable_release(session, workspace, current_user, listing)
    except InstallError as error:
        return _back_to_listing(listing, str(error))
    return render_template("installs/consent.html", listing=listing, release=release,
                           workspace=workspace)


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
    try:
        install_listing(session, workspace, current_user, listing, consented_release_id=consented)
        session.commit()
    except ConsentOutdated as error:
        session.rollback()
        flash(str(error), "warning")
        return redirect(url_for("installs.consent", slug=listing.slug))
    except InstallError as error:
        session.rollback()
        return _back_to_listing(listing, str(error))
    except IntegrityError:
        # A simultaneous confirm won the race (the partial unique index): the
        # app is installed once, which is what the admin asked for.
        session.rollback()
    flash(f"Installed {listing.name}.", "success")
    return redirect(url_for("installs.my_apps"))


@bp.route("/my/apps")
@login_required
def my_apps():
    """The workspace's installed apps and the access each one has."""
    session = get_session()
    workspace = current_workspace(session, current_user)
    rows: list[tuple[Install, Listing]] = []
    changes = {}
    is_admin = False
    if workspace is not None:
        # Releases asking for fewer scopes apply at once; bring them in first.
        listing_ids = {install.listing_id for install in workspace_installs(session, workspace)}
        reduced = [apply_scope_reductions(session, listing_id) for listing_id in sorted(listing_ids)]
        if any(reduced):
            session.commit()
        installs = workspace_installs(session, workspace)
        changes = {install.id: change for install in installs
                   if (change := scope_changes(session, install)) is not None}
        is_admin = is_workspace_admin(session, workspace, current_user)
        listing_ids = [install.listing_id for install in installs]
        listings = {listing.id: listing for listing in session.exec(
            select(Listing).where(col(Listing.id).in_(listing_ids))).all()} if listing_ids else {}
        rows = [(install, listings[install.listing_id]) for install in installs]
    return render_template("installs/my_apps.html", workspace=workspace, rows=rows,
                           changes=changes, is_admin=is_admin,
                           visible=(ListingStatus.PUBLISHED, ListingStatus.DELISTED),
                           needs_workspace=NEEDS_WORKSPACE)


def _own_install(session, install_id: int) -> Install:
    """An install of the user's workspace; another workspace's is not even admitted to exist."""
    workspace: Workspace | None = current_workspace(session, current_user)
    install = session.get(Install, install_id)
    if workspace is None or install is None or install.workspace_id != workspace.id:
        abort(404)
    return install


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
