"""Account and install services: registration, sign-in checks, role changes,
workspaces, installs, trials, scope changes and install tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import update
from sqlmodel import Session, col, func, select

from core.db import utcnow
from storefront.models import (
    Install,
    InstallStatus,
    InstallToken,
    Notification,
    Role,
    Trial,
    TrialStatus,
    User,
    Workspace,
    WorkspaceMember,
    WorkspaceRole,
)

# Argon2id with the library's defaults: deliberately slow to guess against.
_hasher = PasswordHasher()
# Verified against when the email is unknown, so both answers take as long.
_dummy_hash = _hasher.hash("not-a-real-password")


def set_password_hasher(hasher: PasswordHasher) -> None:
    """Swap the Argon2 parameters (the test suite uses cheap ones to stay fast)."""
    global _hasher, _dummy_hash
    _hasher = hasher
    _dummy_hash = hasher.hash("not-a-real-password")


class AccountError(ValueError):
    """A request about an account that cannot be done, with a message for the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def register_user(session: Session, *, email: str, password: str, display_name: str,
                  role: Role = Role.CUSTOMER, partner_id: int | None = None) -> User:
    """Create an account. Raises ``AccountError`` when the email is taken (for
    operators and scripts; the public sign-up form uses ``credentials.sign_up``,
    which doesn't tell)."""
    email = normalise_email(email)
    if find_user_by_email(session, email) is not None:
        raise AccountError("An account with this email already exists.", field="email")
    user = User(email=email, password_hash=hash_password(password),
                display_name=display_name.strip(), role=role, partner_id=partner_id)
    session.add(user)
    session.flush()
    if role == Role.CUSTOMER:
        create_workspace(session, f"{user.display_name}'s workspace", user)
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user when the password matches, else None (same work either way)."""
    user = find_user_by_email(session, email)
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def change_role(session: Session, user: User, role: Role, partner_id: int | None) -> None:
    """Set a user's role; a partner role needs a partner organisation."""
    if role == Role.PARTNER and not partner_id:
        raise AccountError("A partner member needs a partner organisation.", field="partner_id")
    if user.role == Role.ADMIN and role != Role.ADMIN:
        admins = session.exec(select(func.count()).select_from(User)
                              .where(User.role == Role.ADMIN)).one()
        if admins <= 1:
            raise AccountError("The last admin cannot lose the admin role.", field="role")
    user.role = role
    user.partner_id = partner_id if role == Role.PARTNER else None
    session.add(user)


# --- workspaces ---------------------------------------------------------------


def create_workspace(session: Session, name: str, admin: User) -> Workspace:
    """A new workspace with ``admin`` as its first (admin) member."""
    workspace = Workspace(name=name[:120])
    session.add(workspace)
    session.flush()
    session.add(WorkspaceMember(workspace_id=workspace.id, user_id=admin.id,
                                role=WorkspaceRole.ADMIN))
    session.flush()
    return workspace


def current_workspace(session: Session, user) -> Workspace | None:
    """The workspace the user works in: the one chosen this session while they are
    still a member of it, else their first; None if they belong to none."""
    from storefront.workspaces import workspace_from_session  # that module imports this one

    return workspace_from_session(session, user)


def is_workspace_admin(session: Session, workspace: Workspace, user: User) -> bool:
    return session.exec(select(WorkspaceMember.id).where(
        WorkspaceMember.workspace_id == workspace.id, WorkspaceMember.user_id == user.id,
        WorkspaceMember.role == WorkspaceRole.ADMIN)).first() is not None


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
# The customer and the partner hear this long before a trial ends.
TRIAL_REMINDER = timedelta(days=3)


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
    # Imported here: listings sits above the storefront (docs/architecture.md);
    # the import goes when installs/ moves out of storefront/ (issue 12).
    from listings.models import ListingStatus
    from listings.services import current_release

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


def _install_event(session: Session, install: Install, event_type: str, **extra) -> None:
    """Tell the app's partner about ``install`` (a webhook delivered after commit)."""
    # Imported here: listings, webhooks sit above the storefront (docs/architecture.md);
    # the import goes when installs/ moves out of storefront/ (issue 12).
    from listings.models import Listing
    from webhooks.services import enqueue_event

    listing = session.get(Listing, install.listing_id)
    enqueue_event(session, listing, event_type,
                  {"install": install_public(session, install), **extra}, install_id=install.id)


