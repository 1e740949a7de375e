"""Installs: what an install would get, installing with consent, uninstalling,
scope changes between releases, and an install as partners are told about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta

from sqlmodel import Session, col, select

from accounts.models import User, Workspace
from accounts.services import is_workspace_admin
from core.db import utcnow
from installs.events import record_event
from installs.models import Install, InstallStatus, Trial, TrialStatus
from listings.models import Listing, ListingStatus, Release
from listings.services import current_release

# --- installs -----------------------------------------------------------------


class InstallError(ValueError):
    """An install or uninstall that cannot be done, with a message for the user."""


class ConsentOutdated(InstallError):
    """The app's current release is not the one whose scopes the customer saw."""


BILLING_NOT_READY = ("This app is paid: it is installed once your payment is confirmed "
                     "through checkout.")
_NOT_PUBLISHED = {
    "delisted": "This app is no longer listed, so it can't be installed.",
    "archived": "This app has been archived, so it can't be installed.",
    "draft": "This app is not published yet, so it can't be installed.",
    "in_review": "This app is still being reviewed by our editors, so it can't be installed yet.",
}


def active_install(session: Session, workspace: Workspace, listing_id: int) -> Install | None:
    """The workspace's active install of a listing, if any."""
    return session.exec(select(Install).where(
        Install.workspace_id == workspace.id, Install.listing_id == listing_id,
        Install.status == InstallStatus.ACTIVE)).first()


def workspace_trial(session: Session, workspace: Workspace, listing_id: int) -> Trial | None:
    """The workspace's trial of a listing, running or used up."""
    return session.exec(select(Trial).where(Trial.workspace_id == workspace.id,
                                            Trial.listing_id == listing_id)).first()


@dataclass
class InstallPlan:
    """What confirming the consent screen would do: which release, and whether as a trial."""

    release: object
    trial_days: int = 0
    # A paid app without a trial: the admin goes through checkout, and the install is
    # made by billing once the payment provider confirms the subscription.
    needs_payment: bool = False


def installable_release(session: Session, workspace: Workspace, user: User, listing) -> InstallPlan:
    """What an install of ``listing`` would get; ``InstallError`` says why it can't happen.

    Free apps install outright; apps with a trial start one (once per
    workspace and app); paid apps without a trial wait for billing. The
    consent screen asks this before showing anything, and ``install_listing``
    asks it again when the admin confirms.
    """
    if listing.status != ListingStatus.PUBLISHED:
        raise InstallError(_NOT_PUBLISHED.get(listing.status, "This app can't be installed."))
    if not is_workspace_admin(session, workspace, user):
        raise InstallError("Only an admin of your workspace can install apps.")
    trial_days = 0
    needs_payment = False
    if not listing.is_free and listing.trial_days <= 0:
        needs_payment = True
    elif not listing.is_free:
        if workspace_trial(session, workspace, listing.id) is not None:
            raise InstallError(f"Your workspace has already used its free trial of {listing.name}; "
                               "there is one trial per workspace and app.")
        trial_days = listing.trial_days
    release = current_release(session, listing.id)
    if release is None:
        raise InstallError("This app has no approved version yet, so it can't be installed.")
    return InstallPlan(release=release, trial_days=trial_days, needs_payment=needs_payment)


def install_event(session: Session, install: Install, event_type: str, **extra) -> None:
    """Record what happened to ``install``; webhooks turn it into a delivery to the
    app's partner, sent after the commit (``installs.events``)."""
    record_event(session, install.listing_id, event_type,
                 {"install": install_public(session, install), **extra}, install_id=install.id)


def install_listing(session: Session, workspace: Workspace, user: User, listing,
                    consented_release_id: int | None = None, now=None,
                    paid: bool = False, plan_id: int | None = None) -> tuple[Install, bool]:
    """Install a published app into ``workspace`` with its current release's scopes.

    Returns the install and whether it is new. Only a workspace admin may
    install; an app with a trial starts it (no card needed). Installing an app
    the workspace already has returns the existing install, so a double
    submission makes one install. Raises ``InstallError`` with the reason
    otherwise; the partner is told through an ``install.created`` webhook.
    ``plan_id``: the price plan chosen (``listings.plans``), checked by the caller.
    """
    existing = active_install(session, workspace, listing.id)
    if existing is not None:
        return existing, False
    plan = installable_release(session, workspace, user, listing)
    if plan.needs_payment and not paid:
        raise InstallError(BILLING_NOT_READY)
    release = plan.release
    if paid and consented_release_id is not None and consented_release_id != release.id:
        # Paid for while a new release came out: install what the admin consented to;
        # the new access then waits for approval on "My apps".
        release = session.get(Release, consented_release_id) or release
    elif consented_release_id is not None and consented_release_id != release.id:
        raise ConsentOutdated("This app's requested access changed since you looked. "
                              "Please review it again.")
    now = now or utcnow()
    install = Install(workspace_id=workspace.id, listing_id=listing.id, release_id=release.id,
                      granted_scopes=list(release.scope_names), installed_by_id=user.id,
                      created_at=now, plan_id=plan_id)
    if plan.trial_days:
        trial = Trial(workspace_id=workspace.id, listing_id=listing.id, started_at=now,
                      ends_at=now + timedelta(days=plan.trial_days))
        session.add(trial)
        session.flush()
        install.trial_id = trial.id
    session.add(install)
    session.flush()
    install_event(session, install, "install.created")
    return install, True


def workspace_installs(session: Session, workspace: Workspace) -> list[Install]:
    """The workspace's active installs, newest first."""
    return list(session.exec(select(Install).where(
        Install.workspace_id == workspace.id, Install.status == InstallStatus.ACTIVE)
        .order_by(col(Install.created_at).desc(), col(Install.id).desc())).all())


