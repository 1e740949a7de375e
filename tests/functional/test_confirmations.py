"""Destructive actions ask first: uninstall, badge revoke, member removal.

Each has a GET page ("Are you sure?") saying what happens, with the POST button
on it; the list pages link to that page instead of posting at once. The POST
handlers still work as before (authorization included).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlmodel import select

from accounts.models import Role, WorkspaceMember
from billing.models import Subscription
from installs.models import Install, InstallStatus
from listings.models import Badge
from tests import factories
from tests.factories import workspace_of


def text_of(response) -> str:
    """The page's words, tags dropped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def post_form_action(html: str, action: str) -> bool:
    return re.search(r'<form[^>]*method="post"[^>]*action="' + re.escape(action) + '"', html) \
        is not None


# --- uninstall --------------------------------------------------------------------------


def test_my_apps_links_to_the_uninstall_question_not_a_post(client, db, login, admin):
    install = factories.make_install(db, workspace_of(db, admin), factories.make_listing(db))
    login(admin)
    html = client.get("/my/apps").get_data(as_text=True)
    url = f"/my/apps/{install.id}/uninstall"
    assert f'href="/my/apps/{install.id}/confirm-uninstall"' in html
    assert not post_form_action(html, url)
    # Not beside "Open": the open form and the uninstall link are in different blocks.
    actions = re.search(r'<div class="install-actions">(.*?)</div>', html, re.S).group(1)
    assert "uninstall" not in actions


def test_uninstall_question_for_a_free_app(client, db, login, admin):
    listing = factories.make_listing(db, name="Free Notes")
    install = factories.make_install(db, workspace_of(db, admin), listing,
                                     scopes=["contacts:read"])
    login(admin)
    response = client.get(f"/my/apps/{install.id}/confirm-uninstall")
    assert response.status_code == 200
    words = text_of(response)
    assert "Uninstall Free Notes?" in words
    assert "loses its access" in words and "See your contacts and their details" in words
    assert "Free Notes is free, so there is no subscription to cancel." in words
    assert post_form_action(response.get_data(as_text=True), f"/my/apps/{install.id}/uninstall")
    db.refresh(install)
    assert install.status == InstallStatus.ACTIVE  # asking changes nothing


def test_uninstall_question_for_a_paid_app_says_billing_ends_and_the_last_invoice(
        client, db, login, admin):
    workspace = workspace_of(db, admin)
    listing = factories.make_paid_listing(db, name="Paid Ledger", monthly_price=2900)
    install = factories.make_install(db, workspace, listing)
    subscription = factories.make_subscription(db, workspace, listing, install=install)
    factories.make_invoice(db, subscription, amount=2900,
                           paid_at=datetime(2026, 11, 3, tzinfo=timezone.utc))
    login(admin)
    words = text_of(client.get(f"/my/apps/{install.id}/confirm-uninstall"))
    assert "Your subscription to Paid Ledger is cancelled at once" in words
    assert "no further charges" in words
    assert "$29.00" in words and "3 Nov 2026" in words
    assert "not refunded" in words
    assert "no subscription to cancel" not in words


def test_uninstall_question_for_a_trial_says_it_ends_without_charge(client, db, login, admin):
    workspace = workspace_of(db, admin)
    listing = factories.make_paid_listing(db, name="Trial Board", trial_days=14)
    install = factories.make_install(db, workspace, listing)
    trial = factories.make_trial(db, workspace, listing)
    install.trial_id = trial.id
    factories.save(db, install)
    login(admin)
    words = text_of(client.get(f"/my/apps/{install.id}/confirm-uninstall"))
    assert "Your free trial of Trial Board ends now" in words
    assert "You will not be charged" in words


def test_uninstall_post_still_works_and_others_installs_are_not_found(client, db, login, admin):
    install = factories.make_install(db, workspace_of(db, admin), factories.make_listing(db))
    other_admin = factories.make_user(db)
    theirs = factories.make_install(db, factories.make_workspace(db, other_admin),
                                    factories.make_listing(db))
    login(admin)
    assert client.get(f"/my/apps/{theirs.id}/confirm-uninstall").status_code == 404
    assert client.get("/my/apps/99999999999/confirm-uninstall").status_code == 404
    assert client.post("/my/apps/99999999999/uninstall").status_code == 404
    response = client.post(f"/my/apps/{install.id}/uninstall")
    assert response.status_code == 302
    db.refresh(install)
    assert install.status == InstallStatus.UNINSTALLED
    # Once gone, the question is not asked again.
    assert client.get(f"/my/apps/{install.id}/confirm-uninstall").status_code == 302