def install_listing(session: Session, workspace: Workspace, user: User, listing,
                    consented_release_id: int | None = None, now=None,
                    paid: bool = False) -> tuple[Install, bool]:
    """Install a published app into ``workspace`` with its current release's scopes.

    Returns the install and whether it is new. Only a workspace admin may
    install; an app with a trial starts it (no card needed). Installing an app
    the workspace already has returns the existing install, so a double
    submission makes one install. Raises ``InstallError`` with the reason
    otherwise; the partner is told through an ``install.created`` webhook.
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
        from listings.models import Release

        release = session.get(Release, consented_release_id) or release
    elif consented_release_id is not None and consented_release_id != release.id:
        raise ConsentOutdated("This app's requested access changed since you looked. "
                              "Please review it again.")
    now = now or utcnow()
    install = Install(workspace_id=workspace.id, listing_id=listing.id, release_id=release.id,
                      granted_scopes=list(release.scope_names), installed_by_id=user.id,
                      created_at=now)
    if plan.trial_days:
        trial = Trial(workspace_id=workspace.id, listing_id=listing.id, started_at=now,
                      ends_at=now + timedelta(days=plan.trial_days))
        session.add(trial)
        session.flush()
        install.trial_id = trial.id
    session.add(install)
    session.flush()
    _install_event(session, install, "install.created")
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
        _install_event(session, install, "install.uninstalled")


def uninstall(session: Session, install: Install, user: User) -> None:
    """Remove an app from its workspace and revoke every scope it was granted (admins only)."""
    workspace = session.get(Workspace, install.workspace_id)
    if workspace is None or not is_workspace_admin(session, workspace, user):
        raise InstallError("Only an admin of the workspace can uninstall apps.")
    if install.status != InstallStatus.ACTIVE:
        raise InstallError("This app is already uninstalled.")
    revoke_install(session, install)


# --- trials -------------------------------------------------------------------


def notify(session: Session, workspace_id: int, kind: str, message: str,
           listing_id: int | None = None) -> Notification:
    """Leave ``message`` for the workspace: "My apps" shows it until dismissed."""
    note = Notification(workspace_id=workspace_id, kind=kind, message=message,
                        listing_id=listing_id)
    session.add(note)
    return note


def workspace_notifications(session: Session, workspace: Workspace) -> list[Notification]:
    return list(session.exec(select(Notification).where(
        Notification.workspace_id == workspace.id, col(Notification.dismissed_at).is_(None))
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())).all())


def has_payment_method(session: Session, workspace: Workspace,
                       listing_id: int | None = None) -> bool:
    """Whether the workspace can pay for an app (``listing_id``; any app when None)
    when its trial ends: the payment provider confirmed a subscription for it
    (trialing or active), which it does once a card was given at checkout."""
    # Imported here: billing sits above the storefront (docs/architecture.md);
    # the import goes when installs/ moves out of storefront/ (issue 12).
    from billing.models import Subscription, SubscriptionStatus

    query = select(Subscription.id).where(
        Subscription.workspace_id == workspace.id,
        col(Subscription.status).in_([SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE]))
    if listing_id is not None:
        query = query.where(Subscription.listing_id == listing_id)
    return session.exec(query).first() is not None


def trial_days_left(trial: Trial, now=None) -> int:
    """Whole days until the trial ends, rounded up (0 once it has ended)."""
    now = now or utcnow()
    ends_at = trial.ends_at if trial.ends_at.tzinfo else trial.ends_at.replace(tzinfo=UTC)
    seconds = (ends_at - now).total_seconds()
    return max(0, -int(-seconds // 86400))


@dataclass
class TrialSweep:
    reminded: int = 0
    converted: int = 0
    expired: int = 0


def settle_trials(session: Session, now=None, workspace_id: int | None = None) -> TrialSweep:
    """Remind trials that end within three days, and end the ones that are over.

    At its end a trial converts when the workspace can pay, otherwise it
    expires: the app is disabled (scopes revoked) and the workspace told.
    The partner gets ``trial.will_end`` and ``trial.ended``. Safe to run
    again at any time: each trial is reminded and ended once. Limited to one
    workspace when ``workspace_id`` is given (pages settle their own).
    """
    # Imported here: listings sits above the storefront (docs/architecture.md);
    # the import goes when installs/ moves out of storefront/ (issue 12).
    from listings.models import Listing

    now = now or utcnow()
    sweep = TrialSweep()
    scope = [Trial.status == TrialStatus.ACTIVE]
    if workspace_id is not None:
        scope.append(Trial.workspace_id == workspace_id)
    due = session.exec(select(Trial).where(*scope, Trial.ends_at <= now + TRIAL_REMINDER)
                       .order_by(Trial.id)).all()
    for trial in due:
        install = session.exec(select(Install).where(Install.trial_id == trial.id,
                                                     Install.status == InstallStatus.ACTIVE)).first()
        listing = session.get(Listing, trial.listing_id)
        ends_at = trial.ends_at if trial.ends_at.tzinfo else trial.ends_at.replace(tzinfo=UTC)
        if install is None:  # uninstalled some other way: nothing left to run
            trial.status, trial.ended_at = TrialStatus.CANCELLED, now
        elif ends_at > now:
            if trial.reminded_at is None:
                trial.reminded_at = now
                days = trial_days_left(trial, now)
                notify(session, trial.workspace_id, "trial_ending",
                       f"Your trial of {listing.name} ends in {days} day{'s' if days != 1 else ''} "
                       f"({ends_at:%d %b %Y}).", listing_id=listing.id)
                _install_event(session, install, "trial.will_end")
                sweep.reminded += 1
        elif has_payment_method(session, session.get(Workspace, trial.workspace_id),
                                listing_id=trial.listing_id):
            trial.status, trial.ended_at = TrialStatus.CONVERTED, now
            install.trial_id = None
            session.add(install)
            _install_event(session, install, "trial.ended", outcome="converted")
            sweep.converted += 1
        else:
            trial.status, trial.ended_at = TrialStatus.EXPIRED, now
            revoke_install(session, install, status=InstallStatus.EXPIRED, now=now)
            notify(session, trial.workspace_id, "trial_expired",
                   f"Your trial of {listing.name} ended, so the app is disabled and its access "
                   "revoked. Add a payment method to keep using it.", listing_id=listing.id)
            _install_event(session, install, "trial.ended", outcome="expired")
            sweep.expired += 1
        session.add(trial)
    session.flush()
    return sweep


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
    # Imported here: listings sits above the storefront (docs/architecture.md);
    # the import goes when installs/ moves out of storefront/ (issue 12).
    from listings.services import current_release

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
    # Imported here: listings sits above the storefront (docs/architecture.md);
    # the import goes when installs/ moves out of storefront/ (issue 12).
    from listings.services import current_release

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
        _install_event(session, install, "install.scopes_updated",
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
    _install_event(session, install, "install.scopes_updated",
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
    # Imported here: listings sits above the storefront (docs/architecture.md);
    # the import goes when installs/ moves out of storefront/ (issue 12).
    from listings.models import Listing, Release

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


# --- install tokens: proof for the app that an install just happened -------------

INSTALL_TOKEN_TTL = timedelta(minutes=10)


class InstallTokenError(ValueError):
    """A token that is forged, malformed, expired or already used; ``reason`` says which."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text_: str) -> bytes:
    return base64.urlsafe_b64decode(text_ + "=" * (-len(text_) % 4))


