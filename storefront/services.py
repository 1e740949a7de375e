"""Account services: registration, sign-in checks and role changes."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, func, select

from storefront.db import utcnow
from storefront.models import (
    Install,
    InstallStatus,
    Role,
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
    """Create an account. Raises ``AccountError`` when the email is taken."""
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
    """The workspace the user works in: their first membership; None if none."""
    if user is None or not getattr(user, "is_authenticated", False) or user.id is None:
        return None
    return session.exec(
        select(Workspace).join(WorkspaceMember, WorkspaceMember.workspace_id == Workspace.id)
        .where(WorkspaceMember.user_id == user.id).order_by(WorkspaceMember.id)
    ).first()


def is_workspace_admin(session: Session, workspace: Workspace, user: User) -> bool:
    return session.exec(select(WorkspaceMember.id).where(
        WorkspaceMember.workspace_id == workspace.id, WorkspaceMember.user_id == user.id,
        WorkspaceMember.role == WorkspaceRole.ADMIN)).first() is not None


# --- installs -----------------------------------------------------------------


class InstallError(ValueError):
    """An install or uninstall that cannot be done, with a message for the user."""


class ConsentOutdated(InstallError):
    """The app's current release is not the one whose scopes the customer saw."""


BILLING_NOT_READY = "Paid apps and trials arrive with billing; this app can't be installed yet."
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


def installable_release(session: Session, workspace: Workspace, user: User, listing):
    """The release an install of ``listing`` would get; ``InstallError`` says why not.

    The consent screen asks this before showing anything, and
    ``install_listing`` asks it again when the admin confirms.
    """
    from listings.models import ListingStatus
    from listings.services import current_release

    if listing.status != ListingStatus.PUBLISHED:
        raise InstallError(_NOT_PUBLISHED.get(listing.status, "This app can't be installed."))
    if not is_workspace_admin(session, workspace, user):
        raise InstallError("Only an admin of your workspace can install apps.")
    if not listing.is_free or listing.trial_days > 0:
        raise InstallError(BILLING_NOT_READY)
    release = current_release(session, listing.id)
    if release is None:
        raise InstallError("This app has no approved version yet, so it can't be installed.")
    return release


def install_listing(session: Session, workspace: Workspace, user: User, listing,
                    consented_release_id: int | None = None) -> Install:
    """Install a published free app into ``workspace`` with its current release's scopes.

    Only a workspace admin may install. Installing an app the workspace already
    has returns the existing install, so a double submission makes one install.
    Raises ``InstallError`` with the reason otherwise.
    """
    release = installable_release(session, workspace, user, listing)
    if consented_release_id is not None and consented_release_id != release.id:
        raise ConsentOutdated("This app's requested access changed since you looked. "
                              "Please review it again.")
    existing = active_install(session, workspace, listing.id)
    if existing is not None:
        return existing
    install = Install(workspace_id=workspace.id, listing_id=listing.id, release_id=release.id,
                      granted_scopes=list(release.scope_names), installed_by_id=user.id)
    session.add(install)
    session.flush()
    return install


def workspace_installs(session: Session, workspace: Workspace) -> list[Install]:
    """The workspace's active installs, newest first."""
    return list(session.exec(select(Install).where(
        Install.workspace_id == workspace.id, Install.status == InstallStatus.ACTIVE)
        .order_by(col(Install.created_at).desc(), col(Install.id).desc())).all())


def uninstall(session: Session, install: Install, user: User) -> None:
    """Remove an app from its workspace and revoke every scope it was granted (admins only)."""
    workspace = session.get(Workspace, install.workspace_id)
    if workspace is None or not is_workspace_admin(session, workspace, user):
        raise InstallError("Only an admin of the workspace can uninstall apps.")
    if install.status != InstallStatus.ACTIVE:
        raise InstallError("This app is already uninstalled.")
    install.status = InstallStatus.UNINSTALLED
    install.granted_scopes = []
    install.uninstalled_at = utcnow()
    session.add(install)
    session.flush()


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
        install.granted_scopes = list(wanted)
        install.release_id = release.id
        session.add(install)
        changed.append(install)
    session.flush()
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
    return change
