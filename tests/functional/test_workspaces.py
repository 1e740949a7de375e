"""Workspaces: inviting people, accepting (or not) an invitation link, roles,
removing members, and switching between one's workspaces."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from markupsafe import escape
from sqlmodel import select

from accounts.models import Role, User, WorkspaceInvitation, WorkspaceMember, WorkspaceRole
from accounts.workspaces import NOT_A_CUSTOMER
from core.db import utcnow
from installs.models import Install, InstallStatus
from listings.services import current_release
from tests import factories
from tests.factories import workspace_of

LINK = re.compile(r'value="http://bazaar\.test(/invitations/[^"]+)"')


def invite(client, email: str, role: str = "member"):
    return client.post("/workspace/invitations", data={"email": email, "role": role})


def link_in(response) -> str:
    """The invitation link (its path) shown on the page after inviting."""
    found = LINK.search(response.get_data(as_text=True))
    assert found, "the page shows no invitation link"
    return found.group(1)


def members(db, workspace) -> dict[int, str]:
    """user id -> role, fresh from the database."""
    db.expire_all()
    return {member.user_id: member.role for member in db.exec(
        select(WorkspaceMember).where(WorkspaceMember.workspace_id == workspace.id)).all()}


def invitations(db, workspace) -> list[WorkspaceInvitation]:
    db.expire_all()
    return list(db.exec(select(WorkspaceInvitation)
                        .where(WorkspaceInvitation.workspace_id == workspace.id)).all())


def sign_out(client):
    assert client.post("/account/logout").status_code == 302


def test_invited_member_sees_apps_but_cannot_install_or_uninstall(client, db, login, admin):
    workspace = workspace_of(db, admin)
    installed = factories.make_listing(db)
    install = factories.make_install(db, workspace, installed)
    other = factories.make_listing(db)
    login(admin)

    response = invite(client, "New.Person@Example.com")
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    assert "We emailed this link to new.person@example.com" in page and "shown only this once" in page
    path = link_in(response)
    token = path.rsplit("/", 1)[1]
    [invitation] = invitations(db, workspace)
    assert invitation.email == "new.person@example.com"
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(invitation.model_dump())  # only the hash is kept
    later = client.get("/workspace").get_data(as_text=True)
    assert token not in later  # the link is shown once
    assert "new.person@example.com" in later  # as a pending invitation
    sign_out(client)

    invitee = factories.make_user(db, Role.CUSTOMER, email="new.person@example.com")
    login(invitee)
    page = client.get(path).get_data(as_text=True)
    assert workspace.name in page and admin.display_name in page
    response = client.post(f"{path}/accept")
    assert response.status_code == 302 and response.location.endswith("/workspace")
    assert f"Welcome to {workspace.name}" in client.get("/workspace").get_data(as_text=True)
    assert members(db, workspace)[invitee.id] == WorkspaceRole.MEMBER
    assert invitations(db, workspace)[0].accepted_by_id == invitee.id

    my_apps = client.get("/my/apps").get_data(as_text=True)
    assert installed.name in my_apps and workspace.name in my_apps

    client.post(f"/my/apps/{install.id}/uninstall")
    assert "Only an admin" in client.get("/my/apps").get_data(as_text=True)
    db.refresh(install)
    assert install.status == InstallStatus.ACTIVE

    refused = client.post(f"/apps/{other.slug}/install/confirm",
                          data={"release_id": current_release(db, other.id).id})
    assert refused.status_code == 302
    assert "Only an admin of your workspace can install apps." in \
        client.get(refused.location).get_data(as_text=True)
    assert db.exec(select(Install).where(Install.listing_id == other.id)).first() is None


def test_visitor_is_asked_to_sign_in_or_register_and_comes_back(client, db, admin):
    workspace = workspace_of(db, admin)
    _, token = factories.make_invitation(db, workspace, email="newcomer@example.com")
    path = f"/invitations/{token}"

    page = client.get(path).get_data(as_text=True)
    assert f"Join {workspace.name}" in page
    assert f'href="/account/login?next={path}"' in page
    assert f'href="/account/register?next={path}"' in page
    assert "Accept and join" not in page

    # Registering through the link leads to signing in, then back to it, ready to accept.
    response = client.post(f"/account/register?next={path}", data={
        "display_name": "Newcomer", "email": "newcomer@example.com",
        "password": "long-enough-pw", "confirm": "long-enough-pw"})
    assert response.status_code == 302 and response.location.endswith(f"/account/login?next={path}")
    response = client.post(response.location, data={"email": "newcomer@example.com",
                                                     "password": "long-enough-pw"})
    assert response.status_code == 302 and response.location.endswith(path)
    assert "Accept and join" in client.get(path).get_data(as_text=True)
    assert client.post(f"{path}/accept").status_code == 302
    # They keep the workspace made at sign-up, and the joined one is now current.
    assert len(members(db, workspace)) == 2
    assert f"<h1>{workspace.name}</h1>" in client.get("/workspace").get_data(as_text=True)


def test_visitor_posting_accept_is_sent_to_sign_in_and_back_to_the_link(client, db, admin):
    invitee = factories.make_user(db, Role.CUSTOMER)
    _, token = factories.make_invitation(db, workspace_of(db, admin), email=invitee.email)
    path = f"/invitations/{token}"

    response = client.post(f"{path}/accept")
    assert response.status_code == 302 and "/account/login" in response.location
    response = client.post(response.location, data={"email": invitee.email,
                                                     "password": factories.PASSWORD})
    assert response.location.endswith(path)


def test_an_account_with_another_email_is_refused(client, db, login, admin):
    workspace = workspace_of(db, admin)
    _, token = factories.make_invitation(db, workspace, email="invited@example.com")
    stranger = factories.make_user(db, Role.CUSTOMER, email="someone.else@example.com")
    login(stranger)

    page = client.get(f"/invitations/{token}").get_data(as_text=True)
    assert "sent to a different email address" in page and "Accept and join" not in page
    response = client.post(f"/invitations/{token}/accept")
    assert response.status_code == 400
    assert "sent to a different email address" in response.get_data(as_text=True)
    assert stranger.id not in members(db, workspace)
    assert invitations(db, workspace)[0].accepted_at is None  # still usable by the invitee


def test_email_matches_in_any_letter_case(client, db, login, admin):
    workspace = workspace_of(db, admin)
    _, token = factories.make_invitation(db, workspace, email="Mixed.Case@Example.COM",
                                         role=WorkspaceRole.ADMIN)
    invitee = factories.make_user(db, Role.CUSTOMER, email="mixed.case@example.com")
    login(invitee)
    assert client.post(f"/invitations/{token}/accept").status_code == 302
    assert members(db, workspace)[invitee.id] == WorkspaceRole.ADMIN


def test_expired_link_is_refused(client, db, login, admin):
    workspace = workspace_of(db, admin)
    invitee = factories.make_user(db, Role.CUSTOMER)
    _, token = factories.make_invitation(db, workspace, email=invitee.email,
                                         now=utcnow() - timedelta(days=7, minutes=1))
    login(invitee)

    response = client.get(f"/invitations/{token}")
    assert response.status_code == 410
    assert "This invitation has expired" in response.get_data(as_text=True)
    response = client.post(f"/invitations/{token}/accept")
    assert "This invitation has expired" in response.get_data(as_text=True)
    assert invitee.id not in members(db, workspace)


def test_revoked_link_is_refused(client, db, login, admin):
    workspace = workspace_of(db, admin)
    invitee = factories.make_user(db, Role.CUSTOMER)
    invitation, token = factories.make_invitation(db, workspace, email=invitee.email)
    login(admin)
    client.post(f"/workspace/invitations/{invitation.id}/revoke")
    page = client.get("/workspace").get_data(as_text=True)
    assert "its link no longer works" in page and "No pending invitations." in page
    sign_out(client)

    login(invitee)
    response = client.get(f"/invitations/{token}")
    assert response.status_code == 410 and "withdrawn" in response.get_data(as_text=True)
    assert "withdrawn" in client.post(f"/invitations/{token}/accept").get_data(as_text=True)
    assert invitee.id not in members(db, workspace)


def test_a_link_works_once(client, db, login, admin, app):
    workspace = workspace_of(db, admin)
    invitee = factories.make_user(db, Role.CUSTOMER)
    _, token = factories.make_invitation(db, workspace, email=invitee.email)
    login(invitee)
    client.post(f"/invitations/{token}/accept")
    again = client.post(f"/invitations/{token}/accept")
    assert "You already accepted this invitation." in client.get(again.location).get_data(as_text=True)
    assert len(db.exec(select(WorkspaceMember).where(
        WorkspaceMember.workspace_id == workspace.id, WorkspaceMember.user_id == invitee.id)).all()) == 1

    # Someone else holding the used link gets nothing.
    other = app.test_client()
    other.post("/account/login", data={"email": admin.email, "password": factories.PASSWORD})
    response = other.get(f"/invitations/{token}")
    assert response.status_code == 410 and "already been accepted" in response.get_data(as_text=True)


def test_partner_editor_and_admin_accounts_cannot_join(client, db, login, admin):
    workspace = workspace_of(db, admin)
    for role in (Role.PARTNER, Role.EDITOR, Role.ADMIN):
        person = factories.make_user(db, role)
        _, token = factories.make_invitation(db, workspace, email=person.email)
        login(person)
        assert escape(NOT_A_CUSTOMER) in client.get(f"/invitations/{token}").get_data(as_text=True)
        response = client.post(f"/invitations/{token}/accept")
        assert escape(NOT_A_CUSTOMER) in response.get_data(as_text=True)
        assert person.id not in members(db, workspace)
        sign_out(client)


def test_unknown_link_says_so(client, db):
    response = client.get("/invitations/not-a-real-token")
    assert response.status_code == 404
    assert "This invitation link is not valid" in response.get_data(as_text=True)


def test_duplicate_invitation_and_existing_member_are_refused(client, db, login, admin):
    workspace = workspace_of(db, admin)
    member = db.get(User, factories.make_member(db, workspace).user_id)
    login(admin)

    assert invite(client, "twice@example.com").status_code == 201
    response = invite(client, "TWICE@example.com")
    assert response.status_code == 400
    assert "twice@example.com already has a pending invitation" in response.get_data(as_text=True)
    response = invite(client, member.email, role="admin")
    assert response.status_code == 400
    assert f"{member.email} is already a member of {workspace.name}" in response.get_data(as_text=True)
    response = invite(client, "not-an-email")
    assert response.status_code == 400 and "Enter an email address in the correct format, like name@example.com." \
        in response.get_data(as_text=True)
    assert [invitation.email for invitation in invitations(db, workspace)] == ["twice@example.com"]


def test_an_expired_invitation_can_be_sent_again(client, db, login, admin):
    workspace = workspace_of(db, admin)
    factories.make_invitation(db, workspace, email="late@example.com",
                              now=utcnow() - timedelta(days=8))
    login(admin)
    assert invite(client, "late@example.com").status_code == 201


def test_the_last_admin_can_be_neither_demoted_nor_removed(client, db, login, admin):
    workspace = workspace_of(db, admin)
    factories.make_member(db, workspace)
    own = db.exec(select(WorkspaceMember).where(WorkspaceMember.user_id == admin.id)).one()
    login(admin)

    client.post(f"/workspace/members/{own.id}/role", data={f"member-{own.id}-role": "member"})
    page = client.get("/workspace").get_data(as_text=True)
    assert f"{admin.display_name} is the only admin of {workspace.name}: make someone else an " \
           "admin first." in page
    client.post(f"/workspace/members/{own.id}/remove")
    assert "make someone else an admin first" in client.get("/workspace").get_data(as_text=True)
    assert members(db, workspace)[admin.id] == WorkspaceRole.ADMIN


def test_promote_a_member_then_step_down(client, db, login, admin):
    workspace = workspace_of(db, admin)
    colleague = factories.make_member(db, workspace)
    own = db.exec(select(WorkspaceMember).where(WorkspaceMember.user_id == admin.id)).one()
    login(admin)

    response = client.post(f"/workspace/members/{colleague.id}/role",
                           data={f"member-{colleague.id}-role": "admin"})
    assert response.status_code == 302
    assert members(db, workspace)[colleague.user_id] == WorkspaceRole.ADMIN
    client.post(f"/workspace/members/{own.id}/role", data={f"member-{own.id}-role": "member"})
    assert members(db, workspace)[admin.id] == WorkspaceRole.MEMBER

    # Now a plain member: the page offers no admin controls and refuses them.
    page = client.get("/workspace").get_data(as_text=True)
    assert "Invite someone" not in page and "Change role" not in page
    response = invite(client, "x@example.com")
    assert response.status_code == 302
    assert f"Only an admin of {workspace.name} can invite people." in \
        client.get("/workspace").get_data(as_text=True)
    assert invitations(db, workspace) == []


def test_a_bad_role_is_refused(client, db, login, admin):
    workspace = workspace_of(db, admin)
    colleague = factories.make_member(db, workspace)
    login(admin)
    client.post(f"/workspace/members/{colleague.id}/role",
                data={f"member-{colleague.id}-role": "owner"})
    assert "Choose Admin or Member." in client.get("/workspace").get_data(as_text=True)
    assert members(db, workspace)[colleague.user_id] == WorkspaceRole.MEMBER


def test_removed_member_loses_the_workspace(client, db, login, admin, app):
    workspace = workspace_of(db, admin)
    install = factories.make_install(db, workspace, factories.make_listing(db))
    colleague = factories.make_member(db, workspace)
    colleague_user = db.get(User, colleague.user_id)
    login(admin)

    client.post(f"/workspace/members/{colleague.id}/remove")
    assert f"{colleague_user.display_name} is no longer a member" in \
        client.get("/workspace").get_data(as_text=True)
    assert colleague_user.id not in members(db, workspace)

    theirs = app.test_client()
    theirs.post("/account/login", data={"email": colleague_user.email,
                                        "password": factories.PASSWORD})
    assert "You are not a member of any workspace" in theirs.get("/workspace").get_data(as_text=True)
    assert theirs.post(f"/my/apps/{install.id}/uninstall").status_code == 404


def test_members_see_but_cannot_manage(client, db, login, admin):
    workspace = workspace_of(db, admin)
    member = factories.make_member(db, workspace)
    admin_row = db.exec(select(WorkspaceMember).where(WorkspaceMember.user_id == admin.id)).one()
    factories.make_invitation(db, workspace, email="pending@example.com")
    login(db.get(User, member.user_id))

    page = client.get("/workspace").get_data(as_text=True)
    assert admin.display_name in page and "pending@example.com" in page
    assert "You are a member of this workspace" in page
    assert "Revoke" not in page and "Rename" not in page

    client.post("/workspace/rename", data={"name": "Taken over"})
    client.post(f"/workspace/members/{admin_row.id}/role",
                data={f"member-{admin_row.id}-role": "member"})
    client.post(f"/workspace/members/{admin_row.id}/remove")
    page = client.get("/workspace").get_data(as_text=True)
    assert f"Only an admin of {workspace.name}" in page
    db.refresh(workspace)
    assert workspace.name != "Taken over"
    assert members(db, workspace)[admin.id] == WorkspaceRole.ADMIN


def test_admin_renames_the_workspace(client, db, login, admin):
    workspace = workspace_of(db, admin)
    login(admin)
    client.post("/workspace/rename", data={"name": "  Acme   Sales  "})
    assert "<h1>Acme Sales</h1>" in client.get("/workspace").get_data(as_text=True)
    response = client.post("/workspace/rename", data={"name": "   "})
    assert response.status_code == 400
    assert "Give the workspace a name." in response.get_data(as_text=True)
    db.refresh(workspace)
    assert workspace.name == "Acme Sales"


def test_switching_between_workspaces(client, db, login, admin):
    own = workspace_of(db, admin)
    other_admin = factories.make_user(db, Role.CUSTOMER)
    team = factories.make_workspace(db, other_admin, name="The team")
    membership = factories.make_member(db, team, user=admin)
    elsewhere = factories.make_workspace(db, factories.make_user(db), name="Not mine")
    login(admin)

    page = client.get("/workspace").get_data(as_text=True)
    assert f"<h1>{own.name}</h1>" in page and "Switch workspace" in page
    assert f'<option value="{team.id}">The team</option>' in page

    client.post("/workspace/switch", data={"workspace_id": team.id})
    page = client.get("/workspace").get_data(as_text=True)
    assert "You are now working in The team." in page and "<h1>The team</h1>" in page
    assert "You are a member of this workspace" in page

    client.post("/workspace/switch", data={"workspace_id": elsewhere.id})
    page = client.get("/workspace").get_data(as_text=True)
    assert "You are not a member of that workspace." in page and "<h1>The team</h1>" in page

    # Membership is checked on every request: once removed, the choice falls back.
    db.delete(membership)
    db.commit()
    page = client.get("/workspace").get_data(as_text=True)
    assert f"<h1>{own.name}</h1>" in page and "Switch workspace" not in page


def test_another_workspaces_members_and_invitations_are_not_found(client, db, login, admin):
    stranger = factories.make_user(db, Role.CUSTOMER)
    theirs = factories.make_workspace(db, stranger)
    their_member = factories.make_member(db, theirs)
    their_invitation, _ = factories.make_invitation(db, theirs)
    login(admin)
    assert client.post(f"/workspace/members/{their_member.id}/remove").status_code == 404
    assert client.post(f"/workspace/members/{their_member.id}/role",
                       data={f"member-{their_member.id}-role": "admin"}).status_code == 404
    assert client.post(f"/workspace/invitations/{their_invitation.id}/revoke").status_code == 404
    assert len(members(db, theirs)) == 2
    assert invitations(db, theirs)[0].revoked_at is None


def test_header_links_the_workspace_for_customers(client, db, login, admin):
    login(admin)
    page = client.get("/").get_data(as_text=True)
    assert 'href="/workspace"' in page and 'href="/account"' in page
