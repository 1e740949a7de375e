"""Workspaces: their members and roles, invitations, the workspace a person
works in, and deleting an account (with the workspaces it leaves empty).

Only a workspace admin renames the workspace, invites, revokes invitations,
changes roles or removes members; a workspace always keeps at least one admin.
Invitations are accepted through a secret link of which only a SHA-256 hash is
stored. Every function takes a ``Session`` and never commits.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import MutableMapping
from datetime import datetime, timedelta

from flask import has_request_context
from flask import session as flask_session
from sqlalchemy import update
from sqlmodel import Session, col, func, select

from accounts.models import (
    Role,
    User,
    Workspace,
    WorkspaceInvitation,
    WorkspaceMember,
    WorkspaceRole,
)
from accounts.services import is_workspace_admin, normalise_email, unverified_reason
from core.db import as_utc, utcnow

INVITATION_TTL = timedelta(days=7)
# The flask session key holding the id of the workspace the person chose.
SESSION_KEY = "workspace_id"
DELETED_USER_NAME = "Deleted user"
DELETED_WORKSPACE_NAME = "Deleted workspace"
ROLE_NAMES = {WorkspaceRole.ADMIN: "Admin", WorkspaceRole.MEMBER: "Member"}

NOT_A_CUSTOMER = ("Partner, editor and admin accounts can't join workspaces. "
                  "Sign in with a customer account to accept this invitation.")
INVITATION_REVOKED = "This invitation was withdrawn by an admin of the workspace."
INVITATION_ACCEPTED = "This invitation has already been accepted; each link works once."
INVITATION_EXPIRED = ("This invitation has expired; invitations work for 7 days. "
                      "Ask an admin of the workspace for a new one.")
WORKSPACE_GONE = "This workspace no longer exists."
WRONG_EMAIL = ("This invitation was sent to a different email address than yours ({email}). "
               "Sign in with the invited address to accept it.")


class WorkspaceError(ValueError):
    """A workspace change that cannot be done, with a message for the user."""


class NotWorkspaceAdmin(WorkspaceError):
    """The change is for the workspace's admins only."""


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored for an invitation token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def lock_workspace(session: Session, workspace_id: int) -> Workspace | None:
    """The workspace, re-read and locked until commit (PostgreSQL; SQLite has one writer).

    Taken before counting members or admins, so two requests can't both leave
    a workspace without an admin or both think someone else is still in it.
    """
    return session.exec(select(Workspace).where(Workspace.id == workspace_id)
                        .with_for_update().execution_options(populate_existing=True)).first()


# --- which workspaces, and which one now -----------------------------------------


def user_workspaces(session: Session, user) -> list[Workspace]:
    """The workspaces ``user`` belongs to, oldest membership first."""
    if user is None or not getattr(user, "is_authenticated", False) or user.id is None:
        return []
    return list(session.exec(
        select(Workspace).join(WorkspaceMember, WorkspaceMember.workspace_id == Workspace.id)
        .where(WorkspaceMember.user_id == user.id, col(Workspace.deleted_at).is_(None))
        .order_by(WorkspaceMember.id)).all())


def membership(session: Session, workspace_id: int, user_id: int) -> WorkspaceMember | None:
    return session.exec(select(WorkspaceMember).where(
        WorkspaceMember.workspace_id == workspace_id, WorkspaceMember.user_id == user_id)).first()


def _store(store: MutableMapping | None) -> MutableMapping:
    if store is not None:
        return store
    # Outside a request (the CLI) there is no choice to remember.
    return flask_session if has_request_context() else {}


def workspace_from_session(session: Session, user, store: MutableMapping | None = None
                           ) -> Workspace | None:
    """The workspace ``user`` works in now.

    The one chosen with ``choose_workspace`` (kept in the flask session, or in
    ``store``) while they are still a member of it; otherwise their first
    workspace; None when they belong to none. Membership is checked on every
    call, so someone removed from a workspace stops seeing it at once.
    """
    workspaces = user_workspaces(session, user)
    chosen = _store(store).get(SESSION_KEY)
    for workspace in workspaces:
        if workspace.id == chosen:
            return workspace
    return workspaces[0] if workspaces else None


def current_workspace(session: Session, user) -> Workspace | None:
    """The workspace the user works in: the one chosen this session while they are
    still a member of it, else their first; None if they belong to none."""
    return workspace_from_session(session, user)


def choose_workspace(session: Session, user, workspace_id, store: MutableMapping | None = None
                     ) -> Workspace:
    """Make ``workspace_id`` the user's current workspace for this session.

    Raises ``WorkspaceError`` unless they are a member of it.
    """
    for workspace in user_workspaces(session, user):
        if workspace.id == workspace_id:
            _store(store)[SESSION_KEY] = workspace.id
            return workspace
    raise WorkspaceError("You are not a member of that workspace.")


