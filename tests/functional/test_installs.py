"""Installing apps into a workspace: consent, confirm, refusals, My apps and uninstall."""

from __future__ import annotations

import re

import pytest
from sqlmodel import func, select

from accounts.models import Role, User, Workspace, WorkspaceMember, WorkspaceRole
from installs.models import Install
from installs.services import InstallError, install_listing
from listings.models import ListingStatus
from listings.scopes import REGIONS, describe_scope
from listings.services import current_release
from tests import factories
from tests.factories import workspace_of

SCOPES = [
    {"scope": "contacts:read", "justification": "To show contact names next to deals."},
    {"scope": "contacts:write", "justification": "To save the notes you write back to contacts."},
]


def confirm(client, db, listing, **kwargs):
    """Press "Confirm and install" on the consent screen (which names the release shown)."""
    release = current_release(db, listing.id)
    data = kwargs.pop("data", {})
    data.setdefault("release_id", release.id if release else "")
    return client.post(f"/apps/{listing.slug}/install/confirm", data=data, **kwargs)


def installs(db) -> list[Install]:
    db.expire_all()
    return list(db.exec(select(Install)).all())


def test_consent_screen_shows_scopes_residency_and_privacy(client, db, login, admin):
    listing = factories.make_listing(db, scopes=SCOPES, data_residency=["eu"],
                                     privacy_url="https://example.com/privacy-policy")
    login(admin)

    response = client.post(f"/apps/{listing.slug}/install")
    assert response.status_code == 302
    assert response.location.endswith(f"/apps/{listing.slug}/install")
    page = client.get(response.location).get_data(as_text=True)

    assert describe_scope("contacts:read") in page
    assert describe_scope("contacts:write") in page
    assert "To save the notes you write back to contacts." in page
    assert page.count("Can change data") == 1  # only the write scope
    assert REGIONS["eu"] in page
    assert 'href="https://example.com/privacy-policy"' in page
    assert "Confirm and install" in page
    assert f'action="/apps/{listing.slug}/install/confirm"' in page
    assert installs(db) == []  # looking is not installing


def test_confirm_installs_once_with_the_release_scopes(client, db, login, admin):
    listing = factories.make_listing(db, scopes=SCOPES)
    login(admin)

    response = confirm(client, db, listing)
    [install] = installs(db)
    assert response.status_code == 303
    assert response.location.endswith(f"/my/apps/{install.id}/installed")
    page = client.get(response.location).get_data(as_text=True)
    assert f"{listing.name} is installed" in page
    assert describe_scope("contacts:write") in page
    assert f'action="/my/apps/{install.id}/open"' in page  # on to the app's own setup
    again = confirm(client, db, listing)  # a double submission
    assert again.location.endswith("/my/apps")
    assert f"{listing.name} is already installed." in client.get("/my/apps").get_data(as_text=True)

    [install] = installs(db)
    assert install.granted_scopes == ["contacts:read", "contacts:write"]
    assert install.status == "active"
    assert install.workspace_id == workspace_of(db, admin).id
    assert install.installed_by_id == admin.id
    # The listing page now points to My apps instead of offering Install again.
    page = client.get(f"/apps/{listing.slug}").get_data(as_text=True)
    assert "Installed —" in page and ">Install</button>" not in page


def test_published_listing_page_offers_install(client, db, login, admin):
    listing = factories.make_listing(db)
    login(admin)
    page = client.get(f"/apps/{listing.slug}").get_data(as_text=True)
    assert f'action="/apps/{listing.slug}/install"' in page


def test_delisted_app_is_refused_on_the_listing_page(client, db, login, admin):
    listing = factories.make_listing(db, status=ListingStatus.DELISTED)
    login(admin)

    response = confirm(client, db, listing, follow_redirects=True)

    page = response.get_data(as_text=True)
    assert response.request.path == f"/apps/{listing.slug}"
    assert "no longer listed, so it can&#39;t be installed" in page
    assert installs(db) == []
    db.refresh(listing)
    assert listing.status == ListingStatus.DELISTED


