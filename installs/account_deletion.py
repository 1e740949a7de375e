"""Deleting an account, with the workspaces it leaves empty.

It lives with installs, not accounts, because retiring a workspace revokes its
installs and tells their partners. Every function takes a ``Session`` and never
commits.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import datetime

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
from accounts.services import AccountError, authenticate
from accounts.workspaces import (
    DELETED_USER_NAME,
    DELETED_WORKSPACE_NAME,
    admin_count,
    lock_workspace,
    membership_count,
)
from core.db import utcnow
from installs.events import record_event
from installs.models import Install, InstallStatus
from installs.services import revoke_install
from listings.services import audit


def retire_workspace(session: Session, workspace: Workspace, now: datetime | None = None) -> None:
    """Delete a workspace nobody is left in.

    Every active install is revoked (its partner gets ``install.uninstalled``),
    then each app ever installed in the workspace gets one
    ``workspace.data_redact`` event naming all of its installs there, so the
    partner can erase what it holds. Pending invitations stop working and the
    workspace's name, which often names a person, is replaced.
    """
    now = now or utcnow()
    installs = session.exec(select(Install).where(Install.workspace_id == workspace.id)
                            .order_by(Install.id)).all()
    install_ids_by_listing: dict[int, list[int]] = defaultdict(list)
    for install in installs:
        if install.status == InstallStatus.ACTIVE:
            revoke_install(session, install)
        install_ids_by_listing[install.listing_id].append(install.id)
    for listing_id, install_ids in sorted(install_ids_by_listing.items()):
        record_event(session, listing_id, "workspace.data_redact",
                     {"workspace": {"id": workspace.id}, "install_ids": install_ids})
    session.execute(
        update(WorkspaceInvitation)
        .where(col(WorkspaceInvitation.workspace_id) == workspace.id,
               col(WorkspaceInvitation.accepted_at).is_(None),
               col(WorkspaceInvitation.revoked_at).is_(None))
        .values(revoked_at=now))
    workspace.deleted_at = now
    workspace.name = DELETED_WORKSPACE_NAME
    session.add(workspace)
    session.flush()


def delete_account(session: Session, user: User, password: str,
                   now: datetime | None = None) -> list[int]:
    """Delete ``user``'s account after checking their password again.

    The row stays, anonymised (its reviews then read "Deleted user"), and can
    never sign in again. The user leaves every workspace; a workspace left
    with nobody in it is retired (``retire_workspace``). Raises
    ``AccountError`` and changes nothing when the password is wrong, when
    they are the last admin of Bazaar, or when they are the only admin of a
    workspace that still has other members. Returns the ids of the retired
    workspaces.
    """
    now = now or utcnow()
    if authenticate(session, user.email, password or "") is None:
        raise AccountError("That password is not right. Your account was not deleted.",
                           field="password")
    if user.role == Role.ADMIN:
        other_admins = session.exec(select(func.count()).select_from(User).where(
            User.role == Role.ADMIN, User.id != user.id, col(User.active).is_(True))).one()
        if other_admins == 0:
            raise AccountError("You are the last admin of Bazaar: make someone else an admin "
                               "first.", field="password")
    memberships = session.exec(select(WorkspaceMember).where(WorkspaceMember.user_id == user.id)
                               .order_by(WorkspaceMember.workspace_id)).all()
    # Locked in id order, so two deletions sharing workspaces can't deadlock.
    workspaces = {member.workspace_id: lock_workspace(session, member.workspace_id)
                  for member in memberships}
    for member in memberships:
        others = session.exec(select(func.count()).select_from(WorkspaceMember).where(
            WorkspaceMember.workspace_id == member.workspace_id,
            WorkspaceMember.user_id != user.id)).one()
        if member.role == WorkspaceRole.ADMIN and others and \
                admin_count(session, member.workspace_id) <= 1:
            raise AccountError(f"You are the only admin of {workspaces[member.workspace_id].name}, "
                               "which has other members: make someone else an admin first.",
                               field="password")
    retired = []
    for member in memberships:
        session.delete(member)
        session.flush()
        if membership_count(session, member.workspace_id) == 0:
            retire_workspace(session, workspaces[member.workspace_id], now)
            retired.append(member.workspace_id)
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.display_name = DELETED_USER_NAME
    # "!" is never an Argon2 hash, so no password can ever match it.
    user.password_hash = "!" + secrets.token_urlsafe(24)
    user.active = False
    user.deleted_at = now
    # The account keeps no powers: it can't be the admin that keeps Bazaar run.
    user.role = Role.CUSTOMER
    user.partner_id = None
    session.add(user)
    audit(session, user, "account.deleted", user, workspaces_deleted=retired or None)
    session.flush()
    return retired