# --- members ------------------------------------------------------------------------


def workspace_members(session: Session, workspace: Workspace) -> list[tuple[WorkspaceMember, User]]:
    """The workspace's members with their accounts, in the order they joined."""
    return list(session.exec(
        select(WorkspaceMember, User).join(User, col(User.id) == WorkspaceMember.user_id)
        .where(WorkspaceMember.workspace_id == workspace.id).order_by(WorkspaceMember.id)).all())


def workspace_member(session: Session, workspace: Workspace, member_id: int) -> WorkspaceMember | None:
    """A membership row of ``workspace`` (None for another workspace's)."""
    member = session.get(WorkspaceMember, member_id)
    return member if member is not None and member.workspace_id == workspace.id else None


def admin_count(session: Session, workspace_id: int) -> int:
    return session.exec(select(func.count()).select_from(WorkspaceMember).where(
        WorkspaceMember.workspace_id == workspace_id,
        WorkspaceMember.role == WorkspaceRole.ADMIN)).one()


def require_admin(session: Session, workspace: Workspace, user, doing: str) -> None:
    """Raise ``NotWorkspaceAdmin`` ("Only an admin of X can <doing>.") unless ``user`` is one."""
    if not is_workspace_admin(session, workspace, user):
        raise NotWorkspaceAdmin(f"Only an admin of {workspace.name} can {doing}.")


def _last_admin_message(session: Session, member: WorkspaceMember, workspace: Workspace) -> str:
    user = session.get(User, member.user_id)
    return (f"{user.display_name} is the only admin of {workspace.name}: "
            "make someone else an admin first.")


def rename_workspace(session: Session, workspace: Workspace, user, name: str) -> None:
    """Give the workspace a new name (admins only)."""
    require_admin(session, workspace, user, "rename it")
    name = " ".join(name.split())
    if not name:
        raise WorkspaceError("Give the workspace a name.")
    workspace.name = name[:120]
    session.add(workspace)


def change_member_role(session: Session, member: WorkspaceMember, user, role: str) -> None:
    """Make ``member`` an admin or a member (admins only); the last admin stays one."""
    workspace = lock_workspace(session, member.workspace_id)
    require_admin(session, workspace, user, "change roles")
    if role not in set(WorkspaceRole):
        raise WorkspaceError("Choose Admin or Member.")
    session.refresh(member)
    if member.role == WorkspaceRole.ADMIN and role != WorkspaceRole.ADMIN \
            and admin_count(session, workspace.id) <= 1:
        raise WorkspaceError(_last_admin_message(session, member, workspace))
    member.role = role
    session.add(member)
    session.flush()


def remove_member(session: Session, member: WorkspaceMember, user) -> None:
    """Take ``member`` out of the workspace (admins only); the last admin can't be removed."""
    workspace = lock_workspace(session, member.workspace_id)
    require_admin(session, workspace, user, "remove members")
    session.refresh(member)
    if member.role == WorkspaceRole.ADMIN and admin_count(session, workspace.id) <= 1:
        raise WorkspaceError(_last_admin_message(session, member, workspace))
    session.delete(member)
    session.flush()


# --- invitations ----------------------------------------------------------------------


def pending_invitations(session: Session, workspace: Workspace, now: datetime | None = None
                        ) -> list[WorkspaceInvitation]:
    """Invitations of the workspace that can still be accepted, oldest first."""
    now = now or utcnow()
    return list(session.exec(select(WorkspaceInvitation).where(
        WorkspaceInvitation.workspace_id == workspace.id,
        col(WorkspaceInvitation.accepted_at).is_(None), col(WorkspaceInvitation.revoked_at).is_(None),
        WorkspaceInvitation.expires_at > now).order_by(WorkspaceInvitation.id)).all())


