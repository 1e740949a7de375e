"""The workspace page (members, roles, invitations, switching workspace) and accepting
an invitation link.

Everything acts on the signed-in person's current workspace
(``workspace_from_session``): a member or invitation id of another workspace
is answered with 404. Admin-only changes are refused by the services with a
message shown to the person.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from accounts.account_mail import queue_invitation
from accounts.models import Role, User, Workspace
from accounts.services import is_workspace_admin, unverified_reason
from accounts.workspace_forms import (
    InviteForm,
    MemberRoleForm,
    RenameWorkspaceForm,
    SwitchWorkspaceForm,
)
from accounts.workspaces import (
    INVITATION_TTL,
    NOT_A_CUSTOMER,
    ROLE_NAMES,
    WORKSPACE_GONE,
    WRONG_EMAIL,
    NotWorkspaceAdmin,
    WorkspaceError,
    accept_invitation,
    change_member_role,
    choose_workspace,
    email_matches,
    find_invitation,
    invitation_problem,
    pending_invitations,
    rename_workspace,
    require_admin,
    user_workspaces,
    workspace_from_session,
    workspace_invitation,
    workspace_member,
    workspace_members,
)
from accounts.workspaces import invite as invite_service
from accounts.workspaces import remove_member as remove_member_service
from accounts.workspaces import revoke_invitation as revoke_invitation_service
from core.db import get_session

bp = Blueprint("workspaces", __name__)


def _no_store(response):
    # Pages that show a secret invitation link stay out of caches and history.
    response.headers["Cache-Control"] = "no-store"
    return response


def _current_workspace_or_404() -> Workspace:
    workspace = workspace_from_session(get_session(), current_user)
    if workspace is None:
        abort(404)
    return workspace


def _back(message: str | None = None, category: str = "error"):
    if message:
        flash(message, category)
    return redirect(url_for("workspaces.overview"))


def _render_overview(status: int = 200, *, rename_form=None, invite_form=None,
                     role_forms=None, new_invitation=None, new_link=None):
    """The workspace page; forms passed in (with their errors) replace the blank ones."""
    session = get_session()
    workspaces = user_workspaces(session, current_user)
    workspace = workspace_from_session(session, current_user)
    context = {"workspace": workspace, "workspaces": workspaces,
               "is_customer": current_user.role == Role.CUSTOMER}
    if workspace is not None:
        is_admin = is_workspace_admin(session, workspace, current_user)
        members = workspace_members(session, workspace)
        invitations = pending_invitations(session, workspace)
        inviters = {user.id: user for user in (session.get(User, invitation.invited_by_id)
                                               for invitation in invitations) if user}
        forms = {member.id: MemberRoleForm(prefix=f"member-{member.id}", formdata=None,
                                           role=member.role) for member, _ in members}
        forms.update(role_forms or {})
        for member, user in members:
            forms[member.id].role.label.text = f"Role of {user.display_name}"
        switch_form = SwitchWorkspaceForm(formdata=None, workspace_id=workspace.id)
        switch_form.workspace_id.choices = [(item.id, item.name) for item in workspaces]
        context.update(
            is_admin=is_admin, members=members, invitations=invitations, inviters=inviters,
            role_forms=forms, role_names=ROLE_NAMES, switch_form=switch_form,
            rename_form=rename_form or RenameWorkspaceForm(formdata=None, name=workspace.name),
            invite_form=invite_form or InviteForm(formdata=None),
            new_invitation=new_invitation, new_link=new_link,
            invitation_days=INVITATION_TTL.days,
            invite_blocked=unverified_reason(current_user, "invite people"))
    return _no_store(make_response(render_template("workspaces/overview.html", **context), status))


@bp.route("/workspace")
@login_required
def overview():
    """The current workspace: its name, members and roles, pending invitations."""
    return _render_overview()


@bp.route("/workspace/rename", methods=["POST"])
@login_required
def rename():
    session = get_session()
    workspace = _current_workspace_or_404()
    try:
        require_admin(session, workspace, current_user, "rename it")
    except NotWorkspaceAdmin as error:
        return _back(str(error))
    form = RenameWorkspaceForm()
    if not form.validate_on_submit():
        return _render_overview(400, rename_form=form)
    try:
        rename_workspace(session, workspace, current_user, form.name.data)
    except WorkspaceError as error:
        session.rollback()
        return _back(str(error))
    session.commit()
    return _back(f"The workspace is now called {workspace.name}.", "success")


@bp.route("/workspace/invitations", methods=["POST"])
@login_required
def invite():
    """Invite someone: the link is mailed to them, and shown on this response only."""
    session = get_session()
    workspace = _current_workspace_or_404()
    try:
        require_admin(session, workspace, current_user, "invite people")
    except NotWorkspaceAdmin as error:
        return _back(str(error))
    form = InviteForm()
    if not form.validate_on_submit():
        return _render_overview(400, invite_form=form)
    try:
        invitation, token = invite_service(session, workspace, current_user, form.email.data,
                                           form.role.data)
        queue_invitation(session, invitation, token, workspace, current_user._get_current_object())
    except WorkspaceError as error:
        session.rollback()
        form.email.errors.append(str(error))
        return _render_overview(400, invite_form=form)
    session.commit()
    link = url_for("workspaces.invitation", token=token, _external=True)
    # Rendered here rather than after a redirect: the token is never stored,
    # not even in the session cookie, so this page is the only place it appears.
    return _render_overview(201, new_invitation=invitation, new_link=link)


@bp.route("/workspace/invitations/<int:invitation_id>/revoke", methods=["POST"])
@login_required
def revoke_invitation(invitation_id: int):
    session = get_session()
    workspace = _current_workspace_or_404()
    invitation = workspace_invitation(session, workspace, invitation_id)
    if invitation is None:
        abort(404)
    try:
        revoke_invitation_service(session, invitation, current_user)
    except WorkspaceError as error:
        session.rollback()
        return _back(str(error))
    session.commit()
    return _back(f"The invitation for {invitation.email} is revoked; its link no longer works.",
                 "success")


def _member_or_404(member_id: int):
    """The session, the current workspace and its member ``member_id`` (404 when the
    member belongs to no workspace of the visitor's)."""
    session = get_session()
    workspace = _current_workspace_or_404()
    member = workspace_member(session, workspace, member_id)
    if member is None:
        abort(404)
    return session, workspace, member


@bp.route("/workspace/members/<int:member_id>/role", methods=["POST"])
@login_required
def change_role(member_id: int):
    session, workspace, member = _member_or_404(member_id)
    try:
        require_admin(session, workspace, current_user, "change roles")
    except NotWorkspaceAdmin as error:
        return _back(str(error))
    form = MemberRoleForm(prefix=f"member-{member.id}")
    if not form.validate_on_submit():
        return _render_overview(400, role_forms={member.id: form})
    try:
        change_member_role(session, member, current_user, form.role.data)
    except WorkspaceError as error:
        session.rollback()
        return _back(str(error))
    session.commit()
    user = session.get(User, member.user_id)
    return _back(f"{user.display_name} is now {ROLE_NAMES[member.role].lower()} "
                 f"of {workspace.name}.", "success")


@bp.route("/workspace/members/<int:member_id>/confirm-remove")
@login_required
def confirm_remove_member(member_id: int):
    """Ask before removing a member (or leaving); the page's button posts to ``remove_member``."""
    session, workspace, member = _member_or_404(member_id)
    try:
        require_admin(session, workspace, current_user, "remove members")
    except NotWorkspaceAdmin as error:
        return _back(str(error))
    user = session.get(User, member.user_id)
    return render_template("workspaces/confirm_remove_member.html", workspace=workspace,
                           member=member, user=user, leaving=user.id == current_user.id)


@bp.route("/workspace/members/<int:member_id>/remove", methods=["POST"])
@login_required
def remove_member(member_id: int):
    session, workspace, member = _member_or_404(member_id)
    user = session.get(User, member.user_id)
    try:
        remove_member_service(session, member, current_user)
    except WorkspaceError as error:
        session.rollback()
        return _back(str(error))
    session.commit()
    if user.id == current_user.id:
        return _back(f"You left {workspace.name}.", "success")
    return _back(f"{user.display_name} is no longer a member of {workspace.name}.", "success")


@bp.route("/workspace/switch", methods=["POST"])
@login_required
def switch():
    """Work in another of one's workspaces (remembered for this session)."""
    session = get_session()
    form = SwitchWorkspaceForm()
    form.workspace_id.choices = [(item.id, item.name) for item in user_workspaces(session, current_user)]
    if not form.validate_on_submit():
        return _back("Choose one of your workspaces.")
    try:
        workspace = choose_workspace(session, current_user, form.workspace_id.data)
    except WorkspaceError as error:
        return _back(str(error))
    return _back(f"You are now working in {workspace.name}.", "success")


# --- invitation links -----------------------------------------------------------------


def _render_invitation(token: str, found, status: int = 200, error: str | None = None):
    """The invitation page: who invites whom to what, and either a way in or why not."""
    session = get_session()
    workspace = session.get(Workspace, found.workspace_id)
    joined = current_user.is_authenticated and found.accepted_by_id == current_user.id
    dead = WORKSPACE_GONE if workspace.deleted_at is not None else invitation_problem(found)
    message = error or dead
    if message is None and current_user.is_authenticated:
        if current_user.role != Role.CUSTOMER:
            message = NOT_A_CUSTOMER
        elif not email_matches(found, current_user):
            message = WRONG_EMAIL.format(email=current_user.email)
    if dead and not joined and status == 200:
        status = 410  # the link itself no longer works
    body = render_template(
        "workspaces/invitation.html", invitation=found, workspace=workspace, joined=joined,
        inviter=session.get(User, found.invited_by_id), message=None if joined else message,
        role_names=ROLE_NAMES, here=url_for("workspaces.invitation", token=token),
        accept_url=url_for("workspaces.accept", token=token))
    return _no_store(make_response(body, status))


@bp.route("/invitations/<token>")
def invitation(token: str):
    """What an invitation link offers: sign in first, then accept (or why not)."""
    found = find_invitation(get_session(), token)
    if found is None:
        body = render_template("workspaces/invitation.html", invitation=None)
        return _no_store(make_response(body, 404))
    return _render_invitation(token, found)


@bp.route("/invitations/<token>/accept", methods=["POST"])
def accept(token: str):
    """Join the workspace (a signed-in customer with the invited email)."""
    if not current_user.is_authenticated:
        flash("Sign in or create an account to accept the invitation.", "info")
        return redirect(url_for("accounts.login", next=url_for("workspaces.invitation", token=token)))
    session = get_session()
    found = find_invitation(session, token)
    if found is None:
        abort(404)
    if found.accepted_by_id == current_user.id:
        flash("You already accepted this invitation.", "info")
        return redirect(url_for("workspaces.overview"))
    try:
        member = accept_invitation(session, found, current_user)
        session.commit()
    except WorkspaceError as error:
        session.rollback()
        return _render_invitation(token, found, 400, error=str(error))
    except IntegrityError:
        # A simultaneous acceptance won the race: the person is a member once.
        session.rollback()
        flash("You are already a member of this workspace.", "info")
        return redirect(url_for("workspaces.overview"))
    workspace = choose_workspace(session, current_user, member.workspace_id)
    flash(f"Welcome to {workspace.name}. You are now working in it.", "success")
    return redirect(url_for("workspaces.overview"))