def revoke_install(session: Session, install: Install, *,
                   status: InstallStatus = InstallStatus.UNINSTALLED, now=None) -> None:
    """End ``install``: every scope revoked at once, a running trial cancelled.

    ``status`` is ``UNINSTALLED`` (someone removed it; the partner gets
    ``install.uninstalled``) or ``EXPIRED`` (its trial ran out; the caller
    sends ``trial.ended``). No permission check: callers decide who may.
    """
    now = now or utcnow()
    install.status = status
    install.granted_scopes = []
    install.uninstalled_at = now
    if install.trial_id is not None and status == InstallStatus.UNINSTALLED:
        trial = session.get(Trial, install.trial_id)
        if trial is not None and trial.status == TrialStatus.ACTIVE:
            trial.status = TrialStatus.CANCELLED
            trial.ended_at = now
            session.add(trial)
    session.add(install)
    session.flush()
    if status == InstallStatus.UNINSTALLED:
        install_event(session, install, "install.uninstalled")


def uninstall(session: Session, install: Install, user: User) -> None:
    """Remove an app from its workspace and revoke every scope it was granted (admins only)."""
    workspace = session.get(Workspace, install.workspace_id)
    if workspace is None or not is_workspace_admin(session, workspace, user):
        raise InstallError("Only an admin of the workspace can uninstall apps.")
    if install.status != InstallStatus.ACTIVE:
        raise InstallError("This app is already uninstalled.")
    revoke_install(session, install)


# --- scope changes between releases ---------------------------------------------


@dataclass
class ScopeChange:
    """How an install's granted scopes differ from its app's current release.

    ``added`` holds the release's manifest entries (``scope`` and the partner's
    ``justification``) the install was never granted; ``removed`` the granted
    scope names the release no longer asks for.
    """

    release: object
    added: list[dict]
    removed: list[str]


def scope_changes(session: Session, install: Install) -> ScopeChange | None:
    """The difference between what ``install`` was granted and what its app now asks.

    None when the install is not active, the app has no approved release, or
    the scope sets are the same.
    """
    if install.status != InstallStatus.ACTIVE:
        return None
    release = current_release(session, install.listing_id)
    if release is None:
        return None
    granted = set(install.granted_scopes)
    added = [item for item in release.scopes if item["scope"] not in granted]
    removed = [name for name in install.granted_scopes if name not in set(release.scope_names)]
    if not added and not removed:
        return None
    return ScopeChange(release=release, added=added, removed=removed)


def apply_scope_reductions(session: Session, listing_id: int) -> list[Install]:
    """Move installs onto the current release when it asks for no more than they have.

    Fewer (or the same) scopes need no approval, so every active install of the
    listing whose granted set covers the current release gets exactly that
    release's scopes and version. Installs whose release asks for more keep
    their old grant until an admin approves (``approve_scope_change``).
    Returns the installs that changed.
    """
    release = current_release(session, listing_id)
    if release is None:
        return []
    wanted = list(release.scope_names)
    changed = []
    for install in session.exec(select(Install).where(
            Install.listing_id == listing_id, Install.status == InstallStatus.ACTIVE)).all():
        if not set(wanted) <= set(install.granted_scopes):
            continue
        if install.release_id == release.id and install.granted_scopes == wanted:
            continue
        removed = [name for name in install.granted_scopes if name not in wanted]
        install.granted_scopes = list(wanted)
        install.release_id = release.id
        session.add(install)
        session.flush()
        install_event(session, install, "install.scopes_updated",
                       added_scopes=[], removed_scopes=removed)
        changed.append(install)
    return changed


def approve_scope_change(session: Session, install: Install, user: User,
                         seen_release_id: int | None = None) -> ScopeChange:
    """Grant ``install`` exactly its app's current release's scopes (workspace admins only).

    ``seen_release_id`` is the release whose diff the admin approved: if a newer
    release arrived meanwhile, ``ConsentOutdated`` asks them to look again.
    Raises ``InstallError`` when there is nothing to approve.
    """
    workspace = session.get(Workspace, install.workspace_id)
    if workspace is None or not is_workspace_admin(session, workspace, user):
        raise InstallError("Only an admin of the workspace can approve new access.")
    change = scope_changes(session, install)
    if change is None:
        raise InstallError("This app has no new access waiting for approval.")
    if seen_release_id is not None and seen_release_id != change.release.id:
        raise ConsentOutdated("This app's requested access changed since you looked. "
                              "Please review it again.")
    install.granted_scopes = list(change.release.scope_names)
    install.release_id = change.release.id
    session.add(install)
    session.flush()
    install_event(session, install, "install.scopes_updated",
                   added_scopes=[item["scope"] for item in change.added],
                   removed_scopes=list(change.removed))
    return change


# --- what partners are told about an install -----------------------------------


def _iso(moment) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def install_public(session: Session, install: Install) -> dict:
    """An install as webhooks and the Partner API describe it (one shape for both)."""
    workspace = session.get(Workspace, install.workspace_id)
    listing = session.get(Listing, install.listing_id)
    release = session.get(Release, install.release_id)
    trial = session.get(Trial, install.trial_id) if install.trial_id else None
    return {
        "id": install.id,
        "status": install.status,
        "workspace": {"id": workspace.id, "name": workspace.name},
        "listing": {"id": listing.id, "slug": listing.slug},
        "release": release.version if release else None,
        "granted_scopes": list(install.granted_scopes),
        "installed_at": _iso(install.created_at),
        "uninstalled_at": _iso(install.uninstalled_at),
        "trial": None if trial is None else {
            "status": trial.status, "started_at": _iso(trial.started_at),
            "ends_at": _iso(trial.ends_at), "ended_at": _iso(trial.ended_at),
        },
    }