def test_member_who_is_not_admin_is_told_before_confirming(client, db, login, admin):
    workspace = workspace_of(db, admin)
    install = factories.make_install(db, workspace, factories.make_listing(db))
    member = factories.make_user(db)
    factories.make_member(db, workspace, user=member)
    login(member)
    html = client.get("/my/apps").get_data(as_text=True)
    assert f"/my/apps/{install.id}/confirm-uninstall" not in html
    response = client.get(f"/my/apps/{install.id}/confirm-uninstall")
    assert response.status_code == 403
    assert "Only an admin of the workspace can uninstall apps." in text_of(response)


def test_paid_uninstall_through_the_question_cancels_the_subscription(client, db, login, admin):
    workspace = workspace_of(db, admin)
    listing = factories.make_paid_listing(db)
    install = factories.make_install(db, workspace, listing)
    factories.make_subscription(db, workspace, listing, install=install)
    login(admin)
    client.get(f"/my/apps/{install.id}/confirm-uninstall")
    client.post(f"/my/apps/{install.id}/uninstall")
    db.expire_all()
    assert db.exec(select(Subscription)).one().status == "canceled"
    assert db.get(Install, install.id).status == InstallStatus.UNINSTALLED


# --- badge revoke -----------------------------------------------------------------------


def test_badge_revoke_asks_first(client, db, login):
    editor = factories.make_user(db, Role.EDITOR)
    listing = factories.make_listing(db, name="Shiny")
    badge = factories.make_badge(db, listing)
    login(editor)
    url = f"/editor/badges/{badge.id}/revoke"
    for page in ("/editor/badges", f"/editor/listings/{listing.id}"):
        html = client.get(page).get_data(as_text=True)
        assert f'href="/editor/badges/{badge.id}/confirm-revoke' in html, page
        assert not post_form_action(html, url), page
    response = client.get(f"/editor/badges/{badge.id}/confirm-revoke")
    assert response.status_code == 200
    words = text_of(response)
    assert f"Revoke the {badge.label} badge from Shiny?" in words
    assert "no longer shows the badge" in words
    assert post_form_action(response.get_data(as_text=True), url)
    assert db.get(Badge, badge.id).revoked_at is None

    response = client.post(url, data={"reason": "Stale"})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Badge, badge.id).revoked_at is not None


def test_badge_revoke_question_is_for_editors_only(client, db, login):
    badge = factories.make_badge(db, factories.make_listing(db))
    login(factories.make_user(db, Role.CUSTOMER))
    assert client.get(f"/editor/badges/{badge.id}/confirm-revoke").status_code == 403


# --- member removal ---------------------------------------------------------------------


def test_member_removal_asks_first(client, db, login, admin):
    workspace = workspace_of(db, admin)
    member = factories.make_member(db, workspace,
                                   user=factories.make_user(db, name="Grace Hopper"))
    login(admin)
    url = f"/workspace/members/{member.id}/remove"
    html = client.get("/workspace").get_data(as_text=True)
    assert f'href="/workspace/members/{member.id}/confirm-remove"' in html
    assert not post_form_action(html, url)
    response = client.get(f"/workspace/members/{member.id}/confirm-remove")
    assert response.status_code == 200
    words = text_of(response)
    assert f"Remove Grace Hopper from {workspace.name}?" in words
    assert "can no longer see" in words
    assert post_form_action(response.get_data(as_text=True), url)

    assert client.post(url).status_code == 302
    assert db.exec(select(WorkspaceMember).where(WorkspaceMember.id == member.id)).first() is None


def test_leaving_asks_in_its_own_words(client, db, login, admin):
    workspace = workspace_of(db, admin)
    factories.make_member(db, workspace, role="admin")
    me = db.exec(select(WorkspaceMember).where(WorkspaceMember.user_id == admin.id)).one()
    login(admin)
    words = text_of(client.get(f"/workspace/members/{me.id}/confirm-remove"))
    assert f"Leave {workspace.name}?" in words


def test_another_workspaces_member_is_not_found(client, db, login, admin):
    other = factories.make_workspace(db, factories.make_user(db))
    theirs = factories.make_member(db, other)
    login(admin)
    assert client.get(f"/workspace/members/{theirs.id}/confirm-remove").status_code == 404
