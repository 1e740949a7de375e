"""Admin: the users list and role changes, with the audit log and the
last-admin rule, and who may use it."""

from __future__ import annotations

import pytest
from sqlmodel import select

from accounts.models import Role, User
from listings.models import AuditEvent
from tests import factories


@pytest.fixture
def admin(db, login):
    user = factories.make_user(db, role=Role.ADMIN, name="Ada Admin", email="ada@example.com")
    login(user)
    return user


def page_text(response) -> str:
    return response.get_data(as_text=True)


def reload(db, user: User) -> User:
    db.expire_all()
    return db.get(User, user.id)


def role_events(db) -> list[AuditEvent]:
    db.expire_all()
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == "user.role_changed")
                        .order_by(AuditEvent.id)).all())


def role_data(user: User, role: str, partner_id: int | str = 0) -> dict:
    return {f"user-{user.id}-role": role, f"user-{user.id}-partner_id": str(partner_id)}


def test_users_list_shows_each_user_with_a_role_form(client, db, admin):
    partner = factories.make_partner(db, name="Acme Apps")
    member = factories.make_user(db, role=Role.PARTNER, partner=partner, name="Pat Partner")

    page = page_text(client.get("/admin/users"))

    assert "Users and roles (2)" in page
    assert "Pat Partner" in page and "Partner of Acme Apps" in page
    assert f'id="user-{member.id}-role"' in page and f'for="user-{member.id}-partner_id"' in page
    assert "Acme Apps</option>" in page
    assert "this is you" in page


def test_search_by_email_and_paginate(client, db, admin, app):
    app.config["PAGE_SIZE"] = 2
    for n in range(3):
        factories.make_user(db, email=f"zed{n}@shop.example.com", name=f"Zed {n}")
    factories.make_user(db, email="other@example.org", name="Olive Other")

    found = page_text(client.get("/admin/users?q=SHOP.example"))
    assert "Users and roles (3)" in found
    assert "Zed 0" in found and "Zed 1" in found and "Olive Other" not in found
    assert "Page 1 of 2" in found and "q=SHOP.example" in found
    second = page_text(client.get("/admin/users?q=shop.example&page=2"))
    assert "Zed 2" in second and "Zed 0" not in second
    assert "No accounts match “nobody”." in page_text(client.get("/admin/users?q=nobody"))


def test_make_a_customer_an_editor_and_audit_it(client, db, admin):
    user = factories.make_user(db, name="Cora Customer")

    response = client.post(f"/admin/users/{user.id}/role", data=role_data(user, "editor"),
                           follow_redirects=True)

    assert "Cora Customer is now an editor." in page_text(response)
    assert reload(db, user).role == Role.EDITOR
    [event] = role_events(db)
    assert event.actor_id == admin.id and event.target_type == "user" and event.target_id == user.id
    assert event.detail == {"role": "editor", "previous_role": "customer"}
    audit_page = page_text(client.get("/editor/audit?action=user.role_changed"))
    assert "User role changed" in audit_page
    assert "made Cora Customer an editor (was customer)" in audit_page


def test_make_a_user_a_partner_member(client, db, admin):
    partner = factories.make_partner(db, name="Acme Apps")
    user = factories.make_user(db)

    response = client.post(f"/admin/users/{user.id}/role",
                           data=role_data(user, "partner", partner.id), follow_redirects=True)

    assert "is now a partner member of Acme Apps." in page_text(response)
    user = reload(db, user)
    assert user.role == Role.PARTNER and user.partner_id == partner.id
    assert role_events(db)[0].detail["partner_id"] == partner.id


def test_leaving_the_partner_role_drops_the_organisation(client, db, admin):
    member = factories.make_user(db, role=Role.PARTNER)
    client.post(f"/admin/users/{member.id}/role", data=role_data(member, "customer", member.partner_id))
    member = reload(db, member)
    assert member.role == Role.CUSTOMER and member.partner_id is None


def test_partner_role_needs_an_organisation(client, db, admin):
    user = factories.make_user(db)

    response = client.post(f"/admin/users/{user.id}/role", data=role_data(user, "partner", 0))

    assert response.status_code == 400
    assert (f'id="user-{user.id}-partner_id-error">A partner member needs a partner organisation.'
            in page_text(response))
    assert reload(db, user).role == Role.CUSTOMER
    assert role_events(db) == []


@pytest.mark.parametrize("role,partner_id,message", [
    ("superuser", 0, "Choose one of the roles in the list."),
    ("partner", 999, "Choose a partner organisation from the list."),
    ("partner", "acme", "Choose a partner organisation from the list."),
])
def test_unknown_role_or_partner_is_refused(client, db, admin, role, partner_id, message):
    user = factories.make_user(db)

    response = client.post(f"/admin/users/{user.id}/role", data=role_data(user, role, partner_id))

    assert response.status_code == 400
    assert message in page_text(response)
    assert reload(db, user).role == Role.CUSTOMER
    assert role_events(db) == []


def test_the_last_admin_cannot_step_down(client, db, admin):
    response = client.post(f"/admin/users/{admin.id}/role", data=role_data(admin, "editor"))

    assert response.status_code == 400
    assert "The last admin cannot lose the admin role." in page_text(response)
    assert reload(db, admin).role == Role.ADMIN
    assert role_events(db) == []
    assert client.get("/admin/users").status_code == 200


def test_an_admin_may_step_down_when_another_admin_remains(client, db, admin):
    factories.make_user(db, role=Role.ADMIN)

    response = client.post(f"/admin/users/{admin.id}/role", data=role_data(admin, "editor"))

    assert response.status_code == 302 and response.location.endswith("/editor/")
    assert reload(db, admin).role == Role.EDITOR
    assert client.get("/admin/users").status_code == 403


def test_refused_change_on_another_page_is_still_shown(client, db, admin, app):
    app.config["PAGE_SIZE"] = 1
    user = factories.make_user(db, email="zz-last@example.com", name="Last Listed")
    response = client.post(f"/admin/users/{user.id}/role", data=role_data(user, "partner", 0))
    assert response.status_code == 400
    page = page_text(response)
    assert "Last Listed" in page and "A partner member needs a partner organisation." in page


def test_unknown_user_is_404(client, db, admin):
    assert client.post("/admin/users/999/role", data={"user-999-role": "editor"}).status_code == 404


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.PARTNER, Role.EDITOR])
def test_only_admins_may_manage_users(client, db, login, role):
    target = factories.make_user(db)
    login(factories.make_user(db, role=role))
    assert client.get("/admin/users").status_code == 403
    response = client.post(f"/admin/users/{target.id}/role", data=role_data(target, "admin"))
    assert response.status_code == 403
    assert reload(db, target).role == Role.CUSTOMER


def test_visitors_are_sent_to_sign_in(client, db):
    target = factories.make_user(db)
    for response in (client.get("/admin/users"),
                     client.post(f"/admin/users/{target.id}/role", data=role_data(target, "admin"))):
        assert response.status_code == 302 and "/account/login" in response.location
    assert reload(db, target).role == Role.CUSTOMER
