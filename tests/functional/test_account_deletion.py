"""Deleting one's account: anonymised, signed out, out of every workspace; a
workspace left empty is deleted and its apps' partners asked to redact its data."""

from __future__ import annotations

import json

from markupsafe import escape
from sqlmodel import select

from accounts.models import Role, User, Workspace, WorkspaceMember, WorkspaceRole
from installs.models import Install, InstallStatus
from tests import factories
from tests.factories import workspace_of
from webhooks.models import WebhookDelivery


def delete(client, password: str = factories.PASSWORD):
    return client.post("/account/delete", data={"password": password})


def events(db, event_type: str) -> list[dict]:
    """The queued webhook payloads of one type, oldest first."""
    db.expire_all()
    rows = db.exec(select(WebhookDelivery).where(WebhookDelivery.event_type == event_type)
                   .order_by(WebhookDelivery.id)).all()
    return [json.loads(row.payload) for row in rows]


def fresh(db, model, row_id):
    db.expire_all()
    return db.get(model, row_id)


def signs_in(app, email: str, password: str = factories.PASSWORD) -> bool:
    response = app.test_client().post("/account/login", data={"email": email, "password": password})
    return response.status_code == 302


def test_account_page_explains_and_asks_for_the_password(client, db, login, admin):
    login(admin)
    page = client.get("/account/delete").get_data(as_text=True)
    assert "Delete your account" in page and 'type="password"' in page
    assert workspace_of(db, admin).name in page


def test_sole_member_workspace_is_deleted_and_partners_told(app, client, db, login):
    user = factories.make_user(db, Role.CUSTOMER, name="Ada Lovelace")
    email = user.email
    workspace = factories.make_workspace(db, user, name="Ada's workspace")
    crm, notes = factories.make_listing(db), factories.make_listing(db)
    crm_install = factories.make_install(db, workspace, crm)
    old_notes = factories.make_install(db, workspace, notes, status="uninstalled")
    notes_install = factories.make_install(db, workspace, notes)
    factories.make_review(db, crm, author=user, title="Great CRM")
    _, token = factories.make_invitation(db, workspace, email="pending@example.com")
    elsewhere = app.test_client()  # the same person signed in on another device
    elsewhere.post("/account/login", data={"email": email, "password": factories.PASSWORD})
    login(user)

    response = delete(client)
    assert response.status_code == 302 and response.location.endswith("/")
    assert "Your account is deleted." in client.get("/").get_data(as_text=True)
    assert "/account/login" in client.get("/workspace").location  # signed out
    assert "/account/login" in elsewhere.get("/workspace").location  # everywhere

    user = fresh(db, User, user.id)
    assert user.email == f"deleted-{user.id}@deleted.invalid"
    assert user.display_name == "Deleted user" and not user.active and user.deleted_at
    assert not signs_in(app, email) and not signs_in(app, user.email)

    for install_id in (crm_install.id, notes_install.id):
        install = fresh(db, Install, install_id)
        assert install.status == InstallStatus.UNINSTALLED and install.granted_scopes == []
    uninstalled = events(db, "install.uninstalled")
    assert sorted(event["data"]["install"]["id"] for event in uninstalled) == \
        sorted([crm_install.id, notes_install.id])
    redact = {event["listing"]["id"]: event["data"] for event in events(db, "workspace.data_redact")}
    assert redact == {
        crm.id: {"workspace": {"id": workspace.id}, "install_ids": [crm_install.id]},
        notes.id: {"workspace": {"id": workspace.id},
                   "install_ids": [old_notes.id, notes_install.id]},
    }

    workspace = fresh(db, Workspace, workspace.id)
    assert workspace.deleted_at is not None and "Ada" not in workspace.name
    assert db.exec(select(WorkspaceMember).where(WorkspaceMember.workspace_id == workspace.id)
                   ).first() is None
    # The workspace's pending invitation died with it.
    assert client.get(f"/invitations/{token}").status_code == 410
    # Reviews stay, by a nameless author.
    page = client.get(f"/apps/{crm.slug}").get_data(as_text=True)
    assert "Great CRM" in page and "Deleted user" in page and "Ada Lovelace" not in page