@pytest.mark.parametrize("status, reason", [
    (ListingStatus.DRAFT, "not published yet"),
    (ListingStatus.DELISTED, "no longer listed"),
    (ListingStatus.ARCHIVED, "archived"),
])
def test_unpublished_apps_cannot_be_installed(db, admin, status, reason):
    listing = factories.make_listing(db, status=ListingStatus.PUBLISHED)
    listing.status = status  # archived is set directly, as the prune job would
    factories.save(db, listing)

    with pytest.raises(InstallError, match=reason):
        install_listing(db, workspace_of(db, admin), admin, listing)


def test_unpublished_apps_have_no_install_pages(client, db, login, admin):
    listing = factories.make_listing(db, status=ListingStatus.DRAFT)
    login(admin)
    assert client.get(f"/apps/{listing.slug}/install").status_code == 404
    assert confirm(client, db, listing).status_code == 404
    assert installs(db) == []


def test_app_without_approved_release_is_refused(db, admin):
    listing = factories.make_listing(db, with_release=False)
    with pytest.raises(InstallError, match="no approved version"):
        install_listing(db, workspace_of(db, admin), admin, listing)


def test_workspace_member_who_is_not_admin_is_refused(client, db, login, admin):
    member = factories.make_user(db, Role.CUSTOMER)
    factories.save(db, WorkspaceMember(workspace_id=workspace_of(db, admin).id,
                                       user_id=member.id, role=WorkspaceRole.MEMBER))
    listing = factories.make_listing(db)
    login(member)

    response = confirm(client, db, listing, follow_redirects=True)

    assert "Only an admin of your workspace can install apps." in response.get_data(as_text=True)
    assert installs(db) == []


def test_visitor_is_sent_to_sign_in(client, db):
    listing = factories.make_listing(db)
    for method, path in [("POST", f"/apps/{listing.slug}/install"),
                         ("GET", f"/apps/{listing.slug}/install"),
                         ("POST", f"/apps/{listing.slug}/install/confirm"),
                         ("GET", "/my/apps")]:
        response = client.open(path, method=method)
        assert response.status_code == 302 and "/account/login" in response.location, path
    assert installs(db) == []


def test_account_without_workspace_is_told_to_use_a_customer_account(client, db, login):
    partner = factories.make_user(db, Role.PARTNER)
    listing = factories.make_listing(db)
    login(partner)

    response = confirm(client, db, listing, follow_redirects=True)

    assert "Sign in with a customer account to install apps" in response.get_data(as_text=True)
    assert installs(db) == []
    assert "My apps</a>" not in client.get("/").get_data(as_text=True)


def test_my_apps_lists_installs_and_uninstall_revokes_scopes(client, db, login, admin):
    listing = factories.make_listing(db, scopes=SCOPES)
    install = factories.make_install(db, workspace_of(db, admin), listing)
    login(admin)

    page = client.get("/my/apps").get_data(as_text=True)
    assert f'href="/apps/{listing.slug}"' in page
    assert describe_scope("contacts:write") in page
    assert 'href="/my/apps"' in client.get("/").get_data(as_text=True)  # the nav link

    response = client.post(f"/my/apps/{install.id}/uninstall", follow_redirects=True)

    assert f"Uninstalled {listing.name}" in response.get_data(as_text=True)
    db.refresh(install)
    assert install.status == "uninstalled"
    assert install.granted_scopes == []
    assert install.uninstalled_at is not None
    assert f"/my/apps/{install.id}/uninstall" not in client.get("/my/apps").get_data(as_text=True)
    # Reinstalling after an uninstall makes a new active install; the old one stays history.
    confirm(client, db, listing)
    assert sorted(i.status for i in installs(db)) == ["active", "uninstalled"]


def test_another_workspaces_install_is_missing(client, db, login, admin):
    stranger = factories.make_user(db, Role.CUSTOMER)
    theirs = factories.make_install(db, factories.make_workspace(db, stranger),
                                    factories.make_listing(db))
    login(admin)

    assert client.post(f"/my/apps/{theirs.id}/uninstall").status_code == 404
    db.refresh(theirs)
    assert theirs.status == "active" and theirs.granted_scopes == ["contacts:read"]


