"""Account services: passwords, registration, sign-in checks, role changes, a
person's workspace, and the notices left for a workspace."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, func, select

from accounts.models import Notification, Role, User, Workspace, WorkspaceMember, WorkspaceRole
from core.db import utcnow

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


# Why an unverified customer is refused paying, inviting or reviewing ({doing}: "pay
# for apps", "invite people", "write reviews"), on the page where they tried.
UNVERIFIED = ("Confirm your email address to {doing}: open the link we emailed to {email}, or "
              "send a new one from your account page. Until then you can browse and install "
              "free apps.")


def unverified_reason(user, doing: str) -> str | None:
    """Why ``user`` may not ``doing`` yet (their address is not verified), or None."""
    if getattr(user, "email_verified_at", None) is not None:
        return None
    return UNVERIFIED.format(doing=doing, email=user.email)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def register_user(session: Session, *, email: str, password: str, display_name: str,
                  role: Role = Role.CUSTOMER, partner_id: int | None = None,
                  verified: bool = False) -> User:
    """Create an account. Raises ``AccountError`` when the email is taken (for
    operators and scripts; the public sign-up form uses ``credentials.sign_up``,
    which doesn't tell). ``verified`` marks the address as proven (an operator
    or the demo vouches for it); sign-up leaves it to the mailed link."""
    email = normalise_email(email)
    if find_user_by_email(session, email) is not None:
        raise AccountError("An account with this email already exists.", field="email")
    user = User(email=email, password_hash=hash_password(password),
                display_name=display_name.strip(), role=role, partner_id=partner_id,
                email_verified_at=utcnow() if verified else None)
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


def is_workspace_admin(session: Session, workspace: Workspace, user: User) -> bool:
    return session.exec(select(WorkspaceMember.id).where(
        WorkspaceMember.workspace_id == workspace.id, WorkspaceMember.user_id == user.id,
        WorkspaceMember.role == WorkspaceRole.ADMIN)).first() is not None


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