def test_workspace_with_other_members_stays(client, db, login, admin):
    workspace = workspace_of(db, admin)
    install = factories.make_install(db, workspace, factories.make_listing(db))
    member = db.get(User, factories.make_member(db, workspace).user_id)
    login(member)

    assert delete(client).status_code == 302
    db.expire_all()
    assert [row.user_id for row in db.exec(select(WorkspaceMember).where(
        WorkspaceMember.workspace_id == workspace.id)).all()] == [admin.id]
    assert fresh(db, Workspace, workspace.id).deleted_at is None
    assert fresh(db, Install, install.id).status == InstallStatus.ACTIVE
    assert events(db, "install.uninstalled") == [] and events(db, "workspace.data_redact") == []


def test_one_of_two_admins_may_leave(client, db, login, admin):
    workspace = workspace_of(db, admin)
    factories.make_member(db, workspace, role=WorkspaceRole.ADMIN)
    login(admin)
    assert delete(client).status_code == 302
    assert fresh(db, User, admin.id).deleted_at is not None
    assert fresh(db, Workspace, workspace.id).deleted_at is None


def test_only_admin_of_a_shared_workspace_is_refused_and_nothing_changes(client, db, login):
    user = factories.make_user(db, Role.CUSTOMER)
    own = factories.make_workspace(db, user, name="Solo")
    own_install = factories.make_install(db, own, factories.make_listing(db))
    shared = factories.make_workspace(db, user, name="Shared team")
    factories.make_member(db, shared)
    login(user)

    response = delete(client)
    assert response.status_code == 400
    assert "You are the only admin of Shared team, which has other members: make someone else " \
           "an admin first." in response.get_data(as_text=True)
    assert fresh(db, User, user.id).deleted_at is None
    assert fresh(db, Workspace, own.id).deleted_at is None  # not even the solo workspace
    assert fresh(db, Install, own_install.id).status == InstallStatus.ACTIVE
    assert len(db.exec(select(WorkspaceMember).where(WorkspaceMember.user_id == user.id)).all()) == 2
    assert events(db, "install.uninstalled") == []
    assert client.get("/workspace").status_code == 200  # still signed in


def test_wrong_password_changes_nothing(app, client, db, login, admin):
    login(admin)
    response = delete(client, password="not-my-password")
    assert response.status_code == 400
    assert "That password is not right. Your account was not deleted." in response.get_data(as_text=True)
    response = delete(client, password="")
    assert response.status_code == 400 and "Enter your password to confirm." in \
        response.get_data(as_text=True)
    user = fresh(db, User, admin.id)
    assert user.deleted_at is None and user.active and user.email == admin.email
    assert signs_in(app, admin.email)
    assert workspace_of(db, admin) is not None


def test_last_site_admin_is_refused_but_not_when_another_remains(app, client, db, login):
    site_admin = factories.make_user(db, Role.ADMIN)
    login(site_admin)
    response = delete(client)
    assert response.status_code == 400
    assert escape("You are the last admin of Bazaar: make someone else an admin first.") in \
        response.get_data(as_text=True)
    assert fresh(db, User, site_admin.id).deleted_at is None

    factories.make_user(db, Role.ADMIN)
    assert delete(client).status_code == 302
    gone = fresh(db, User, site_admin.id)
    assert gone.deleted_at is not None and not gone.is_admin  # no powers left behind


def test_partner_member_can_delete_their_account(app, client, db, login):
    partner_user = factories.make_user(db, Role.PARTNER)
    email = partner_user.email
    login(partner_user)
    assert delete(client).status_code == 302
    gone = fresh(db, User, partner_user.id)
    assert gone.deleted_at is not None and gone.partner_id is None
    assert not signs_in(app, email)