def test_member_cannot_uninstall(client, db, login, admin):
    member = factories.make_user(db, Role.CUSTOMER)
    workspace = workspace_of(db, admin)
    factories.save(db, WorkspaceMember(workspace_id=workspace.id, user_id=member.id,
                                       role=WorkspaceRole.MEMBER))
    install = factories.make_install(db, workspace, factories.make_listing(db))
    login(member)

    response = client.post(f"/my/apps/{install.id}/uninstall", follow_redirects=True)

    assert "Only an admin of the workspace can uninstall apps." in response.get_data(as_text=True)
    db.refresh(install)
    assert install.status == "active"


def test_register_creates_a_workspace_with_the_user_as_admin(client, db):
    client.post("/account/register", data={
        "display_name": "Ada", "email": "ada@example.com", "password": "long-enough-pw",
        "confirm": "long-enough-pw"})

    user = db.exec(select(User).where(User.email == "ada@example.com")).one()
    workspace = workspace_of(db, user)
    assert workspace.name == "Ada's workspace"
    member = db.exec(select(WorkspaceMember).where(WorkspaceMember.user_id == user.id)).one()
    assert member.role == WorkspaceRole.ADMIN
    assert db.exec(select(func.count()).select_from(Workspace)).one() == 1


class TestWithCsrf:
    @pytest.fixture
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_confirm_without_csrf_token_installs_nothing(self, client, db, admin):
        listing = factories.make_listing(db)
        client.post("/account/login", data={"email": admin.email, "password": factories.PASSWORD,
                                            "csrf_token": _csrf_token(client, "/account/login")})

        assert confirm(client, db, listing).status_code == 400
        token = _csrf_token(client, f"/apps/{listing.slug}/install")
        response = confirm(client, db, listing, data={"csrf_token": token})
        assert response.status_code == 303
        assert len(installs(db)) == 1


def _csrf_token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_demo_customer_has_a_workspace_to_install_into(runner, db):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    customer = db.exec(select(User).where(User.email == "customer@example.com")).one()
    assert workspace_of(db, customer).name == "Casey Morgan's workspace"


def test_confirm_needs_the_consent_screen_and_its_release(client, db, login, admin):
    listing = factories.make_listing(db)
    login(admin)
    response = client.post(f"/apps/{listing.slug}/install/confirm")
    assert response.status_code == 302 and response.location.endswith(f"/apps/{listing.slug}/install")
    shown = current_release(db, listing.id)
    newer = factories.make_release(db, listing, version="2.0.0", scopes=[
        {"scope": "contacts:write", "justification": "Edit contacts"}])
    assert current_release(db, listing.id).id == newer.id
    response = confirm(client, db, listing, data={"release_id": shown.id}, follow_redirects=True)
    assert "requested access changed" in response.get_data(as_text=True)
    assert "Edit contacts" in response.get_data(as_text=True)  # the new scopes, shown again
    assert db.exec(select(Install)).all() == []


def test_ids_too_large_for_the_database_are_404_not_500(client, db, login, admin):
    login(admin)
    for path in ["/my/apps/99999999999/installed", "/partner/listings/99999999999"]:
        assert client.get(path).status_code == 404, path
    assert client.post("/my/apps/99999999999/uninstall").status_code == 404


def test_my_apps_names_the_plan_each_app_is_on_with_its_price(client, db, login, admin):
    """Found after plans came (issue 16): My apps showed a paid app without saying
    which of its plans the workspace chose, or what that plan costs."""
    from listings.plans import add_plan

    listing = factories.make_listing(db, name="Pipeline Pro", pricing_model="flat_monthly",
                                     monthly_price=2900)
    annual = add_plan(db, listing, {"name": "Annual", "interval": "year", "price": 29000})
    install = factories.make_install(db, workspace_of(db, admin), listing)
    install.plan_id = annual.id
    factories.save(db, install)
    free = factories.make_listing(db, name="Free Helper")
    factories.make_install(db, workspace_of(db, admin), free)
    login(admin)
    page = " ".join(client.get("/my/apps").get_data(as_text=True).split())
    pipeline = page[page.index("Pipeline Pro"):]
    assert "Annual plan, $290.00/year" in pipeline
    helper = page[page.index("Free Helper"):]
    assert " plan, " not in helper[:helper.index("Installed") + 200]