def invite(session: Session, workspace: Workspace, inviter, email: str, role: str,
           now: datetime | None = None) -> tuple[WorkspaceInvitation, str]:
    """Invite ``email`` to join the workspace as ``role`` (admins only).

    Returns the invitation and its secret token, which goes in the link and
    is never stored (only its SHA-256 is). The link works for seven days.
    Raises ``WorkspaceError`` when the person is already a member or already
    has a pending invitation.
    """
    workspace = lock_workspace(session, workspace.id)
    require_admin(session, workspace, inviter, "invite people")
    unverified = unverified_reason(inviter, "invite people")
    if unverified:
        raise WorkspaceError(unverified)
    if role not in set(WorkspaceRole):
        raise WorkspaceError("Choose Admin or Member.")
    email = normalise_email(email)
    now = now or utcnow()
    already = session.exec(
        select(WorkspaceMember.id).join(User, col(User.id) == WorkspaceMember.user_id)
        .where(WorkspaceMember.workspace_id == workspace.id, func.lower(User.email) == email)).first()
    if already is not None:
        raise WorkspaceError(f"{email} is already a member of {workspace.name}.")
    if any(invitation.email == email for invitation in pending_invitations(session, workspace, now)):
        raise WorkspaceError(f"{email} already has a pending invitation. Revoke it first to "
                             "send a new link.")
    token = secrets.token_urlsafe(32)
    invitation = WorkspaceInvitation(workspace_id=workspace.id, email=email, role=role,
                                     token_hash=hash_token(token), invited_by_id=inviter.id,
                                     created_at=now, expires_at=now + INVITATION_TTL)
    session.add(invitation)
    session.flush()
    return invitation, token


def workspace_invitation(session: Session, workspace: Workspace, invitation_id: int
                         ) -> WorkspaceInvitation | None:
    """An invitation of ``workspace`` (None for another workspace's)."""
    invitation = session.get(WorkspaceInvitation, invitation_id)
    return invitation if invitation is not None and invitation.workspace_id == workspace.id else None


def revoke_invitation(session: Session, invitation: WorkspaceInvitation, user,
                      now: datetime | None = None) -> None:
    """Withdraw a pending invitation, so its link stops working (admins only)."""
    workspace = session.get(Workspace, invitation.workspace_id)
    require_admin(session, workspace, user, "revoke invitations")
    if invitation.accepted_at is not None:
        raise WorkspaceError("This invitation was already accepted; remove the member instead.")
    if invitation.revoked_at is None:
        invitation.revoked_at = now or utcnow()
        session.add(invitation)


def find_invitation(session: Session, token: str) -> WorkspaceInvitation | None:
    """The invitation a link's token belongs to, whatever its state."""
    if not token:
        return None
    return session.exec(select(WorkspaceInvitation)
                        .where(WorkspaceInvitation.token_hash == hash_token(token))).first()


def invitation_problem(invitation: WorkspaceInvitation, now: datetime | None = None) -> str | None:
    """Why the invitation can no longer be accepted, or None when it can."""
    if invitation.revoked_at is not None:
        return INVITATION_REVOKED
    if invitation.accepted_at is not None:
        return INVITATION_ACCEPTED
    if (now or utcnow()) >= as_utc(invitation.expires_at):
        return INVITATION_EXPIRED
    return None


def email_matches(invitation: WorkspaceInvitation, user) -> bool:
    return normalise_email(user.email) == normalise_email(invitation.email)


def accept_invitation(session: Session, invitation: WorkspaceInvitation, user,
                      now: datetime | None = None) -> WorkspaceMember:
    """Join the invitation's workspace with its role.

    Only a customer whose email is the invited one (in any letter case) may
    accept, once, before the link expires and unless it was revoked; each
    refusal is a ``WorkspaceError`` with the reason. Claiming the invitation
    is one conditional UPDATE, so a double submission makes one membership.
    """
    now = now or utcnow()
    if user.role != Role.CUSTOMER:
        raise WorkspaceError(NOT_A_CUSTOMER)
    problem = invitation_problem(invitation, now)
    if problem:
        raise WorkspaceError(problem)
    if not email_matches(invitation, user):
        raise WorkspaceError(WRONG_EMAIL.format(email=user.email))
    workspace = lock_workspace(session, invitation.workspace_id)
    if workspace is None or workspace.deleted_at is not None:
        raise WorkspaceError(WORKSPACE_GONE)
    claimed = session.execute(
        update(WorkspaceInvitation)
        .where(col(WorkspaceInvitation.id) == invitation.id,
               col(WorkspaceInvitation.accepted_at).is_(None),
               col(WorkspaceInvitation.revoked_at).is_(None))
        .values(accepted_at=now, accepted_by_id=user.id)).rowcount
    if claimed != 1:
        raise WorkspaceError(INVITATION_ACCEPTED)
    session.refresh(invitation)
    member = membership(session, workspace.id, user.id)
    if member is None:  # someone already in keeps the role they have
        member = WorkspaceMember(workspace_id=workspace.id, user_id=user.id, role=invitation.role)
        session.add(member)
        session.flush()
    return member


def membership_count(session: Session, workspace_id: int) -> int:
    return session.exec(select(func.count()).select_from(WorkspaceMember)
                        .where(WorkspaceMember.workspace_id == workspace_id)).one()