def _token_signature(secret: str, payload_part: str) -> str:
    return _b64(hmac.new(secret.encode(), payload_part.encode("ascii"), hashlib.sha256).digest())


def issue_install_token(session: Session, install: Install, listing) -> str:
    """A short-lived, single-use token for the app's redirect URL.

    ``<payload>.<signature>``, both base64url: the payload is JSON with the
    install, workspace, listing and expiry; the signature is HMAC-SHA256 of
    the payload part with the listing's secret, so the app can check it
    locally, then redeem it once through the Partner API.
    """
    # Imported here: webhooks sits above the storefront (docs/architecture.md);
    # the import goes when installs/ moves out of storefront/ (issue 12).
    from webhooks.services import ensure_webhook_secret

    secret = ensure_webhook_secret(listing)
    session.add(listing)
    now = utcnow()
    row = InstallToken(token_id=secrets.token_urlsafe(16), install_id=install.id,
                       listing_id=listing.id, created_at=now, expires_at=now + INSTALL_TOKEN_TTL)
    session.add(row)
    session.flush()
    payload = {"tid": row.token_id, "install_id": install.id, "workspace_id": install.workspace_id,
               "listing": listing.slug, "iat": int(now.timestamp()),
               "exp": int(row.expires_at.timestamp())}
    payload_part = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload_part}.{_token_signature(secret, payload_part)}"


def redeem_install_token(session: Session, listing, token: str, now=None) -> Install:
    """The install a token was issued for, marking the token used.

    Raises ``InstallTokenError`` when the token is not one of ``listing``'s
    (forged or malformed), has expired, or was redeemed before. Marking it
    used is one conditional UPDATE, so two simultaneous redemptions cannot
    both succeed.
    """
    now = now or utcnow()
    forged = InstallTokenError("invalid", "The install token is not valid for this app.")
    token = (token or "").strip()
    # Tokens are base64url, so ASCII; anything else is forged, and must not reach
    # encode("ascii") or compare_digest, which raise on non-ASCII text.
    if not token.isascii():
        raise forged
    payload_part, _, signature = token.partition(".")
    if not payload_part or not signature or not listing.webhook_secret:
        raise forged
    if not hmac.compare_digest(signature, _token_signature(listing.webhook_secret, payload_part)):
        raise forged
    try:
        payload = json.loads(_unb64(payload_part))
        token_id = str(payload["tid"])
    except (ValueError, KeyError, TypeError):
        raise forged from None
    row = session.exec(select(InstallToken).where(InstallToken.token_id == token_id,
                                                  InstallToken.listing_id == listing.id)).first()
    if row is None:
        raise forged
    expires_at = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if now >= expires_at:
        raise InstallTokenError("expired", "The install token has expired; they last "
                                f"{int(INSTALL_TOKEN_TTL.total_seconds() // 60)} minutes.")
    claimed = session.execute(
        update(InstallToken).where(col(InstallToken.id) == row.id,
                                   col(InstallToken.redeemed_at).is_(None))
        .values(redeemed_at=now)).rowcount
    if claimed != 1:
        raise InstallTokenError("used", "The install token was already used.")
    return session.get(Install, row.install_id)
