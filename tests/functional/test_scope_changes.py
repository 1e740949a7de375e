"""A new release's scopes: more need a workspace admin's approval, fewer apply at once."""

from __future__ import annotations

from accounts.models import Role, WorkspaceMember, WorkspaceRole
from installs.models import Install
from listings.scopes import describe_scope
from tests import factories
from tests.factories import workspace_of

READ = {"scope": "contacts:read", "justification": "To show contact names next to deals."}
WRITE = {"scope": "contacts:write", "justification": "To save the notes you write back to contacts."}


def installed_then_released(db, workspace, old_scopes, new_scopes):
    """An install on version 1.0.0, then an approved 2.0.0 asking for ``new_scopes``."""
    listing = factories.make_listing(db, scopes=old_scopes)
    install = factories.make_install(db, workspace, listing)
    release = factories.make_release(db, listing, version="2.0.0", scopes=new_scopes)
    return listing, install, release


def fresh(db, install) -> Install:
    db.expire_all()
    return db.get(Install, install.id)


def test_more_scopes_keep_the_old_grant_and_my_apps_shows_the_diff(client, db, login, admin):
    _, install, release = installed_then_released(db, workspace_of(db, admin), [READ], [READ, WRITE])
    login(admin)

    page = client.get("/my/apps").get_data(as_text=True)

    assert "New access requested" in page
    assert describe_scope("contacts:write") in page
    assert WRITE["justification"] in page
    assert f'action="/my/apps/{install.id}/approve-scopes"' in page
    assert fresh(db, install).granted_scopes == ["contacts:read"]
    assert fresh(db, install).release_id != release.id


def test_approving_grants_the_new_scopes_and_version(client, db, login, admin):
    _, install, release = installed_then_released(db, workspace_of(db, admin), [READ], [READ, WRITE])
    login(admin)

    response = client.post(f"/my/apps/{install.id}/approve-scopes",
                           data={"release_id": release.id}, follow_redirects=True)

    page = response.get_data(as_text=True)
    assert "now has the access you approved" in page
    assert "New access requested" not in page
    install = fresh(db, install)
    assert install.granted_scopes == ["contacts:read", "contacts:write"]
    assert install.release_id == release.id


def test_removed_scopes_show_in_a_mixed_diff(client, db, login, admin):
    export = {"scope": "deals:read", "justification": "To list your open deals."}
    _, install, _ = installed_then_released(db, workspace_of(db, admin), [READ], [export])
    login(admin)

    page = client.get("/my/apps").get_data(as_text=True)

    assert "New access requested" in page
    assert "Removed:" in page and "Added:" in page
    assert fresh(db, install).granted_scopes == ["contacts:read"]


def test_approving_a_diff_that_changed_meanwhile_asks_again(client, db, login, admin):
    listing, install, seen = installed_then_released(db, workspace_of(db, admin), [READ],
                                                     [READ, WRITE])
    factories.make_release(db, listing, version="3.0.0", scopes=[READ, WRITE])
    login(admin)

    response = client.post(f"/my/apps/{install.id}/approve-scopes",
                           data={"release_id": seen.id}, follow_redirects=True)

    assert "Please review it again" in response.get_data(as_text=True)
    assert fresh(db, install).granted_scopes == ["contacts:read"]


def test_member_cannot_approve(client, db, login, admin):
    workspace = workspace_of(db, admin)
    member = factories.make_user(db, Role.CUSTOMER)
    factories.save(db, WorkspaceMember(workspace_id=workspace.id, user_id=member.id,
                                       role=WorkspaceRole.MEMBER))
    _, install, release = installed_then_released(db, workspace, [READ], [READ, WRITE])
    login(member)

    page = client.get("/my/apps").get_data(as_text=True)
    assert "New access requested" in page
    assert "Approve new access" not in page
    response = client.post(f"/my/apps/{install.id}/approve-scopes",
                           data={"release_id": release.id}, follow_redirects=True)

    assert "Only an admin of the workspace can approve new access." in response.get_data(as_text=True)
    assert fresh(db, install).granted_scopes == ["contacts:read"]


def test_another_workspaces_install_is_missing(client, db, login, admin):
    stranger = factories.make_user(db, Role.CUSTOMER)
    _, theirs, release = installed_then_released(db, factories.make_workspace(db, stranger),
                                                 [READ], [READ, WRITE])
    login(admin)

    response = client.post(f"/my/apps/{theirs.id}/approve-scopes", data={"release_id": release.id})

    assert response.status_code == 404
    assert fresh(db, theirs).granted_scopes == ["contacts:read"]


def test_fewer_scopes_apply_at_once(client, db, login, admin):
    _, install, release = installed_then_released(db, workspace_of(db, admin), [READ, WRITE], [READ])
    login(admin)

    page = client.get("/my/apps").get_data(as_text=True)

    assert "New access requested" not in page
    install = fresh(db, install)
    assert install.granted_scopes == ["contacts:read"]
    assert install.release_id == release.id


def test_visitor_is_sent_to_sign_in(client, db, admin):
    _, install, release = installed_then_released(db, workspace_of(db, admin), [READ], [READ, WRITE])

    response = client.post(f"/my/apps/{install.id}/approve-scopes", data={"release_id": release.id})

    assert response.status_code == 302 and "/account/login" in response.location
    assert fresh(db, install).granted_scopes == ["contacts:read"]


def test_fewer_scopes_apply_when_the_editor_approves_the_release(client, db, login):
    from listings.models import ReleaseStatus

    listing = factories.make_listing(db, scopes=[
        {"scope": "contacts:read", "justification": "Names"},
        {"scope": "contacts:write", "justification": "Edits"}])
    admin = factories.make_user(db)
    install = factories.make_install(db, factories.make_workspace(db, admin), listing, admin)
    assert sorted(install.granted_scopes) == ["contacts:read", "contacts:write"]
    smaller = factories.make_release(db, listing, version="2.0.0",
                                     review_status=ReleaseStatus.PENDING,
                                     scopes=[{"scope": "contacts:read", "justification": "Names"}])
    login(factories.make_user(db, Role.EDITOR))
    assert client.post(f"/editor/releases/{smaller.id}/approve").status_code == 302
    db.refresh(install)
    assert install.granted_scopes == ["contacts:read"] and install.release_id == smaller.id
